"""The monitoring projection: facts from the registry's and the programs service's events.

Every event becomes rows keyed by what it is about, written with "insert or merge" so that the
result does not depend on arrival order: a pair formed before the registry's event about its
mentee reached monitoring still counts right once that event arrives, because indicators are
computed from the facts when asked (``monitoring.application.indicators``), never accumulated.
(A meeting's row also says which sides' feedback forms exist for it: a union of facts, the same
whether the meeting or a form comes first.) The tables are ``monitoring.adapters.tables``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import MetaData, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from mentornet_events import DomainEvent, Envelope
from mentornet_events.catalogue.programs import (
    FeedbackSubmitted,
    MeetingHeld,
    PairCompleted,
    PairDissolved,
    PairFormed,
    RoadmapItemCompleted,
    RoadmapItemOverdue,
    RoadmapSet,
)
from mentornet_events.catalogue.registry import (
    ConsentWithdrawn,
    MenteeRegistered,
    MentorRegistered,
    MunicipalityRegistered,
    ParticipantErased,
    ParticipantProfileUpdated,
    SchoolApplied,
    SchoolConnected,
    SchoolDisconnected,
    SchoolHeadcountsUpdated,
    SchoolResumed,
    SchoolSuspended,
)
from mentornet_events.vocabulary import BaseKind, DeficitArea
from mentornet_spine.handlers import Delivery, Scope
from mentornet_spine.projection import Projection, Tables
from mentornet_spine.upsert import upsert
from monitoring.adapters.tables import CHANGES, FORMS, define_tables

AREAS = list(DeficitArea)
STATUS = {
    SchoolApplied: "applied",
    SchoolConnected: "connected",
    SchoolSuspended: "suspended",
    SchoolResumed: "connected",
    SchoolDisconnected: "disconnected",
}


def area_mask(areas: Sequence[DeficitArea]) -> int:
    mask = 0
    for area in areas:
        mask |= 1 << AREAS.index(area)
    return mask


def _day(envelope: Envelope) -> date:
    return envelope.occurred_at.date()


class MonitoringFacts(Projection):
    name = "monitoring-facts"
    sources = ("registry", "programs")
    event_types = frozenset(
        cls.__name__
        for cls in (
            MunicipalityRegistered,
            SchoolApplied,
            SchoolConnected,
            SchoolSuspended,
            SchoolResumed,
            SchoolDisconnected,
            SchoolHeadcountsUpdated,
            MentorRegistered,
            MenteeRegistered,
            ParticipantProfileUpdated,
            ConsentWithdrawn,
            ParticipantErased,
            PairFormed,
            PairDissolved,
            PairCompleted,
            RoadmapSet,
            RoadmapItemCompleted,
            RoadmapItemOverdue,
            MeetingHeld,
            FeedbackSubmitted,
        )
    )

    def define_tables(self, metadata: MetaData, suffix: str) -> Tables:
        return define_tables(metadata, suffix)

    async def apply(
        self, conn: AsyncConnection, scope: Scope, envelope: Envelope, event: DomainEvent
    ) -> None:
        await self.apply_many(conn, scope, [(envelope, event)])

    async def apply_many(
        self, conn: AsyncConnection, scope: Scope, items: Sequence[tuple[Envelope, DomainEvent]]
    ) -> None:
        """Collect the batch's rows per table, then one multi-row upsert per table and kind."""
        t: Tables = scope.state
        rows: dict[Merge, list[dict[str, Any]]] = {}
        for envelope, event in items:
            for merge, row in _rows(envelope, event):
                rows.setdefault(merge, []).append(row)
        for merge, batch in rows.items():
            await _write(conn, t[merge.table], merge, batch)

    tracks_positions = True

    async def processed(self, conn: AsyncConnection, scope: Scope, deliveries: Sequence[Delivery]) -> None:
        # the source's store position, not the stream sequence: answers are kept "as of" these, and
        # a stream filled again after a broker's loss starts its sequence over (answers held at the
        # old, higher sequences would look current and be served stale)
        last: dict[str, int] = {}
        for d in deliveries:
            last[d.stream] = max(last.get(d.stream, 0), d.position)
        rows = [{"stream": stream, "sequence": seq} for stream, seq in last.items() if stream]
        await upsert(conn, scope.state["positions"], rows, ["stream"], ["sequence"], newer="sequence")
        # An event that arrives after a later one (redelivered after its ack was lost, or sent
        # again into a refilled stream) changes the facts without moving any stream's position;
        # the count of deliveries taken moves with every batch, so no answer is held past it.
        table = scope.state["positions"]
        insert = (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(table)
        await conn.execute(
            insert.values(stream=CHANGES, sequence=len(deliveries)).on_conflict_do_update(
                index_elements=["stream"], set_={"sequence": table.c.sequence + insert.excluded.sequence}
            )
        )


@dataclass(frozen=True, slots=True)
class Merge:
    """How one kind of fact row joins what its table holds: one upsert per batch and kind.

    On a key already there an incoming row sets ``update`` (none: the first row wins); with
    ``newer`` only where that version column grows (an older event arriving late undoes nothing),
    with ``when_null`` only while that column is empty; ``merge_bits`` ors that column's bits into
    the row's, whatever the order. ``defaults`` fill the columns a partial row does not carry.
    """

    table: str
    update: tuple[str, ...] = ()
    newer: str | None = None
    when_null: str | None = None
    merge_bits: str | None = None
    defaults: tuple[tuple[str, Any], ...] = ()


PARTICIPANT_DEFAULTS = (
    ("role", None),
    ("mentor", False),
    ("mentor_v", 0),
    ("mentee", False),
    ("mentee_v", 0),
    ("mentor_on", None),
    ("mentee_on", None),
    ("competencies", 0),
    ("deficits", 0),
    ("max_mentees", None),
    ("young_specialist", False),
    ("attrs_v", 0),
    ("erased", False),
)
SCHOOL_DEFAULTS = (("status", None), ("status_v", 0), ("teachers", None), ("students", None), ("counts_v", 0))
NAME = Merge("names", ("region", "name", "name_v"), newer="name_v")
SCHOOL_STATUS = Merge("schools", ("status", "status_v"), newer="status_v", defaults=SCHOOL_DEFAULTS)
SCHOOL_COUNTS = Merge(
    "schools", ("teachers", "students", "counts_v"), newer="counts_v", defaults=SCHOOL_DEFAULTS
)
IN_BASE = {
    side: Merge(
        "participants",
        ("role", side, f"{side}_on", f"{side}_v"),
        newer=f"{side}_v",
        defaults=PARTICIPANT_DEFAULTS,
    )
    for side in ("mentor", "mentee")
}
MENTOR_ATTRS = Merge(
    "participants", ("competencies", "max_mentees", "attrs_v"), newer="attrs_v", defaults=PARTICIPANT_DEFAULTS
)
MENTEE_ATTRS = Merge(
    "participants",
    ("deficits", "young_specialist", "attrs_v"),
    newer="attrs_v",
    defaults=PARTICIPANT_DEFAULTS,
)
WITHDRAWN = {
    side: Merge("participants", (side, f"{side}_v"), newer=f"{side}_v", defaults=PARTICIPANT_DEFAULTS)
    for side in ("mentor", "mentee")
}
ERASED = Merge("participants", ("erased",), defaults=PARTICIPANT_DEFAULTS)
ROADMAP_REVISION = Merge("roadmaps", ("revision",), newer="revision")
#: the first meeting event wins, also over a form that came before it
MEETING_HELD = Merge("meetings", ("pair_id", "held_on"), when_null="held_on")
MEETING_FORMS = Merge("meetings", merge_bits="forms")
#: facts that never change: the first one wins
PAIR, MEMBER, END = Merge("pairs"), Merge("members"), Merge("ends")
ITEM, DONE, OVERDUE, FEEDBACK = Merge("items"), Merge("done"), Merge("overdue"), Merge("feedback")


@functools.cache
def profile(columns: tuple[str, ...]) -> Merge:
    """A profile update sets only what it changes."""
    return Merge("participants", (*columns, "attrs_v"), newer="attrs_v", defaults=PARTICIPANT_DEFAULTS)


def _rows(envelope: Envelope, event: DomainEvent) -> list[tuple[Merge, dict[str, Any]]]:
    """The fact rows of one event, each with the rule that merges it into its table."""
    tenant = envelope.tenant
    place = {
        "region": tenant.region,
        "municipality": tenant.municipality or "",
        "school": tenant.school or "",
    }
    v = envelope.stream_version
    if isinstance(event, MunicipalityRegistered):
        named = {"kind": "municipality", "code": event.code, "region": tenant.region}
        return [(NAME, {**named, "name": event.name, "name_v": v})]
    if isinstance(event, SchoolConnected | SchoolApplied):
        school = {"code": event.code, "region": tenant.region, "municipality": tenant.municipality or ""}
        named = {"kind": "school", "code": event.code, "region": tenant.region}
        return [
            (NAME, {**named, "name": event.name, "name_v": v}),
            (SCHOOL_STATUS, {**school, "status": STATUS[type(event)], "status_v": v, "counts_v": 0}),
            (
                SCHOOL_COUNTS,
                {**school, "teachers": event.teachers, "students": event.students, "counts_v": v},
            ),
        ]
    if isinstance(event, SchoolSuspended | SchoolResumed | SchoolDisconnected):
        school = {"code": event.code, "region": tenant.region, "municipality": tenant.municipality or ""}
        return [(SCHOOL_STATUS, {**school, "status": STATUS[type(event)], "status_v": v, "counts_v": 0})]
    if isinstance(event, SchoolHeadcountsUpdated):
        school = {"code": event.code, "region": tenant.region, "municipality": tenant.municipality or ""}
        return [
            (
                SCHOOL_COUNTS,
                {**school, "teachers": event.teachers, "students": event.students, "counts_v": v},
            )
        ]
    if isinstance(event, MentorRegistered):
        row = {
            **_participant(event.participant_id, place),
            "role": event.role.value,
            "mentor": True,
            "mentor_v": v,
            "mentor_on": _day(envelope),
            "competencies": area_mask(event.competencies),
            "max_mentees": event.max_mentees,
            "attrs_v": v,
        }
        return [(IN_BASE["mentor"], row), (MENTOR_ATTRS, row)]
    if isinstance(event, MenteeRegistered):
        row = {
            **_participant(event.participant_id, place),
            "role": event.role.value,
            "mentee": True,
            "mentee_v": v,
            "mentee_on": _day(envelope),
            "deficits": area_mask(event.deficits),
            "young_specialist": event.young_specialist,
            "attrs_v": v,
        }
        return [(IN_BASE["mentee"], row), (MENTEE_ATTRS, row)]
    if isinstance(event, ParticipantProfileUpdated):
        changes: dict[str, Any] = {}
        if event.competencies is not None:
            changes["competencies"] = area_mask(event.competencies)
        if event.deficits is not None:
            changes["deficits"] = area_mask(event.deficits)
        if event.max_mentees is not None:
            changes["max_mentees"] = event.max_mentees
        if event.young_specialist is not None:
            changes["young_specialist"] = event.young_specialist
        return (
            [
                (
                    profile(tuple(sorted(changes))),
                    {**_participant(event.participant_id, place), **changes, "attrs_v": v},
                )
            ]
            if changes
            else []
        )
    if isinstance(event, ConsentWithdrawn):
        side = "mentor" if event.base is BaseKind.MENTOR else "mentee"
        return [(WITHDRAWN[side], {**_participant(event.participant_id, place), f"{side}_v": v})]
    if isinstance(event, ParticipantErased):
        return [(ERASED, {**_participant(event.participant_id, place), "erased": True})]
    if isinstance(event, PairFormed):
        return [
            (
                PAIR,
                {
                    "id": event.pair_id,
                    "programme_id": event.programme_id,
                    **place,
                    "form": event.form.value,
                    "formed_on": event.formed_on,
                },
            ),
            *(
                (MEMBER, {"pair_id": event.pair_id, "participant_id": pid, "side": side})
                for side, ids in (("mentor", event.mentor_ids), ("mentee", event.mentee_ids))
                for pid in ids
            ),
        ]
    if isinstance(event, PairDissolved):
        return [
            (
                END,
                {
                    "pair_id": event.pair_id,
                    "kind": "dissolved",
                    "ended_on": event.dissolved_on,
                    "reason": event.reason.value,
                },
            )
        ]
    if isinstance(event, PairCompleted):
        return [
            (
                END,
                {
                    "pair_id": event.pair_id,
                    "kind": "completed",
                    "ended_on": event.completed_on,
                    "reason": None,
                },
            )
        ]
    if isinstance(event, RoadmapSet):
        return [
            (ROADMAP_REVISION, {"pair_id": event.pair_id, "revision": event.revision}),
            *(
                (
                    ITEM,
                    {
                        "pair_id": event.pair_id,
                        "item_id": item.item_id,
                        "revision": event.revision,
                        "due_on": item.due_on,
                    },
                )
                for item in event.items
            ),
        ]
    if isinstance(event, RoadmapItemCompleted):
        return [
            (
                DONE,
                {"item_id": event.item_id, "pair_id": event.pair_id, "completed_on": event.completed_on},
            )
        ]
    if isinstance(event, RoadmapItemOverdue):
        return [
            (
                OVERDUE,
                {
                    "item_id": event.item_id,
                    "due_on": event.due_on,
                    "pair_id": event.pair_id,
                    "detected_on": event.detected_on,
                },
            )
        ]
    if isinstance(event, MeetingHeld):
        return [
            (
                MEETING_HELD,
                {"id": event.meeting_id, "pair_id": event.pair_id, "held_on": event.held_on, "forms": 0},
            )
        ]
    if isinstance(event, FeedbackSubmitted):
        form = FORMS.get(event.respondent_role, 0)
        return [
            (
                MEETING_FORMS,
                {"id": event.meeting_id, "pair_id": event.pair_id, "held_on": None, "forms": form},
            ),
            (
                FEEDBACK,
                {
                    "meeting_id": event.meeting_id,
                    "role": event.respondent_role,
                    "pair_id": event.pair_id,
                    "submitted_on": _day(envelope),
                    **{level.value: score for level, score in event.scores.items()},
                    "wants_to_become_mentor": event.wants_to_become_mentor,
                },
            ),
        ]
    return []


def _participant(participant_id: Any, place: dict[str, str]) -> dict[str, Any]:
    return {"id": participant_id, **place}


async def _write(conn: AsyncConnection, table: Table, merge: Merge, rows: list[dict[str, Any]]) -> None:
    """One statement per table and rule; rows of one key keep the last (the batch is in order)."""
    keys = [c.name for c in table.primary_key.columns]
    unique: dict[tuple[Any, ...], dict[str, Any]] = {}
    bits = merge.merge_bits
    for row in rows:
        key = tuple(row[k] for k in keys)
        if bits and key in unique:  # the bits of one key add up within the batch too
            row = {**row, bits: unique[key][bits] | row[bits]}
        unique[key] = row
    full = list(unique.values())
    if merge.defaults:
        defaults = dict(merge.defaults)
        full = [{**defaults, **row} for row in full]
    await upsert(
        conn,
        table,
        full,
        keys,
        merge.update,
        merge.newer,
        when_null=merge.when_null,
        merge_bits=bits,
    )
