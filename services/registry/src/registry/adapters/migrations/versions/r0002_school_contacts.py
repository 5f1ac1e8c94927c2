"""Schools' contacts (official e-mail and phone), for the services that deliver messages.

Revision ID: r0002
Revises: r0001
"""

import sqlalchemy as sa
from alembic import op

revision = "r0002"
down_revision = "r0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registry_school_contacts",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("email", sa.String(320)),
        sa.Column("phone", sa.String(40)),
    )


def downgrade() -> None:
    op.drop_table("registry_school_contacts")
