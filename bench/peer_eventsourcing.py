"""The same work done by pyeventsourcing (the ``eventsourcing`` package, 9.5.x) on PostgreSQL.

What a Python team would pick instead of the spine: an application appends the run's events, 50
per save to one aggregate as the spine's appender does, and a ``ProjectionRunner`` in another
process applies them to a view with tracking — per school and type a count, and a row per event —
in its idiom, one transaction per event with the tracking record. The broker has no part in it:
the subscription reads the application's notification log (LISTEN/NOTIFY), which is the peer's
design. Bench-only (``pip install -e '.[bench]'``); the runtime never imports it.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import time
from dataclasses import dataclass, field
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event as ProcessEvent
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from mentornet_spine.db import create_schema, drop_schema, make_engine
from mentornet_spine.testing import item_completed, pair_formed

from harness.rates import Rate, wait_for
from harness.sampling import server_cpu_s

VERSION = "9.5"


@dataclass
class PeerRun:
    append: Rate
    applied: Rate
    #: CPU microseconds per event, by process (appender, projection, postgres)
    cpu_us: dict[str, float] = field(default_factory=dict)


def missing() -> str | None:
    """Why the peer cannot run here, or None."""
    try:
        import eventsourcing  # noqa: F401
        import psycopg  # noqa: F401
    except ImportError as error:
        return f"pyeventsourcing not installed ({error.name}): pip install -e '.[bench]'"
    from importlib.metadata import version

    found = version("eventsourcing")
    if not found.startswith(VERSION + "."):
        return f"pyeventsourcing {found} installed, the bench compares with {VERSION}.x"
    return None


def environment(postgres_url: str, schema: str) -> dict[str, str]:
    """The peer's configuration: its persistence module pointed at the run's schema."""
    url = make_url(postgres_url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": url.database or "postgres",
        "POSTGRES_HOST": url.host or "127.0.0.1",
        "POSTGRES_PORT": str(url.port or 5432),
        "POSTGRES_USER": url.username or "postgres",
        "POSTGRES_PASSWORD": url.password or "",
        "POSTGRES_SCHEMA": schema,
    }


def _appender(env: dict[str, str], n: int, batch: int, go: ProcessEvent) -> tuple[float, tuple[float, float]]:
    from peer_eventsourcing_app import MentoringApp, PairRecord

    app = MentoringApp(env)
    payloads = [
        (e.event_type, e.model_dump(mode="json"))
        for e in (pair_formed() if j % 2 == 0 else item_completed() for j in range(batch))
    ]
    app.recorder.max_notification_id()  # the pool is open before the clock starts
    go.wait()
    cpu, start = time.process_time(), time.monotonic()
    for i in range(n // batch):
        (kind, payload), *rest = payloads
        school = f"s{i % 10}"
        pair = PairRecord(school=school, kind=kind, payload=payload)
        for kind, payload in rest:
            pair.record(school=school, kind=kind, payload=payload)
        app.save(pair)
    end = time.monotonic()
    cpu_s = time.process_time() - cpu
    app.close()
    return cpu_s, (start, end)


def _projection(env: dict[str, str], go: ProcessEvent, stop: ProcessEvent, ready: Queue[str]) -> float:
    from eventsourcing.projection import ProjectionRunner

    from peer_eventsourcing_app import CountsProjection, CountsView, MentoringApp

    runner = ProjectionRunner(
        application_class=MentoringApp, projection_class=CountsProjection, view_class=CountsView, env=env
    )
    with runner:
        ready.put("projection")
        go.wait()
        cpu = time.process_time()
        while not stop.wait(0.1) and not runner.is_interrupted.is_set():
            pass
        runner.run_forever(0)  # raises what stopped its processing thread, if anything did
        return time.process_time() - cpu


def run_role(
    role: str,
    env: dict[str, str],
    n: int,
    batch: int,
    go: ProcessEvent,
    stop: ProcessEvent,
    ready: Queue[str],
    results: Queue[tuple[str, Any]],
) -> None:
    """A child process's entry point."""
    if role == "appender":
        from peer_eventsourcing_app import MentoringApp

        MentoringApp(env).close()  # its tables exist before the projection subscribes
        ready.put("appender")
        results.put((role, _appender(env, n, batch, go)))
    else:
        results.put((role, _projection(env, go, stop, ready)))


async def run_eventsourcing(postgres_url: str, n: int, append_batch: int) -> PeerRun:
    """Append and project N events with pyeventsourcing; timed from the first save until the
    view's tracking record reaches the last notification."""
    from peer_eventsourcing_app import APPLICATION, PROJECTION

    schema = await create_schema(postgres_url, "bench_es")
    engine = make_engine(postgres_url)
    env = environment(postgres_url, schema)
    ctx = mp.get_context("spawn")
    go, stop = ctx.Event(), ctx.Event()
    ready: Queue[str] = ctx.Queue()
    results: Queue[tuple[str, Any]] = ctx.Queue()
    args = (env, n, append_batch, go, stop, ready, results)
    appender = ctx.Process(target=run_role, args=("appender", *args), name="es-appender")
    projection = ctx.Process(target=run_role, args=("projection", *args), name="es-projection")

    tracking = text(
        f'SELECT notification_id FROM "{schema}".{PROJECTION}_tracking WHERE application_name = :a'
    )

    async def applied() -> bool:
        for proc in (appender, projection):
            if proc.exitcode not in (None, 0):
                raise RuntimeError(f"{proc.name} failed; see its traceback above")
        async with engine.connect() as conn:
            return int(await conn.scalar(tracking, {"a": APPLICATION}) or 0) >= n

    try:
        appender.start()
        await asyncio.to_thread(ready.get, True, 120)  # the application's tables exist
        projection.start()
        await asyncio.to_thread(ready.get, True, 120)
        postgres_before = server_cpu_s("postgres")
        go.set()
        applied_at = await wait_for(applied, max(120.0, n / 50), f"pyeventsourcing: {n} events applied")
        postgres_s = server_cpu_s("postgres") - postgres_before
        stop.set()
        finished = dict([await asyncio.to_thread(results.get, True, 60) for _ in range(2)])
        append_cpu, (start, appended_at) = finished["appender"]
        async with engine.connect() as conn:
            rows = await conn.scalar(text(f'SELECT count(*) FROM "{schema}".event_applied'))
            counted = await conn.scalar(text(f'SELECT sum(n) FROM "{schema}".event_counts'))
        if rows != n or counted != n:
            raise RuntimeError(f"pyeventsourcing applied {rows} rows and counted {counted} of {n} events")
        return PeerRun(
            append=Rate(n, appended_at - start),
            applied=Rate(n, applied_at - start),
            cpu_us={
                "appender": append_cpu / n * 1e6,
                "projection": finished["projection"] / n * 1e6,
                "postgres": postgres_s / n * 1e6,
            },
        )
    finally:
        stop.set()
        go.set()
        for proc in (appender, projection):
            await asyncio.to_thread(proc.join, 30)
            if proc.is_alive():
                proc.terminate()
        await engine.dispose()
        await drop_schema(postgres_url, schema)
