"""Notifications: schools and pair members from events, messages, webhooks and deliveries, broadcasts.

Revision ID: n0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from mentornet_spine.tables import UTCDateTime

revision = "n0001"
down_revision = None
branch_labels = ("notifications",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notifications_broadcasts",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("municipality", sa.String(32)),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("schools", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "notifications_deliveries",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("message_id", sa.Uuid, nullable=False),
        sa.Column("school", sa.String(32), nullable=False, index=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.String(500)),
        sa.Column("sent_at", UTCDateTime()),
        sa.UniqueConstraint("message_id", name="uq_notifications_delivery_message"),
    )
    op.create_index(
        "ix_notifications_deliveries_due", "notifications_deliveries", ["status", "next_attempt_at"]
    )
    op.create_table(
        "notifications_emails",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("message_id", sa.Uuid, nullable=False),
        sa.Column("recipient", sa.String(80), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.String(500)),
        sa.Column("sent_at", UTCDateTime()),
        sa.UniqueConstraint("message_id", name="uq_notifications_email_message"),
    )
    op.create_index("ix_notifications_emails_due", "notifications_emails", ["status", "next_attempt_at"])
    op.create_table(
        "notifications_idempotency",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("subject", sa.String(200), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("response", sa.Text),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "notifications_items",
        sa.Column("item_id", sa.Uuid, primary_key=True),
        sa.Column("pair_id", sa.Uuid, nullable=False),
        sa.Column("school", sa.String(32), nullable=False),
        sa.Column("municipality", sa.String(32), nullable=False),
        sa.Column("due_on", sa.Date),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("completed", sa.Boolean, nullable=False),
        sa.Column("overdue_since", sa.Date),
    )
    op.create_index("ix_notifications_items_due", "notifications_items", ["completed", "due_on"])
    op.create_table(
        "notifications_meetings",
        sa.Column("meeting_id", sa.Uuid, primary_key=True),
        sa.Column("pair_id", sa.Uuid, nullable=False),
        sa.Column("school", sa.String(32), nullable=False),
        sa.Column("municipality", sa.String(32), nullable=False),
        sa.Column("held_on", sa.Date, nullable=False),
        sa.Column("mentor_form", sa.Boolean, nullable=False),
        sa.Column("mentee_form", sa.Boolean, nullable=False),
    )
    op.create_table(
        "notifications_messages",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("source_id", sa.Uuid, nullable=False),
        sa.Column("source_type", sa.String(100), nullable=False),
        sa.Column("recipient", sa.String(80), nullable=False),
        sa.Column("priority", sa.String(20), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("read_at", UTCDateTime()),
        sa.Column("state", sa.String(10), nullable=False),
        sa.UniqueConstraint("source_id", "recipient", name="uq_notifications_message_source_recipient"),
    )
    op.create_index(
        "ix_notifications_messages_recipient", "notifications_messages", ["recipient", "created_at"]
    )
    op.create_table(
        "notifications_pair_members",
        sa.Column("pair_id", sa.Uuid, primary_key=True),
        sa.Column("participant_id", sa.Uuid, primary_key=True),
        sa.Column("side", sa.String(10), nullable=False),
    )
    op.create_table(
        "notifications_preferences",
        sa.Column("recipient", sa.String(80), primary_key=True),
        sa.Column("channel", sa.String(10), primary_key=True),
        sa.Column("opt_out", sa.Boolean, nullable=False),
        sa.Column("digest", sa.Boolean, nullable=False),
    )
    op.create_table(
        "notifications_schools",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("municipality", sa.String(32), nullable=False, index=True),
        sa.Column("status", sa.String(20), nullable=False),
    )
    op.create_table(
        "notifications_webhooks",
        sa.Column("school", sa.String(32), primary_key=True),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("open_until", UTCDateTime()),
        sa.Column("enabled", sa.Boolean, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("notifications_webhooks")
    op.drop_table("notifications_schools")
    op.drop_table("notifications_preferences")
    op.drop_table("notifications_pair_members")
    op.drop_table("notifications_messages")
    op.drop_table("notifications_meetings")
    op.drop_table("notifications_items")
    op.drop_table("notifications_idempotency")
    op.drop_table("notifications_emails")
    op.drop_table("notifications_deliveries")
    op.drop_table("notifications_broadcasts")
