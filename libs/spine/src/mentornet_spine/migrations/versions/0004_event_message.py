"""The envelope as published, kept with the event so the relay sends stored bytes.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("events", sa.Column("message", sa.LargeBinary, nullable=True))


def downgrade() -> None:
    op.drop_column("events", "message")
