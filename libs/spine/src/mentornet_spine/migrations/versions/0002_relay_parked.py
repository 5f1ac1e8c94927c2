"""Events the relay could not publish and set aside, so the stream goes on without them.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from mentornet_spine.tables import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "relay_parked",
        sa.Column("relay", sa.String(100), primary_key=True),
        sa.Column("position", sa.BigInteger, primary_key=True),
        sa.Column("event_id", sa.Uuid, nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("reason", sa.String(2000), nullable=False),
        sa.Column("parked_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("relay_parked")
