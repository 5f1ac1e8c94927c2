"""Multi-row "insert, or merge into the existing row" for PostgreSQL and SQLite alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


async def upsert(
    conn: AsyncConnection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    update: Sequence[str],
    newer: str | None = None,
) -> None:
    """Insert ``rows``; on a key conflict set ``update`` columns (none: keep the existing row).

    With ``newer`` the existing row is changed only if the incoming value of that column is
    greater: an older event arriving late cannot undo a newer one.
    """
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(list(rows))
    if not update:
        statement = statement.on_conflict_do_nothing(index_elements=list(keys))
    else:
        excluded = statement.excluded
        where = (excluded[newer] > table.c[newer]) if newer else None
        statement = statement.on_conflict_do_update(
            index_elements=list(keys), set_={c: excluded[c] for c in update}, where=where
        )
    await conn.execute(statement)
