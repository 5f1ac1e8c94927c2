"""Event store, relay checkpoints and processed-event records.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from mentornet_spine.tables import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

position = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("position", position, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.Uuid, nullable=False, unique=True),
        sa.Column("stream_id", sa.String(200), nullable=False),
        sa.Column("stream_version", sa.Integer, nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("municipality", sa.String(32)),
        sa.Column("school", sa.String(32)),
        sa.Column("correlation_id", sa.Uuid, nullable=False),
        sa.Column("causation_id", sa.Uuid),
        sa.Column("trace_context", sa.JSON, nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.UniqueConstraint("stream_id", "stream_version", name="uq_events_stream_version"),
    )
    op.create_table(
        "relay_checkpoints",
        sa.Column("relay", sa.String(100), primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.String(100), primary_key=True),
        sa.Column("event_id", sa.Uuid, primary_key=True),
        sa.Column("stream_sequence", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "projection_generations",
        sa.Column("projection", sa.String(100), primary_key=True),
        sa.Column("generation", sa.Integer, nullable=False),
        sa.Column("rebuilt_at", UTCDateTime()),
    )


def downgrade() -> None:
    op.drop_table("projection_generations")
    op.drop_table("processed_events")
    op.drop_table("relay_checkpoints")
    op.drop_table("events")
