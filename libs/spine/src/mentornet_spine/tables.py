"""The spine's tables: the event store, the relay's checkpoint, what each consumer has applied."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.engine import Dialect

metadata = MetaData()


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware in and out on every backend (SQLite stores no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Position = BigInteger().with_variant(Integer(), "sqlite")

events = Table(
    "events",
    metadata,
    Column("position", Position, primary_key=True, autoincrement=True),
    Column("event_id", Uuid, nullable=False, unique=True),
    Column("stream_id", String(200), nullable=False),
    Column("stream_version", Integer, nullable=False),
    Column("type", String(100), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("region", String(32), nullable=False),
    Column("municipality", String(32)),
    Column("school", String(32)),
    Column("correlation_id", Uuid, nullable=False),
    Column("causation_id", Uuid),
    Column("trace_context", JSON, nullable=False),
    Column("payload", JSON, nullable=False),
    #: the envelope as published, serialised once at append: the relay sends these bytes as they are
    #: (rows appended before the column existed have none and are serialised by the relay)
    Column("message", LargeBinary),
    UniqueConstraint("stream_id", "stream_version", name="uq_events_stream_version"),
)

# The events table is the outbox: appends commit in position order (see store.py), so a relay
# needs only the position up to which JetStream has acknowledged everything.
relay_checkpoints = Table(
    "relay_checkpoints",
    metadata,
    Column("relay", String(100), primary_key=True),
    Column("position", BigInteger, nullable=False),
)

# Events the relay could not publish (too large for the stream, unknown type): dead-lettered with
# their reason and stepped over, so one bad event never stops every later one. Each stays in the
# store; this row says why no subscriber saw it.
relay_parked = Table(
    "relay_parked",
    metadata,
    Column("relay", String(100), primary_key=True),
    Column("position", BigInteger, primary_key=True),
    Column("event_id", Uuid, nullable=False),
    Column("type", String(100), nullable=False),
    Column("reason", String(2000), nullable=False),
    Column("parked_at", UTCDateTime(), nullable=False),
)

# What a consumer has applied, per upstream stream, by the events' store positions (the relay
# stamps each message with it): one tracking row holding the highest position applied, locked and
# moved in each batch's transaction, and one row per batch listing the positions it applied. A
# batch wholly above the mark is new without a lookup; an event at or below it (a redelivery, an
# event retried after a failure, a stream refilled after the broker lost messages) is looked up
# in the batch rows whose range covers it. JetStream does not deliver a durable consumer's
# messages strictly in order (a nak, a process killed mid-batch, a repair), so the mark alone
# would drop such an event: the batch rows keep it exact at one row per batch, not per event.
consumer_tracking = Table(
    "consumer_tracking",
    metadata,
    Column("consumer", String(100), primary_key=True),
    Column("stream", String(100), primary_key=True),
    Column("position", BigInteger, nullable=False),
)

applied_batches = Table(
    "applied_batches",
    metadata,
    Column("consumer", String(100), primary_key=True),
    Column("stream", String(100), primary_key=True),
    Column("last_position", BigInteger, primary_key=True),
    Column("first_position", BigInteger, nullable=False),
    #: the positions applied, ascending
    Column("positions", JSON, nullable=False),
)

# Events of messages without the relay's position stamp (a publisher other than a relay, as some
# tests' fixtures are) are recorded one by one by event id, as before the tracking rows.
processed_events = Table(
    "processed_events",
    metadata,
    Column("consumer", String(100), primary_key=True),
    Column("event_id", Uuid, primary_key=True),
    Column("stream_sequence", BigInteger, nullable=False),
)

projection_generations = Table(
    "projection_generations",
    metadata,
    Column("projection", String(100), primary_key=True),
    Column("generation", Integer, nullable=False),
    Column("rebuilt_at", UTCDateTime()),
)
