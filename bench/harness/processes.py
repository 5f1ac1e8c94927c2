"""A service of the project as its own process, as deployed: started, waited for, stopped."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx


def service_env(
    service: str, nats_url: str, database_url: str, schema: str, root: str, extra: Mapping[str, str]
) -> dict[str, str]:
    """This process's environment, with what every service reads and the service's own ``extra``."""
    return os.environ | {
        "MENTORNET_SERVICE": service,
        "DATABASE_URL": database_url,
        "DATABASE_SCHEMA": schema,
        "NATS_URL": nats_url,
        "MENTORNET_SUBJECT_ROOT": root,
        "MENTORNET_LOG_JSON": "false",
        **extra,
    }


class ServiceProcess:
    """``python -m MODULE NAME`` on ``port``, run in the scratch ``workdir`` with its output in ``NAME.log``.

    The cwd is the scratch directory: with ``-m`` the cwd comes first on sys.path, and ``bench/``
    holds files named like the service packages (``bench/registry.py`` …), which must not shadow them.
    ``label`` names the process in errors ("the registry exited with 1").
    """

    def __init__(
        self,
        name: str,
        workdir: Path,
        env: dict[str, str],
        port: int,
        *,
        module: str = "mentornet_spine.serve",
        label: str | None = None,
        stop_wait_s: float = 30.0,
    ) -> None:
        self.name, self.module, self.label = name, module, label or name
        self.workdir, self.env, self.port = workdir, env, port
        self.stop_wait_s = stop_wait_s
        self.log_path = workdir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def errors(self) -> list[str]:
        """Lines logged at ERROR or above (the plain format is ``LEVEL:logger:message``)."""
        if not self.log_path.exists():
            return []
        lines = self.log_path.read_text(errors="replace").splitlines()
        return [line for line in lines if line.startswith(("ERROR:", "CRITICAL:"))]

    def spawn(self) -> subprocess.Popen[bytes]:
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", self.module, self.name],
                cwd=self.workdir,
                env=self.env | {"PORT": str(self.port)},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the bench, which stops the service itself
            )
        return self.proc

    async def healthy(self, within_s: float = 90.0, poll_s: float = 0.2, timeout_s: float = 2.0) -> None:
        """Until ``GET /health`` answers 200; raises if the process exits or ``within_s`` runs out."""
        proc = self.proc
        assert proc is not None
        deadline = time.monotonic() + within_s
        async with httpx.AsyncClient(base_url=self.base_url, timeout=timeout_s) as client:
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"{self.label} exited with {proc.returncode}:\n{self.log_tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get("/health")).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{self.label} did not become healthy:\n{self.log_tail()}")
                await asyncio.sleep(poll_s)

    async def start(self, within_s: float = 90.0) -> None:
        self.spawn()
        await self.healthy(within_s)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(self.stop_wait_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
