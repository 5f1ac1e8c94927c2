"""The event store on SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio

import pytest

from mentornet_spine.store import ConcurrencyConflict, EventStore
from mentornet_spine.testing import item_completed, pair_formed, tenant
from tests.conftest import Database


async def test_append_and_read_a_stream(database: Database) -> None:
    store = EventStore(database.engine)
    stored = await store.append("pair-1", 0, [pair_formed(), item_completed()], tenant=tenant())
    assert [s.envelope.stream_version for s in stored] == [1, 2]
    more = await store.append("pair-1", 2, [item_completed()], tenant=tenant())
    read = await store.read_stream("pair-1")
    assert [e.event_id for e in read] == [s.envelope.event_id for s in stored + more]
    assert read[0] == stored[0].envelope  # what is read back is exactly what was appended
    assert await store.stream_version("pair-1") == 3


async def test_concurrency_conflict_is_detected(database: Database) -> None:
    store = EventStore(database.engine)
    await store.append("pair-1", 0, [pair_formed()], tenant=tenant())
    with pytest.raises(ConcurrencyConflict, match="is at version 1, the command expected 0"):
        await store.append("pair-1", 0, [pair_formed()], tenant=tenant())
    assert await store.stream_version("pair-1") == 1


async def test_a_stale_version_of_a_running_stream_is_a_conflict(database: Database) -> None:
    store = EventStore(database.engine)
    await store.append("pair-1", 0, [pair_formed()], tenant=tenant())
    await store.append("pair-1", 1, [item_completed()], tenant=tenant())
    for stale in (1, 3):  # behind the stream, and ahead of it
        with pytest.raises(ConcurrencyConflict, match=f"is at version 2, the command expected {stale}"):
            await store.append("pair-1", stale, [item_completed()], tenant=tenant())
    assert await store.stream_version("pair-1") == 2


async def test_racing_writers_one_wins(database: Database) -> None:
    store = EventStore(database.engine)
    await store.append("pair-1", 0, [pair_formed()], tenant=tenant())
    results = await asyncio.gather(
        *(store.append("pair-1", 1, [item_completed()], tenant=tenant()) for _ in range(5)),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert all(isinstance(r, ConcurrencyConflict) for r in results if isinstance(r, BaseException))
    assert await store.stream_version("pair-1") == 2


async def test_append_joins_the_callers_transaction(database: Database) -> None:
    store = EventStore(database.engine)
    with pytest.raises(RuntimeError):
        async with database.engine.begin() as conn:
            await store.append("pair-1", 0, [pair_formed()], tenant=tenant(), conn=conn)
            raise RuntimeError("the command failed after appending")
    assert await store.read_all() == []
    assert await store.stream_version("pair-1") == 0


async def test_read_all_pages_in_position_order(database: Database) -> None:
    store = EventStore(database.engine)
    for i in range(7):
        await store.append(f"pair-{i}", 0, [pair_formed()], tenant=tenant())
    first = await store.read_all(0, limit=4)
    rest = await store.read_all(first[-1].position, limit=4)
    positions = [s.position for s in first + rest]
    assert len(positions) == 7 and positions == sorted(positions)


async def test_appends_committed_out_of_order_are_not_skipped(database: Database) -> None:
    """The first append takes its position, then waits before committing while a second one runs.

    A position reader polling all the while must end with both, never moving past the first
    position before it is committed (the skipped-event trap of SQL event tables).
    """
    store = EventStore(database.engine)
    first_has_position = asyncio.Event()
    release_first = asyncio.Event()

    async def slow_append() -> None:
        async with database.engine.begin() as conn:
            await store.append("slow", 0, [pair_formed()], tenant=tenant(), conn=conn)
            first_has_position.set()
            await release_first.wait()

    async def fast_append() -> None:
        await first_has_position.wait()
        await store.append("fast", 0, [pair_formed()], tenant=tenant())

    seen: list[int] = []
    stop = asyncio.Event()

    async def reader() -> None:
        position = 0
        while not stop.is_set():
            for stored in await store.read_all(position):
                seen.append(stored.position)
                position = stored.position
            await asyncio.sleep(0.005)

    reading = asyncio.create_task(reader())
    slow = asyncio.create_task(slow_append())
    fast = asyncio.create_task(fast_append())
    await first_has_position.wait()
    await asyncio.sleep(0.3)  # the second append is now waiting for (or racing) the first
    release_first.set()
    await asyncio.gather(slow, fast)
    await asyncio.sleep(0.1)
    stop.set()
    await reading
    all_positions = [s.position for s in await store.read_all()]
    assert len(all_positions) == 2
    assert seen == all_positions
