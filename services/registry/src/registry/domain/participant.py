"""The participant aggregate: entering the mentor or mentee base with consent, leaving, erasure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from mentornet_events import DomainEvent
from mentornet_events.catalogue.registry import (
    ConsentGiven,
    ConsentWithdrawn,
    MenteeRegistered,
    MentorRegistered,
    ParticipantErased,
    ParticipantProfileUpdated,
)
from mentornet_events.vocabulary import BaseKind, ConsentGiver, ExperienceBand, ParticipantRole
from mentornet_spine.errors import DomainError, InvalidCommand

BASE_RU = {BaseKind.MENTOR: "базе наставников", BaseKind.MENTEE: "базе наставляемых"}


def stream_id(participant_id: UUID) -> str:
    return f"participant-{participant_id}"


@dataclass
class Participant:
    id: UUID
    role: ParticipantRole
    bases: set[BaseKind] = field(default_factory=set)
    attributes: dict[str, Any] = field(default_factory=dict)
    erased: bool = False
    version: int = 0

    @classmethod
    def replay(cls, events: Iterable[DomainEvent]) -> Participant | None:
        participant: Participant | None = None
        for event in events:
            participant = evolve(participant, event)
        return participant

    def _alive(self) -> None:
        if self.erased:
            raise DomainError("Участник удалён по запросу; его данные недоступны")

    def withdraw_consent(self, base: BaseKind, today: date) -> list[DomainEvent]:
        self._alive()
        if base not in self.bases:
            raise DomainError(f"Участник не состоит в {BASE_RU[base]}")
        return [ConsentWithdrawn(participant_id=self.id, base=base, withdrawn_on=today)]

    def update_profile(self, changes: dict[str, Any]) -> list[DomainEvent]:
        self._alive()
        effective = {k: v for k, v in changes.items() if v is not None and self.attributes.get(k) != v}
        if not effective:
            return []
        return [ParticipantProfileUpdated(participant_id=self.id, **effective)]

    def erase(self) -> list[DomainEvent]:
        self._alive()
        return [ParticipantErased(participant_id=self.id)]


def register(
    participant: Participant | None,
    entry: MentorRegistered | MenteeRegistered,
    *,
    minor: bool | None,
    consent_by: ConsentGiver,
    today: date,
) -> list[DomainEvent]:
    """Enter a base. Voluntary: consent is recorded with the entry; a minor's comes from a parent
    (a student counts as a minor unless ``minor`` says otherwise)."""
    base = BaseKind.MENTOR if isinstance(entry, MentorRegistered) else BaseKind.MENTEE
    if minor is None:
        minor = entry.role is ParticipantRole.STUDENT
    if minor and consent_by is not ConsentGiver.PARENT:
        raise InvalidCommand(
            "Для несовершеннолетнего нужно согласие родителя (законного представителя)", "consent_by"
        )
    if participant is not None:
        participant._alive()
        if base in participant.bases:
            raise DomainError(f"Участник уже состоит в {BASE_RU[base]}")
        if participant.role is not entry.role:
            raise InvalidCommand("Роль участника не совпадает с уже записанной", "role")
    return [
        entry,
        ConsentGiven(participant_id=entry.participant_id, base=base, given_by=consent_by, given_on=today),
    ]


_PROFILE_FIELDS = set(ParticipantProfileUpdated.model_fields) - {"participant_id"}


def evolve(participant: Participant | None, event: DomainEvent) -> Participant:
    if isinstance(event, MentorRegistered | MenteeRegistered):
        if participant is None:
            participant = Participant(event.participant_id, event.role)
        participant.bases.add(BaseKind.MENTOR if isinstance(event, MentorRegistered) else BaseKind.MENTEE)
        data = event.model_dump(exclude={"participant_id", "role"})
        participant.attributes.update({k: v for k, v in data.items() if k in _PROFILE_FIELDS})
    elif participant is None:
        raise ValueError(f"{type(event).__name__} before the participant exists")
    elif isinstance(event, ParticipantProfileUpdated):
        participant.attributes.update(event.model_dump(exclude={"participant_id"}, exclude_none=True))
    elif isinstance(event, ConsentWithdrawn):
        participant.bases.discard(event.base)
    elif isinstance(event, ParticipantErased):
        participant.erased = True
        participant.bases.clear()
    participant.version += 1
    return participant


def experience_band(years: int | None) -> ExperienceBand | None:
    """Events carry a band, never the years: enough to match on, less about the person."""
    if years is None:
        return None
    if years < 3:
        return ExperienceBand.UNDER_3
    if years < 10:
        return ExperienceBand.FROM_3_TO_10
    if years < 20:
        return ExperienceBand.FROM_10_TO_20
    return ExperienceBand.OVER_20
