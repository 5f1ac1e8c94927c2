"""The catalogue: versioned pydantic event models, upcasters, and decoding of envelopes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from mentornet_events.envelope import Envelope
from mentornet_events.subjects import Subjects

Payload = dict[str, Any]
Upcaster = Callable[[Payload], Payload]
E = TypeVar("E", bound="DomainEvent")

#: The event streams' message limit (``max_msg_size``); NATS's own default ``max_payload`` too.
MAX_MESSAGE_BYTES = 1024 * 1024
#: What a payload may take of it: the envelope's other fields and the headers need the rest.
MAX_PAYLOAD_BYTES = MAX_MESSAGE_BYTES - 32 * 1024


class DomainEvent(BaseModel):
    """Base of every domain event: immutable, closed to unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    schema_version: ClassVar[int]


class UnknownEventType(LookupError):
    def __init__(self, event_type: str, known: list[str]) -> None:
        super().__init__(f"unknown event type {event_type!r}; the catalogue knows: {', '.join(known)}")
        self.event_type = event_type


class InvalidEventPayload(ValueError):
    """A payload that does not match its schema; the message names each bad field."""

    def __init__(self, event_type: str, version: int, errors: list[str]) -> None:
        super().__init__(f"invalid {event_type} v{version} payload: " + "; ".join(errors))
        self.event_type = event_type
        self.errors = errors


class EventTooLarge(InvalidEventPayload):
    """An event its stream could not carry: refused at append, so it never jams the relay."""

    def __init__(self, event_type: str, version: int, size: int) -> None:
        ValueError.__init__(
            self,
            f"Событие {event_type} слишком велико ({size // 1024} КиБ при пределе "
            f"{MAX_PAYLOAD_BYTES // 1024} КиБ): сократите длинные поля запроса",
        )
        self.event_type = event_type
        self.errors = [f"payload of {size} bytes exceeds {MAX_PAYLOAD_BYTES}"]
        self.size = size


@dataclass(frozen=True)
class EventSpec:
    model: type[DomainEvent]
    service: str
    aggregate: str
    description: str
    #: anonymous aggregates the federal hub may receive (the only subjects leaving the region)
    federal: bool = False

    @property
    def name(self) -> str:
        return self.model.event_type

    @property
    def version(self) -> int:
        return self.model.schema_version

    def subject(self, subjects: Subjects) -> str:
        return subjects.event(self.service, self.aggregate, self.name)


def _field_errors(error: ValidationError) -> list[str]:
    return [f"field '{'.'.join(str(p) for p in e['loc']) or '<root>'}': {e['msg']}" for e in error.errors()]


class Catalogue:
    """Registry of event types. Services publish only what is declared here."""

    def __init__(self) -> None:
        self._specs: dict[str, EventSpec] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}

    def event(
        self, *, service: str, aggregate: str, version: int = 1, federal: bool = False
    ) -> Callable[[type[E]], type[E]]:
        """Class decorator: register a domain event; the class name is its type.

        ``federal=True`` marks anonymous aggregates that may cross to the federal hub; the NATS
        account configuration is generated from this flag (``mentornet nats-config``).
        """

        def register(model: type[E]) -> type[E]:
            name = model.__name__
            if name in self._specs:
                raise ValueError(f"event type {name} is registered twice")
            model.event_type = name
            model.schema_version = version
            doc = (model.__doc__ or "").strip()
            self._specs[name] = EventSpec(model, service, aggregate, doc, federal)
            return model

        return register

    def upcaster(self, event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Register a function turning a ``from_version`` payload into ``from_version + 1``."""

        def register(fn: Upcaster) -> Upcaster:
            self._upcasters[(event_type, from_version)] = fn
            return fn

        return register

    def __iter__(self) -> Iterator[EventSpec]:
        return iter(sorted(self._specs.values(), key=lambda s: (s.service, s.aggregate, s.name)))

    def spec(self, event_type: str) -> EventSpec:
        try:
            return self._specs[event_type]
        except KeyError:
            raise UnknownEventType(event_type, sorted(self._specs)) from None

    def spec_of(self, event: DomainEvent) -> EventSpec:
        return self.spec(type(event).event_type)

    def admit(self, event: DomainEvent) -> bytes:
        """The payload of an event the store may append (declared here and small enough to
        publish), as JSON: measured for the check, then stored and published as it is."""
        spec = self.spec_of(event)
        payload = event.__pydantic_serializer__.to_json(event)
        if len(payload) > MAX_PAYLOAD_BYTES:
            raise EventTooLarge(spec.name, spec.version, len(payload))
        return payload

    def services(self) -> list[str]:
        return sorted({s.service for s in self._specs.values()})

    def parse(self, event_type: str, version: int, payload: Payload) -> DomainEvent:
        """Upcast a stored payload to the current version and validate it."""
        spec = self.spec(event_type)
        if version > spec.version:
            raise InvalidEventPayload(
                event_type,
                version,
                [f"schema version {version} is newer than this code knows ({spec.version})"],
            )
        data = dict(payload)
        for v in range(version, spec.version):
            step = self._upcasters.get((event_type, v))
            if step is None:
                raise InvalidEventPayload(event_type, version, [f"no upcaster from version {v} to {v + 1}"])
            data = step(data)
        try:
            return spec.model.model_validate(data)
        except ValidationError as error:
            raise InvalidEventPayload(event_type, version, _field_errors(error)) from None

    def decode(self, envelope: Envelope) -> DomainEvent:
        return self.parse(envelope.type, envelope.schema_version, envelope.payload)


CATALOGUE = Catalogue()
