"""Every domain event is registered here once; importing the package loads the whole catalogue."""

from mentornet_events.catalogue import monitoring, programs, registry  # noqa: F401  (registration side effect)
from mentornet_events.catalogue.base import (
    CATALOGUE,
    Catalogue,
    DomainEvent,
    EventSpec,
    InvalidEventPayload,
    UnknownEventType,
)

__all__ = ["CATALOGUE", "Catalogue", "DomainEvent", "EventSpec", "InvalidEventPayload", "UnknownEventType"]
