"""Who may see and change a programme or a pair (404 for what the caller may not see, with no hint
that it exists; 403 for what they may see but not do), and the aggregates loaded in a unit."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from mentornet_auth import AccessDenied, Principal, Role
from mentornet_events import Tenant
from mentornet_spine.errors import DomainError
from mentornet_spine.http import NotFound
from mentornet_spine.uow import UnitOfWork
from programs.adapters.tables import pairs, programmes
from programs.domain import pair as pair_domain
from programs.domain import programme as programme_domain
from programs.domain import roadmap as roadmap_domain

WRITERS = (Role.SCHOOL, Role.SCHOOL_CURATOR)
PEOPLE = (Role.MENTOR, Role.MENTEE)

_PAIR_ROW = (
    select(pairs, programmes.c.region, programmes.c.municipality)
    .join(programmes, programmes.c.id == pairs.c.programme_id)
    .where(pairs.c.id == bindparam("pair_id"))
)


def tenant_of(row: Any) -> Tenant:
    return Tenant(region=row.region, municipality=row.municipality or None, school=row.school)


async def programme_row(
    conn: AsyncConnection,
    principal: Principal,
    programme_id: UUID,
    *,
    write: bool = False,
    lock: bool = False,
) -> Any:
    query = select(programmes).where(programmes.c.id == programme_id)
    if lock:  # serialises the commands that decide on the programme's pairs (PostgreSQL)
        query = query.with_for_update()
    row = (await conn.execute(query)).one_or_none()
    if row is None or not principal.can_access(tenant_of(row)):
        raise NotFound(f"Программа {programme_id} не найдена")
    if write:
        principal.require_role(*WRITERS)
    elif principal.role in PEOPLE:
        raise AccessDenied("Наставнику и наставляемому доступны только их пары")
    return row


async def pair_row(conn: AsyncConnection, principal: Principal, pair_id: UUID) -> tuple[Any, Tenant]:
    """The pair if the caller may see it: its school's staff and operators, or one of its members."""
    row = (await conn.execute(_PAIR_ROW, {"pair_id": pair_id})).one_or_none()
    if row is None:
        raise NotFound(f"Пара {pair_id} не найдена")
    tenant = tenant_of(row)
    allowed = principal.can_access(tenant)
    if principal.role in PEOPLE:
        member = str(principal.participant_id) in (*row.mentor_ids, *row.mentee_ids)
        allowed = allowed and member
    if not allowed:
        raise NotFound(f"Пара {pair_id} не найдена")
    return row, tenant


def side(principal: Principal, row: Any) -> str | None:
    """mentor / mentee when the caller is that member of the pair."""
    if principal.participant_id is None:
        return None
    pid = str(principal.participant_id)
    if pid in row.mentor_ids:
        return "mentor"
    return "mentee" if pid in row.mentee_ids else None


def require_pair_writer(principal: Principal, row: Any, member_side: str | None) -> None:
    """The school's staff act on a pair; a member only where the action is theirs (``member_side``)."""
    if principal.role in PEOPLE:
        if member_side is None or side(principal, row) != member_side:
            raise AccessDenied("Это действие выполняет куратор организации")
    elif principal.role not in WRITERS:
        raise AccessDenied("Это действие выполняет организация")


async def roadmap_writer(
    conn: AsyncConnection, principal: Principal, pair_id: UUID, sides: tuple[str, ...] = ("mentor",)
) -> tuple[Any, Tenant]:
    """The curator draws up and corrects the roadmap with the mentor; the mentee marks items done."""
    row, tenant = await pair_row(conn, principal, pair_id)
    if principal.role in PEOPLE:
        if side(principal, row) not in sides:
            raise AccessDenied("Дорожную карту ведут куратор и наставник")
    elif principal.role not in WRITERS:
        raise AccessDenied("Дорожную карту ведёт организация")
    if row.status != "active":
        raise DomainError("Пара не работает: дорожная карта не меняется")
    return row, tenant


async def load_pair(uow: UnitOfWork, pair_id: UUID, version: int | None) -> pair_domain.Pair:
    found = pair_domain.Pair.replay(await uow.events(pair_domain.stream_id(pair_id), version))
    if found is None:
        raise NotFound(f"Пара {pair_id} не найдена")
    return found


async def load_programme(
    uow: UnitOfWork, programme_id: UUID, version: int | None
) -> programme_domain.Programme:
    events = await uow.events(programme_domain.stream_id(programme_id), version)
    found = programme_domain.Programme.replay(events)
    if found is None:
        raise NotFound(f"Программа {programme_id} не найдена")
    return found


async def load_roadmap(uow: UnitOfWork, pair_id: UUID, version: int | None) -> roadmap_domain.Roadmap:
    return roadmap_domain.Roadmap.replay(
        pair_id, await uow.events(roadmap_domain.stream_id(pair_id), version)
    )
