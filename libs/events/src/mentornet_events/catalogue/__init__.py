"""Every domain event is registered here once; importing the package loads the whole catalogue."""

from mentornet_events.catalogue import monitoring, programs, registry  # noqa: F401  (registration side effect)
from mentornet_events.catalogue.base import (
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

__all__ = [
    "CATALOGUE",
    "MAX_MESSAGE_BYTES",
    "MAX_PAYLOAD_BYTES",
    "Catalogue",
    "DomainEvent",
    "EventSpec",
    "EventTooLarge",
    "InvalidEventPayload",
    "UnknownEventType",
]
