"""Registry read models, credentials, accounts, personal-data vault, idempotency keys.

Revision ID: r0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from mentornet_spine.tables import UTCDateTime

revision = "r0001"
down_revision = None
branch_labels = ("registry",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registry_municipalities",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
    )
    op.create_table(
        "registry_schools",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("municipality", sa.String(32), nullable=False, index=True),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("teachers", sa.Integer, nullable=False),
        sa.Column("students", sa.Integer, nullable=False),
        sa.Column("bases_refreshed_on", sa.Date),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "registry_participants",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column(
            "school", sa.String(32), sa.ForeignKey("registry_schools.code"), nullable=False, index=True
        ),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("in_mentor_base", sa.Boolean, nullable=False),
        sa.Column("in_mentee_base", sa.Boolean, nullable=False),
        sa.Column("attributes", sa.JSON, nullable=False),
        sa.Column("erased", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "registry_school_credentials",
        sa.Column("client_id", sa.String(64), primary_key=True),
        sa.Column(
            "school", sa.String(32), sa.ForeignKey("registry_schools.code"), nullable=False, index=True
        ),
        sa.Column("secret_hash", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime()),
    )
    op.create_table(
        "registry_accounts",
        sa.Column("username", sa.String(100), primary_key=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(40), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("municipality", sa.String(32)),
        sa.Column("school", sa.String(32)),
        sa.Column("participant_id", sa.Uuid),
        sa.Column("disabled", sa.Boolean, nullable=False),
    )
    op.create_table(
        "registry_participant_keys",
        sa.Column("participant_id", sa.Uuid, primary_key=True),
        sa.Column("wrapped_key", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "registry_participant_personal_data",
        sa.Column("participant_id", sa.Uuid, primary_key=True),
        sa.Column("ciphertext", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "registry_idempotency",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("subject", sa.String(200), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("response", sa.Text),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "registry_idempotency",
        "registry_participant_personal_data",
        "registry_participant_keys",
        "registry_accounts",
        "registry_school_credentials",
        "registry_participants",
        "registry_schools",
        "registry_municipalities",
    ):
        op.drop_table(table)
