"""The registry's use cases: each loads its aggregate, decides, and commits events + read model together."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from mentornet_auth import AccessDenied, Principal, Role
from mentornet_auth.principal import SCHOOL_ROLES
from mentornet_events import DomainEvent, Tenant
from mentornet_events.catalogue.registry import (
    MenteeRegistered,
    MentorRegistered,
    MunicipalityRegistered,
    SchoolBasesRefreshed,
)
from mentornet_events.vocabulary import BaseKind, ParticipantRole
from mentornet_spine.db import statement_reads
from mentornet_spine.errors import DomainError, InvalidCommand
from mentornet_spine.http import NotFound
from mentornet_spine.store import ConcurrencyConflict, EventStore, StreamAppend
from registry.adapters import read_model
from registry.adapters.tables import (
    accounts,
    municipalities,
    participants,
    school_contacts,
    school_credentials,
    schools,
)
from registry.adapters.vault import PersonalDataErased, Vault
from registry.application import passwords
from registry.application.schemas import (
    AccountIn,
    MenteeRegistration,
    MentorRegistration,
    MunicipalityIn,
    ProfileChanges,
    SchoolIn,
    experience_band,
)
from registry.domain import participant as participant_domain
from registry.domain import school as school_domain

Extra = Callable[[AsyncConnection], Awaitable[None]]
SCHOOL_WRITERS = (Role.SCHOOL, Role.SCHOOL_CURATOR)


@dataclass(frozen=True)
class IssuedCredentials:
    client_id: str
    client_secret: str


class Registry:
    def __init__(
        self, engine: AsyncEngine, store: EventStore, vault: Vault, region: str, today: Callable[[], date]
    ) -> None:
        self.engine = engine
        self.reads = statement_reads(engine)
        self.store = store
        self.vault = vault
        self.region = region
        self.today = today
        #: a school's place (region, municipality) never changes once registered: checked once
        self._tenants: dict[str, Tenant] = {}

    # -- plumbing -------------------------------------------------------------------------

    async def _commit(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[DomainEvent],
        tenant: Tenant,
        extra: Extra | None = None,
        conn: AsyncConnection | None = None,
    ) -> int:
        """Append and update the read model in one transaction; returns the new stream version."""
        if not events and extra is None:
            return expected_version
        if conn is None:
            async with self.engine.begin() as own:
                return await self._commit(stream_id, expected_version, events, tenant, extra, own)
        stored = await self.store.append(stream_id, expected_version, events, tenant=tenant, conn=conn)
        version = stored[-1].envelope.stream_version if stored else expected_version
        if events:
            await read_model.apply_events(conn, tenant, list(events), version)
        if extra is not None:
            await extra(conn)
        return version

    async def _school_row(self, code: str) -> Any:
        async with self.reads.connect() as conn:
            row = (await conn.execute(select(schools).where(schools.c.code == code))).one_or_none()
        if row is None:
            raise NotFound(f"Организация {code} не найдена")
        return row

    def _tenant(self, row: Any) -> Tenant:
        tenant = self._tenants.get(row.code)
        if tenant is None:
            tenant = self._tenants[row.code] = Tenant(
                region=row.region, municipality=row.municipality, school=row.code
            )
        return tenant

    async def _place(self, code: str) -> Tenant:
        """Where a school sits, without a query after the first time (404 if there is no school)."""
        return self._tenants.get(code) or self._tenant(await self._school_row(code))

    async def _visible_school(self, principal: Principal, code: str) -> Any:
        """The school row if the caller may see it; 404 otherwise (no hint that it exists)."""
        row = await self._school_row(code)
        if not principal.can_access(self._tenant(row)):
            raise NotFound(f"Организация {code} не найдена")
        return row

    async def _load_school(self, code: str) -> school_domain.School:
        events = await self.store.read_stream(school_domain.stream_id(code))
        school = school_domain.School.replay(self.store.catalogue.decode(e) for e in events)
        if school is None:
            raise NotFound(f"Организация {code} не найдена")
        return school

    @staticmethod
    def _check_version(actual: int, expected: int | None) -> int:
        if expected is not None and expected != actual:
            raise ConcurrencyConflict("(If-Match)", expected, actual)
        return actual

    # -- municipalities and schools -------------------------------------------------------

    async def register_municipality(self, principal: Principal, data: MunicipalityIn) -> None:
        principal.require_role(Role.REGIONAL_OPERATOR)
        tenant = Tenant(region=self.region, municipality=data.code)
        principal.require_access(tenant)
        event = MunicipalityRegistered(code=data.code, name=data.name)
        try:
            await self._commit(f"municipality-{data.code}", 0, [event], tenant)
        except ConcurrencyConflict:
            raise DomainError(f"Муниципалитет {data.code} уже зарегистрирован") from None

    async def municipalities(self, principal: Principal) -> list[dict[str, Any]]:
        if principal.role is Role.FEDERAL_CONSUMER:
            raise AccessDenied("Федеральный уровень получает только обезличенные агрегаты")
        query = select(municipalities).where(municipalities.c.region == principal.region)
        if principal.role is not Role.REGIONAL_OPERATOR:
            query = query.where(municipalities.c.code == principal.municipality)
        async with self.reads.connect() as conn:
            return [dict(r._mapping) for r in await conn.execute(query.order_by(municipalities.c.code))]

    async def register_school(self, principal: Principal | None, data: SchoolIn) -> int:
        """The operator connects a school at once; without a principal it is an application."""
        if principal is not None:
            principal.require_role(Role.REGIONAL_OPERATOR)
        async with self.reads.connect() as conn:
            known = await conn.scalar(
                select(municipalities.c.code).where(municipalities.c.code == data.municipality)
            )
            taken = await conn.scalar(select(schools.c.code).where(schools.c.code == data.code))
        if known is None:
            raise InvalidCommand(f"Муниципалитет {data.municipality} не зарегистрирован", "municipality")
        if taken is not None:
            raise DomainError(f"Организация с кодом {data.code} уже есть в реестре")
        tenant = Tenant(region=self.region, municipality=data.municipality, school=data.code)
        events = school_domain.apply_to_new(
            data.code, data.name, data.kind, data.teachers, data.students, approved=principal is not None
        )

        async def keep_contacts(conn: AsyncConnection) -> None:
            await conn.execute(
                insert(school_contacts).values(
                    code=data.code, email=data.contact_email, phone=data.contact_phone
                )
            )

        return await self._commit(school_domain.stream_id(data.code), 0, events, tenant, keep_contacts)

    async def _school_command(
        self,
        principal: Principal,
        code: str,
        decide: Callable[[school_domain.School], list[DomainEvent]],
        expected_version: int | None,
        roles: tuple[Role, ...] = (Role.REGIONAL_OPERATOR,),
        extra: Extra | None = None,
    ) -> int:
        row = await self._visible_school(principal, code)
        principal.require_role(*roles)
        school = await self._load_school(code)
        self._check_version(school.version, expected_version)
        return await self._commit(
            school_domain.stream_id(code), school.version, decide(school), self._tenant(row), extra
        )

    async def approve_school(self, principal: Principal, code: str, expected: int | None = None) -> int:
        return await self._school_command(principal, code, lambda s: s.approve(), expected)

    async def suspend_school(
        self, principal: Principal, code: str, reason: str, expected: int | None = None
    ) -> int:
        return await self._school_command(principal, code, lambda s: s.suspend(reason), expected)

    async def resume_school(self, principal: Principal, code: str, expected: int | None = None) -> int:
        return await self._school_command(principal, code, lambda s: s.resume(), expected)

    async def disconnect_school(
        self, principal: Principal, code: str, reason: str, expected: int | None = None
    ) -> int:
        async def revoke_all(conn: AsyncConnection) -> None:
            await conn.execute(
                update(school_credentials)
                .where(school_credentials.c.school == code, school_credentials.c.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )

        return await self._school_command(
            principal, code, lambda s: s.disconnect(reason), expected, extra=revoke_all
        )

    async def update_headcounts(
        self, principal: Principal, code: str, teachers: int, students: int, expected: int | None = None
    ) -> int:
        return await self._school_command(
            principal,
            code,
            lambda s: s.update_headcounts(teachers, students),
            expected,
            roles=(Role.REGIONAL_OPERATOR, *SCHOOL_WRITERS),
        )

    async def refresh_bases(self, principal: Principal, code: str) -> int:
        async def counts() -> tuple[int, int]:
            async with self.reads.connect() as conn:
                row = (
                    await conn.execute(
                        select(
                            func.count().filter(participants.c.in_mentor_base),
                            func.count().filter(participants.c.in_mentee_base),
                        ).where(participants.c.school == code)
                    )
                ).one()
            return int(row[0]), int(row[1])

        await self._visible_school(principal, code)  # an unknown code is a 404 before anything else
        mentors, mentees = await counts()
        event = SchoolBasesRefreshed(code=code, refreshed_on=self.today(), mentors=mentors, mentees=mentees)
        return await self._school_command(principal, code, lambda _s: [event], None, roles=SCHOOL_WRITERS)

    async def issue_credentials(self, principal: Principal, code: str) -> IssuedCredentials:
        client_id, secret = passwords.new_client_id(code), passwords.new_secret()

        async def store_secret(conn: AsyncConnection) -> None:
            await conn.execute(
                insert(school_credentials).values(
                    client_id=client_id,
                    school=code,
                    secret_hash=passwords.hash_client_secret(secret),
                    created_at=datetime.now(UTC),
                )
            )

        await self._school_command(
            principal, code, lambda s: s.issue_credentials(client_id), None, extra=store_secret
        )
        return IssuedCredentials(client_id, secret)

    async def revoke_credentials(self, principal: Principal, code: str, client_id: str) -> int:
        async def revoke(conn: AsyncConnection) -> None:
            await conn.execute(
                update(school_credentials)
                .where(school_credentials.c.client_id == client_id)
                .values(revoked_at=datetime.now(UTC))
            )

        return await self._school_command(
            principal, code, lambda s: s.revoke_credentials(client_id), None, extra=revoke
        )

    async def credentials(self, principal: Principal, code: str) -> list[dict[str, Any]]:
        """A school's client ids with their dates (never a secret): for the operator who issues them."""
        await self._visible_school(principal, code)
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
        async with self.reads.connect() as conn:
            return [dict(r._mapping) for r in await conn.execute(query)]

    async def school(self, principal: Principal, code: str) -> dict[str, Any]:
        return dict((await self._visible_school(principal, code))._mapping)

    async def schools(self, principal: Principal, municipality: str | None = None) -> list[dict[str, Any]]:
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
        async with self.reads.connect() as conn:
            return [dict(r._mapping) for r in await conn.execute(query.order_by(schools.c.code))]

    # -- participants ---------------------------------------------------------------------

    async def _writable_school(self, principal: Principal, code: str) -> Any:
        row = await self._visible_school(principal, code)
        principal.require_role(*SCHOOL_WRITERS)
        if row.status != "connected":
            raise DomainError(f"Организация {code} не подключена: базы недоступны для изменения")
        return row

    async def _load_participant(self, participant_id: UUID) -> participant_domain.Participant:
        events = await self.store.read_stream(participant_domain.stream_id(participant_id))
        found = participant_domain.Participant.replay(self.store.catalogue.decode(e) for e in events)
        if found is None:
            raise NotFound(f"Участник {participant_id} не найден")
        return found

    async def _participant_row(self, principal: Principal, participant_id: UUID) -> Any:
        async with self.reads.connect() as conn:
            row = (
                await conn.execute(select(participants).where(participants.c.id == participant_id))
            ).one_or_none()
        if row is None:
            raise NotFound(f"Участник {participant_id} не найден")
        allowed = principal.can_access(await self._place(row.school))
        if principal.role in (Role.MENTOR, Role.MENTEE):
            allowed = allowed and principal.participant_id == participant_id
        if not allowed:
            raise NotFound(f"Участник {participant_id} не найден")
        return row

    async def ensure_writable(self, principal: Principal, school_code: str) -> None:
        await self._writable_school(principal, school_code)

    async def import_all(
        self, principal: Principal, school_code: str, rows: Sequence[MentorRegistration | MenteeRegistration]
    ) -> int:
        """All rows in one transaction and a few multi-row statements: all rows or none."""
        row = await self._writable_school(principal, school_code)
        tenant = self._tenant(row)
        changes, entries, people = [], [], []
        for registration in rows:
            if registration.participant_id is not None:
                raise InvalidCommand("Импорт вносит новых участников; известного участника добавьте вручную")
            participant_id = uuid.uuid4()
            entry, events = self._enter_base(None, participant_id, registration)
            changes.append(StreamAppend(participant_domain.stream_id(participant_id), 0, events, tenant))
            entries.append((entry, len(events)))
            if registration.person is not None:
                people.append((participant_id, registration.person.model_dump(mode="json")))
        async with self.engine.begin() as conn:
            await self.store.append_many(changes, conn=conn)
            await read_model.insert_new_participants(conn, row.code, entries)
            await self.vault.store_new(conn, people)
        return len(rows)

    async def register(
        self, principal: Principal, school_code: str, registration: MentorRegistration | MenteeRegistration
    ) -> UUID:
        school_row = await self._writable_school(principal, school_code)
        existing: participant_domain.Participant | None = None
        if registration.participant_id is not None:
            existing = await self._load_participant(registration.participant_id)
            async with self.reads.connect() as read:
                where = await read.scalar(
                    select(participants.c.school).where(participants.c.id == existing.id)
                )
            if where != school_row.code:
                raise NotFound(f"Участник {existing.id} не найден")
        elif registration.person is None:
            raise InvalidCommand("Укажите персональные данные нового участника", "person")
        participant_id = existing.id if existing else uuid.uuid4()
        _, events = self._enter_base(existing, participant_id, registration)
        person = registration.person

        async def keep_personal_data(c: AsyncConnection) -> None:
            if person is not None:
                await self.vault.store(c, participant_id, person.model_dump(mode="json"))

        await self._commit(
            participant_domain.stream_id(participant_id),
            existing.version if existing else 0,
            events,
            self._tenant(school_row),
            keep_personal_data,
        )
        return participant_id

    def _enter_base(
        self,
        existing: participant_domain.Participant | None,
        participant_id: UUID,
        registration: MentorRegistration | MenteeRegistration,
    ) -> tuple[MentorRegistered | MenteeRegistered, list[DomainEvent]]:
        """The entry and its consent; a student counts as a minor unless said otherwise."""
        entry = self._entry(participant_id, registration)
        minor = (
            registration.minor if registration.minor is not None else entry.role is ParticipantRole.STUDENT
        )
        events = participant_domain.register(
            existing, entry, minor=bool(minor), consent_by=registration.consent.given_by, today=self.today()
        )
        return entry, events

    @staticmethod
    def _entry(
        participant_id: UUID, registration: MentorRegistration | MenteeRegistration
    ) -> MentorRegistered | MenteeRegistered:
        if isinstance(registration, MentorRegistration):
            m = registration.entry
            return MentorRegistered(
                participant_id=participant_id,
                role=m.role,
                subjects=m.subjects,
                experience_band=experience_band(m.experience_years),
                qualification=m.qualification,
                competencies=m.competencies,
                hours_per_month=m.hours_per_month,
                max_mentees=m.max_mentees,
            )
        e = registration.entry
        return MenteeRegistered(
            participant_id=participant_id,
            role=e.role,
            subjects=e.subjects,
            experience_band=experience_band(e.experience_years),
            young_specialist=e.young_specialist,
            grade=e.grade,
            deficits=e.deficits,
            desired_form=e.desired_form,
        )

    async def _participant_command(
        self,
        principal: Principal,
        participant_id: UUID,
        decide: Callable[[participant_domain.Participant], list[DomainEvent]],
        expected: int | None,
        extra: Extra | None = None,
        self_service: bool = False,
    ) -> int:
        row = await self._participant_row(principal, participant_id)
        if not (self_service and principal.participant_id == participant_id):
            principal.require_role(*SCHOOL_WRITERS)
        participant = await self._load_participant(participant_id)
        self._check_version(participant.version, expected)
        school = await self._school_row(row.school)
        return await self._commit(
            participant_domain.stream_id(participant_id),
            participant.version,
            decide(participant),
            self._tenant(school),
            extra,
        )

    async def update_participant(
        self, principal: Principal, participant_id: UUID, changes: ProfileChanges, expected: int | None = None
    ) -> int:
        data = changes.model_dump(exclude={"person", "experience_years"}, exclude_none=True)
        if changes.experience_years is not None:
            data["experience_band"] = experience_band(changes.experience_years)
        person = changes.person

        async def keep_personal_data(conn: AsyncConnection) -> None:
            if person is not None:
                await self.vault.store(conn, participant_id, person.model_dump(mode="json"))

        return await self._participant_command(
            principal,
            participant_id,
            lambda p: p.update_profile(data),
            expected,
            keep_personal_data if person else None,
        )

    async def withdraw_consent(self, principal: Principal, participant_id: UUID, base: BaseKind) -> int:
        return await self._participant_command(
            principal,
            participant_id,
            lambda p: p.withdraw_consent(base, self.today()),
            None,
            self_service=True,
        )

    async def erase(self, principal: Principal, participant_id: UUID) -> int:
        async def destroy(conn: AsyncConnection) -> None:
            await self.vault.destroy_key(conn, participant_id)

        return await self._participant_command(
            principal, participant_id, lambda p: p.erase(), None, destroy, self_service=True
        )

    async def participant(self, principal: Principal, participant_id: UUID) -> dict[str, Any]:
        row = await self._participant_row(principal, participant_id)
        view = dict(row._mapping)
        may_read_person = principal.role in SCHOOL_WRITERS or principal.participant_id == participant_id
        if may_read_person and not row.erased:
            async with self.reads.connect() as conn:
                try:
                    view["person"] = await self.vault.read(conn, participant_id)
                except PersonalDataErased:
                    view["person"] = None
        return view

    async def participants(
        self, principal: Principal, school_code: str, base: BaseKind | None = None, person: bool = False
    ) -> list[dict[str, Any]]:
        """The school's bases; ``person`` adds each one's personal data, for the school's own staff only."""
        if not principal.can_access(await self._place(school_code)):
            raise NotFound(f"Организация {school_code} не найдена")
        if principal.role in (Role.MENTOR, Role.MENTEE):
            raise AccessDenied("Список участников доступен куратору организации")
        if person and principal.role not in SCHOOL_WRITERS:
            raise AccessDenied("Персональные данные участников доступны только их организации")
        query = select(participants).where(
            participants.c.school == school_code, participants.c.erased.is_(False)
        )
        if base is BaseKind.MENTOR:
            query = query.where(participants.c.in_mentor_base)
        elif base is BaseKind.MENTEE:
            query = query.where(participants.c.in_mentee_base)
        async with self.reads.connect() as conn:
            found = [dict(r._mapping) for r in await conn.execute(query.order_by(participants.c.id))]
            if person:
                for view in found:
                    try:
                        view["person"] = await self.vault.read(conn, view["id"])
                    except (PersonalDataErased, LookupError):
                        view["person"] = None
        return found

    # -- the directory for services that deliver messages -------------------------------

    async def addresses(
        self, principal: Principal, participant_ids: Sequence[UUID], school_codes: Sequence[str]
    ) -> dict[str, dict[str, str | None]]:
        """E-mail addresses at delivery time, for the notifications service only; never stored there."""
        principal.require_role(Role.SERVICE)
        found: dict[str, dict[str, str | None]] = {"participants": {}, "schools": {}}
        async with self.reads.connect() as conn:
            for code, email in await conn.execute(
                select(school_contacts.c.code, school_contacts.c.email)
                .join(schools, schools.c.code == school_contacts.c.code)
                .where(school_contacts.c.code.in_(school_codes), schools.c.region == principal.region)
            ):
                found["schools"][code] = email
            for participant_id in participant_ids:
                try:
                    person = await self.vault.read(conn, participant_id)
                except (PersonalDataErased, LookupError):
                    continue
                found["participants"][str(participant_id)] = person.get("email")
        return found

    # -- identity -------------------------------------------------------------------------

    async def client_principal(self, client_id: str, secret: str) -> Principal | None:
        async with self.reads.connect() as conn:
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

    async def user_principal(self, username: str, password: str) -> Principal | None:
        async with self.reads.connect() as conn:
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

    async def create_account(self, principal: Principal | None, data: AccountIn) -> None:
        """Operators create accounts within their scope; ``None`` is the start-up bootstrap."""
        role = data.role
        if role is Role.SCHOOL:
            raise InvalidCommand("Школьные системы получают учётные данные клиента, а не пароль", "role")
        municipality, school = data.municipality, data.school
        if school is not None:
            municipality = (await self._school_row(school)).municipality
        tenant = Tenant(region=self.region, municipality=municipality, school=school)
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
        async with self.engine.begin() as conn:
            taken = await conn.scalar(select(accounts.c.username).where(accounts.c.username == data.username))
            if taken:
                raise DomainError(f"Имя пользователя {data.username} уже занято")
            await conn.execute(
                insert(accounts).values(
                    username=data.username,
                    password_hash=password_hash,
                    role=role.value,
                    region=self.region,
                    municipality=municipality,
                    school=school,
                    participant_id=data.participant_id,
                    disabled=False,
                )
            )

    async def has_accounts(self) -> bool:
        async with self.reads.connect() as conn:
            return bool(await conn.scalar(select(func.count()).select_from(accounts)))
