"""One event-sourced unit of work, the same for every service's commands.

A command opens a unit, loads its aggregates' events through the stream cache, decides in the
domain, records the new events (the service's projector updates its read tables at once, in the
same transaction) and writes whatever rows are not events (texts, secrets, contacts). The events
are appended when the unit ends, just before the commit: the store's append lock (one locked
statement) is held for the shortest time. A concurrent command that changed a stream this one
decided on makes it fail with ``ConcurrencyConflict`` (HTTP 409), whether the clash shows at the
append or earlier, on a read-model row both wrote.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from mentornet_events import DomainEvent, Tenant
from mentornet_spine.store import ConcurrencyConflict, EventStore, StreamAppend
from mentornet_spine.streamcache import RecentStreams

#: updates a service's read tables with a stream's new events: (conn, tenant, events, the stream's
#: version after them, the command's non-event facts for the read model)
Projector = Callable[[AsyncConnection, Tenant, list[DomainEvent], int, Mapping[str, Any]], Awaitable[None]]


def check_expected(expected: int | None, actual: int) -> int:
    """An ``If-Match`` version that is not the aggregate's: the caller decided on an older state."""
    if expected is not None and expected != actual:
        raise ConcurrencyConflict("(If-Match)", expected, actual)
    return actual


class UnitOfWork:
    """A command's transaction and the appends it makes when it ends."""

    def __init__(self, conn: AsyncConnection, streams: RecentStreams, project: Projector) -> None:
        self.conn = conn
        self.changes: list[StreamAppend] = []
        self._streams = streams
        self._project = project

    async def events(self, stream_id: str, version: int | None = None) -> tuple[DomainEvent, ...]:
        """A stream's events, read in this transaction; ``version`` (from a read-model row) spares
        the read when the cache holds that many."""
        return await self._streams.events(self.conn, stream_id, version)

    async def record(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[DomainEvent],
        tenant: Tenant,
        facts: Mapping[str, Any] | None = None,
    ) -> int:
        """Project the events now, append them when the unit ends; returns the stream's new version."""
        if not events:
            return expected_version
        version = expected_version + len(events)
        self.changes.append(StreamAppend(stream_id, expected_version, list(events), tenant))
        await self._project(self.conn, tenant, list(events), version, facts or {})
        return version


class UnitsOfWork:
    """Opens units of work on one service's database and event store."""

    def __init__(self, engine: AsyncEngine, store: EventStore, project: Projector) -> None:
        self.engine = engine
        self.store = store
        self.streams = RecentStreams(store)
        self._project = project

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[UnitOfWork]:
        unit: UnitOfWork | None = None
        try:
            async with self.engine.begin() as conn:
                unit = UnitOfWork(conn, self.streams, self._project)
                yield unit
                await self.store.append_many(unit.changes, conn=conn)
        except IntegrityError:
            # a read-model row a concurrent command wrote first: that command changed a stream this
            # one decided on, which is a conflict (409), not a fault
            for change in unit.changes if unit else ():
                actual = await self.store.stream_version(change.stream_id)
                if actual != change.expected_version:
                    raise ConcurrencyConflict(
                        change.stream_id, change.expected_version or 0, actual
                    ) from None
            raise
        for change in unit.changes:
            if change.expected_version is not None:
                self.streams.appended(change.stream_id, change.expected_version, change.events)
