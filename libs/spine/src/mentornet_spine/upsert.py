"""Multi-row "insert, or merge into the existing row" for PostgreSQL and SQLite alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Insert

#: one statement per shape, built once and run with the rows as parameters: a statement carrying
#: its rows as values was compiled anew for every call (a consumer's hottest cost)
_statements: dict[tuple[str, Table, tuple[str, ...], tuple[str, ...], str | None], Insert] = {}


def _statement(
    dialect: str, table: Table, keys: Sequence[str], update: Sequence[str], newer: str | None
) -> Insert:
    shape = (dialect, table, tuple(keys), tuple(update), newer)
    statement = _statements.get(shape)
    if statement is None:
        insert = (postgresql if dialect == "postgresql" else sqlite).insert(table)
        if not update:
            statement = insert.on_conflict_do_nothing(index_elements=list(keys))
        else:
            excluded = insert.excluded
            where = (excluded[newer] > table.c[newer]) if newer else None
            statement = insert.on_conflict_do_update(
                index_elements=list(keys), set_={c: excluded[c] for c in update}, where=where
            )
        _statements[shape] = statement
    return statement


async def upsert(
    conn: AsyncConnection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    update: Sequence[str],
    newer: str | None = None,
) -> None:
    """Insert ``rows`` (each with the same columns); on a key conflict set ``update`` columns
    (none: keep the existing row). Rows are applied in order, so a key may repeat among them.

    With ``newer`` the existing row is changed only if the incoming value of that column is
    greater: an older event arriving late cannot undo a newer one.
    """
    if not rows:
        return
    await conn.execute(_statement(conn.dialect.name, table, keys, update, newer), list(rows))
