"""Who can be paired: eligibility and mentor loads for forming a pair, and the matching views
(ranked candidates for one mentee, the optimal assignment for a programme)."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from mentornet_auth import Principal
from mentornet_events.vocabulary import (
    DeficitArea,
    ExperienceBand,
    MentoringForm,
    ParticipantRole,
    QualificationCategory,
)
from mentornet_spine.http import NotFound
from programs.adapters.tables import eligible, pair_members, pairs
from programs.application import access
from programs.application.context import Programs
from programs.domain import matching
from programs.domain import pair as pair_domain

E = TypeVar("E", bound=StrEnum)


async def eligibility(conn: AsyncConnection, ids: Sequence[UUID]) -> dict[UUID, pair_domain.Eligibility]:
    mentee_counts = await mentor_loads(conn, ids)
    rows = await conn.execute(select(eligible).where(eligible.c.id.in_(ids)))
    return {
        r.id: pair_domain.Eligibility(
            id=r.id,
            school=r.school,
            municipality=r.municipality,
            in_mentor_base=r.mentor is not None,
            in_mentee_base=r.mentee is not None,
            mentor_consent=r.mentor_consent,
            mentee_consent=r.mentee_consent,
            max_mentees=int((r.mentor or {}).get("max_mentees", 0)),
            active_mentees=mentee_counts.get(r.id, 0),
            erased=r.erased,
        )
        for r in rows
    }


async def active_links(
    conn: AsyncConnection, programme_id: UUID, mentor_ids: Sequence[UUID], mentee_ids: Sequence[UUID]
) -> set[tuple[UUID, UUID]]:
    """The (mentor, mentee) links among these people already in an active pair of the programme."""
    rows = await conn.execute(
        select(pair_members.c.pair_id, pair_members.c.participant_id, pair_members.c.side)
        .join(pairs, pairs.c.id == pair_members.c.pair_id)
        .where(
            pairs.c.programme_id == programme_id,
            pairs.c.status == pair_domain.PairStatus.ACTIVE.value,
            pair_members.c.participant_id.in_([*mentor_ids, *mentee_ids]),
        )
    )
    sides: dict[UUID, dict[str, list[UUID]]] = {}
    for row in rows:
        sides.setdefault(row.pair_id, {"mentor": [], "mentee": []})[row.side].append(row.participant_id)
    return {(r, e) for pair in sides.values() for r in pair["mentor"] for e in pair["mentee"]}


async def mentor_loads(conn: AsyncConnection, mentor_ids: Sequence[UUID] | None = None) -> dict[UUID, int]:
    """A mentor's load: the mentees of their active pairs (of the given mentors, or of all)."""
    query = (
        select(pair_members.c.participant_id, pairs.c.mentee_ids)
        .join(pairs, pairs.c.id == pair_members.c.pair_id)
        .where(pair_members.c.side == "mentor", pair_members.c.active)
    )
    if mentor_ids is not None:
        query = query.where(pair_members.c.participant_id.in_(mentor_ids))
    loads: dict[UUID, int] = {}
    for r in await conn.execute(query):
        loads[r.participant_id] = loads.get(r.participant_id, 0) + len(r.mentee_ids)
    return loads


async def _profiles(
    conn: AsyncConnection, programme: Any
) -> tuple[list[matching.MentorProfile], list[matching.MenteeProfile]]:
    """Mentors of the programme's municipality (network partners) and mentees of its school."""
    rows = list(
        await conn.execute(
            select(eligible).where(
                eligible.c.municipality == programme.municipality,
                eligible.c.region == programme.region,
                eligible.c.erased.is_(False),
            )
        )
    )
    loads = await mentor_loads(conn)
    paired = set(
        await conn.scalars(
            select(pair_members.c.participant_id).where(
                pair_members.c.side == "mentee", pair_members.c.active
            )
        )
    )
    mentors = [
        matching.MentorProfile(
            id=r.id,
            school=r.school,
            role=ParticipantRole(r.role),
            subjects=frozenset(r.mentor.get("subjects") or ()),
            competencies=frozenset(DeficitArea(a) for a in r.mentor.get("competencies") or ()),
            experience_band=_maybe(ExperienceBand, r.mentor.get("experience_band")),
            qualification=_maybe(QualificationCategory, r.mentor.get("qualification")),
            hours_per_month=int(r.mentor.get("hours_per_month", 0)),
            max_mentees=int(r.mentor.get("max_mentees", 1)),
            current_mentees=min(loads.get(r.id, 0), int(r.mentor.get("max_mentees", 1))),
        )
        for r in rows
        if r.mentor is not None and r.mentor_consent
    ]
    mentees = [
        matching.MenteeProfile(
            id=r.id,
            school=r.school,
            role=ParticipantRole(r.role),
            subjects=frozenset(r.mentee.get("subjects") or ()),
            deficits=frozenset(DeficitArea(a) for a in r.mentee.get("deficits") or ()),
            experience_band=_maybe(ExperienceBand, r.mentee.get("experience_band")),
            young_specialist=bool(r.mentee.get("young_specialist")),
            grade=r.mentee.get("grade"),
        )
        for r in rows
        if r.mentee is not None and r.mentee_consent and r.school == programme.school and r.id not in paired
    ]
    return mentors, mentees


async def candidates(
    programs: Programs, principal: Principal, programme_id: UUID, mentee_id: UUID, limit: int = 10
) -> list[dict[str, Any]]:
    async with programs.reads.connect() as conn:
        row = await access.programme_row(conn, principal, programme_id, write=True)
        mentors, mentees = await _profiles(conn, row)
    mentee = next((m for m in mentees if m.id == mentee_id), None)
    if mentee is None:
        raise NotFound(f"Наставляемый {mentee_id} не найден среди свободных наставляемых организации")
    partners = frozenset(row.partner_schools)
    ranked = matching.rank(mentee, mentors, MentoringForm(row.form), partners=partners, limit=limit)
    return [_candidate_view(c) for c in ranked]


async def proposal(programs: Programs, principal: Principal, programme_id: UUID) -> dict[str, Any]:
    """The optimal assignment for the whole programme; the curator confirms pairs one by one."""
    async with programs.reads.connect() as conn:
        row = await access.programme_row(conn, principal, programme_id, write=True)
        mentors, mentees = await _profiles(conn, row)
    result = matching.assign(
        mentees, mentors, MentoringForm(row.form), partners=frozenset(row.partner_schools)
    )
    return {
        "pairs": [{"mentee_id": mentee_id, **_candidate_view(c)} for mentee_id, c in result.pairs],
        "unmatched": [
            {"mentee_id": u.mentee_id, "reason": u.reason, "explanation": u.explanation}
            for u in result.unmatched
        ],
        "total_score": result.total_score,
    }


def _maybe(enum: type[E], value: str | None) -> E | None:
    return None if value is None else enum(value)


def _candidate_view(c: matching.Candidate) -> dict[str, Any]:
    return {
        "mentor_id": c.mentor_id,
        "score": round(c.score, 3),
        "remaining_capacity": c.remaining_capacity,
        "explanation": [{"key": t.key, "points": round(t.points, 3), "text": t.explanation} for t in c.terms],
    }
