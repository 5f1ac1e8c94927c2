"""What the notifications service keeps of other services' events: schools, pairs, items, meetings.

Written in the consumer's transaction, before the event's messages: the school statuses a
broadcast goes by, a pair's people for the rules addressed to mentors and mentees, and the
roadmap items and meetings the scheduled reminders look at.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from mentornet_events import DomainEvent, Envelope
from mentornet_events.catalogue.programs import (
    FeedbackSubmitted,
    MeetingHeld,
    PairFormed,
    RoadmapItemCompleted,
    RoadmapItemOverdue,
    RoadmapSet,
)
from mentornet_events.catalogue.registry import (
    SchoolApplied,
    SchoolConnected,
    SchoolDisconnected,
    SchoolResumed,
    SchoolSuspended,
)
from mentornet_spine.upsert import upsert
from notifications.adapters.tables import items, meetings, pair_members, schools

STATUS = {
    SchoolApplied: "applied",
    SchoolConnected: "connected",
    SchoolSuspended: "suspended",
    SchoolResumed: "connected",
    SchoolDisconnected: "disconnected",
}
#: the event types remembered here (besides the rules' own)
REMEMBERED = frozenset(
    {
        *(cls.__name__ for cls in STATUS),
        "PairFormed",
        "RoadmapSet",
        "RoadmapItemCompleted",
        "RoadmapItemOverdue",
        "MeetingHeld",
        "FeedbackSubmitted",
    }
)


async def remember(conn: AsyncConnection, envelope: Envelope, event: DomainEvent) -> None:
    """Records what ``event`` tells of a school, a pair, a roadmap item or a meeting (idempotent)."""
    tenant = envelope.tenant
    if type(event) in STATUS:
        await upsert(
            conn,
            schools,
            [
                {
                    "code": event.code,  # type: ignore[attr-defined]
                    "region": tenant.region,
                    "municipality": tenant.municipality or "",
                    "status": STATUS[type(event)],
                }
            ],
            ["code"],
            ["status"],
        )
    if isinstance(event, PairFormed):
        await upsert(
            conn,
            pair_members,
            [
                {"pair_id": event.pair_id, "participant_id": pid, "side": side}
                for side, ids in (("mentor", event.mentor_ids), ("mentee", event.mentee_ids))
                for pid in ids
            ],
            ["pair_id", "participant_id"],
            [],
        )
    await _remember(conn, envelope, event)


async def _remember(conn: AsyncConnection, envelope: Envelope, event: DomainEvent) -> None:
    """What the scheduled reminders look at: roadmap items and their dates, meetings and their forms."""
    place = {"school": envelope.tenant.school or "", "municipality": envelope.tenant.municipality or ""}
    if isinstance(event, RoadmapSet):
        await upsert(
            conn,
            items,
            [
                {
                    "item_id": i.item_id,
                    "pair_id": event.pair_id,
                    "due_on": i.due_on,
                    "revision": event.revision,
                    "completed": False,
                    **place,
                }
                for i in event.items
            ],
            ["item_id"],
            ["due_on", "revision"],
            newer="revision",
        )
    elif isinstance(event, RoadmapItemCompleted):
        await conn.execute(update(items).where(items.c.item_id == event.item_id).values(completed=True))
    elif isinstance(event, RoadmapItemOverdue):
        await conn.execute(
            update(items).where(items.c.item_id == event.item_id).values(overdue_since=event.detected_on)
        )
    elif isinstance(event, MeetingHeld):
        row = {"meeting_id": event.meeting_id, "pair_id": event.pair_id, "held_on": event.held_on, **place}
        await upsert(
            conn, meetings, [{**row, "mentor_form": False, "mentee_form": False}], ["meeting_id"], []
        )
    elif isinstance(event, FeedbackSubmitted):
        column = "mentor_form" if event.respondent_role == "mentor" else "mentee_form"
        await conn.execute(
            update(meetings).where(meetings.c.meeting_id == event.meeting_id).values(**{column: True})
        )
