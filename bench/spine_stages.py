"""CPU per event of each spine stage alone: append, relay, consume, one after the other.

bench/spine.py runs the stages at once, as separate processes sharing the cores, so a stage's
cost there moves with what the others do. Here one process appends N events to a fresh
PostgreSQL schema, then relays them all to a fresh stream, then consumes them all into the test
projection, and prints for each stage its rate and the CPU per event of this process, postgres
and nats-server. The figures quoted for single stages in issue 16's commits come from this
measurement (run it at a commit and at its parent to compare).

    .venv/bin/python bench/spine_stages.py --events 20000
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import nats
from faststream.nats import NatsBroker
from nats.js import JetStreamContext
from rich.console import Console

from mentornet_events import Subjects
from mentornet_spine.consumer import ConsumerSettings, register_consumer
from mentornet_spine.db import create_schema, drop_schema, make_engine
from mentornet_spine.migrate import migrate
from mentornet_spine.relay import OutboxRelay
from mentornet_spine.store import EventStore
from mentornet_spine.streams import delete_streams, ensure_streams
from mentornet_spine.testing import EventCounts

from harness.cli import add_server_arguments, run_bench
from harness.console import print_table
from harness.markdown import markdown_table
from harness.rates import Rate, wait_for
from harness.sampling import server_cpu_s
from spine import append_all, event_batches

SERVERS = ("postgres", "nats-server")


@dataclass
class Stage:
    name: str
    rate: Rate
    cpu_us: dict[str, float]  # by process: this one, then the servers


async def measured(name: str, n: int, work: Callable[[], Awaitable[None]]) -> Stage:
    servers = {s: server_cpu_s(s) for s in SERVERS}
    cpu, start = time.process_time(), time.monotonic()
    await work()
    seconds, cpu_s = time.monotonic() - start, time.process_time() - cpu
    used = {"this process": cpu_s, **{s: server_cpu_s(s) - before for s, before in servers.items()}}
    return Stage(name, Rate(n, seconds), {p: s / n * 1e6 for p, s in used.items()})


async def stages(n: int, nats_url: str, postgres_url: str, consumer_batch: int) -> list[Stage]:
    schema = await create_schema(postgres_url, "stages")
    engine = make_engine(postgres_url, schema=schema)
    nc = await nats.connect(nats_url)
    js: JetStreamContext = nc.jetstream()
    subjects = Subjects(root=f"stages_{uuid.uuid4().hex[:8]}")
    try:
        await migrate(engine)
        projection = EventCounts()
        await projection.install(engine)
        await ensure_streams(js, subjects)
        store = EventStore(engine)
        batches = event_batches(n, 50)

        async def append() -> None:
            await append_all(store, batches)

        relay = OutboxRelay(engine, js, subjects, batch_size=500)
        await relay.backlog()  # its pool open before the clock

        async def relay_all() -> None:
            while await relay.relay_once():
                pass

        broker = NatsBroker(nats_url, graceful_timeout=10, logger=None)
        settings = ConsumerSettings(batch_size=consumer_batch, fetch_timeout_s=0.1)
        register_consumer(broker, engine, projection, subjects, settings)
        stream = subjects.stream("programs")

        async def consume() -> None:
            async def applied() -> bool:
                return bool((await js.consumer_info(stream, projection.name)).ack_floor.stream_seq >= n)

            await broker.start()
            await wait_for(applied, max(120.0, n / 100), f"{n} events applied")

        found = [
            await measured("append, 50 per call", n, append),
            await measured("relay, 500 per batch", n, relay_all),
            await measured(f"consume, {consumer_batch} per batch, from its start", n, consume),
        ]
        await broker.stop()
        return found
    finally:
        await delete_streams(js, subjects)
        await nc.drain()
        await engine.dispose()
        await drop_schema(postgres_url, schema)


PROCESSES = ("this process", *SERVERS)
HEADERS = ("Stage", "Rate", *(f"{p} µs/event" for p in PROCESSES))


def rows(found: list[Stage]) -> list[tuple[str, ...]]:
    return [
        (s.name, f"{s.rate.per_second:,.0f} events/s", *(f"{s.cpu_us[p]:,.0f}" for p in PROCESSES))
        for s in found
    ]


def show(found: list[Stage], console: Console) -> None:
    title = f"Spine stages alone on PostgreSQL, {found[0].rate.count:,} events"
    print_table(console, title, HEADERS, rows(found), left=1)


def markdown(found: list[Stage]) -> str:
    return "\n".join(
        [
            "# Spine stages alone",
            "",
            f"`.venv/bin/python bench/spine_stages.py --events {found[0].rate.count}`: append, relay and "
            "consume one after the other in one process on PostgreSQL; CPU per event of that process "
            "and of the servers (from /proc; other work on the host counts too).",
            "",
            *markdown_table(HEADERS, rows(found), left=1),
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="CPU per event of each spine stage alone.")
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--consumer-batch", type=int, default=ConsumerSettings.batch_size)
    add_server_arguments(parser, "spine_stages.md")
    args = parser.parse_args()
    n = args.events - args.events % 50
    measure = stages(n, args.nats_url, args.postgres_url, args.consumer_batch)
    run_bench(Console(), args.output, measure, show, markdown)


if __name__ == "__main__":
    main()
