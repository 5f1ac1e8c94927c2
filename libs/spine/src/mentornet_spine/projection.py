"""Projections: read models kept in generations of tables, so a rebuild never disturbs readers.

The live generation is recorded in ``projection_generations``; a rebuild fills generation n+1 from
the start of the streams, switches the pointer and drops generation n in one transaction, then
catches up with whatever arrived meanwhile (idempotent through the consumer's tracking records).
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy import MetaData, Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from mentornet_events import CATALOGUE, Catalogue, Subjects
from mentornet_events.envelope import utc_now
from mentornet_spine import tracking
from mentornet_spine.db import reader
from mentornet_spine.handlers import Delivery, Outcome, Scope, TransactionalHandler, process_batch
from mentornet_spine.tables import applied_batches, processed_events, projection_generations

Tables = dict[str, Table]
Progress = Callable[[int, int], None]


class Projection(TransactionalHandler):
    """A read model; subclasses declare tables for a generation suffix and apply events to them."""

    def __init__(self) -> None:
        self._generations: dict[int, Tables] = {}

    @abstractmethod
    def define_tables(self, metadata: MetaData, suffix: str) -> Tables:
        """Declare the projection's tables, each name ending in ``suffix``."""

    def tables(self, generation: int) -> Tables:
        if generation not in self._generations:
            self._generations[generation] = self.define_tables(MetaData(), f"_g{generation}")
        return self._generations[generation]

    def ledger(self, generation: int) -> str:
        return f"{self.name}@g{generation}"

    async def generation(self, conn: AsyncConnection) -> int:
        value = await conn.scalar(
            select(projection_generations.c.generation).where(
                projection_generations.c.projection == self.name
            )
        )
        if value is None:
            raise RuntimeError(f"projection {self.name} is not installed; run install() at start-up")
        return int(value)

    async def scope(self, conn: AsyncConnection) -> Scope:
        gen = await self.generation(conn)
        return Scope(self.ledger(gen), self.tables(gen))

    async def install(self, engine: AsyncEngine) -> None:
        """Create generation 1 on first start; later starts keep the live generation."""
        async with engine.begin() as conn:
            exists = await conn.scalar(
                select(projection_generations.c.generation).where(
                    projection_generations.c.projection == self.name
                )
            )
            if exists is None:
                await conn.run_sync(lambda c: _create(c, self.tables(1)))
                await conn.execute(insert(projection_generations).values(projection=self.name, generation=1))

    async def read_scope(self, engine: AsyncEngine) -> Scope:
        async with reader(engine).connect() as conn:
            return await self.scope(conn)


def _create(sync_conn: object, tables: Tables) -> None:
    for table in tables.values():
        table.create(sync_conn, checkfirst=True)  # type: ignore[arg-type]


def _drop(sync_conn: object, tables: Tables) -> None:
    for table in reversed(list(tables.values())):
        table.drop(sync_conn, checkfirst=True)  # type: ignore[arg-type]


@dataclass
class RebuildResult:
    projection: str
    generation: int
    events: int
    #: events the projection refused (as live, they are left out), as (stream sequence, reason)
    refused: list[tuple[int, str]] = field(default_factory=list)


async def _stream_end(js: JetStreamContext, stream: str) -> int:
    info = await js.stream_info(stream)
    return int(info.state.last_seq)


#: messages per fetch (and per transaction) when replaying: the fixed cost of a batch (its
#: transaction, the ledger query, one statement per table) spread over more events
REPLAY_BATCH = 2000
#: replaying into empty tables, the planner's statistics are soon wrong (the processed-event
#: ledger's above all: its duplicate check turns into a filter over the whole generation); they
#: are refreshed after this many events, then each time the count doubles
ANALYZE_FIRST = 10_000


class _Upkeep:
    """What autovacuum would do, in time for the replay and the new generation's first readers
    (PostgreSQL): statistics as the tables fill, then ``VACUUM (ANALYZE)`` of the new tables
    before the swap (planner figures, and a visibility map for index-only scans)."""

    def __init__(self, engine: AsyncEngine, tables: Tables) -> None:
        self.engine = engine
        self.tables = tables
        self.enabled = engine.dialect.name == "postgresql"
        self.applied = 0
        self.next = ANALYZE_FIRST

    async def _run(self, statements: list[str]) -> None:
        async with self.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")  # VACUUM needs it
            for statement in statements:
                await conn.exec_driver_sql(statement)

    def _name(self, name: str) -> str:
        return str(self.engine.dialect.identifier_preparer.quote(name))

    async def advance(self, events: int) -> None:
        self.applied += events
        if self.enabled and self.applied >= self.next:
            self.next = self.applied * 2
            await self._run([f"ANALYZE {self._name(t.name)}" for t in (applied_batches, processed_events)])

    async def before_swap(self) -> None:
        if self.enabled:
            await self._run(
                [
                    *(f"VACUUM (ANALYZE) {self._name(t.name)}" for t in self.tables.values()),
                    f"ANALYZE {self._name(applied_batches.name)}",
                    f"ANALYZE {self._name(processed_events.name)}",
                ]
            )


async def _replay_stream(
    engine: AsyncEngine,
    js: JetStreamContext,
    projection: Projection,
    scope: Scope,
    subjects: Subjects,
    source: str,
    start: int,
    end: int,
    catalogue: Catalogue,
    progress: Progress | None,
    refused: list[tuple[int, str]],
    upkeep: _Upkeep | None = None,
    batch_size: int = REPLAY_BATCH,
) -> int:
    """Apply messages ``start..end`` of a source stream; returns how many were read.

    The next batch is fetched while the current one is applied, so that the broker's and the
    database's round trips overlap.
    """
    if end < start:
        return 0
    stream = subjects.stream(source)
    sub = await js.pull_subscribe(
        subjects.service_wildcard(source),
        durable=None,
        stream=stream,
        config=ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=start,
            ack_policy=AckPolicy.NONE,
            inactive_threshold=60.0,
        ),
    )
    seen = 0
    fetching: asyncio.Future[list[Msg]] | None = None
    try:
        fetching = asyncio.ensure_future(sub.fetch(batch_size, timeout=5.0))
        while fetching is not None:
            msgs = await fetching
            last = max(m.metadata.sequence.stream for m in msgs)
            fetching = asyncio.ensure_future(sub.fetch(batch_size, timeout=5.0)) if last < end else None
            batch = [
                Delivery(m.data, m.metadata.sequence.stream, dict(m.headers or {}), m.metadata.stream)
                for m in msgs
                if m.metadata.sequence.stream <= end
            ]
            await process_batch(engine, projection, batch, catalogue, scope)
            refused += [
                (d.stream_sequence, d.reason) for d in batch if d.outcome in (Outcome.FAILED, Outcome.POISON)
            ]
            seen += len(batch)
            if progress:
                progress(len(batch), 0)
            if upkeep is not None:
                await upkeep.advance(len(batch))
    finally:
        if fetching is not None:
            fetching.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await fetching
        await sub.unsubscribe()
    return seen


async def rebuild(
    engine: AsyncEngine,
    js: JetStreamContext,
    projection: Projection,
    subjects: Subjects,
    *,
    catalogue: Catalogue = CATALOGUE,
    progress: Progress | None = None,
) -> RebuildResult:
    """Rebuild ``projection`` from the start of its source streams into fresh tables and swap them in."""
    await projection.install(engine)
    async with engine.connect() as conn:
        old = await projection.generation(conn)
    new = old + 1
    async with engine.begin() as conn:
        await conn.run_sync(lambda c: _drop(c, projection.tables(new)))
        await conn.run_sync(lambda c: _create(c, projection.tables(new)))
        for statement in tracking.forget(projection.ledger(new)):
            await conn.execute(statement)
    scope = Scope(projection.ledger(new), projection.tables(new))
    upkeep = _Upkeep(engine, projection.tables(new))
    ends = {source: await _stream_end(js, subjects.stream(source)) for source in projection.sources}
    if progress:
        progress(0, sum(ends.values()))
    total = 0
    refused: list[tuple[int, str]] = []
    for source, end in ends.items():
        total += await _replay_stream(
            engine, js, projection, scope, subjects, source, 1, end, catalogue, progress, refused, upkeep
        )
    await upkeep.before_swap()  # the first queries on the new generation plan with real figures
    async with engine.begin() as conn:
        await conn.execute(
            update(projection_generations)
            .where(projection_generations.c.projection == projection.name)
            .values(generation=new, rebuilt_at=utc_now())
        )
        await conn.run_sync(lambda c: _drop(c, projection.tables(old)))
        for statement in tracking.forget(projection.ledger(old)):
            await conn.execute(statement)
    for source, end in ends.items():
        now = await _stream_end(js, subjects.stream(source))
        total += await _replay_stream(
            engine, js, projection, scope, subjects, source, end + 1, now, catalogue, None, refused
        )
    return RebuildResult(projection.name, new, total, refused)
