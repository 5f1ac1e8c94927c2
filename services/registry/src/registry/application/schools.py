"""Commands on municipalities and schools: registration, approval, suspension, disconnection,
headcounts, bases refreshed, client credentials."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, insert, select, update

from mentornet_auth import Principal, Role
from mentornet_events import DomainEvent, Tenant
from mentornet_events.catalogue.registry import MunicipalityRegistered, SchoolBasesRefreshed
from mentornet_spine.errors import DomainError, InvalidCommand
from mentornet_spine.store import ConcurrencyConflict
from mentornet_spine.uow import UnitOfWork, check_expected
from registry.adapters import passwords
from registry.adapters.tables import (
    municipalities,
    participants,
    school_contacts,
    school_credentials,
    schools,
)
from registry.application import access
from registry.application.context import Registry
from registry.application.schemas import MunicipalityIn, SchoolIn
from registry.domain import school as school_domain


@dataclass(frozen=True)
class IssuedCredentials:
    client_id: str
    client_secret: str


async def register_municipality(registry: Registry, principal: Principal, data: MunicipalityIn) -> None:
    principal.require_role(Role.REGIONAL_OPERATOR)
    tenant = Tenant(region=registry.region, municipality=data.code)
    principal.require_access(tenant)
    event = MunicipalityRegistered(code=data.code, name=data.name)
    try:
        async with registry.units.begin() as uow:
            await uow.record(f"municipality-{data.code}", 0, [event], tenant)
    except ConcurrencyConflict:
        raise DomainError(f"Муниципалитет {data.code} уже зарегистрирован") from None


async def register_school(registry: Registry, principal: Principal | None, data: SchoolIn) -> int:
    """The operator connects a school at once; without a principal it is an application."""
    if principal is not None:
        principal.require_role(Role.REGIONAL_OPERATOR)
    async with registry.units.begin() as uow:
        known = await uow.conn.scalar(
            select(municipalities.c.code).where(municipalities.c.code == data.municipality)
        )
        taken = await uow.conn.scalar(select(schools.c.code).where(schools.c.code == data.code))
        if known is None:
            raise InvalidCommand(f"Муниципалитет {data.municipality} не зарегистрирован", "municipality")
        if taken is not None:
            raise DomainError(f"Организация с кодом {data.code} уже есть в реестре")
        tenant = Tenant(region=registry.region, municipality=data.municipality, school=data.code)
        events = school_domain.apply_to_new(
            data.code, data.name, data.kind, data.teachers, data.students, approved=principal is not None
        )
        version = await uow.record(school_domain.stream_id(data.code), 0, events, tenant)
        await uow.conn.execute(
            insert(school_contacts).values(code=data.code, email=data.contact_email, phone=data.contact_phone)
        )
    return version


async def _decide(
    registry: Registry,
    uow: UnitOfWork,
    principal: Principal,
    code: str,
    decide: Callable[[school_domain.School], list[DomainEvent]],
    expected: int | None,
    roles: tuple[Role, ...] = (Role.REGIONAL_OPERATOR,),
) -> int:
    """Check the caller, decide on the school, record the events in the caller's unit; the version."""
    row = await access.visible_school(uow.conn, principal, code)
    principal.require_role(*roles)
    school = await access.load_school(uow, code)
    check_expected(expected, school.version)
    return await uow.record(
        school_domain.stream_id(code), school.version, decide(school), access.tenant_of(registry, row)
    )


async def _command(
    registry: Registry,
    principal: Principal,
    code: str,
    decide: Callable[[school_domain.School], list[DomainEvent]],
    expected: int | None,
    roles: tuple[Role, ...] = (Role.REGIONAL_OPERATOR,),
) -> int:
    async with registry.units.begin() as uow:
        return await _decide(registry, uow, principal, code, decide, expected, roles)


async def approve(registry: Registry, principal: Principal, code: str, expected: int | None = None) -> int:
    return await _command(registry, principal, code, lambda s: s.approve(), expected)


async def suspend(
    registry: Registry, principal: Principal, code: str, reason: str, expected: int | None = None
) -> int:
    return await _command(registry, principal, code, lambda s: s.suspend(reason), expected)


async def resume(registry: Registry, principal: Principal, code: str, expected: int | None = None) -> int:
    return await _command(registry, principal, code, lambda s: s.resume(), expected)


async def disconnect(
    registry: Registry, principal: Principal, code: str, reason: str, expected: int | None = None
) -> int:
    async with registry.units.begin() as uow:
        version = await _decide(registry, uow, principal, code, lambda s: s.disconnect(reason), expected)
        await uow.conn.execute(
            update(school_credentials)
            .where(school_credentials.c.school == code, school_credentials.c.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        )
    return version


async def update_headcounts(
    registry: Registry,
    principal: Principal,
    code: str,
    teachers: int,
    students: int,
    expected: int | None = None,
) -> int:
    return await _command(
        registry,
        principal,
        code,
        lambda s: s.update_headcounts(teachers, students),
        expected,
        roles=(Role.REGIONAL_OPERATOR, *access.SCHOOL_WRITERS),
    )


async def refresh_bases(registry: Registry, principal: Principal, code: str) -> int:
    async with registry.units.begin() as uow:
        await access.visible_school(uow.conn, principal, code)  # an unknown code is a 404 before anything
        counts = (
            await uow.conn.execute(
                select(
                    func.count().filter(participants.c.in_mentor_base),
                    func.count().filter(participants.c.in_mentee_base),
                ).where(participants.c.school == code)
            )
        ).one()
        event = SchoolBasesRefreshed(
            code=code, refreshed_on=registry.today(), mentors=int(counts[0]), mentees=int(counts[1])
        )
        return await _decide(
            registry, uow, principal, code, lambda _s: [event], None, roles=access.SCHOOL_WRITERS
        )


async def issue_credentials(registry: Registry, principal: Principal, code: str) -> IssuedCredentials:
    client_id, secret = passwords.new_client_id(code), passwords.new_secret()
    async with registry.units.begin() as uow:
        await _decide(registry, uow, principal, code, lambda s: s.issue_credentials(client_id), None)
        await uow.conn.execute(
            insert(school_credentials).values(
                client_id=client_id,
                school=code,
                secret_hash=passwords.hash_client_secret(secret),
                created_at=datetime.now(UTC),
            )
        )
    return IssuedCredentials(client_id, secret)


async def revoke_credentials(registry: Registry, principal: Principal, code: str, client_id: str) -> int:
    async with registry.units.begin() as uow:
        version = await _decide(
            registry, uow, principal, code, lambda s: s.revoke_credentials(client_id), None
        )
        await uow.conn.execute(
            update(school_credentials)
            .where(school_credentials.c.client_id == client_id)
            .values(revoked_at=datetime.now(UTC))
        )
    return version
