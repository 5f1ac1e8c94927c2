"""Test harness: every test gets a real NATS JetStream and a real database.

``NATS_URL`` and ``DATABASE_URL`` come from the environment, defaulting to the local services on
127.0.0.1:4222 and 127.0.0.1:5432. Where neither answers but a Docker engine does (a laptop),
testcontainers starts them. Each test isolates itself: its own subject root and streams, its own
PostgreSQL schema or SQLite file. Tests that kill a broker start a private ``nats-server``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
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
from mentornet_spine.natsserver import NatsServer, free_port
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


@dataclass
class ClusterNode(NatsServer):
    """One node of a test's own NATS cluster (JetStream needs a server and a cluster name)."""

    name: str = "n1"
    cluster_port: int = field(default_factory=free_port)
    routes: list[int] = field(default_factory=list)

    def command(self) -> list[str]:
        routes = ",".join(f"nats-route://127.0.0.1:{p}" for p in self.routes)
        return [
            *super().command(),
            *("--name", self.name, "--cluster_name", "mentornet-test"),
            *("--cluster", f"nats://127.0.0.1:{self.cluster_port}", "--routes", routes),
        ]


class NatsCluster:
    """Three ``nats-server`` processes in cluster mode with JetStream, each with its own store."""

    def __init__(self, base: Path, size: int = 3) -> None:
        ports = [free_port() for _ in range(size)]
        self.nodes = [
            ClusterNode(store_dir=base / f"n{i}", name=f"n{i}", cluster_port=port, routes=ports)
            for i, port in enumerate(ports, start=1)
        ]

    @property
    def servers(self) -> list[str]:
        return [n.url for n in self.nodes]

    @property
    def url(self) -> str:
        """As NATS_URL takes it: every node, comma-separated."""
        return ",".join(self.servers)

    def node(self, name: str) -> ClusterNode:
        [found] = [n for n in self.nodes if n.name == name]
        return found

    async def wait_ready(self, within: float = 30.0) -> None:
        """Until the JetStream meta group has a leader and can place a stream of three replicas."""
        client = await nats.connect(servers=self.servers)
        js = client.jetstream()
        deadline = time.monotonic() + within
        try:
            while True:
                try:
                    probe = f"PROBE_{uuid.uuid4().hex[:8]}"
                    await js.add_stream(name=probe, subjects=[probe.lower()], num_replicas=3)
                    await js.delete_stream(probe)
                    return
                except Exception:
                    if time.monotonic() > deadline:
                        raise
                    await asyncio.sleep(0.25)
        finally:
            await client.close()


@pytest.fixture
async def nats_cluster(tmp_path: Path) -> AsyncIterator[NatsCluster]:
    """A cluster of this test's own (streams at R3), free to lose a node."""
    cluster = NatsCluster(tmp_path / "cluster")
    for node in cluster.nodes:
        node.start()
    try:
        await cluster.wait_ready()
        yield cluster
    finally:
        for node in cluster.nodes:
            with contextlib.suppress(Exception):
                node.stop(kill=True)
