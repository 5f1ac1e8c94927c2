"""Test harness: every test gets a real NATS JetStream and a real database.

``NATS_URL`` and ``DATABASE_URL`` come from the environment, defaulting to the local services on
127.0.0.1:4222 and 127.0.0.1:5432. Where neither answers but a Docker engine does (a laptop),
testcontainers starts them. Each test isolates itself: its own subject root and streams, its own
PostgreSQL schema or SQLite file. Tests that kill a broker start a private ``nats-server``.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import nats
import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncEngine

from mentornet_events import Subjects
from mentornet_spine.db import create_schema, drop_schema, make_engine
from mentornet_spine.migrate import migrate
from mentornet_spine.natsserver import NatsCluster, NatsServer
from mentornet_spine.settings import SpineSettings
from mentornet_spine.streams import delete_streams, ensure_streams

DEFAULT_NATS = "nats://127.0.0.1:4222"
DEFAULT_DATABASE = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def _answers(url: str, default_port: int) -> bool:
    parsed = urlparse(url.replace("+asyncpg", ""))
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=1
        ):
            return True
    except OSError:
        return False


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def nats_url() -> Iterator[str]:
    url = os.environ.get("NATS_URL", DEFAULT_NATS)
    if "NATS_URL" in os.environ or _answers(url, 4222) or not _docker_answers():
        yield url
        return
    from testcontainers.nats import NatsContainer

    with NatsContainer("nats:2.11-alpine").with_command("-js") as container:
        yield container.nats_uri()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE)
    if "DATABASE_URL" in os.environ or _answers(url, 5432) or not _docker_answers():
        yield url
        return
    from testcontainers.postgres import PostgresContainer

    with PostgresContainer("postgres:17-alpine", driver="asyncpg") as container:
        yield container.get_connection_url()


@pytest.fixture
def subjects() -> Subjects:
    return Subjects(root=f"t{uuid.uuid4().hex[:12]}")


def service_settings(
    service: str, nats_url: str, subjects: Subjects, database_url: str, schema: str | None, **more: Any
) -> SpineSettings:
    """A service started in-process by a test: its database (schema) and the test's subject root."""
    return SpineSettings(
        service=service,
        nats_url=nats_url,
        database_url=database_url,
        database_schema=schema,
        subject_root=subjects.root,
        **more,
    )


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[Client]:
    client = await nats.connect(nats_url)
    yield client
    await client.drain()


@pytest.fixture
async def js(nc: Client, subjects: Subjects) -> AsyncIterator[JetStreamContext]:
    context = nc.jetstream()
    await ensure_streams(context, subjects)
    yield context
    await delete_streams(context, subjects)


async def _postgres_schema_engine(postgres_url: str) -> tuple[AsyncEngine, str]:
    schema = await create_schema(postgres_url, "t")
    return make_engine(postgres_url, schema=schema), schema


class Database:
    """A migrated, isolated database: the engine and what a child process needs to reach it."""

    def __init__(self, engine: AsyncEngine, url: str, schema: str | None) -> None:
        self.engine = engine
        self.url = url
        self.schema = schema

    def env(self) -> dict[str, str]:
        env = {"DATABASE_URL": self.url}
        if self.schema:
            env["DATABASE_SCHEMA"] = self.schema
        return env


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str
) -> AsyncIterator[Database]:
    """The same test on the embedded and the production database."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
        db = Database(make_engine(url), url, None)
    else:
        engine, schema = await _postgres_schema_engine(postgres_url)
        db = Database(engine, postgres_url, schema)
    await migrate(db.engine)
    yield db
    await db.engine.dispose()
    if db.schema:
        await drop_schema(postgres_url, db.schema)


@pytest.fixture
async def pg_database(postgres_url: str) -> AsyncIterator[Database]:
    """PostgreSQL only: for flows whose point is production behaviour."""
    engine, schema = await _postgres_schema_engine(postgres_url)
    db = Database(engine, postgres_url, schema)
    await migrate(engine)
    yield db
    await engine.dispose()
    await drop_schema(postgres_url, schema)


@pytest.fixture
def private_nats(tmp_path: Path) -> Iterator[NatsServer]:
    """A broker of this test's own, free to be killed and restarted."""
    server = NatsServer(store_dir=tmp_path / "nats").start()
    yield server
    server.stop(kill=True)


@pytest.fixture
async def nats_cluster(tmp_path: Path) -> AsyncIterator[NatsCluster]:
    """A cluster of this test's own (streams at R3), free to lose a node."""
    cluster = NatsCluster(tmp_path / "cluster")
    try:
        yield await cluster.start()
    finally:
        cluster.stop()
