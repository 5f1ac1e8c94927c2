"""Alembic environment shared by the spine's and the services' migration sets.

``mentornet_spine.migrate`` hands over the connection and the version table.
"""

from alembic import context

config = context.config
context.configure(
    connection=config.attributes["connection"],
    target_metadata=None,
    version_table=config.attributes["version_table"],
)
with context.begin_transaction():
    context.run_migrations()
