"""The envelope every MentorNet event travels in, and its one JSON form."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator
from uuid6 import uuid7

CODE_PATTERN = r"^[0-9A-Za-z_-]{1,32}$"


def new_event_id() -> UUID:
    """UUIDv7: unique and time-ordered, so ids sort roughly by creation."""
    return UUID(bytes=uuid7().bytes)


def utc_now() -> datetime:
    return datetime.now(UTC)


class Tenant(BaseModel):
    """Who an event belongs to: the scope checks and the aggregates roll up by these codes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    region: str = Field(pattern=CODE_PATTERN, description="Region code (код субъекта РФ)")
    municipality: str | None = Field(default=None, pattern=CODE_PATTERN, description="Municipality code")
    school: str | None = Field(default=None, pattern=CODE_PATTERN, description="School (ОО) code")


class Envelope(BaseModel):
    """Metadata around a domain event's payload; the payload stays a plain dict until decoded."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: UUID = Field(description="UUIDv7; also the JetStream Nats-Msg-Id")
    type: str = Field(min_length=1, description="Event type name from the catalogue, e.g. PairFormed")
    schema_version: int = Field(ge=1, description="Version of the payload schema")
    occurred_at: AwareDatetime = Field(description="When the event happened, UTC")
    stream_id: str = Field(min_length=1, description="Aggregate stream, e.g. pair-0192…")
    stream_version: int = Field(ge=1, description="Position of the event in its aggregate stream")
    tenant: Tenant
    correlation_id: UUID = Field(description="Id of the request or process that started the chain")
    causation_id: UUID | None = Field(default=None, description="Id of the event or command that caused it")
    trace_context: dict[str, str] = Field(
        default_factory=dict, description="W3C trace context (traceparent, tracestate)"
    )
    payload: dict[str, Any]

    @field_validator("occurred_at")
    @classmethod
    def _in_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)


_WITHOUT_PAYLOAD = {"payload"}


def envelope_to_json(envelope: Envelope, payload_json: bytes | None = None) -> bytes:
    """The envelope's one JSON form. ``payload_json``, the payload serialised already (the store has
    it from admitting the event), is spliced in as the last field instead of serialised again."""
    serializer = envelope.__pydantic_serializer__
    if payload_json is None:
        return serializer.to_json(envelope)
    head = serializer.to_json(envelope, exclude=_WITHOUT_PAYLOAD)
    return b"".join((head[:-1], b',"payload":', payload_json, b"}"))


def envelope_from_json(data: bytes | str) -> Envelope:
    return Envelope.model_validate_json(data)
