"""How much of raw JetStream throughput survives the event spine, measured in one run.

The spine puts a database at both ends of the broker: events are appended to the SQL store with
their outbox rows, the relay publishes them to JetStream, and a durable consumer applies them to
a projection in one transaction per batch. This bench measures, against the same broker in the
same run, the raw nats-py rates (async publish; pull fetch + ack) and the end-to-end rate on
SQLite and PostgreSQL with appender, relay and consumer in separate processes — and once more on
PostgreSQL with the relay in the producing service's process, as the runtime runs it (on two
cores that one process is the bottleneck: the separate relay is faster); and side by side
pyeventsourcing 9.5.x on PostgreSQL doing the same work (bench/peer_eventsourcing.py). The
floors: end to end on PostgreSQL keeps at least 1/3 of the raw pull-fetch-ack rate, and is no
slower than pyeventsourcing's.

    .venv/bin/python bench/spine.py --events 20000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event as ProcessEvent
from pathlib import Path
from queue import Empty
from typing import Any

import nats
from faststream.nats import NatsBroker
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from rich.console import Console
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from mentornet_events import DomainEvent, Envelope, Subjects, envelope_to_json, new_event_id
from mentornet_events.envelope import utc_now
from mentornet_spine import compat
from mentornet_spine.consumer import ConsumerSettings, register_consumer
from mentornet_spine.db import create_schema, drop_schema, make_engine
from mentornet_spine.migrate import migrate
from mentornet_spine.relay import OutboxRelay
from mentornet_spine.store import EventStore
from mentornet_spine.streams import delete_streams, ensure_streams
from mentornet_spine.testing import EventCounts, item_completed, pair_formed, tenant

from harness.cli import add_server_arguments, run_bench
from harness.console import print_table
from harness.environment import environment
from harness.markdown import environment_line, markdown_table
from harness.rates import Rate, wait_for
from harness.sampling import server_cpu_s
from peer_eventsourcing import PeerRun, missing, run_eventsourcing

FLOOR = 1 / 3
SOURCE = "programs"  # the service stream the test projection reads


@dataclass(frozen=True)
class Tuning:
    append_batch: int = 50  # events per append call, all to one aggregate stream (a bulk import)
    relay_batch: int = 500
    consumer_batch: int = 256
    fetch_timeout_s: float = 0.1  # faststream waits this long to fill a batch once the stream is dry
    raw_fetch_batch: int = 256


@dataclass(frozen=True)
class Target:
    """What a child process needs to reach the run's database and broker (picklable)."""

    backend: str
    url: str
    schema: str | None
    nats_url: str
    root: str
    events: int
    tuning: Tuning
    #: the producing service relays its own outbox (woken by its store), as the runtime does;
    #: otherwise the relay has a process of its own (faster on two cores) and the CPU splits by stage
    relay_in_service: bool = False

    def engine(self) -> AsyncEngine:
        engine: AsyncEngine = make_engine(self.url, schema=self.schema)
        return engine

    @property
    def subjects(self) -> Subjects:
        return Subjects(root=self.root)


@dataclass
class EndToEnd:
    backend: str
    append: Rate
    relayed: Rate
    applied: Rate
    #: CPU microseconds per event, by process (the three roles and the two servers)
    cpu_us: dict[str, float] = field(default_factory=dict)


SERVERS = ("nats-server", "postgres")


@dataclass
class Results:
    events: int
    tuning: Tuning
    publish: Rate
    fetch_ack: Rate  # nats-py as shipped: the floor's reference
    fetch_ack_shimmed: Rate  # with the consumers' queued-message shim
    runs: list[EndToEnd] = field(default_factory=list)
    peer: PeerRun | None = None
    peer_missing: str | None = None  # why the peer did not run
    environment: dict[str, str] = field(default_factory=dict)


def sample_envelope() -> Envelope:
    event = pair_formed()
    return Envelope(
        event_id=new_event_id(),
        type=type(event).event_type,
        schema_version=type(event).schema_version,
        occurred_at=utc_now(),
        stream_id=f"bench-{new_event_id()}",
        stream_version=1,
        tenant=tenant(),
        correlation_id=new_event_id(),
        payload=event.model_dump(mode="json"),
    )


# --- the raw baseline --------------------------------------------------------------------------


async def raw_baseline(nc: Client, run_id: str, n: int, tuning: Tuning) -> tuple[Rate, Rate, Rate]:
    """Async publish of N event-sized messages into a fresh stream, then pull-fetch-ack them all:
    with nats-py as shipped, then again with the consumers' queued-message shim (mentornet_spine.compat)."""
    js = nc.jetstream()
    subjects = Subjects(root=f"bench_{run_id}_raw")
    await ensure_streams(js, subjects)  # the same stream config as the spine's
    try:
        subject = subjects.event(SOURCE, "pair", "PairFormed")
        payload = envelope_to_json(sample_envelope())
        headers = [{"Nats-Msg-Id": str(new_event_id())} for _ in range(n)]  # as the relay sends
        start = time.perf_counter()
        futures = [await js.publish_async(subject, payload, headers=h) for h in headers]
        await js.publish_async_completed()
        publish = Rate(n, time.perf_counter() - start)
        failed = sum(1 for f in futures if f.exception() is not None)
        if failed:
            raise RuntimeError(f"{failed} raw publishes failed")

        with compat.stock_next_msg():
            fetch_ack = await fetch_and_ack(nc, js, subjects, "bench-raw", n, tuning)
        shimmed = await fetch_and_ack(nc, js, subjects, "bench-raw-shimmed", n, tuning)
        return publish, fetch_ack, shimmed
    finally:
        await delete_streams(js, subjects)


async def fetch_and_ack(
    nc: Client, js: JetStreamContext, subjects: Subjects, durable: str, n: int, tuning: Tuning
) -> Rate:
    sub = await js.pull_subscribe(
        subjects.service_wildcard(SOURCE),
        durable=durable,
        stream=subjects.stream(SOURCE),
        config=ConsumerConfig(
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            max_ack_pending=tuning.raw_fetch_batch * 8,  # as the spine's consumers
        ),
    )
    got = 0
    start = time.perf_counter()
    while got < n:
        msgs = await sub.fetch(tuning.raw_fetch_batch, timeout=5)
        for msg in msgs:
            await msg.ack()
        got += len(msgs)
    await nc.flush()  # the acks have reached the server
    rate = Rate(n, time.perf_counter() - start)
    await sub.unsubscribe()
    return rate


# --- the end-to-end roles, one process each ------------------------------------------------------


@dataclass
class Finished:
    """A role's CPU seconds from the start signal on, and its own (start, end) if it has one."""

    cpu_s: float
    span: tuple[float, float] | None = None


async def appender(target: Target, go: ProcessEvent, stop: ProcessEvent, ready: Queue[str]) -> Finished:
    engine = target.engine()
    store = EventStore(engine)
    batches = event_batches(target.events, target.tuning.append_batch)
    async with engine.connect() as conn:  # open the pool before the clock starts
        await conn.execute(text("SELECT 1"))
    ready.put("appender")
    await asyncio.to_thread(go.wait)
    cpu = time.process_time()
    span = await append_all(store, batches)
    cpu_s = time.process_time() - cpu
    await engine.dispose()
    return Finished(cpu_s, span)


async def service(target: Target, go: ProcessEvent, stop: ProcessEvent, ready: Queue[str]) -> Finished:
    """The producing service as deployed: it appends, and its relay task publishes what it appended."""
    engine = target.engine()
    store = EventStore(engine)
    nc, outbox = await _outbox(target, engine)
    store.on_appended.append(outbox.wake)
    batches = event_batches(target.events, target.tuning.append_batch)
    ready.put("service")
    await asyncio.to_thread(go.wait)
    cpu = time.process_time()
    async with _relaying(outbox, stop):
        span = await append_all(store, batches)
    cpu_s = time.process_time() - cpu
    await nc.drain()
    await engine.dispose()
    return Finished(cpu_s, span)


async def relay(target: Target, go: ProcessEvent, stop: ProcessEvent, ready: Queue[str]) -> Finished:
    engine = target.engine()
    nc, outbox = await _outbox(target, engine)
    ready.put("relay")
    await asyncio.to_thread(go.wait)
    cpu = time.process_time()
    async with _relaying(outbox, stop):
        pass
    cpu_s = time.process_time() - cpu
    await nc.drain()
    await engine.dispose()
    return Finished(cpu_s)


#: (stream id, its events, the batch's number): one append call
Batch = tuple[str, list[DomainEvent], int]


def event_batches(events: int, size: int) -> list[Batch]:
    """The run's appends: ``size`` events to a new pair's stream each, formed and completed in turn."""
    return [
        (f"pair-{uuid.uuid4()}", [pair_formed() if j % 2 == 0 else item_completed() for j in range(size)], i)
        for i in range(events // size)
    ]


async def append_all(store: EventStore, batches: list[Batch]) -> tuple[float, float]:
    """Append every batch, ten schools in turn; the (start, end) of it."""
    start = time.monotonic()
    for stream_id, new_events, i in batches:
        await store.append(stream_id, 0, new_events, tenant=tenant(f"s{i % 10}"))
    return start, time.monotonic()


async def _outbox(target: Target, engine: AsyncEngine) -> tuple[Client, OutboxRelay]:
    """The run's relay, its pool open before the clock starts."""
    nc = await nats.connect(target.nats_url)
    outbox = OutboxRelay(engine, nc.jetstream(), target.subjects, batch_size=target.tuning.relay_batch)
    await outbox.backlog()
    return nc, outbox


@contextlib.asynccontextmanager
async def _relaying(outbox: OutboxRelay, stop: ProcessEvent) -> AsyncIterator[None]:
    """The relay runs as a task through the block, then until the run's stop signal."""
    stopping = asyncio.Event()
    running = asyncio.create_task(outbox.run(stopping))
    try:
        yield
        await asyncio.to_thread(stop.wait)
    finally:
        stopping.set()
        await running


async def consumer(target: Target, go: ProcessEvent, stop: ProcessEvent, ready: Queue[str]) -> Finished:
    engine = target.engine()
    broker = NatsBroker(target.nats_url, graceful_timeout=10, logger=None)
    tuning = target.tuning
    settings = ConsumerSettings(batch_size=tuning.consumer_batch, fetch_timeout_s=tuning.fetch_timeout_s)
    register_consumer(broker, engine, EventCounts(), target.subjects, settings)
    await broker.start()
    ready.put("consumer")
    await asyncio.to_thread(go.wait)
    cpu = time.process_time()
    await asyncio.to_thread(stop.wait)
    cpu_s = time.process_time() - cpu
    await broker.stop()
    await engine.dispose()
    return Finished(cpu_s)


Role = Callable[[Target, ProcessEvent, ProcessEvent, "Queue[str]"], Coroutine[Any, Any, Finished]]
ROLES: dict[str, Role] = {"consumer": consumer, "relay": relay, "appender": appender, "service": service}


def roles(target: Target) -> tuple[str, ...]:
    return ("consumer", "service") if target.relay_in_service else ("consumer", "relay", "appender")


def run_role(
    role: str,
    target: Target,
    go: ProcessEvent,
    stop: ProcessEvent,
    ready: Queue[str],
    results: Queue[tuple[str, Finished]],
) -> None:
    """A child process's entry point: one role on its own event loop."""
    results.put((role, asyncio.run(ROLES[role](target, go, stop, ready))))


# --- one end-to-end run --------------------------------------------------------------------------


async def end_to_end(js: JetStreamContext, target: Target) -> EndToEnd:
    """Append → relay → consume with one process per role; the clock runs from the first append."""
    n, subjects = target.events, target.subjects
    engine = target.engine()
    await migrate(engine)
    projection = EventCounts()
    await projection.install(engine)
    await ensure_streams(js, subjects)
    stream = subjects.stream(SOURCE)
    ctx = mp.get_context("spawn")
    go, stop = ctx.Event(), ctx.Event()
    ready: Queue[str] = ctx.Queue()
    results: Queue[tuple[str, Finished]] = ctx.Queue()
    procs: list[BaseProcess] = [
        ctx.Process(target=run_role, args=(role, target, go, stop, ready, results), name=f"bench-{role}")
        for role in roles(target)
    ]

    def alive() -> None:
        dead = [p.name for p in procs if p.exitcode not in (None, 0)]
        if dead:
            raise RuntimeError(f"{', '.join(str(d) for d in dead)} failed; see its traceback above")

    async def all_ready() -> bool:
        alive()
        with contextlib.suppress(Empty):
            waiting.remove(ready.get_nowait())
        return not waiting

    async def relayed() -> bool:
        alive()
        return bool((await js.stream_info(stream)).state.messages >= n)

    async def applied() -> bool:  # acks follow the commit, so the ack floor marks applied events
        alive()
        return bool((await js.consumer_info(stream, projection.name)).ack_floor.stream_seq >= n)

    waiting = set(roles(target))
    limit_s = max(120.0, n / 100)
    try:
        for proc in procs:
            proc.start()
        await wait_for(all_ready, 120, "all roles ready")
        servers_before = {name: server_cpu_s(name) for name in SERVERS}
        go.set()
        relayed_at = await wait_for(relayed, limit_s, f"{n} events in JetStream")
        applied_at = await wait_for(applied, limit_s, f"{n} events applied")
        servers = {name: server_cpu_s(name) - before for name, before in servers_before.items()}
        stop.set()
        finished = dict([await asyncio.to_thread(results.get, True, 60) for _ in procs])
        appended = finished["service" if target.relay_in_service else "appender"].span
        assert appended is not None
        start, appended_at = appended
        cpu_us = {role: f.cpu_s / n * 1e6 for role, f in finished.items()}
        cpu_us.update({name: seconds / n * 1e6 for name, seconds in servers.items()})
        async with engine.connect() as conn:
            rows = await conn.scalar(select(func.count()).select_from(projection.tables(1)["applied"]))
        dead_letters = (await js.stream_info(subjects.dead_letter_stream)).state.messages
        if rows != n or dead_letters:
            raise RuntimeError(f"{rows} of {n} events applied, {dead_letters} dead-lettered")
        return EndToEnd(
            target.backend,
            append=Rate(n, appended_at - start),
            relayed=Rate(n, relayed_at - start),
            applied=Rate(n, applied_at - start),
            cpu_us=cpu_us,
        )
    finally:
        stop.set()
        for proc in procs:
            await asyncio.to_thread(proc.join, 30)
            if proc.is_alive():
                proc.terminate()
        await engine.dispose()
        await delete_streams(js, subjects)


async def run_sqlite(js: JetStreamContext, nats_url: str, run_id: str, n: int, tuning: Tuning) -> EndToEnd:
    folder = Path(tempfile.mkdtemp(prefix="spine-bench-"))
    try:
        url = f"sqlite+aiosqlite:///{folder / 'store.db'}"
        target = Target("SQLite", url, None, nats_url, f"bench_{run_id}_sqlite", n, tuning)
        return await end_to_end(js, target)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def run_postgres(
    js: JetStreamContext,
    nats_url: str,
    url: str,
    run_id: str,
    n: int,
    tuning: Tuning,
    relay_in_service: bool = False,
) -> EndToEnd:
    schema = await create_schema(url, "bench")
    try:
        backend = "PostgreSQL, relay in service" if relay_in_service else "PostgreSQL"
        root = f"bench_{run_id}_{'pgsvc' if relay_in_service else 'pg'}"
        target = Target(backend, url, schema, nats_url, root, n, tuning, relay_in_service)
        return await end_to_end(js, target)
    finally:
        await drop_schema(url, schema)


async def bench(n: int, nats_url: str, postgres_url: str, tuning: Tuning, console: Console) -> Results:
    run_id = uuid.uuid4().hex[:8]
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        env = await environment(nats_url, postgres_url, speed=False, sqlite=True)
        with console.status("raw JetStream publish and pull-fetch-ack…"):
            publish, fetch_ack, shimmed = await raw_baseline(nc, run_id, n, tuning)
        results = Results(n, tuning, publish, fetch_ack, shimmed, environment=env)
        with console.status("SQLite end to end…"):
            results.runs.append(await run_sqlite(js, nats_url, run_id, n, tuning))
        with console.status("PostgreSQL end to end…"):
            results.runs.append(await run_postgres(js, nats_url, postgres_url, run_id, n, tuning))
        with console.status("PostgreSQL end to end, the relay in the producing service…"):
            results.runs.append(await run_postgres(js, nats_url, postgres_url, run_id, n, tuning, True))
        results.peer_missing = missing()
        if results.peer_missing is None:
            with console.status(f"{PEER} end to end…"):
                results.peer = await run_eventsourcing(postgres_url, n, tuning.append_batch)
        return results
    finally:
        await nc.drain()


# --- reporting -----------------------------------------------------------------------------------


PEER = "pyeventsourcing 9.5.x (PostgreSQL)"
Row = tuple[str, str, str, str, str]


def rows(results: Results) -> list[Row]:
    """(path, stage, rate, seconds, share of the raw pull-fetch-ack rate)."""
    raw = results.fetch_ack.per_second

    def row(path: str, stage: str, rate: Rate, unit: str = "events/s") -> Row:
        share = rate.per_second / raw
        return path, stage, f"{rate.per_second:,.0f} {unit}", f"{rate.seconds:.2f}", f"{share:.2f}"

    table = [
        row("raw nats-py", "publish_async", results.publish, "msg/s"),
        row("raw nats-py", "pull fetch + ack", results.fetch_ack, "msg/s"),
        row("raw nats-py + shim", "pull fetch + ack", results.fetch_ack_shimmed, "msg/s"),
    ]
    for run in results.runs:
        table += [
            row(run.backend, f"append, {results.tuning.append_batch}/call", run.append),
            row(run.backend, "relayed to JetStream", run.relayed),
            row(run.backend, "end to end (applied)", run.applied),
        ]
    if results.peer is not None:
        table += [
            row(PEER, f"append, {results.tuning.append_batch}/save", results.peer.append),
            row(PEER, "end to end (applied)", results.peer.applied),
        ]
    return table


def floor_lines(results: Results) -> list[tuple[bool, str]]:
    """Each floor's verdict and line; a floor not measured is not met."""
    pg = next(r for r in results.runs if r.backend == "PostgreSQL").applied.per_second
    lines = [
        _floor("1/3 raw fetch-ack", pg, results.fetch_ack.per_second, FLOOR),
        # the same share of a client our shim made faster: not the floor's reference, shown beside it
        _floor("1/3 raw fetch-ack + shim", pg, results.fetch_ack_shimmed.per_second, FLOOR, "Beside it"),
    ]
    if results.peer is None:
        return [*lines, (False, f"Floor ({PEER_FLOOR}): not measured, {results.peer_missing}")]
    return [*lines, _floor("pyeventsourcing e2e", pg, results.peer.applied.per_second, 1.0)]


PEER_FLOOR = "PostgreSQL e2e ≥ pyeventsourcing e2e"  # the line of the second floor when not measured


def _floor(
    against: str, rate: float, reference: float, share: float, label: str = "Floor"
) -> tuple[bool, str]:
    met = rate / reference >= share
    verdict = "met" if met else "NOT met"
    ratio = f"{rate:,.0f} / {reference:,.0f} = {rate / reference:.2f}"
    return met, f"{label} (PostgreSQL e2e ≥ {against}): {verdict}, {ratio}"


HEADERS = ("Path", "Stage", "Rate", "Seconds", "× fetch-ack")
#: service: appender and relay in one process (the runtime's way); the peer's projection is its consumer
CPU_COLUMNS = ("service", "appender", "relay", "consumer", *SERVERS)


def cpu_rows(results: Results) -> list[tuple[str, ...]]:
    """CPU µs per event by process, and the rate the machine's cores could carry at that cost."""
    cores = os.cpu_count() or 1
    measured = [(run.backend, run.cpu_us) for run in results.runs]
    if results.peer is not None:
        peer = results.peer.cpu_us
        measured.append((PEER, {"appender": peer["appender"], "consumer": peer["projection"], **peer}))
    table = []
    for backend, cpu_us in measured:
        total = sum(cpu_us.get(c, 0.0) for c in CPU_COLUMNS)
        ceiling = cores * 1e6 / total if total else 0.0
        table.append(
            (
                backend,
                *(f"{cpu_us[c]:,.0f}" if c in cpu_us else "—" for c in CPU_COLUMNS),
                f"{total:,.0f}",
                f"{ceiling:,.0f}/s",
            )
        )
    return table


CPU_HEADERS = ("Backend", *CPU_COLUMNS, "total", "CPU ceiling")


def print_results(results: Results, console: Console) -> None:
    print_table(console, f"Event spine throughput, {results.events:,} events", HEADERS, rows(results))
    cores = f"CPU µs per event by process ({os.cpu_count()} cores)"
    print_table(console, cores, CPU_HEADERS, cpu_rows(results), floor_lines(results), left=1)


def markdown(results: Results) -> str:
    t = results.tuning
    lines = [
        "# Event spine throughput",
        "",
        f"`.venv/bin/python bench/spine.py --events {results.events}`: {results.events:,} events of about "
        "600 bytes. Appender, relay and consumer run as separate processes, all at once (in the run "
        "marked relay in service, the appender's process relays its outbox, as the runtime does); each "
        "figure is timed from the first append to the last event appended, in the stream, or "
        "applied to the projection and acknowledged. pyeventsourcing does the same work its way "
        "(bench/peer_eventsourcing.py): an application saves 50 events per aggregate, a "
        "ProjectionRunner in another process applies each to the same view with its tracking "
        "record, one transaction per event; its clock stops when the tracking record reaches the "
        "last event. Raw nats-py is the package as shipped, the floor's reference; raw nats-py + "
        "shim is the same fetch with the consumers' shim (mentornet_spine.compat: a message already "
        "queued is taken without a task and a wait_for each), shown beside it.",
        "",
        *markdown_table(HEADERS, rows(results)),
        "",
        *(f"**{line}**  " for _, line in floor_lines(results)),
        "",
        f"CPU µs per event by process, and the rate {os.cpu_count()} cores could carry at that cost "
        "(nats-server and postgres measured from /proc, reaped children included):",
        "",
        *markdown_table(CPU_HEADERS, cpu_rows(results), left=1),
        "",
        f"Tuning: append {t.append_batch} events per call, relay batch {t.relay_batch}, consumer batch "
        f"{t.consumer_batch} (fetch timeout {t.fetch_timeout_s} s), raw fetch batch {t.raw_fetch_batch}.",
        "",
        environment_line(results.environment),
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="Event spine throughput against raw JetStream, in one run.")
    parser.add_argument("--events", type=int, default=20000, help="events per measurement (default 20000)")
    add_server_arguments(parser, "spine.md")
    parser.add_argument("--append-batch", type=int, default=Tuning.append_batch)
    parser.add_argument("--relay-batch", type=int, default=Tuning.relay_batch)
    parser.add_argument("--consumer-batch", type=int, default=Tuning.consumer_batch)
    args = parser.parse_args()
    tuning = Tuning(args.append_batch, args.relay_batch, args.consumer_batch)
    n = args.events - args.events % tuning.append_batch
    if n <= 0:
        parser.error(f"--events must be at least --append-batch ({tuning.append_batch})")
    console = Console()
    measure = bench(n, args.nats_url, args.postgres_url, tuning, console)
    run_bench(console, args.output, measure, print_results, markdown)


if __name__ == "__main__":
    main()
