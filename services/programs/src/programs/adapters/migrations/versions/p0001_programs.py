"""Programs: eligibility from registry events, programmes, pairs, roadmaps, meetings, feedback, texts.

Revision ID: p0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from mentornet_spine.tables import UTCDateTime

revision = "p0001"
down_revision = None
branch_labels = ("programs",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "programs_eligible",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("municipality", sa.String(32), nullable=False, index=True),
        sa.Column("school", sa.String(32), nullable=False, index=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("mentor", sa.JSON),
        sa.Column("mentee", sa.JSON),
        sa.Column("mentor_consent", sa.Boolean, nullable=False),
        sa.Column("mentee_consent", sa.Boolean, nullable=False),
        sa.Column("erased", sa.Boolean, nullable=False),
    )
    op.create_table(
        "programs_feedback",
        sa.Column("meeting_id", sa.Uuid, primary_key=True),
        sa.Column("respondent_role", sa.String(10), primary_key=True),
        sa.Column("pair_id", sa.Uuid, nullable=False, index=True),
        sa.Column("scores", sa.JSON, nullable=False),
        sa.Column("wants_to_become_mentor", sa.Boolean, nullable=False),
    )
    op.create_table(
        "programs_idempotency",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("subject", sa.String(200), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("response", sa.Text),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "programs_meetings",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("pair_id", sa.Uuid, nullable=False, index=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("held_on", sa.Date, nullable=False),
    )
    op.create_table(
        "programs_pair_members",
        sa.Column("pair_id", sa.Uuid, primary_key=True),
        sa.Column("participant_id", sa.Uuid, primary_key=True, index=True),
        sa.Column("side", sa.String(10), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_table(
        "programs_pairs",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("programme_id", sa.Uuid, nullable=False, index=True),
        sa.Column("school", sa.String(32), nullable=False, index=True),
        sa.Column("form", sa.String(40), nullable=False),
        sa.Column("mentor_ids", sa.JSON, nullable=False),
        sa.Column("mentee_ids", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("formed_on", sa.Date, nullable=False),
        sa.Column("ended_on", sa.Date),
        sa.Column("dissolution_reason", sa.String(40)),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("roadmap_version", sa.Integer, nullable=False),
    )
    op.create_table(
        "programs_programmes",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("municipality", sa.String(32), nullable=False),
        sa.Column("school", sa.String(32), nullable=False, index=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("form", sa.String(40), nullable=False),
        sa.Column("variant", sa.String(40)),
        sa.Column("duration", sa.String(20), nullable=False),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("curator", sa.String(200)),
        sa.Column("partner_schools", sa.JSON, nullable=False),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("ends_on", sa.Date, nullable=False),
        sa.Column("stage", sa.String(30), nullable=False),
        sa.Column("stages", sa.JSON, nullable=False),
        sa.Column("documents", sa.JSON, nullable=False),
        sa.Column("completed_on", sa.Date),
        sa.Column("nominated_mentor_ids", sa.JSON),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "programs_roadmap_items",
        sa.Column("pair_id", sa.Uuid, primary_key=True),
        sa.Column("item_id", sa.Uuid, primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("direction", sa.String(40), nullable=False),
        sa.Column("due_on", sa.Date, index=True),
        sa.Column("rhythm", sa.String(20)),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("completed_on", sa.Date),
        sa.Column("product_kind", sa.String(200)),
        sa.Column("overdue_for", sa.Date),
    )
    op.create_table(
        "programs_texts",
        sa.Column("owner_id", sa.Uuid, primary_key=True),
        sa.Column("kind", sa.String(30), primary_key=True),
        sa.Column("revision", sa.Integer, primary_key=True),
        sa.Column("body", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("programs_texts")
    op.drop_table("programs_roadmap_items")
    op.drop_table("programs_programmes")
    op.drop_table("programs_pairs")
    op.drop_table("programs_pair_members")
    op.drop_table("programs_meetings")
    op.drop_table("programs_idempotency")
    op.drop_table("programs_feedback")
    op.drop_table("programs_eligible")
