"""MentorNet's shared contracts: the event envelope, the catalogue of domain events, subjects."""

from mentornet_events.catalogue import (
    CATALOGUE,
    MAX_MESSAGE_BYTES,
    MAX_PAYLOAD_BYTES,
    Catalogue,
    DomainEvent,
    EventSpec,
    EventTooLarge,
    InvalidEventPayload,
    UnknownEventType,
)
from mentornet_events.envelope import Envelope, Tenant, envelope_from_json, envelope_to_json, new_event_id
from mentornet_events.subjects import Subjects

__all__ = [
    "CATALOGUE",
    "MAX_MESSAGE_BYTES",
    "MAX_PAYLOAD_BYTES",
    "Catalogue",
    "DomainEvent",
    "Envelope",
    "EventSpec",
    "EventTooLarge",
    "InvalidEventPayload",
    "Subjects",
    "Tenant",
    "UnknownEventType",
    "envelope_from_json",
    "envelope_to_json",
    "new_event_id",
]
