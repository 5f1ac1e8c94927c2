"""Multi-row "insert, or merge into the existing row" for PostgreSQL and SQLite alike: the one
upsert of every read model.

On PostgreSQL, where every column's type has an array type, one prepared statement whatever the
number of rows (``INSERT … SELECT * FROM unnest($1::t1[], …)``: the rows travel as one array per
column, which asyncpg encodes in C); elsewhere a multi-row ``INSERT … ON CONFLICT`` built once
per shape and run with the rows as parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Boolean, Column, Date, Enum, Integer, SmallInteger, String, Table, Uuid, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Insert
from sqlalchemy.types import TypeEngine

#: how an existing row takes an incoming one: ("newer" | "null" | "bits" | "add" | "", the column)
Rule = tuple[str, str | None]

#: one statement per shape, built once and run with the rows as parameters: a statement carrying
#: its rows as values was compiled anew for every call (a consumer's hottest cost)
_statements: dict[tuple[Any, ...], Insert] = {}
_unnests: dict[tuple[Any, ...], str | None] = {}

#: PostgreSQL array types of the columns' types, for ``unnest`` (subclasses first)
_ARRAY_TYPES: list[tuple[type[TypeEngine[Any]], str]] = [
    (Uuid, "uuid[]"),
    (Date, "date[]"),
    (Boolean, "bool[]"),
    (SmallInteger, "int2[]"),
    (Integer, "int4[]"),
    (String, "text[]"),
]


def _array_type(column: Column[Any]) -> str | None:
    """None for a type without one here (an enum, a timestamp, a big integer: int4[] would overflow)."""
    kind = column.type
    if isinstance(kind, Enum):
        return None
    for base, name in _ARRAY_TYPES:
        if isinstance(kind, base) and (base is not Integer or type(kind) is Integer):
            return name
    return None


def _statement(dialect: str, table: Table, keys: Sequence[str], update: Sequence[str], rule: Rule) -> Insert:
    shape = (dialect, table, tuple(keys), tuple(update), rule)
    statement = _statements.get(shape)
    if statement is None:
        insert = (postgresql if dialect == "postgresql" else sqlite).insert(table)
        excluded = insert.excluded
        how, name = rule
        if how == "bits":
            column = table.c[name or ""]
            merged = column.op("|")(excluded[column.name])
            statement = insert.on_conflict_do_update(
                index_elements=list(keys), set_={column.name: merged}, where=merged != column
            )
        elif how == "add":
            column = table.c[name or ""]
            statement = insert.on_conflict_do_update(
                index_elements=list(keys), set_={column.name: column + excluded[column.name]}
            )
        elif not update:
            statement = insert.on_conflict_do_nothing(index_elements=list(keys))
        else:
            where = None
            if how == "newer":
                where = excluded[name or ""] > table.c[name or ""]
            elif how == "null":
                where = table.c[name or ""].is_(None)
            statement = insert.on_conflict_do_update(
                index_elements=list(keys), set_={c: excluded[c] for c in update}, where=where
            )
        _statements[shape] = statement
    return statement


def _unnest(
    conn: AsyncConnection,
    table: Table,
    columns: Sequence[str],
    keys: Sequence[str],
    update: Sequence[str],
    rule: Rule,
) -> str | None:
    """The ``unnest`` statement's text for this shape, or None where a column has no array type."""
    shape = (table, tuple(columns), tuple(keys), tuple(update), rule)
    if shape in _unnests:
        return _unnests[shape]
    arrays = [_array_type(table.c[c]) for c in columns]
    sql: str | None = None
    if all(arrays):
        q = conn.dialect.identifier_preparer.quote
        name = q(table.name)
        typed = ", ".join(f"${i}::{a}" for i, a in enumerate(arrays, 1))
        sql = f"INSERT INTO {name} ({', '.join(q(c) for c in columns)}) SELECT * FROM unnest({typed})"
        if keys:  # none: rows only added (insert_rows)
            sql += f" ON CONFLICT ({', '.join(q(k) for k in keys)}) " + _on_conflict(name, q, update, rule)
    _unnests[shape] = sql
    return sql


def _on_conflict(name: str, q: Callable[[str], str], update: Sequence[str], rule: Rule) -> str:
    how, column = rule
    c = q(column or "")
    if how == "bits":
        merged = f"{name}.{c} | EXCLUDED.{c}"
        return f"DO UPDATE SET {c} = {merged} WHERE ({merged}) <> {name}.{c}"
    if how == "add":
        return f"DO UPDATE SET {c} = {name}.{c} + EXCLUDED.{c}"
    if not update:
        return "DO NOTHING"
    sql = "DO UPDATE SET " + ", ".join(f"{q(u)} = EXCLUDED.{q(u)}" for u in update)
    if how == "newer":
        sql += f" WHERE EXCLUDED.{c} > {name}.{c}"
    elif how == "null":
        sql += f" WHERE {name}.{c} IS NULL"
    return sql


async def _unnested(
    conn: AsyncConnection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    update: Sequence[str],
    rule: Rule,
) -> bool:
    """Run the rows as one ``unnest`` statement; False where there is none (not PostgreSQL, or a
    column without an array type)."""
    if conn.dialect.name != "postgresql":
        return False
    columns = [c.name for c in table.columns if c.name in rows[0]]
    sql = _unnest(conn, table, columns, keys, update, rule)
    if sql is None:
        return False
    await conn.exec_driver_sql(sql, tuple([row[c] for row in rows] for c in columns))
    return True


async def insert_rows(conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Add ``rows`` (each with the same columns) in one statement: on PostgreSQL one ``unnest``,
    not a statement per row as an executemany runs it."""
    if rows and not await _unnested(conn, table, rows, (), (), ("", None)):
        await conn.execute(insert(table), list(rows))


async def upsert(
    conn: AsyncConnection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    update: Sequence[str],
    newer: str | None = None,
    *,
    when_null: str | None = None,
    merge_bits: str | None = None,
    add: str | None = None,
) -> None:
    """Insert ``rows`` (each with the same columns); on a key conflict set the ``update`` columns
    (none: keep the existing row).

    With ``newer`` the existing row changes only if the incoming value of that column is greater
    (an older event arriving late cannot undo a newer one); with ``when_null`` only while that
    column is still empty; ``merge_bits`` ors the incoming bits of that column into the row's.
    Rows are applied in order, so a key may repeat among them (then row by row: PostgreSQL cannot
    change a row twice in one statement). ``add`` adds the incoming value of that column to the
    row's (a counter moved by a batch's increments in one statement).
    """
    if not rows:
        return
    options = (("newer", newer), ("null", when_null), ("bits", merge_bits), ("add", add))
    rule: Rule = next(((how, c) for how, c in options if c), ("", None))
    # keys all distinct (checked only where unnest can run): one statement may take the rows
    unique = conn.dialect.name == "postgresql" and len({tuple(r[k] for k in keys) for r in rows}) == len(rows)
    if unique and await _unnested(conn, table, rows, keys, update, rule):
        return
    await conn.execute(_statement(conn.dialect.name, table, keys, update, rule), list(rows))
