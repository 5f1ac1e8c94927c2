"""What a consumer applied, by store position: a tracking row per upstream stream, a row per batch.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consumer_tracking",
        sa.Column("consumer", sa.String(100), primary_key=True),
        sa.Column("stream", sa.String(100), primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "applied_batches",
        sa.Column("consumer", sa.String(100), primary_key=True),
        sa.Column("stream", sa.String(100), primary_key=True),
        sa.Column("last_position", sa.BigInteger, primary_key=True),
        sa.Column("first_position", sa.BigInteger, nullable=False),
        sa.Column("positions", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("applied_batches")
    op.drop_table("consumer_tracking")
