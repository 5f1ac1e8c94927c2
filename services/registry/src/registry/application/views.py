"""Queries: municipalities, schools, credentials (never a secret), participants with their personal
data for their own school's staff, and the delivery-time address book for notifications."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import select

from mentornet_auth import AccessDenied, Principal, Role
from mentornet_auth.principal import SCHOOL_ROLES
from mentornet_events.vocabulary import BaseKind
from mentornet_spine.http import NotFound
from registry.adapters.tables import (
    municipalities,
    participants,
    school_contacts,
    school_credentials,
    schools,
)
from registry.adapters.vault import PersonalDataErased
from registry.application import access
from registry.application.context import Registry


async def municipality_list(registry: Registry, principal: Principal) -> list[dict[str, Any]]:
    if principal.role is Role.FEDERAL_CONSUMER:
        raise AccessDenied("Федеральный уровень получает только обезличенные агрегаты")
    query = select(municipalities).where(municipalities.c.region == principal.region)
    if principal.role is not Role.REGIONAL_OPERATOR:
        query = query.where(municipalities.c.code == principal.municipality)
    async with registry.reads.connect() as conn:
        return [dict(r._mapping) for r in await conn.execute(query.order_by(municipalities.c.code))]


async def credentials(registry: Registry, principal: Principal, code: str) -> list[dict[str, Any]]:
    """A school's client ids with their dates (never a secret): for the operator who issues them."""
    async with registry.reads.connect() as conn:
        await access.visible_school(conn, principal, code)
        principal.require_role(Role.REGIONAL_OPERATOR)
        query = (
            select(
                school_credentials.c.client_id,
                school_credentials.c.created_at,
                school_credentials.c.revoked_at,
            )
            .where(school_credentials.c.school == code)
            .order_by(school_credentials.c.created_at)
        )
        return [dict(r._mapping) for r in await conn.execute(query)]


async def school(registry: Registry, principal: Principal, code: str) -> dict[str, Any]:
    async with registry.reads.connect() as conn:
        return dict((await access.visible_school(conn, principal, code))._mapping)


async def school_list(
    registry: Registry, principal: Principal, municipality: str | None = None
) -> list[dict[str, Any]]:
    """Allowed roles by name: a role not listed (a service, the federal level) reads nothing."""
    if principal.role is Role.FEDERAL_CONSUMER:
        raise AccessDenied("Федеральный уровень получает только обезличенные агрегаты")
    query = select(schools).where(schools.c.region == principal.region)
    if principal.role is Role.MUNICIPAL_OPERATOR:
        query = query.where(schools.c.municipality == principal.municipality)
    elif principal.role in SCHOOL_ROLES:
        query = query.where(schools.c.code == principal.school)
    elif principal.role is not Role.REGIONAL_OPERATOR:
        raise AccessDenied("Список организаций доступен операторам и самим организациям")
    if municipality:
        query = query.where(schools.c.municipality == municipality)
    async with registry.reads.connect() as conn:
        return [dict(r._mapping) for r in await conn.execute(query.order_by(schools.c.code))]


async def participant(registry: Registry, principal: Principal, participant_id: UUID) -> dict[str, Any]:
    async with registry.reads.connect() as conn:
        row = await access.participant_row(registry, conn, principal, participant_id)
        view = dict(row._mapping)
        may_read_person = (
            principal.role in access.SCHOOL_WRITERS or principal.participant_id == participant_id
        )
        if may_read_person and not row.erased:
            try:
                view["person"] = await registry.vault.read(conn, participant_id)
            except PersonalDataErased:
                view["person"] = None
    return view


async def participant_list(
    registry: Registry,
    principal: Principal,
    school_code: str,
    base: BaseKind | None = None,
    person: bool = False,
) -> list[dict[str, Any]]:
    """The school's bases; ``person`` adds each one's personal data, for the school's own staff only."""
    async with registry.reads.connect() as conn:
        if not principal.can_access(await access.place(registry, conn, school_code)):
            raise NotFound(f"Организация {school_code} не найдена")
        if principal.role in (Role.MENTOR, Role.MENTEE):
            raise AccessDenied("Список участников доступен куратору организации")
        if person and principal.role not in access.SCHOOL_WRITERS:
            raise AccessDenied("Персональные данные участников доступны только их организации")
        query = select(participants).where(
            participants.c.school == school_code, participants.c.erased.is_(False)
        )
        if base is BaseKind.MENTOR:
            query = query.where(participants.c.in_mentor_base)
        elif base is BaseKind.MENTEE:
            query = query.where(participants.c.in_mentee_base)
        found = [dict(r._mapping) for r in await conn.execute(query.order_by(participants.c.id))]
        if person:
            for view in found:
                try:
                    view["person"] = await registry.vault.read(conn, view["id"])
                except (PersonalDataErased, LookupError):
                    view["person"] = None
    return found


async def addresses(
    registry: Registry, principal: Principal, participant_ids: Sequence[UUID], school_codes: Sequence[str]
) -> dict[str, dict[str, str | None]]:
    """E-mail addresses at delivery time, for the notifications service only; never stored there."""
    principal.require_role(Role.SERVICE)
    found: dict[str, dict[str, str | None]] = {"participants": {}, "schools": {}}
    async with registry.reads.connect() as conn:
        for code, email in await conn.execute(
            select(school_contacts.c.code, school_contacts.c.email)
            .join(schools, schools.c.code == school_contacts.c.code)
            .where(school_contacts.c.code.in_(school_codes), schools.c.region == principal.region)
        ):
            found["schools"][code] = email
        for participant_id in participant_ids:
            try:
                person = await registry.vault.read(conn, participant_id)
            except (PersonalDataErased, LookupError):
                continue
            found["participants"][str(participant_id)] = person.get("email")
    return found
