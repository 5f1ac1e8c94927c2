"""The spine's tables: the event store, the relay's checkpoint, consumers' processed-event records."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Integer,
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
