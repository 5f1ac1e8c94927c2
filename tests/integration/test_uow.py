"""The unit of work every command runs in: events appended at its end with its rows, or nothing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from sqlalchemy import Column, MetaData, String, Table, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from mentornet_events import DomainEvent, Tenant
from mentornet_spine.store import ConcurrencyConflict, EventStore
from mentornet_spine.tables import events
from mentornet_spine.testing import item_completed, pair_formed, tenant
from mentornet_spine.uow import UnitsOfWork, check_expected
from tests.conftest import Database

rows = Table(
    "uow_rows", MetaData(), Column("stream_id", String(200), primary_key=True), Column("note", String(50))
)


async def project(
    conn: AsyncConnection, _tenant: Tenant, new: list[DomainEvent], version: int, facts: Mapping[str, Any]
) -> None:
    """A read model with a unique row per stream, as a service's would have."""
    if version == len(new):  # the stream's first events
        await conn.execute(insert(rows).values(stream_id=facts["stream_id"], note=facts.get("note")))


async def _units(database: Database) -> UnitsOfWork:
    async with database.engine.begin() as conn:
        await conn.run_sync(lambda c: rows.create(c, checkfirst=True))
    return UnitsOfWork(database.engine, EventStore(database.engine), project)


async def _count(database: Database, table: Table) -> int:
    async with database.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table)) or 0)


async def test_events_and_rows_commit_together_and_the_cache_learns_them(database: Database) -> None:
    units = await _units(database)
    async with units.begin() as uow:
        version = await uow.record(
            "pair-1", 0, [pair_formed(), item_completed()], tenant(), {"stream_id": "pair-1"}
        )
        assert version == 2
        assert [len(c.events) for c in uow.changes] == [2]  # appended only when the unit ends
    assert await _count(database, events) == 2
    assert await _count(database, rows) == 1
    async with units.begin() as uow:
        assert len(await uow.events("pair-1", 2)) == 2


async def test_a_failing_command_leaves_neither_events_nor_rows(database: Database) -> None:
    units = await _units(database)
    with pytest.raises(RuntimeError):
        async with units.begin() as uow:
            await uow.record("pair-1", 0, [pair_formed()], tenant(), {"stream_id": "pair-1"})
            raise RuntimeError("the domain refused")
    assert await _count(database, events) == 0
    assert await _count(database, rows) == 0


async def test_a_concurrent_command_on_the_same_stream_is_a_conflict(database: Database) -> None:
    units = await _units(database)
    async with units.begin() as uow:
        await uow.record("pair-1", 0, [pair_formed()], tenant(), {"stream_id": "pair-1"})
    # two commands decided on version 1; the first commits, the second must lose with a 409
    async with units.begin() as uow:
        await uow.record("pair-1", 1, [item_completed()], tenant())
    with pytest.raises(ConcurrencyConflict):
        async with units.begin() as uow:
            await uow.record("pair-1", 1, [item_completed()], tenant())
    # a clash on a read-model row written by a command that created the same stream first
    with pytest.raises(ConcurrencyConflict):
        async with units.begin() as uow:
            await uow.record("pair-1", 0, [pair_formed()], tenant(), {"stream_id": "pair-1"})
    assert await _count(database, events) == 2


async def test_a_row_clash_without_a_stream_change_is_not_hidden_as_a_conflict(database: Database) -> None:
    units = await _units(database)
    async with units.begin() as uow:
        await uow.record("pair-1", 0, [pair_formed()], tenant(), {"stream_id": "shared"})
    with pytest.raises(IntegrityError):
        async with units.begin() as uow:
            await uow.record("pair-2", 0, [pair_formed()], tenant(), {"stream_id": "shared"})


def test_if_match_must_name_the_version_decided_on() -> None:
    assert check_expected(None, 3) == 3
    assert check_expected(3, 3) == 3
    with pytest.raises(ConcurrencyConflict):
        check_expected(2, 3)
