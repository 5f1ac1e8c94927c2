"""The event store: append with optimistic concurrency, read a stream, read everything in order.

Appends are serialised (an advisory transaction lock on PostgreSQL; SQLite's single writer with
``BEGIN IMMEDIATE``) so positions become visible in the order they were assigned: a reader that
moves past position N can never later meet a smaller position committing behind it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from opentelemetry import propagate, trace
from sqlalchemy import bindparam, func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from mentornet_events import CATALOGUE, Catalogue, DomainEvent, Envelope, Tenant, new_event_id
from mentornet_events.envelope import envelope_to_json, utc_now
from mentornet_spine.db import statement_reads
from mentornet_spine.tables import events

APPEND_LOCK_KEY = 0x4D4E_4556  # "MNEV": one advisory lock per database serialises appends
tracer = trace.get_tracer("mentornet.spine.store")


# Statements of the hot paths, built once (building one costs about as much as running it).
_STREAM_VERSION = (
    select(func.coalesce(func.max(events.c.stream_version), 0))
    .where(events.c.stream_id == bindparam("stream_id"))
    .scalar_subquery()
)
# One stream at an expected version, on PostgreSQL: the lock, the version guard and the rows in one
# statement, so the lock is held for this round trip and the COMMIT's only (a command's read model
# writes come before it). Positions are drawn after the lock (the defaults are computed above the
# join with it); a stale version inserts nothing, a racing one breaks the unique constraint.
_LOCKED_APPEND = text(
    """
    WITH append_lock AS MATERIALIZED (SELECT pg_advisory_xact_lock(:lock_key))
    INSERT INTO events (event_id, stream_id, stream_version, type, schema_version, occurred_at,
                        region, municipality, school, correlation_id, causation_id,
                        trace_context, payload, message)
    SELECT r.* FROM append_lock, unnest(
        CAST(:event_ids AS uuid[]), CAST(:stream_ids AS varchar[]), CAST(:versions AS integer[]),
        CAST(:types AS varchar[]), CAST(:schema_versions AS integer[]),
        CAST(:occurred AS timestamptz[]), CAST(:regions AS varchar[]),
        CAST(:municipalities AS varchar[]), CAST(:schools AS varchar[]),
        CAST(:correlations AS uuid[]), CAST(:causations AS uuid[]),
        CAST(:traces AS json[]), CAST(:payloads AS json[]), CAST(:messages AS bytea[])
    ) AS r(event_id, stream_id, stream_version, type, schema_version, occurred_at, region,
           municipality, school, correlation_id, causation_id, trace_context, payload, message)
    WHERE (SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = :stream_id) = :expected
    ORDER BY r.stream_version
    RETURNING position, stream_version
    """
)
_INSERT = insert(events).returning(events.c.position, sort_by_parameter_order=True)
#: what an envelope is made of (the published bytes are the relay's alone)
ENVELOPE_COLUMNS = [c for c in events.c if c.name != "message"]
_READ_STREAM = (
    select(*ENVELOPE_COLUMNS)
    .where(events.c.stream_id == bindparam("stream_id"), events.c.stream_version > bindparam("after"))
    .order_by(events.c.stream_version)
)


class ConcurrencyConflict(Exception):
    """Someone else appended to the stream since the caller read it (HTTP 409)."""

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        super().__init__(
            f"stream {stream_id!r} is at version {actual}, the command expected {expected}: "
            "it was changed by someone else; reload and try again"
        )
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


@dataclass(frozen=True)
class StreamAppend:
    """New events for one stream, expected at ``expected_version`` (0: new, None: any)."""

    stream_id: str
    expected_version: int | None
    events: list[DomainEvent]
    tenant: Tenant


@dataclass(frozen=True)
class StoredEvent:
    position: int
    envelope: Envelope


def _row_to_envelope(row: Any) -> Envelope:
    """Rows were validated when appended: construct without validating again (hot path)."""
    return Envelope.model_construct(
        event_id=row.event_id,
        type=row.type,
        schema_version=row.schema_version,
        occurred_at=row.occurred_at,
        stream_id=row.stream_id,
        stream_version=row.stream_version,
        tenant=Tenant.model_construct(region=row.region, municipality=row.municipality, school=row.school),
        correlation_id=row.correlation_id,
        causation_id=row.causation_id,
        trace_context=row.trace_context,
        payload=row.payload,
    )


def current_trace_context() -> dict[str, str]:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


class EventStore:
    def __init__(self, engine: AsyncEngine, catalogue: Catalogue = CATALOGUE) -> None:
        self.engine = engine
        # every read here is one statement: autocommit on PostgreSQL saves its BEGIN and ROLLBACK
        self.reader = statement_reads(engine)
        self.catalogue = catalogue
        #: called after every append (the relay's wake-up); the commit may follow a moment later
        self.on_appended: list[Callable[[], None]] = []

    @asynccontextmanager
    async def _connection(self, conn: AsyncConnection | None) -> AsyncIterator[AsyncConnection]:
        if conn is not None:
            yield conn
            return
        async with self.engine.begin() as own:
            yield own

    async def append(
        self,
        stream_id: str,
        expected_version: int | None,
        new_events: Sequence[DomainEvent],
        *,
        tenant: Tenant,
        correlation_id: UUID | None = None,
        causation_id: UUID | None = None,
        conn: AsyncConnection | None = None,
    ) -> list[StoredEvent]:
        """Append events to a stream; ``expected_version`` 0 means a new stream, None means any.

        Pass ``conn`` to make the append part of the caller's transaction (a read model change
        committed together with its events).
        """
        change = StreamAppend(stream_id, expected_version, list(new_events), tenant)
        return await self.append_many(
            [change], correlation_id=correlation_id, causation_id=causation_id, conn=conn
        )

    async def append_many(
        self,
        changes: Sequence[StreamAppend],
        *,
        correlation_id: UUID | None = None,
        causation_id: UUID | None = None,
        conn: AsyncConnection | None = None,
    ) -> list[StoredEvent]:
        """Append to several streams at once, all or nothing (a bulk import in one statement)."""
        changes = [c for c in changes if c.events]
        if not changes:
            return []
        # refuses what the catalogue does not declare or cannot carry; the JSON is stored as it is
        payloads = [[self.catalogue.admit(ev) for ev in change.events] for change in changes]
        with tracer.start_as_current_span(
            "eventstore.append",
            attributes={
                "mentornet.stream_id": changes[0].stream_id,
                "mentornet.streams": len(changes),
                "mentornet.count": sum(len(c.events) for c in changes),
            },
        ):
            trace_context = current_trace_context()
            correlation = correlation_id or new_event_id()
            now = utc_now()
            async with self._connection(conn) as c:
                only = changes[0]
                if c.dialect.name == "postgresql" and len(changes) == 1 and only.expected_version is not None:
                    envelopes = [
                        _envelope(
                            ev, only, only.expected_version + i, now, correlation, causation_id, trace_context
                        )
                        for i, ev in enumerate(only.events, start=1)
                    ]
                    positions = await self._locked_append(c, only, envelopes, payloads[0])
                else:
                    if c.dialect.name == "postgresql":
                        await c.execute(select(func.pg_advisory_xact_lock(APPEND_LOCK_KEY)))
                    versions = await self._versions(c, [change.stream_id for change in changes])
                    envelopes, raw = [], []
                    for change, admitted in zip(changes, payloads, strict=True):
                        actual = versions.get(change.stream_id, 0)
                        if change.expected_version is not None and actual != change.expected_version:
                            raise ConcurrencyConflict(change.stream_id, change.expected_version, actual)
                        envelopes += [
                            _envelope(ev, change, actual + i, now, correlation, causation_id, trace_context)
                            for i, ev in enumerate(change.events, start=1)
                        ]
                        raw += admitted
                        versions[change.stream_id] = actual + len(change.events)
                    try:
                        rows = [_envelope_row(e, p) for e, p in zip(envelopes, raw, strict=True)]
                        result = await c.execute(_INSERT, rows)
                    except IntegrityError as error:
                        raise _conflict(error, only) from None
                    positions = list(result.scalars())
            for notify in self.on_appended:
                notify()
            return [StoredEvent(p, e) for p, e in zip(positions, envelopes, strict=True)]

    async def _locked_append(
        self, conn: AsyncConnection, change: StreamAppend, envelopes: list[Envelope], payloads: list[bytes]
    ) -> list[int]:
        rows = [_envelope_row(e, p) for e, p in zip(envelopes, payloads, strict=True)]
        params = {
            "lock_key": APPEND_LOCK_KEY,
            "stream_id": change.stream_id,
            "expected": change.expected_version,
            "event_ids": [r["event_id"] for r in rows],
            "stream_ids": [r["stream_id"] for r in rows],
            "versions": [r["stream_version"] for r in rows],
            "types": [r["type"] for r in rows],
            "schema_versions": [r["schema_version"] for r in rows],
            "occurred": [r["occurred_at"] for r in rows],
            "regions": [r["region"] for r in rows],
            "municipalities": [r["municipality"] for r in rows],
            "schools": [r["school"] for r in rows],
            "correlations": [r["correlation_id"] for r in rows],
            "causations": [r["causation_id"] for r in rows],
            "traces": [json.dumps(r["trace_context"]) for r in rows],
            "payloads": [p.decode() for p in payloads],
            "messages": [r["message"] for r in rows],
        }
        try:
            inserted = sorted((v, p) for p, v in await conn.execute(_LOCKED_APPEND, params))
        except IntegrityError as error:
            raise _conflict(error, change) from None
        if not inserted:  # the guard: the stream is not at the expected version
            actual = await self._version(conn, change.stream_id)
            raise ConcurrencyConflict(change.stream_id, change.expected_version or 0, actual)
        return [p for _, p in inserted]

    @staticmethod
    async def _versions(conn: AsyncConnection, stream_ids: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        unique = list(dict.fromkeys(stream_ids))
        for start in range(0, len(unique), 1000):
            chunk = unique[start : start + 1000]
            rows = await conn.execute(
                select(events.c.stream_id, func.max(events.c.stream_version))
                .where(events.c.stream_id.in_(chunk))
                .group_by(events.c.stream_id)
            )
            found.update({stream: int(version) for stream, version in rows})
        return found

    @staticmethod
    async def _version(conn: AsyncConnection, stream_id: str) -> int:
        return int(await conn.scalar(select(_STREAM_VERSION), {"stream_id": stream_id}) or 0)

    async def stream_version(self, stream_id: str) -> int:
        async with self.reader.connect() as conn:
            return await self._version(conn, stream_id)

    async def read_stream(
        self, stream_id: str, after_version: int = 0, conn: AsyncConnection | None = None
    ) -> list[Envelope]:
        """A stream's events after ``after_version``; in the caller's transaction when given ``conn``."""
        params = {"stream_id": stream_id, "after": after_version}
        if conn is not None:
            return [_row_to_envelope(r) for r in await conn.execute(_READ_STREAM, params)]
        async with self.reader.connect() as own:
            return [_row_to_envelope(r) for r in await own.execute(_READ_STREAM, params)]

    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[StoredEvent]:
        """Everything after a global position, in position order; never skips (see module doc)."""
        query = (
            select(*ENVELOPE_COLUMNS)
            .where(events.c.position > after_position)
            .order_by(events.c.position)
            .limit(limit)
        )
        async with self.reader.connect() as conn:
            return [StoredEvent(r.position, _row_to_envelope(r)) for r in await conn.execute(query)]


def _conflict(error: IntegrityError, change: StreamAppend) -> Exception:
    """A racing append broke the (stream, version) constraint: a conflict; anything else as it was."""
    if "uq_events_stream_version" in str(error) or "stream_version" in str(error):
        expected = change.expected_version or 0
        return ConcurrencyConflict(change.stream_id, expected, expected + 1)
    return error


def _envelope(
    event: DomainEvent,
    change: StreamAppend,
    version: int,
    now: Any,
    correlation: UUID,
    causation: UUID | None,
    trace_context: dict[str, str],
) -> Envelope:
    """Every part is validated already (the event, the tenant, our ids): construct, don't validate."""
    return Envelope.model_construct(
        event_id=new_event_id(),
        type=type(event).event_type,
        schema_version=type(event).schema_version,
        occurred_at=now,
        stream_id=change.stream_id,
        stream_version=version,
        tenant=change.tenant,
        correlation_id=correlation,
        causation_id=causation,
        trace_context=trace_context,
        payload=event.model_dump(mode="json"),
    )


def _envelope_row(e: Envelope, payload_json: bytes) -> dict[str, Any]:
    return {
        "event_id": e.event_id,
        "stream_id": e.stream_id,
        "stream_version": e.stream_version,
        "type": e.type,
        "schema_version": e.schema_version,
        "occurred_at": e.occurred_at,
        "region": e.tenant.region,
        "municipality": e.tenant.municipality,
        "school": e.tenant.school,
        "correlation_id": e.correlation_id,
        "causation_id": e.causation_id,
        "trace_context": e.trace_context,
        "payload": e.payload,
        "message": envelope_to_json(e, payload_json),
    }
