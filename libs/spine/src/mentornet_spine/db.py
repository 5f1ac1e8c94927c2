"""Engines for the embedded (SQLite) and production (PostgreSQL) databases."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

READONLY = "mentornet_readonly"


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def reader(engine: AsyncEngine) -> AsyncEngine:
    """The same engine for read-only work: on SQLite its transactions do not take the write lock."""
    return engine.execution_options(**{READONLY: True})


def statement_reads(engine: AsyncEngine) -> AsyncEngine:
    """For reads of one statement: PostgreSQL runs it in autocommit (a statement is its own snapshot),
    which saves the BEGIN and ROLLBACK round trips; SQLite reads without taking the write lock.
    """
    if is_sqlite(engine):
        return reader(engine)
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def snapshot_reads(engine: AsyncEngine) -> AsyncEngine:
    """For reads of several statements that must agree (figures and the positions they are as of):
    one snapshot for the whole transaction. SQLite's read transaction is one snapshot already.
    """
    if is_sqlite(engine):
        return reader(engine)
    return engine.execution_options(isolation_level="REPEATABLE READ")


def make_engine(
    url: str,
    *,
    schema: str | None = None,
    pool_size: int = 10,
    echo: bool = False,
    application_name: str | None = None,
) -> AsyncEngine:
    """Create an async engine.

    SQLite: WAL, a busy timeout and ``BEGIN IMMEDIATE`` so that concurrent writers queue instead
    of failing when a read transaction upgrades to a write. PostgreSQL: ``schema`` sets the
    search path (tests isolate themselves in a schema each). No ping before each checkout (a round
    trip per request): a connection found dead fails its one statement and SQLAlchemy then
    discards the whole pool, so a database restart costs each process one failed request, which
    the relay and consumers retry and an HTTP client sees as 503 with Retry-After.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(connection: Any) -> None:
            readonly = connection.get_execution_options().get(READONLY, False)
            connection.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

        return engine
    server_settings: dict[str, str] = {}
    if schema:
        server_settings["search_path"] = schema
    if application_name:  # what pg_stat_activity shows for each connection
        server_settings["application_name"] = application_name
    connect_args: dict[str, Any] = {"server_settings": server_settings} if server_settings else {}
    return create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=1800,
        connect_args=connect_args,
    )


async def create_schema(url: str, prefix: str) -> str:
    """A fresh PostgreSQL schema (for a test or a benchmark run to keep to itself)."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(url)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    await admin.dispose()
    return schema


async def drop_schema(url: str, schema: str) -> None:
    admin = create_async_engine(url)
    async with admin.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    await admin.dispose()
