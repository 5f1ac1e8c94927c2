"""Who may see and change a school or a participant (404 for what the caller may not see, with no
hint that it exists; 403 for what they may see but not do), and the aggregates loaded in a unit."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from mentornet_auth import Principal, Role
from mentornet_events import Tenant
from mentornet_spine.errors import DomainError
from mentornet_spine.http import NotFound
from mentornet_spine.uow import UnitOfWork
from registry.adapters.tables import participants, schools
from registry.application.context import Registry
from registry.domain import participant as participant_domain
from registry.domain import school as school_domain

SCHOOL_WRITERS = (Role.SCHOOL, Role.SCHOOL_CURATOR)


async def school_row(conn: AsyncConnection, code: str) -> Any:
    row = (await conn.execute(select(schools).where(schools.c.code == code))).one_or_none()
    if row is None:
        raise NotFound(f"Организация {code} не найдена")
    return row


def tenant_of(registry: Registry, row: Any) -> Tenant:
    tenant = registry.places.get(row.code)
    if tenant is None:
        tenant = registry.places[row.code] = Tenant(
            region=row.region, municipality=row.municipality, school=row.code
        )
    return tenant


async def place(registry: Registry, conn: AsyncConnection, code: str) -> Tenant:
    """Where a school sits, without a query after the first time (404 if there is no school)."""
    return registry.places.get(code) or tenant_of(registry, await school_row(conn, code))


async def visible_school(conn: AsyncConnection, principal: Principal, code: str) -> Any:
    """The school row if the caller may see it; 404 otherwise."""
    row = await school_row(conn, code)
    if not principal.can_access(Tenant(region=row.region, municipality=row.municipality, school=row.code)):
        raise NotFound(f"Организация {code} не найдена")
    return row


async def writable_school(conn: AsyncConnection, principal: Principal, code: str) -> Any:
    row = await visible_school(conn, principal, code)
    principal.require_role(*SCHOOL_WRITERS)
    if row.status != "connected":
        raise DomainError(f"Организация {code} не подключена: базы недоступны для изменения")
    return row


async def participant_row(
    registry: Registry, conn: AsyncConnection, principal: Principal, participant_id: UUID
) -> Any:
    row = (await conn.execute(select(participants).where(participants.c.id == participant_id))).one_or_none()
    if row is None:
        raise NotFound(f"Участник {participant_id} не найден")
    allowed = principal.can_access(await place(registry, conn, row.school))
    if principal.role in (Role.MENTOR, Role.MENTEE):
        allowed = allowed and principal.participant_id == participant_id
    if not allowed:
        raise NotFound(f"Участник {participant_id} не найден")
    return row


async def load_school(uow: UnitOfWork, code: str, version: int | None = None) -> school_domain.School:
    found = school_domain.School.replay(await uow.events(school_domain.stream_id(code), version))
    if found is None:
        raise NotFound(f"Организация {code} не найдена")
    return found


async def load_participant(
    uow: UnitOfWork, participant_id: UUID, version: int | None = None
) -> participant_domain.Participant:
    events = await uow.events(participant_domain.stream_id(participant_id), version)
    found = participant_domain.Participant.replay(events)
    if found is None:
        raise NotFound(f"Участник {participant_id} не найден")
    return found
