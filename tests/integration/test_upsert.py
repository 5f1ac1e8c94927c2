"""The read models' one upsert (a batch's counters added in one statement) and their one
append-only insert, on both databases."""

from __future__ import annotations

import uuid

from sqlalchemy import Column, Integer, MetaData, String, Table, Uuid, select

from mentornet_spine.upsert import insert_rows, upsert
from tests.conftest import Database

counters = Table(
    "upsert_counters",
    MetaData(),
    Column("school", String(32), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("n", Integer, nullable=False),
)

log = Table(
    "upsert_log",
    MetaData(),
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", Uuid, nullable=False),
    Column("stream_id", String(200), nullable=False),
    Column("version", Integer, nullable=False),
)


async def test_add_inserts_new_counters_and_adds_to_existing_ones(database: Database) -> None:
    async with database.engine.begin() as conn:
        await conn.run_sync(lambda c: counters.create(c, checkfirst=True))
        first = [{"school": "s1", "kind": "pair", "n": 2}, {"school": "s2", "kind": "pair", "n": 1}]
        await upsert(conn, counters, first, keys=("school", "kind"), update=(), add="n")
    async with database.engine.begin() as conn:
        second = [{"school": "s1", "kind": "pair", "n": 3}, {"school": "s1", "kind": "item", "n": 4}]
        await upsert(conn, counters, second, keys=("school", "kind"), update=(), add="n")
        # a key twice in one call (row by row there) adds both
        twice = [{"school": "s2", "kind": "pair", "n": 5}, {"school": "s2", "kind": "pair", "n": 6}]
        await upsert(conn, counters, twice, keys=("school", "kind"), update=(), add="n")
    async with database.engine.connect() as conn:
        found = {(r.school, r.kind): r.n for r in await conn.execute(select(counters))}
    assert found == {("s1", "pair"): 5, ("s2", "pair"): 12, ("s1", "item"): 4}


async def test_insert_rows_adds_every_row_of_a_batch_repeats_included(database: Database) -> None:
    ids = [uuid.uuid4() for _ in range(300)]
    rows = [{"event_id": e, "stream_id": f"pair-{i % 7}", "version": i} for i, e in enumerate(ids)]
    async with database.engine.begin() as conn:
        await conn.run_sync(lambda c: log.create(c, checkfirst=True))
        await insert_rows(conn, log, rows)
        await insert_rows(conn, log, rows[:2])  # append-only: a second copy is a second row
        await insert_rows(conn, log, [])
    async with database.engine.connect() as conn:
        found = [
            (r.event_id, r.stream_id, r.version) for r in await conn.execute(select(log).order_by(log.c.id))
        ]
    assert found == [(r["event_id"], r["stream_id"], r["version"]) for r in rows + rows[:2]]
