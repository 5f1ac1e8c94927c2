"""The notifications service's tables: what it knows of schools and pairs, messages, deliveries."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)

from mentornet_spine.idempotency import idempotency_table
from mentornet_spine.tables import UTCDateTime

metadata = MetaData()

schools = Table(
    "notifications_schools",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("region", String(32), nullable=False),
    Column("municipality", String(32), nullable=False, index=True),
    Column("status", String(20), nullable=False),
)

pair_members = Table(
    "notifications_pair_members",
    metadata,
    Column("pair_id", Uuid, primary_key=True),
    Column("participant_id", Uuid, primary_key=True),
    Column("side", String(10), nullable=False),
)

#: roadmap items and meetings as the reminders need them (from the programs service's events)
items = Table(
    "notifications_items",
    metadata,
    Column("item_id", Uuid, primary_key=True),
    Column("pair_id", Uuid, nullable=False),
    Column("school", String(32), nullable=False),
    Column("municipality", String(32), nullable=False),
    Column("due_on", Date),
    Column("revision", Integer, nullable=False),
    Column("completed", Boolean, nullable=False, default=False),
    Column("overdue_since", Date),
    Index("ix_notifications_items_due", "completed", "due_on"),
)

meetings = Table(
    "notifications_meetings",
    metadata,
    Column("meeting_id", Uuid, primary_key=True),
    Column("pair_id", Uuid, nullable=False),
    Column("school", String(32), nullable=False),
    Column("municipality", String(32), nullable=False),
    Column("held_on", Date, nullable=False),
    Column("mentor_form", Boolean, nullable=False),
    Column("mentee_form", Boolean, nullable=False),
)

#: one per source (event or broadcast) and recipient: the unique key is what makes fan-out exactly once
messages = Table(
    "notifications_messages",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("source_id", Uuid, nullable=False),
    Column("source_type", String(100), nullable=False),
    Column("recipient", String(80), nullable=False),  # school:<code>, participant:<id>, region:<code>…
    Column("priority", String(20), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("read_at", UTCDateTime()),
    #: shown | opted_out (kept for the log, not shown) | digest (waits for the daily digest) | digested
    Column("state", String(10), nullable=False),
    UniqueConstraint("source_id", "recipient", name="uq_notifications_message_source_recipient"),
    Index("ix_notifications_messages_recipient", "recipient", "created_at"),
)

#: a recipient's choice per channel: opt out of non-mandatory messages, or a daily digest of low ones
preferences = Table(
    "notifications_preferences",
    metadata,
    Column("recipient", String(80), primary_key=True),
    Column("channel", String(10), primary_key=True),
    Column("opt_out", Boolean, nullable=False),
    Column("digest", Boolean, nullable=False),
)

webhooks = Table(
    "notifications_webhooks",
    metadata,
    Column("school", String(32), primary_key=True),
    Column("url", String(2000), nullable=False),
    Column("secret", String(100), nullable=False),
    Column("failures", Integer, nullable=False),
    Column("open_until", UTCDateTime()),
    Column("enabled", Boolean, nullable=False),
)

deliveries = Table(
    "notifications_deliveries",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("message_id", Uuid, nullable=False),
    Column("school", String(32), nullable=False, index=True),
    Column("status", String(10), nullable=False),  # pending | sending | sent | dead
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("last_error", String(500)),
    Column("sent_at", UTCDateTime()),
    UniqueConstraint("message_id", name="uq_notifications_delivery_message"),
    Index("ix_notifications_deliveries_due", "status", "next_attempt_at"),
)

#: e-mails to people and schools; the address is asked from the registry when sending, never kept
emails = Table(
    "notifications_emails",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("message_id", Uuid, nullable=False),
    Column("recipient", String(80), nullable=False),
    Column("status", String(10), nullable=False),  # pending | sending | sent | no_address | dead
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("last_error", String(500)),
    Column("sent_at", UTCDateTime()),
    UniqueConstraint("message_id", name="uq_notifications_email_message"),
    Index("ix_notifications_emails_due", "status", "next_attempt_at"),
)

broadcasts = Table(
    "notifications_broadcasts",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("author", String(200), nullable=False),
    Column("region", String(32), nullable=False),
    Column("municipality", String(32)),
    Column("title", String(300), nullable=False),
    Column("schools", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

idempotency = idempotency_table(metadata, "notifications_idempotency")
