"""Bring a database's schema to the latest Alembic revision (never ``create_all``).

The spine's tables have their own migration history; each service keeps another beside it,
with its own version table, so the two evolve independently.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass(frozen=True)
class MigrationSet:
    #: folder of revision files; the Alembic environment (env.py) is the spine's, shared
    versions: Path
    version_table: str


ENVIRONMENT = Path(__file__).parent / "migrations"
SPINE_MIGRATIONS = MigrationSet(ENVIRONMENT / "versions", "spine_alembic_version")


def alembic_config(migrations: MigrationSet) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ENVIRONMENT))
    config.set_main_option("version_locations", str(migrations.versions))
    config.attributes["version_table"] = migrations.version_table
    return config


def _upgrade(connection: Connection, migrations: MigrationSet) -> None:
    config = alembic_config(migrations)
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def migrate(engine: AsyncEngine, *extra: MigrationSet) -> None:
    for migrations in (SPINE_MIGRATIONS, *extra):
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade, migrations)
