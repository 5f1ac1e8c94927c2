"""Indicators computed from the facts when asked, per scope and period, grouped by a level.

Computing at read time (instead of counters updated per event) is what makes the projection
order-independent and a replay give identical figures; answers are cached per stream position.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, distinct, exists, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from mentornet_events.vocabulary import DeficitArea, EvaluationLevel
from mentornet_spine.projection import Tables
from monitoring.adapters.tables import BOTH_FORMS
from monitoring.domain.periods import Period
from monitoring.domain.risks import COVERAGE_TARGET, risk_flags

AREAS = list(DeficitArea)
ALL = "*"


@dataclass(frozen=True, slots=True)
class Area:
    """Which figures: a region, optionally one municipality or one school of it."""

    region: str
    municipality: str | None = None
    school: str | None = None

    def where(self, table: Any, school_column: str = "school") -> list[ColumnElement[bool]]:
        clauses = [table.c.region == self.region]
        if self.municipality:
            clauses.append(table.c.municipality == self.municipality)
        if self.school:
            clauses.append(table.c[school_column] == self.school)
        return clauses


def _group(table: Any, level: str | None, school_column: str = "school") -> ColumnElement[Any]:
    if level is None:
        return literal(ALL).label("g")
    column: ColumnElement[Any] = table.c[school_column if level == "school" else level]
    return column.label("g")


async def _rows(conn: AsyncConnection, query: Select[Any]) -> list[Any]:  # rows of any shape
    return list(await conn.execute(query))


async def indicators(
    conn: AsyncConnection, t: Tables, area: Area, period: Period, level: str | None = None
) -> dict[str, dict[str, Any]]:
    """Every indicator for ``area`` in ``period``, per group of ``level`` (None: one group, "*").

    One statement per group of indicators, each reading its fact tables once: joins instead of a
    subquery per row (``EXISTS`` in a ``FILTER`` runs once per row of a table of hundreds of
    thousands), and an aggregate's ``FILTER`` instead of ``CASE`` in ``count(DISTINCT …)``.
    """
    S, P, R, M, E = t["schools"], t["participants"], t["pairs"], t["members"], t["ends"]
    RM, IT, D, OV, MT, F = t["roadmaps"], t["items"], t["done"], t["overdue"], t["meetings"], t["feedback"]
    start, end, day = period.start, period.end, period.day  # flows in start–end; stocks on day
    out: dict[str, dict[str, Any]] = defaultdict(_empty)
    if conn.dialect.name == "postgresql":
        # statements over the whole region's facts: compiling them (JIT) costs more than it saves
        await conn.exec_driver_sql("SET LOCAL jit = off")

    def in_period(column: Any) -> ColumnElement[bool]:
        return column.between(start, end)  # type: ignore[no-any-return]

    # headcounts of connected schools: the denominators of coverage
    for r in await _rows(
        conn,
        select(_group(S, level, "code"), func.count(), func.sum(S.c.teachers), func.sum(S.c.students))
        .where(*area.where(S, "code"), S.c.status == "connected")
        .group_by("g"),
    ):
        out[r.g]["schools"] = r[1]
        out[r.g]["headcounts"] = {"teachers": int(r[2] or 0), "students": int(r[3] or 0)}

    # (as ``NOT EXISTS`` in a ``WHERE``, an anti-join: the planner estimates it well)
    ended = exists().where(E.c.pair_id == R.c.id, E.c.ended_on <= day)
    active_pairs = select(R.c.id, R.c.form).where(R.c.formed_on <= day, ~ended).subquery("active_pairs")
    # a person is "in a pair" while the pair works and once it has completed its work in the
    # period (a completed pair's mentee is served, not waiting); a dissolved pair's is waiting again
    ended_unserved = exists().where(
        E.c.pair_id == R.c.id,
        E.c.ended_on <= day,
        or_(E.c.kind != "completed", E.c.ended_on < start),
    )
    served_pairs = select(R.c.id).where(R.c.formed_on <= day, ~ended_unserved).subquery("served_pairs")

    # coverage: people (by their own school) in a pair that worked at some time in the period
    ended_before = exists().where(E.c.pair_id == R.c.id, E.c.ended_on < start)
    working_pairs = select(R.c.id, R.c.form).where(R.c.formed_on <= day, ~ended_before).subquery("working")
    in_pair = (
        select(M.c.participant_id, M.c.side, working_pairs.c.form)
        .join(working_pairs, working_pairs.c.id == M.c.pair_id)
        .subquery("in_pair")
    )
    for r in await _rows(
        conn,
        select(_group(P, level), in_pair.c.form, func.count(distinct(P.c.id)))
        .join(in_pair, in_pair.c.participant_id == P.c.id)
        .where(*area.where(P), P.c.role.in_(["teacher", "student"]))
        .group_by("g", in_pair.c.form),
    ):
        out[r.g]["coverage"]["by_form"][r.form] = r[2]
    for r in await _rows(
        conn,
        select(_group(P, level), P.c.role, func.count(distinct(P.c.id)))
        .join(in_pair, in_pair.c.participant_id == P.c.id)
        .where(*area.where(P), P.c.role.in_(["teacher", "student"]))
        .group_by("g", P.c.role),
    ):
        out[r.g]["coverage"][f"{r.role}s"] = r[2]  # distinct over forms

    # bases, and outcomes (young specialists a year after entering the base, still in it), from
    # one pass over the participants; whether each is in a pair, from one over the members
    members = select(
        M.c.participant_id.label("id"),
        func.max(case((M.c.side == "mentee", 1), else_=0)).label("as_mentee"),
        func.max(case((M.c.side == "mentor", 1), else_=0)).label("as_mentor"),
    ).join(served_pairs, served_pairs.c.id == M.c.pair_id)
    if area.municipality or area.school:  # a small area: only its people's pairs
        members = members.where(M.c.participant_id.in_(select(P.c.id).where(*area.where(P))))
    in_active = members.group_by(M.c.participant_id).subquery("in_active")
    kept = ~P.c.erased
    is_mentor = and_(P.c.mentor, P.c.mentor_on <= day, kept)
    is_mentee = and_(P.c.mentee, P.c.mentee_on <= day, kept)
    cohort = and_(P.c.young_specialist, P.c.mentee_on <= day - timedelta(days=365))
    for r in await _rows(
        conn,
        select(
            _group(P, level),
            func.count().filter(is_mentor),
            func.count().filter(is_mentee),
            func.count().filter(and_(is_mentee, in_active.c.as_mentee == 1)),
            func.count().filter(and_(is_mentor, in_active.c.as_mentor == 1)),
            func.count().filter(cohort),
            func.count().filter(and_(cohort, kept, P.c.mentee)),
            func.count().filter(kept),
            *(
                func.count().filter(and_(is_mentee, P.c.deficits.op("&")(1 << i) != 0))
                for i in range(len(AREAS))
            ),
        )
        .select_from(P)
        .outerjoin(in_active, in_active.c.id == P.c.id)
        .where(*area.where(P))
        .group_by("g"),
    ):
        figures = out[r.g]
        figures["outcomes"]["young_specialists_cohort"] = r[5]
        figures["outcomes"]["young_specialists_retained"] = r[6]
        if not r[7]:
            continue  # only erased people in this group: no figures of the bases
        bases = figures["bases"]
        bases.update(mentors=r[1], mentees=r[2], mentees_in_pair=r[3], mentors_in_pair=r[4])
        bases["mentees_waiting"] = r[2] - r[3]
        for i, area_ in enumerate(AREAS):
            bases["deficits"][area_.value]["mentees"] = r[8 + i]

    # deficits covered: the mentee's pair (working or completed) has a mentor with that competency
    mentee_m, mentor_m, mentor_p = M.alias("mentee_m"), M.alias("mentor_m"), P.alias("mentor_p")
    covered = P.c.deficits.op("&")(mentor_p.c.competencies)
    for r in await _rows(
        conn,
        select(
            _group(P, level),
            *(func.count(distinct(P.c.id)).filter(covered.op("&")(1 << i) != 0) for i in range(len(AREAS))),
        )
        .join(mentee_m, and_(mentee_m.c.participant_id == P.c.id, mentee_m.c.side == "mentee"))
        .join(served_pairs, served_pairs.c.id == mentee_m.c.pair_id)
        .join(mentor_m, and_(mentor_m.c.pair_id == mentee_m.c.pair_id, mentor_m.c.side == "mentor"))
        .join(mentor_p, mentor_p.c.id == mentor_m.c.participant_id)
        .where(*area.where(P), ~P.c.erased, P.c.mentee)
        .group_by("g"),
    ):
        for i, area_ in enumerate(AREAS):
            out[r.g]["bases"]["deficits"][area_.value]["covered"] = r[1 + i]

    # pairs (by the pair's school); in a FILTER a pair's end comes from an outer join (a pair
    # ends at most once: the ends' key is the pair), not from a subquery per pair
    active = and_(R.c.formed_on <= day, or_(E.c.pair_id.is_(None), E.c.ended_on > day))
    for r in await _rows(
        conn,
        select(
            _group(R, level),
            func.count().filter(in_period(R.c.formed_on)),
            func.count().filter(active),
        )
        .select_from(R)
        .outerjoin(E, E.c.pair_id == R.c.id)
        .where(*area.where(R))
        .group_by("g"),
    ):
        out[r.g]["pairs"].update(formed=r[1], active=r[2])
    for r in await _rows(
        conn,
        select(_group(R, level), E.c.kind, E.c.reason, func.count())
        .join(E, E.c.pair_id == R.c.id)
        .where(*area.where(R), in_period(E.c.ended_on))
        .group_by("g", E.c.kind, E.c.reason),
    ):
        pairs = out[r.g]["pairs"]
        if r.kind == "completed":
            pairs["completed"] += r[3]
        else:
            pairs["dissolved"] += r[3]
            pairs["dissolved_by_reason"][r.reason] = r[3]
    # mentor load: mentees of each mentor's active pairs, against the declared maximum
    load = (
        select(mentor_m.c.participant_id.label("mentor"), func.count().label("mentees"))
        .join(active_pairs, active_pairs.c.id == mentor_m.c.pair_id)
        .join(mentee_m, and_(mentee_m.c.pair_id == mentor_m.c.pair_id, mentee_m.c.side == "mentee"))
        .where(mentor_m.c.side == "mentor")
        .group_by(mentor_m.c.participant_id)
        .subquery("load")
    )
    for r in await _rows(
        conn,
        select(
            _group(P, level),
            func.count(),
            func.sum(load.c.mentees),
            func.count().filter(load.c.mentees > P.c.max_mentees),
        )
        .join(load, load.c.mentor == P.c.id)
        .where(*area.where(P))
        .group_by("g"),
    ):
        pairs = out[r.g]["pairs"]
        pairs["mentors_with_mentees"] = r[1]
        pairs["mentees_per_mentor"] = round(float(r[2]) / r[1], 2) if r[1] else None
        pairs["mentors_overloaded"] = r[3]

    # roadmaps
    for r in await _rows(
        conn,
        select(_group(R, level), func.count())
        .select_from(IT)
        .join(RM, and_(RM.c.pair_id == IT.c.pair_id, RM.c.revision == IT.c.revision))
        .join(R, R.c.id == IT.c.pair_id)
        .where(*area.where(R), R.c.formed_on <= day)
        .group_by("g"),
    ):
        out[r.g]["roadmaps"]["planned"] = r[1]
    for r in await _rows(
        conn,
        select(
            _group(R, level),
            func.count().filter(in_period(D.c.completed_on)),
            func.count().filter(D.c.completed_on <= day),
        )
        .select_from(D)
        .join(R, R.c.id == D.c.pair_id)
        .where(*area.where(R))
        .group_by("g"),
    ):
        out[r.g]["roadmaps"].update(completed=r[1], completed_to_date=r[2])
    done_by_end = exists().where(D.c.item_id == OV.c.item_id, D.c.completed_on <= day)
    for r in await _rows(
        conn,
        select(_group(R, level), func.count())
        .select_from(OV)
        .join(R, R.c.id == OV.c.pair_id)
        .where(*area.where(R), in_period(OV.c.detected_on), ~done_by_end)
        .group_by("g"),
    ):
        out[r.g]["roadmaps"]["overdue"] = r[1]
    # the first meeting of each pair formed in the period (an index gives each pair's first),
    # averaged in the database: a region forms tens of thousands of pairs a year
    first_on = select(func.min(MT.c.held_on)).where(MT.c.pair_id == R.c.id).scalar_subquery()
    firsts = (
        select(_group(R, level), R.c.formed_on.label("formed_on"), first_on.label("first_on"))
        .where(*area.where(R), in_period(R.c.formed_on))
        .subquery("firsts")
    )
    if conn.dialect.name == "postgresql":
        wait: ColumnElement[Any] = firsts.c.first_on - firsts.c.formed_on  # days, an integer
    else:
        wait = func.julianday(firsts.c.first_on) - func.julianday(firsts.c.formed_on)
    for r in await _rows(
        conn,
        select(firsts.c.g, func.sum(wait), func.count(firsts.c.first_on))
        .where(firsts.c.first_on.is_not(None))
        .group_by(firsts.c.g),
    ):
        out[r.g]["roadmaps"]["days_to_first_meeting"] = round(float(r[1]) / r[2], 1)

    # feedback; the distinct count apart, on the few rows it needs (a DISTINCT aggregate makes the
    # whole statement sort its rows by group)
    levels = [level_.value for level_ in EvaluationLevel]
    for r in await _rows(
        conn,
        select(_group(R, level), func.count(), *(func.avg(F.c[name]) for name in levels))
        .select_from(F)
        .join(R, R.c.id == F.c.pair_id)
        .where(*area.where(R), in_period(F.c.submitted_on))
        .group_by("g"),
    ):
        fb = out[r.g]["feedback"]
        fb["forms"] = r[1]
        fb["mean_scores"] = {name: round(float(r[2 + i]), 2) for i, name in enumerate(levels)}
    for r in await _rows(
        conn,
        select(_group(R, level), func.count(distinct(F.c.pair_id)))
        .select_from(F)
        .join(R, R.c.id == F.c.pair_id)
        .where(
            *area.where(R),
            in_period(F.c.submitted_on),
            F.c.role == "mentee",
            F.c.wants_to_become_mentor,
        )
        .group_by("g"),
    ):
        out[r.g]["outcomes"]["want_to_become_mentors"] = r[1]
    # meetings, and those still lacking a side's form (the meeting's row knows its forms)
    for r in await _rows(
        conn,
        select(_group(R, level), func.count(), func.count().filter(MT.c.forms != BOTH_FORMS))
        .select_from(MT)
        .join(R, R.c.id == MT.c.pair_id)
        .where(*area.where(R), in_period(MT.c.held_on))
        .group_by("g"),
    ):
        fb = out[r.g]["feedback"]
        fb["meetings"], fb["meetings_without_feedback"] = r[1], r[2]
        fb["meetings_without_feedback_share"] = round(r[2] / r[1], 4) if r[1] else None

    for figures in out.values():
        _finish(figures)
    return dict(out)


def _empty() -> dict[str, Any]:
    return {
        "schools": 0,
        "headcounts": {"teachers": 0, "students": 0},
        "coverage": {"teachers": 0, "students": 0, "by_form": {}, "share": None, "target": COVERAGE_TARGET},
        "bases": {
            "mentors": 0,
            "mentees": 0,
            "mentors_in_pair": 0,
            "mentees_in_pair": 0,
            "mentees_waiting": 0,
            "deficits": {a.value: {"mentees": 0, "covered": 0} for a in AREAS},
        },
        "pairs": {
            "formed": 0,
            "active": 0,
            "completed": 0,
            "dissolved": 0,
            "dissolved_by_reason": {},
            "mentors_with_mentees": 0,
            "mentees_per_mentor": None,
            "mentors_overloaded": 0,
        },
        "roadmaps": {
            "planned": 0,
            "completed": 0,
            "completed_to_date": 0,
            "overdue": 0,
            "completion_rate": None,
            "days_to_first_meeting": None,
        },
        "feedback": {
            "forms": 0,
            "mean_scores": {},
            "meetings": 0,
            "meetings_without_feedback": 0,
            "meetings_without_feedback_share": None,
        },
        "outcomes": {
            "young_specialists_cohort": 0,
            "young_specialists_retained": 0,
            "want_to_become_mentors": 0,
        },
        "risks": [],
    }


def blank() -> dict[str, Any]:
    """The figures of an area with nothing in it yet."""
    figures = _empty()
    _finish(figures)
    return figures


def _finish(figures: dict[str, Any]) -> None:
    heads = figures["headcounts"]
    total = heads["teachers"] + heads["students"]
    cov = figures["coverage"]
    if total:
        cov["share"] = round((cov["teachers"] + cov["students"]) / total, 4)
        cov["teachers_share"] = round(cov["teachers"] / heads["teachers"], 4) if heads["teachers"] else None
        cov["students_share"] = round(cov["students"] / heads["students"], 4) if heads["students"] else None
    roadmaps = figures["roadmaps"]
    if roadmaps["planned"]:
        roadmaps["completion_rate"] = round(roadmaps["completed_to_date"] / roadmaps["planned"], 4)
    figures["risks"] = [{"code": f.code, "rule": f.rule} for f in risk_flags(figures)]
