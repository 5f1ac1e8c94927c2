"""Accounts and sign-in: who a client id or a username is, and the operators' account creation."""

from __future__ import annotations

from sqlalchemy import func, insert, select

from mentornet_auth import AccessDenied, Principal, Role
from mentornet_auth.principal import SCHOOL_ROLES
from mentornet_events import Tenant
from mentornet_spine.errors import DomainError, InvalidCommand
from registry.adapters import passwords
from registry.adapters.tables import accounts, school_credentials, schools
from registry.application import access
from registry.application.context import Registry
from registry.application.schemas import AccountIn


async def client_principal(registry: Registry, client_id: str, secret: str) -> Principal | None:
    async with registry.reads.connect() as conn:
        row = (
            await conn.execute(
                select(school_credentials, schools.c.region, schools.c.municipality, schools.c.status)
                .join(schools, schools.c.code == school_credentials.c.school)
                .where(school_credentials.c.client_id == client_id)
            )
        ).one_or_none()
    if row is None or row.revoked_at is not None or row.status != "connected":
        return None
    if not passwords.verify_client_secret(row.secret_hash, secret):
        return None
    return Principal(
        subject=client_id,
        role=Role.SCHOOL,
        region=row.region,
        municipality=row.municipality,
        school=row.school,
    )


async def user_principal(registry: Registry, username: str, password: str) -> Principal | None:
    async with registry.reads.connect() as conn:
        row = (await conn.execute(select(accounts).where(accounts.c.username == username))).one_or_none()
    if row is None or row.disabled or not await passwords.verify_password(row.password_hash, password):
        return None
    return Principal(
        subject=username,
        role=Role(row.role),
        region=row.region,
        municipality=row.municipality,
        school=row.school,
        participant_id=row.participant_id,
    )


async def create(registry: Registry, principal: Principal | None, data: AccountIn) -> None:
    """Operators create accounts within their scope; ``None`` is the start-up bootstrap."""
    role = data.role
    if role is Role.SCHOOL:
        raise InvalidCommand("Школьные системы получают учётные данные клиента, а не пароль", "role")
    municipality, school = data.municipality, data.school
    if school is not None:
        async with registry.reads.connect() as conn:
            municipality = (await access.school_row(conn, school)).municipality
    tenant = Tenant(region=registry.region, municipality=municipality, school=school)
    if role in SCHOOL_ROLES and school is None:
        raise InvalidCommand("Для этой роли укажите организацию", "school")
    if role is Role.MUNICIPAL_OPERATOR and municipality is None:
        raise InvalidCommand("Для этой роли укажите муниципалитет", "municipality")
    if principal is not None:
        if principal.role is Role.SCHOOL_CURATOR:
            if role not in (Role.MENTOR, Role.MENTEE):
                raise AccessDenied("Куратор создаёт учётные записи только наставникам и наставляемым")
        else:
            principal.require_role(Role.REGIONAL_OPERATOR)
        principal.require_access(tenant)
    if role in (Role.MENTOR, Role.MENTEE) and data.participant_id is None:
        raise InvalidCommand("Укажите участника, которому создаётся учётная запись", "participant_id")
    password_hash = await passwords.hash_password(data.password)
    async with registry.units.begin() as uow:
        taken = await uow.conn.scalar(select(accounts.c.username).where(accounts.c.username == data.username))
        if taken:
            raise DomainError(f"Имя пользователя {data.username} уже занято")
        await uow.conn.execute(
            insert(accounts).values(
                username=data.username,
                password_hash=password_hash,
                role=role.value,
                region=registry.region,
                municipality=municipality,
                school=school,
                participant_id=data.participant_id,
                disabled=False,
            )
        )


async def any_exist(registry: Registry) -> bool:
    async with registry.reads.connect() as conn:
        return bool(await conn.scalar(select(func.count()).select_from(accounts)))
