"""Where a run's figures come from: the commit, the host, its load, the Python and server versions."""

from __future__ import annotations

import asyncio
import os
import platform
import sqlite3
import subprocess
import timeit
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import nats
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

REPOSITORY = Path(__file__).resolve().parents[2]


def python_speed_us() -> float:
    """A yardstick for comparing hosts: the best of five runs of ``sum(range(1000))``."""
    return min(timeit.repeat("sum(range(1000))", number=5000, repeat=5)) / 5000 * 1e6


def load_average(all_three: bool = False) -> str:
    """The 1-minute load average, or all three (1, 5, 15 minutes)."""
    if all_three:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{os.getloadavg()[0]:.1f}"


async def git_state(paths: Sequence[str] = ("libs", "services"), what: str = "libs/services") -> str:
    """The checked-out commit, and whether ``paths`` (of the repository) have uncommitted changes."""

    async def git(*args: str) -> str:
        proc = await asyncio.create_subprocess_exec(
            "git", *args, cwd=REPOSITORY, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        out, _ = await proc.communicate()
        return out.decode().strip()

    commit = await git("rev-parse", "--short", "HEAD")
    dirty = await git("status", "--porcelain", "--", *paths)
    return f"{commit or 'unknown'}{f' + uncommitted changes in {what}' if dirty else ''}"


async def environment(
    nats_url: str,
    postgres_url: str,
    *,
    commit: str | None = None,
    speed: bool = True,
    all_loads: bool = False,
    postgres_settings: Sequence[str] = (),
    sqlite: bool = False,
) -> dict[str, str]:
    """The report's environment line, in this order: ``commit`` (if given), date, host, load,
    Python (and its speed), nats-server, PostgreSQL (with ``postgres_settings``), SQLite."""
    admin = create_async_engine(postgres_url)
    async with admin.connect() as conn:
        pg = str(await conn.scalar(text("SHOW server_version")))
        settings = [f"{name} {await conn.scalar(text(f'SHOW {name}'))}" for name in postgres_settings]
    await admin.dispose()
    nc = await nats.connect(nats_url)
    server = nc.connected_server_version
    await nc.close()
    facts = {} if commit is None else {"commit": commit}
    facts |= {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "host": f"{platform.platform()}, {os.cpu_count()} CPUs",
        "load average at start": load_average(all_loads),
        "python": platform.python_version(),
    }
    if speed:
        facts["python speed (sum(range(1000)))"] = f"{python_speed_us():.1f} µs"
    facts["nats-server"] = f"{server.major}.{server.minor}.{server.patch}"
    facts["postgresql"] = f"{pg} ({', '.join(settings)})" if settings else pg
    if sqlite:
        facts["sqlite"] = sqlite3.sqlite_version
    return facts
