"""Commands on pairs: forming (the curator confirms a match), dissolving, meetings, feedback, reflection."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from uuid import UUID

from sqlalchemy import func, select

from mentornet_auth import AccessDenied, Principal
from mentornet_events import DomainEvent
from mentornet_events.vocabulary import MentoringForm
from mentornet_spine.errors import DomainError
from mentornet_spine.uow import UnitOfWork
from programs.adapters.tables import texts as text_rows
from programs.application import access, pairing, texts
from programs.application.context import Programs
from programs.application.schemas import DissolveIn, FeedbackIn, MeetingIn, PairIn, ReflectionIn
from programs.domain import pair as pair_domain


async def form(
    programs: Programs, principal: Principal, programme_id: UUID, data: PairIn
) -> tuple[UUID, int]:
    ids = [*data.mentor_ids, *data.mentee_ids]
    pair_id = uuid.uuid4()
    async with programs.units.begin() as uow:
        conn = uow.conn
        row = await access.programme_row(conn, principal, programme_id, write=True, lock=True)
        programme = await access.load_programme(uow, programme_id, row.version)
        programme.require_pairing()
        known = await pairing.eligibility(conn, ids)
        missing = [str(i) for i in ids if i not in known]
        if missing:
            raise DomainError(
                "Пару нельзя закрепить: участники не найдены в базах (или сведения из реестра ещё не "
                "поступили): " + ", ".join(missing)
            )
        events = pair_domain.Pair.start(
            pair_id,
            programme_id,
            MentoringForm(row.form),
            row.school,
            row.municipality,
            [known[i] for i in data.mentor_ids],
            [known[i] for i in data.mentee_ids],
            data.formed_on or programs.today(),
            await pairing.active_links(conn, programme_id, data.mentor_ids, data.mentee_ids),
        )
        version = await uow.record(pair_domain.stream_id(pair_id), 0, events, access.tenant_of(row))
    return pair_id, version


async def _pair_command(
    uow: UnitOfWork,
    principal: Principal,
    pair_id: UUID,
    decide: Callable[[pair_domain.Pair], list[DomainEvent]],
    member_side: str | None = None,
) -> int:
    """Check the caller, decide on the pair, record the events in the caller's unit; the version."""
    row, tenant = await access.pair_row(uow.conn, principal, pair_id)
    access.require_pair_writer(principal, row, member_side)
    pair = await access.load_pair(uow, pair_id, row.version)
    return await uow.record(pair_domain.stream_id(pair_id), pair.version, decide(pair), tenant)


async def dissolve(programs: Programs, principal: Principal, pair_id: UUID, data: DissolveIn) -> int:
    on = data.on or programs.today()
    async with programs.units.begin() as uow:
        version = await _pair_command(uow, principal, pair_id, lambda p: p.dissolve(data.reason, on))
        await texts.keep(uow.conn, pair_id, "dissolution", {"note": data.note})
    return version


async def reflect(programs: Programs, principal: Principal, pair_id: UUID, data: ReflectionIn) -> None:
    """The pair's reflection at completion: by its mentor, its mentee or the curator, each their own."""
    async with programs.units.begin() as uow:
        row, _ = await access.pair_row(uow.conn, principal, pair_id)
        side = access.side(principal, row) if principal.role in access.PEOPLE else "curator"
        if side is None or (side == "curator" and principal.role not in access.WRITERS):
            raise AccessDenied("Рефлексию пишут участники пары и куратор")
        kind = f"reflection_{side}"
        revision = await uow.conn.scalar(
            select(func.count()).where(text_rows.c.owner_id == pair_id, text_rows.c.kind == kind)
        )
        await texts.keep(uow.conn, pair_id, kind, {"text": data.text}, int(revision or 0))


async def hold_meeting(
    programs: Programs, principal: Principal, pair_id: UUID, data: MeetingIn
) -> tuple[UUID, int]:
    meeting_id = uuid.uuid4()
    today = programs.today()
    async with programs.units.begin() as uow:
        version = await _pair_command(
            uow,
            principal,
            pair_id,
            lambda p: p.hold_meeting(meeting_id, data.kind, data.mode, data.held_on, today),
            member_side="mentor",
        )
        await texts.keep(uow.conn, meeting_id, "meeting", {"notes": data.notes})
    return meeting_id, version


async def submit_feedback(
    programs: Programs, principal: Principal, pair_id: UUID, meeting_id: UUID, data: FeedbackIn
) -> int:
    async with programs.units.begin() as uow:
        version = await _pair_command(
            uow,
            principal,
            pair_id,
            lambda p: p.submit_feedback(
                meeting_id, data.respondent_role, dict(data.scores), data.wants_to_become_mentor
            ),
            member_side=data.respondent_role,
        )
        await texts.keep(uow.conn, meeting_id, f"feedback_{data.respondent_role}", {"comment": data.comment})
    return version
