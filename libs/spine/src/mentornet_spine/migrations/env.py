"""Alembic environment: runs on the connection handed over by ``mentornet_spine.migrate``."""

from alembic import context

from mentornet_spine.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, version_table="spine_alembic_version")
with context.begin_transaction():
    context.run_migrations()
