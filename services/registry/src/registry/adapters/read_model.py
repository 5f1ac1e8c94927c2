"""Keeps the registry's read tables in step with its events, inside the command's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from mentornet_events import DomainEvent, Tenant
from mentornet_events.catalogue.registry import (
    ConsentGiven,
    ConsentWithdrawn,
    MenteeRegistered,
    MentorRegistered,
    MunicipalityRegistered,
    ParticipantErased,
    ParticipantProfileUpdated,
    SchoolApplied,
    SchoolBasesRefreshed,
    SchoolConnected,
    SchoolCredentialsIssued,
    SchoolCredentialsRevoked,
    SchoolDisconnected,
    SchoolHeadcountsUpdated,
    SchoolResumed,
    SchoolSuspended,
)
from mentornet_events.vocabulary import BaseKind
from registry.adapters.tables import municipalities, participants, schools

_SCHOOL_STATUS: dict[type[DomainEvent], str] = {
    SchoolApplied: "applied",
    SchoolConnected: "connected",
    SchoolSuspended: "suspended",
    SchoolResumed: "connected",
    SchoolDisconnected: "disconnected",
}


async def project(
    conn: AsyncConnection, tenant: Tenant, events: list[DomainEvent], version: int, _facts: Mapping[str, Any]
) -> None:
    """Apply new events; ``version`` is the aggregate's stream version after them (for If-Match).
    The registry's commands carry no facts beyond their events (the projector's signature is the
    unit of work's, shared with programs)."""
    for event in events:
        await _apply(conn, tenant, event, version)


async def _apply(conn: AsyncConnection, tenant: Tenant, event: DomainEvent, version: int) -> None:
    if isinstance(event, MunicipalityRegistered):
        await conn.execute(
            insert(municipalities).values(code=event.code, region=tenant.region, name=event.name)
        )
    elif isinstance(event, SchoolApplied | SchoolConnected):
        existing = await conn.scalar(select(schools.c.version).where(schools.c.code == event.code))
        values = {
            "name": event.name,
            "kind": event.kind.value,
            "status": _SCHOOL_STATUS[type(event)],
            "teachers": event.teachers,
            "students": event.students,
        }
        if existing is None:
            await conn.execute(
                insert(schools).values(
                    code=event.code,
                    region=tenant.region,
                    municipality=tenant.municipality,
                    version=version,
                    **values,
                )
            )
        else:
            await conn.execute(
                update(schools).where(schools.c.code == event.code).values(version=version, **values)
            )
    elif isinstance(event, SchoolSuspended | SchoolResumed | SchoolDisconnected):
        await _school(conn, event.code, version, status=_SCHOOL_STATUS[type(event)])
    elif isinstance(event, SchoolHeadcountsUpdated):
        await _school(conn, event.code, version, teachers=event.teachers, students=event.students)
    elif isinstance(event, SchoolCredentialsIssued | SchoolCredentialsRevoked):
        await _school(conn, event.code, version)
    elif isinstance(event, SchoolBasesRefreshed):
        await _school(conn, event.code, version, bases_refreshed_on=event.refreshed_on)
    elif isinstance(event, MentorRegistered | MenteeRegistered):
        await _participant_entered(conn, tenant, event, version)
    elif isinstance(event, ParticipantProfileUpdated):
        row = (
            await conn.execute(
                select(participants.c.attributes).where(participants.c.id == event.participant_id)
            )
        ).one()
        attributes = dict(row.attributes) | event.model_dump(
            mode="json", exclude={"participant_id"}, exclude_none=True
        )
        await _participant(conn, event.participant_id, version, attributes=attributes)
    elif isinstance(event, ConsentWithdrawn):
        column = "in_mentor_base" if event.base is BaseKind.MENTOR else "in_mentee_base"
        await _participant(conn, event.participant_id, version, **{column: False})
    elif isinstance(event, ParticipantErased):
        await _participant(
            conn,
            event.participant_id,
            version,
            erased=True,
            in_mentor_base=False,
            in_mentee_base=False,
            attributes={},
        )
    elif isinstance(event, ConsentGiven):
        await _participant(conn, event.participant_id, version)


async def _school(conn: AsyncConnection, code: str, version: int, **values: object) -> None:
    await conn.execute(update(schools).where(schools.c.code == code).values(version=version, **values))


async def _participant(conn: AsyncConnection, participant_id: UUID, version: int, **values: object) -> None:
    await conn.execute(
        update(participants).where(participants.c.id == participant_id).values(version=version, **values)
    )


async def _participant_entered(
    conn: AsyncConnection, tenant: Tenant, event: MentorRegistered | MenteeRegistered, version: int
) -> None:
    column = "in_mentor_base" if isinstance(event, MentorRegistered) else "in_mentee_base"
    attributes = event.model_dump(mode="json", exclude={"participant_id", "role"})
    row = (
        await conn.execute(select(participants.c.attributes).where(participants.c.id == event.participant_id))
    ).one_or_none()
    if row is None:
        await conn.execute(
            insert(participants).values(
                id=event.participant_id,
                school=tenant.school,
                role=event.role.value,
                in_mentor_base=column == "in_mentor_base",
                in_mentee_base=column == "in_mentee_base",
                attributes=attributes,
                erased=False,
                version=version,
            )
        )
    else:
        await conn.execute(
            update(participants)
            .where(participants.c.id == event.participant_id)
            .values(attributes=dict(row.attributes) | attributes, version=version, **{column: True})
        )


async def insert_new_participants(
    conn: AsyncConnection, school: str, entries: list[tuple[MentorRegistered | MenteeRegistered, int]]
) -> None:
    """Participants that entered a base in a bulk import: one multi-row insert."""
    if not entries:
        return
    await conn.execute(
        insert(participants),
        [
            {
                "id": e.participant_id,
                "school": school,
                "role": e.role.value,
                "in_mentor_base": isinstance(e, MentorRegistered),
                "in_mentee_base": isinstance(e, MenteeRegistered),
                "attributes": e.model_dump(mode="json", exclude={"participant_id", "role"}),
                "erased": False,
                "version": version,
            }
            for e, version in entries
        ],
    )
