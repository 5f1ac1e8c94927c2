"""Commands on programmes: launch, stage, documents, completion (stage 7)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import select

from mentornet_auth import AccessDenied, Principal
from mentornet_events import DomainEvent, Tenant
from mentornet_spine.errors import DomainError
from mentornet_spine.uow import check_expected
from programs.adapters.tables import pairs
from programs.application import access, texts
from programs.application.context import Programs
from programs.application.schemas import DocumentIn, ProgrammeCompletionIn, ProgrammeIn, StageIn
from programs.domain import pair as pair_domain
from programs.domain import programme as programme_domain


async def launch(programs: Programs, principal: Principal, data: ProgrammeIn) -> tuple[UUID, int]:
    principal.require_role(*access.WRITERS)
    if principal.school is None:
        raise AccessDenied("Программу запускает организация")
    tenant = Tenant(region=principal.region, municipality=principal.municipality, school=principal.school)
    programme_id = uuid.uuid4()
    ends_on = data.ends_on or data.starts_on + timedelta(days=364)  # one academic year by default
    events = programme_domain.Programme.launch(
        programme_id, data.form, data.duration, data.mode, data.starts_on, ends_on
    )
    facts = {
        "title": data.title,
        "variant": data.variant.value if data.variant else None,
        "curator": data.curator,
        "partner_schools": data.partner_schools,
    }
    async with programs.units.begin() as uow:
        version = await uow.record(programme_domain.stream_id(programme_id), 0, events, tenant, facts)
    return programme_id, version


async def _decide(
    programs: Programs,
    principal: Principal,
    programme_id: UUID,
    decide: Callable[[programme_domain.Programme], list[DomainEvent]],
    expected: int | None,
    facts: dict[str, Any] | None = None,
) -> int:
    async with programs.units.begin() as uow:
        row = await access.programme_row(uow.conn, principal, programme_id, write=True)
        programme = await access.load_programme(uow, programme_id, row.version)
        check_expected(expected, programme.version)
        return await uow.record(
            programme_domain.stream_id(programme_id),
            programme.version,
            decide(programme),
            access.tenant_of(row),
            facts,
        )


async def change_stage(
    programs: Programs, principal: Principal, programme_id: UUID, data: StageIn, expected: int | None
) -> int:
    on = data.on or programs.today()
    return await _decide(
        programs, principal, programme_id, lambda p: p.change_stage(data.stage, on), expected
    )


async def record_document(
    programs: Programs, principal: Principal, programme_id: UUID, data: DocumentIn, expected: int | None
) -> int:
    return await _decide(
        programs,
        principal,
        programme_id,
        lambda p: p.record_document(data.kind, data.number, data.dated),
        expected,
        {"document_title": data.title},
    )


async def complete(
    programs: Programs,
    principal: Principal,
    programme_id: UUID,
    data: ProgrammeCompletionIn,
    expected: int | None,
) -> int:
    """Stage 7: every active pair completes, the reflection is kept, the best mentors nominated."""
    on = data.completed_on or programs.today()
    async with programs.units.begin() as uow:
        row = await access.programme_row(uow.conn, principal, programme_id, write=True)
        programme = await access.load_programme(uow, programme_id, row.version)
        check_expected(expected, programme.version)
        tenant = access.tenant_of(row)
        members = list(
            await uow.conn.execute(
                select(pairs.c.id, pairs.c.version, pairs.c.status, pairs.c.mentor_ids).where(
                    pairs.c.programme_id == programme_id
                )
            )
        )
        active = [(p.id, p.version) for p in members if p.status == "active"]
        mentors = {m for p in members for m in p.mentor_ids}
        unknown = [m for m in data.nominated_mentor_ids if str(m) not in mentors]
        if unknown:
            raise DomainError(
                "Номинировать можно только наставников этой программы: " + ", ".join(map(str, unknown))
            )
        events = programme.complete(on, len(active), list(data.nominated_mentor_ids))
        for pair_id, pair_version in active:
            pair = await access.load_pair(uow, pair_id, pair_version)
            await uow.record(pair_domain.stream_id(pair_id), pair.version, pair.complete(on), tenant)
        version = await uow.record(
            programme_domain.stream_id(programme_id), programme.version, events, tenant
        )
        await texts.keep(
            uow.conn, programme_id, "completion", {"reflection": data.reflection, "results": data.results}
        )
    return version
