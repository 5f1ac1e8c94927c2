"""Commands on participants: entering the mentor and mentee bases (one by one or a file's rows),
profile changes, consent withdrawn, erasure. Personal data goes to the vault in the same
transaction, never into events."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from uuid import UUID

from sqlalchemy import select

from mentornet_auth import Principal
from mentornet_events import DomainEvent
from mentornet_events.catalogue.registry import MenteeRegistered, MentorRegistered
from mentornet_events.vocabulary import BaseKind
from mentornet_spine.errors import InvalidCommand
from mentornet_spine.http import NotFound
from mentornet_spine.store import StreamAppend
from mentornet_spine.uow import UnitOfWork, check_expected
from registry.adapters import read_model
from registry.adapters.tables import participants
from registry.application import access
from registry.application.context import Registry
from registry.application.schemas import (
    MenteeRegistration,
    MentorRegistration,
    ProfileChanges,
)
from registry.domain import participant as participant_domain

Registration = MentorRegistration | MenteeRegistration


async def ensure_writable(registry: Registry, principal: Principal, school_code: str) -> None:
    async with registry.reads.connect() as conn:
        await access.writable_school(conn, principal, school_code)


async def import_all(
    registry: Registry, principal: Principal, school_code: str, rows: Sequence[Registration]
) -> int:
    """All rows in one transaction and a few multi-row statements: all rows or none."""
    async with registry.units.begin() as uow:
        row = await access.writable_school(uow.conn, principal, school_code)
        tenant = access.tenant_of(registry, row)
        entries, people = [], []
        for registration in rows:
            if registration.participant_id is not None:
                raise InvalidCommand("Импорт вносит новых участников; известного участника добавьте вручную")
            participant_id = uuid.uuid4()
            entry, events = _enter_base(registry, None, participant_id, registration)
            # the read rows of a whole file in one statement, not through the projector one by one
            uow.changes.append(StreamAppend(participant_domain.stream_id(participant_id), 0, events, tenant))
            entries.append((entry, len(events)))
            if registration.person is not None:
                people.append((participant_id, registration.person.model_dump(mode="json")))
        await read_model.insert_new_participants(uow.conn, row.code, entries)
        await registry.vault.store_new(uow.conn, people)
    return len(rows)


async def register(
    registry: Registry, principal: Principal, school_code: str, registration: Registration
) -> UUID:
    async with registry.units.begin() as uow:
        school_row = await access.writable_school(uow.conn, principal, school_code)
        existing: participant_domain.Participant | None = None
        if registration.participant_id is not None:
            existing = await access.load_participant(uow, registration.participant_id)
            where = await uow.conn.scalar(
                select(participants.c.school).where(participants.c.id == existing.id)
            )
            if where != school_row.code:
                raise NotFound(f"Участник {existing.id} не найден")
        elif registration.person is None:
            raise InvalidCommand("Укажите персональные данные нового участника", "person")
        participant_id = existing.id if existing else uuid.uuid4()
        _, events = _enter_base(registry, existing, participant_id, registration)
        await uow.record(
            participant_domain.stream_id(participant_id),
            existing.version if existing else 0,
            events,
            access.tenant_of(registry, school_row),
        )
        if registration.person is not None:
            await registry.vault.store(uow.conn, participant_id, registration.person.model_dump(mode="json"))
    return participant_id


def _enter_base(
    registry: Registry,
    existing: participant_domain.Participant | None,
    participant_id: UUID,
    registration: Registration,
) -> tuple[MentorRegistered | MenteeRegistered, list[DomainEvent]]:
    entry = _entry(participant_id, registration)
    events = participant_domain.register(
        existing,
        entry,
        minor=registration.minor,
        consent_by=registration.consent.given_by,
        today=registry.today(),
    )
    return entry, events


def _entry(participant_id: UUID, registration: Registration) -> MentorRegistered | MenteeRegistered:
    """The event carries the entry's fields, with the years of experience as a band."""
    event = MentorRegistered if isinstance(registration, MentorRegistration) else MenteeRegistered
    entry = registration.entry
    return event(
        participant_id=participant_id,
        experience_band=participant_domain.experience_band(entry.experience_years),
        **{name: value for name, value in entry if name != "experience_years"},
    )


async def _decide(
    registry: Registry,
    uow: UnitOfWork,
    principal: Principal,
    participant_id: UUID,
    decide: Callable[[participant_domain.Participant], list[DomainEvent]],
    expected: int | None,
    self_service: bool = False,
) -> int:
    """Check the caller, decide on the participant, record the events in the caller's unit."""
    row = await access.participant_row(registry, uow.conn, principal, participant_id)
    if not (self_service and principal.participant_id == participant_id):
        principal.require_role(*access.SCHOOL_WRITERS)
    participant = await access.load_participant(uow, participant_id)
    check_expected(expected, participant.version)
    tenant = await access.place(registry, uow.conn, row.school)
    return await uow.record(
        participant_domain.stream_id(participant_id), participant.version, decide(participant), tenant
    )


async def update(
    registry: Registry,
    principal: Principal,
    participant_id: UUID,
    changes: ProfileChanges,
    expected: int | None = None,
) -> int:
    data = changes.model_dump(exclude={"person", "experience_years"}, exclude_none=True)
    if changes.experience_years is not None:
        data["experience_band"] = participant_domain.experience_band(changes.experience_years)
    async with registry.units.begin() as uow:
        version = await _decide(
            registry, uow, principal, participant_id, lambda p: p.update_profile(data), expected
        )
        if changes.person is not None:
            await registry.vault.store(uow.conn, participant_id, changes.person.model_dump(mode="json"))
    return version


async def withdraw_consent(
    registry: Registry, principal: Principal, participant_id: UUID, base: BaseKind
) -> int:
    async with registry.units.begin() as uow:
        return await _decide(
            registry,
            uow,
            principal,
            participant_id,
            lambda p: p.withdraw_consent(base, registry.today()),
            None,
            self_service=True,
        )


async def erase(registry: Registry, principal: Principal, participant_id: UUID) -> int:
    async with registry.units.begin() as uow:
        version = await _decide(
            registry, uow, principal, participant_id, lambda p: p.erase(), None, self_service=True
        )
        await registry.vault.destroy_key(uow.conn, participant_id)
    return version
