"""The recent-streams cache: reads only what it has not seen, never trusts itself beyond the database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from mentornet_events import DomainEvent
from mentornet_spine.db import reader
from mentornet_spine.store import EventStore
from mentornet_spine.streamcache import RecentStreams
from mentornet_spine.testing import item_completed, pair_formed, tenant
from tests.conftest import Database


def _count_reads(database: Database) -> list[str]:
    """Statements that read the events table (appends write it; those are not counted)."""
    seen: list[str] = []

    @event.listens_for(database.engine.sync_engine, "before_cursor_execute")
    def _on(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "events.payload" in statement and statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    return seen


async def _events(
    database: Database, cache: RecentStreams, stream: str, version: int | None
) -> tuple[DomainEvent, ...]:
    async with reader(database.engine).connect() as conn:  # as a command would, in its transaction
        return await cache.events(conn, stream, version)


async def test_a_known_version_is_served_without_a_read_and_appends_extend_the_entry(
    database: Database,
) -> None:
    store = EventStore(database.engine)
    cache = RecentStreams(store)
    first = [pair_formed(), item_completed()]
    await store.append("pair-1", 0, first, tenant=tenant())
    reads = _count_reads(database)
    assert [type(e) for e in await _events(database, cache, "pair-1", 2)] == [type(e) for e in first]
    assert len(reads) == 1
    assert len(await _events(database, cache, "pair-1", 2)) == 2
    assert len(reads) == 1  # served from memory
    more = [item_completed()]
    await store.append("pair-1", 2, more, tenant=tenant())
    cache.appended("pair-1", 2, more)
    assert len(await _events(database, cache, "pair-1", 3)) == 3
    assert len(reads) == 1


async def test_events_appended_elsewhere_are_read_and_a_shorter_database_wins(database: Database) -> None:
    store = EventStore(database.engine)
    cache = RecentStreams(store)
    await store.append("pair-1", 0, [pair_formed()], tenant=tenant())
    assert len(await _events(database, cache, "pair-1", 1)) == 1
    await store.append("pair-1", 1, [item_completed(), item_completed()], tenant=tenant())  # elsewhere
    reads = _count_reads(database)
    assert len(await _events(database, cache, "pair-1", 3)) == 3
    assert len(reads) == 1 and len(await _events(database, cache, "pair-1", None)) == 3
    cache.appended("pair-1", 1, [item_completed()])  # out of step with the entry: dropped
    assert len(await _events(database, cache, "pair-1", 3)) == 3
    assert len(await _events(database, cache, "pair-1", 2)) == 3  # fewer claimed than held: read whole


async def test_the_least_recently_used_stream_leaves_first(database: Database) -> None:
    store = EventStore(database.engine)
    cache = RecentStreams(store, size=2)
    for stream in ("a", "b", "c"):
        await store.append(stream, 0, [pair_formed()], tenant=tenant())
    for stream in ("a", "b", "a", "c"):
        await _events(database, cache, stream, 1)
    reads = _count_reads(database)
    await _events(database, cache, "a", 1)
    assert reads == []
    await _events(database, cache, "b", 1)
    assert len(reads) == 1
