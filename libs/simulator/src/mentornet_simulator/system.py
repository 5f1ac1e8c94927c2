"""The services as processes on a given broker and database, for the simulator's tests and bench.

Like ``mentornet up`` but without its broker: the caller brings NATS (the shared one, under a
subject root of its own) and either a directory for SQLite files or a PostgreSQL URL, on which
each service gets a fresh schema that ``stop`` drops.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import nats

from mentornet_events import Subjects
from mentornet_simulator.executor import Endpoints
from mentornet_spine.db import create_schema, drop_schema
from mentornet_spine.natsserver import free_port
from mentornet_spine.streams import delete_streams, ensure_streams

SERVICES = ("registry", "programs", "monitoring")


@dataclass
class Process:
    name: str
    port: int
    popen: subprocess.Popen[bytes]
    schema: str | None = None
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class System:
    nats_url: str
    data_dir: Path
    postgres_url: str | None = None
    services: tuple[str, ...] = SERVICES
    root: str = field(default_factory=lambda: f"sim{secrets.token_hex(5)}")
    operator_password: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    extra_env: dict[str, str] = field(default_factory=dict)
    #: the streams' replicas (3 on a cluster of three)
    replicas: int = 1
    #: a service's command instead of ``python -m mentornet_spine.serve <name>`` (a profiler around it)
    commands: dict[str, list[str]] = field(default_factory=dict)
    processes: dict[str, Process] = field(default_factory=dict)

    @property
    def subjects(self) -> Subjects:
        return Subjects(self.root)

    def application_name(self, name: str) -> str:
        return f"mentornet-{name}-{self.root}"

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.processes[name].port}"

    @property
    def endpoints(self) -> Endpoints:
        return Endpoints(self.url("registry"), self.url("programs"), self.url("monitoring"))

    @property
    def operator(self) -> tuple[str, str]:
        return ("operator", self.operator_password)

    async def start(self, wait_s: float = 90.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        nc = await nats.connect(servers=self.nats_url.split(","))  # one node or a cluster's
        try:
            await ensure_streams(nc.jetstream(), self.subjects, self.replicas)
        finally:
            await nc.close()
        ports = {name: free_port() for name in self.services}
        addresses = {f"MENTORNET_{n.upper()}_URL": f"http://127.0.0.1:{p}" for n, p in ports.items()}
        for name in self.services:
            env = dict(os.environ) | addresses | self.extra_env
            env |= {
                "MENTORNET_SERVICE": name,
                "NATS_URL": self.nats_url,
                "MENTORNET_SUBJECT_ROOT": self.root,
                "MENTORNET_DATA_DIR": str(self.data_dir.resolve()),
                "REGISTRY_BOOTSTRAP_PASSWORD": self.operator_password,
                "PORT": str(ports[name]),
                "MENTORNET_STREAM_REPLICAS": str(self.replicas),
            }
            schema = None
            if self.postgres_url:
                schema = await create_schema(self.postgres_url, f"{self.root}_{name}")
                # its connections by name in pg_stat_activity: a fault can end this system's alone
                env |= {
                    "DATABASE_URL": self.postgres_url,
                    "DATABASE_SCHEMA": schema,
                    "DATABASE_APPLICATION_NAME": self.application_name(name),
                }
            else:
                env["DATABASE_URL"] = f"sqlite+aiosqlite:///{(self.data_dir / f'{name}.db').resolve()}"
                env.pop("DATABASE_SCHEMA", None)
            self.processes[name] = Process(name, ports[name], self._spawn(name, env), schema, env)
        for process in self.processes.values():  # started together: most of a start is imports
            await self._healthy(process, wait_s)

    async def kill(self, name: str) -> None:
        """kill -9: the service dies wherever it is (mid-batch, mid-request)."""
        process = self.processes[name]
        process.popen.kill()
        await asyncio.to_thread(process.popen.wait)

    async def respawn(self, name: str, wait_s: float = 90.0) -> None:
        """Start a killed service again, as an orchestrator would, and wait until it is healthy."""
        process = self.processes[name]
        process.popen = self._spawn(name, process.env, append=True)
        await self._healthy(process, wait_s)

    def _spawn(self, name: str, env: dict[str, str], append: bool = False) -> subprocess.Popen[bytes]:
        with (self.data_dir / f"{name}.log").open("ab" if append else "wb") as log:
            return subprocess.Popen(
                self.commands.get(name, [sys.executable, "-m", "mentornet_spine.serve", name]),
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    async def _healthy(self, process: Process, wait_s: float) -> None:
        deadline = time.monotonic() + wait_s
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                if process.popen.poll() is not None:
                    raise RuntimeError(f"{process.name} exited: {self.log_tail(process.name)}")
                try:
                    if (
                        await client.get(f"http://127.0.0.1:{process.port}/health", timeout=2)
                    ).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
        raise RuntimeError(f"{process.name} not healthy in {wait_s}s: {self.log_tail(process.name)}")

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.data_dir / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    async def stop(self, clean: bool = True, streams: bool = True) -> None:
        """Stop every service; ``clean`` drops their schemas and, with ``streams``, their streams
        (a private broker thrown away after the run needs no clean-up)."""
        for process in self.processes.values():
            if process.popen.poll() is None:
                process.popen.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                await asyncio.to_thread(process.popen.wait, 40)
            except subprocess.TimeoutExpired:
                process.popen.kill()
        if not clean:
            return
        if self.postgres_url:
            for process in self.processes.values():
                if process.schema:
                    await drop_schema(self.postgres_url, process.schema)
        if not streams:
            return
        nc = await nats.connect(servers=self.nats_url.split(","))  # one node or a cluster's
        try:
            await delete_streams(nc.jetstream(), self.subjects)
        finally:
            await nc.close()
