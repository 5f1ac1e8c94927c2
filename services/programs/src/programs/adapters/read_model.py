"""Keeps the programs service's read tables in step with its events, inside the command's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import and_, bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from mentornet_events import DomainEvent, Tenant
from mentornet_events.catalogue.programs import (
    FeedbackSubmitted,
    MeetingHeld,
    PairCompleted,
    PairDissolved,
    PairFormed,
    ProgrammeCompleted,
    ProgrammeDocumentRecorded,
    ProgrammeLaunched,
    ProgrammeStageChanged,
    RoadmapItemCompleted,
    RoadmapItemOverdue,
    RoadmapSet,
)
from mentornet_events.vocabulary import ProgrammeStage
from programs.adapters.tables import feedback, meetings, pair_members, pairs, programmes, roadmap_items

# The statements of the events a year is mostly made of, built once (building one costs about as
# much as running it); bound names differ from the columns they set, as SQLAlchemy requires.
_INSERT_MEETING = insert(meetings)
_INSERT_FEEDBACK = insert(feedback)
_PAIR_VERSION = update(pairs).where(pairs.c.id == bindparam("b_pair")).values(version=bindparam("b_version"))
_ROADMAP_VERSION = (
    update(pairs).where(pairs.c.id == bindparam("b_pair")).values(roadmap_version=bindparam("b_version"))
)
_ITEM = and_(roadmap_items.c.pair_id == bindparam("b_pair"), roadmap_items.c.item_id == bindparam("b_item"))
_ITEM_COMPLETED = (
    update(roadmap_items)
    .where(_ITEM)
    .values(completed_on=bindparam("b_completed_on"), product_kind=bindparam("b_product_kind"))
)
_ITEM_OVERDUE = update(roadmap_items).where(_ITEM).values(overdue_for=bindparam("b_due_on"))


async def project(
    conn: AsyncConnection, tenant: Tenant, events: list[DomainEvent], version: int, extra: Mapping[str, Any]
) -> None:
    """Apply new events; ``version`` is their stream's version after them (the ETag of the aggregate).

    ``extra`` carries what the command knows beyond the events (a programme's title and curator).
    """
    for event in events:
        await _apply(conn, tenant, event, version, extra)


async def _apply(
    conn: AsyncConnection, tenant: Tenant, event: DomainEvent, version: int, extra: Mapping[str, Any]
) -> None:
    if isinstance(event, ProgrammeLaunched):
        await conn.execute(
            insert(programmes).values(
                id=event.programme_id,
                region=tenant.region,
                municipality=tenant.municipality or "",
                school=tenant.school or "",
                title=extra.get("title", ""),
                form=event.form.value,
                variant=extra.get("variant"),
                duration=event.duration.value,
                mode=event.mode.value,
                curator=extra.get("curator"),
                partner_schools=extra.get("partner_schools", []),
                starts_on=event.starts_on,
                ends_on=event.ends_on,
                stage=ProgrammeStage.PREPARATION.value,
                stages=[[ProgrammeStage.PREPARATION.value, event.starts_on.isoformat()]],
                documents=[],
                version=version,
            )
        )
    elif isinstance(event, ProgrammeStageChanged):
        stages = await conn.scalar(select(programmes.c.stages).where(programmes.c.id == event.programme_id))
        await _programme(
            conn,
            event.programme_id,
            version,
            stage=event.stage.value,
            stages=[*(stages or []), [event.stage.value, event.changed_on.isoformat()]],
        )
    elif isinstance(event, ProgrammeDocumentRecorded):
        documents = await conn.scalar(
            select(programmes.c.documents).where(programmes.c.id == event.programme_id)
        )
        document = {
            "kind": event.kind.value,
            "number": event.number,
            "dated": event.dated.isoformat(),
            "title": extra.get("document_title", ""),
        }
        await _programme(conn, event.programme_id, version, documents=[*(documents or []), document])
    elif isinstance(event, ProgrammeCompleted):
        await _programme(
            conn,
            event.programme_id,
            version,
            stage=ProgrammeStage.COMPLETION.value,
            completed_on=event.completed_on,
            nominated_mentor_ids=[str(m) for m in event.nominated_mentor_ids],
        )
    elif isinstance(event, PairFormed):
        await conn.execute(
            insert(pairs).values(
                id=event.pair_id,
                programme_id=event.programme_id,
                school=tenant.school or "",
                form=event.form.value,
                mentor_ids=[str(m) for m in event.mentor_ids],
                mentee_ids=[str(m) for m in event.mentee_ids],
                status="active",
                formed_on=event.formed_on,
                version=version,
                roadmap_version=0,
            )
        )
        await conn.execute(
            insert(pair_members),
            [
                {"pair_id": event.pair_id, "participant_id": pid, "side": side, "active": True}
                for side, ids in (("mentor", event.mentor_ids), ("mentee", event.mentee_ids))
                for pid in ids
            ],
        )
    elif isinstance(event, PairDissolved | PairCompleted):
        dissolved = isinstance(event, PairDissolved)
        await conn.execute(
            update(pairs)
            .where(pairs.c.id == event.pair_id)
            .values(
                version=version,
                status="dissolved" if dissolved else "completed",
                ended_on=event.dissolved_on if isinstance(event, PairDissolved) else event.completed_on,
                dissolution_reason=event.reason.value if isinstance(event, PairDissolved) else None,
            )
        )
        await conn.execute(
            update(pair_members).where(pair_members.c.pair_id == event.pair_id).values(active=False)
        )
    elif isinstance(event, MeetingHeld):
        await conn.execute(
            _INSERT_MEETING,
            {
                "id": event.meeting_id,
                "pair_id": event.pair_id,
                "kind": event.kind.value,
                "mode": event.mode.value,
                "held_on": event.held_on,
            },
        )
        await _pair(conn, event.pair_id, version)
    elif isinstance(event, FeedbackSubmitted):
        await conn.execute(
            _INSERT_FEEDBACK,
            {
                "meeting_id": event.meeting_id,
                "respondent_role": event.respondent_role,
                "pair_id": event.pair_id,
                "scores": {k.value: v for k, v in event.scores.items()},
                "wants_to_become_mentor": event.wants_to_become_mentor,
            },
        )
        await _pair(conn, event.pair_id, version)
    elif isinstance(event, RoadmapSet):
        done = {
            r.item_id: r
            for r in await conn.execute(select(roadmap_items).where(roadmap_items.c.pair_id == event.pair_id))
        }
        await conn.execute(delete(roadmap_items).where(roadmap_items.c.pair_id == event.pair_id))
        await conn.execute(
            insert(roadmap_items),
            [
                {
                    "pair_id": event.pair_id,
                    "item_id": item.item_id,
                    "position": position,
                    "direction": item.direction.value,
                    "due_on": item.due_on,
                    "rhythm": item.rhythm.value if item.rhythm else None,
                    "revision": event.revision,
                    "completed_on": done[item.item_id].completed_on if item.item_id in done else None,
                    "product_kind": done[item.item_id].product_kind if item.item_id in done else None,
                    "overdue_for": done[item.item_id].overdue_for if item.item_id in done else None,
                }
                for position, item in enumerate(event.items, start=1)
            ],
        )
        await _roadmap(conn, event.pair_id, version)
    elif isinstance(event, RoadmapItemCompleted):
        await conn.execute(
            _ITEM_COMPLETED,
            {
                "b_pair": event.pair_id,
                "b_item": event.item_id,
                "b_completed_on": event.completed_on,
                "b_product_kind": event.product_kind,
            },
        )
        await _roadmap(conn, event.pair_id, version)
    elif isinstance(event, RoadmapItemOverdue):
        await conn.execute(
            _ITEM_OVERDUE, {"b_pair": event.pair_id, "b_item": event.item_id, "b_due_on": event.due_on}
        )
        await _roadmap(conn, event.pair_id, version)


async def _programme(conn: AsyncConnection, programme_id: Any, version: int, **values: Any) -> None:
    await conn.execute(
        update(programmes).where(programmes.c.id == programme_id).values(version=version, **values)
    )


async def _pair(conn: AsyncConnection, pair_id: Any, version: int) -> None:
    await conn.execute(_PAIR_VERSION, {"b_pair": pair_id, "b_version": version})


async def _roadmap(conn: AsyncConnection, pair_id: Any, version: int) -> None:
    await conn.execute(_ROADMAP_VERSION, {"b_pair": pair_id, "b_version": version})
