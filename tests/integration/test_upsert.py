"""The read models' one upsert: a batch's counters added in one statement on both databases."""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table, select

from mentornet_spine.upsert import upsert
from tests.conftest import Database

counters = Table(
    "upsert_counters",
    MetaData(),
    Column("school", String(32), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("n", Integer, nullable=False),
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
