"""Commands on a pair's roadmap: drawing it up (or from a template), completing items, the overdue check."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import or_, select

from mentornet_auth import Principal
from mentornet_events.catalogue.programs import PlannedItem
from mentornet_spine.http import NotFound
from mentornet_spine.store import ConcurrencyConflict
from mentornet_spine.uow import check_expected
from programs.adapters.tables import pairs, programmes, roadmap_items
from programs.application import access, texts
from programs.application.context import Programs
from programs.application.schemas import CompletionIn, RoadmapIn, RoadmapItemIn
from programs.domain import roadmap as roadmap_domain
from programs.domain.templates import template


async def set_items(
    programs: Programs, principal: Principal, pair_id: UUID, data: RoadmapIn, expected: int | None
) -> int:
    items = [(item.item_id or uuid.uuid4(), item) for item in data.items]
    planned = [
        PlannedItem(item_id=item_id, direction=item.direction, due_on=item.due_on, rhythm=item.rhythm)
        for item_id, item in items
    ]
    async with programs.units.begin() as uow:
        row, tenant = await access.roadmap_writer(uow.conn, principal, pair_id)
        roadmap = await access.load_roadmap(uow, pair_id, row.roadmap_version)
        # an edit based on an older version loses; without If-Match the version read here is expected
        check_expected(expected, roadmap.version)
        events = roadmap.set_items(planned, data.reason)
        version = await uow.record(roadmap_domain.stream_id(pair_id), roadmap.version, events, tenant)
        revision = roadmap.revision + 1
        for item_id, item in items:
            await texts.keep(uow.conn, item_id, "roadmap_item", _item_texts(item), revision)
        if data.reason:
            await texts.keep(uow.conn, pair_id, "roadmap_correction", {"reason": data.reason}, revision)
    return version


async def from_template(
    programs: Programs, principal: Principal, pair_id: UUID, key: str, expected: int | None
) -> int:
    async with programs.reads.connect() as conn:
        row, _ = await access.pair_row(conn, principal, pair_id)
    try:
        chosen = template(key)
    except LookupError as error:
        raise NotFound(str(error)) from None
    items = [
        RoadmapItemIn(
            activity=t.activity,
            kind=t.kind,
            direction=t.direction,
            risks=t.risks,
            prevention=t.prevention,
            expected_results=t.expected_results,
            criteria=t.criteria,
            due_on=row.formed_on + timedelta(days=t.due_offset_days)
            if t.due_offset_days is not None
            else None,
            rhythm=t.rhythm,
        )
        for t in chosen.items
    ]
    return await set_items(programs, principal, pair_id, RoadmapIn(items=items, reason=None), expected)


async def complete_item(
    programs: Programs, principal: Principal, pair_id: UUID, item_id: UUID, data: CompletionIn
) -> int:
    async with programs.units.begin() as uow:
        row, tenant = await access.roadmap_writer(uow.conn, principal, pair_id, sides=("mentor", "mentee"))
        roadmap = await access.load_roadmap(uow, pair_id, row.roadmap_version)
        today = programs.today()
        events = roadmap.complete_item(item_id, data.completed_on or today, data.product_kind, today)
        version = await uow.record(roadmap_domain.stream_id(pair_id), roadmap.version, events, tenant)
        if events:
            await texts.keep(
                uow.conn, item_id, "completion", {"product": data.product, "attitude": data.attitude}
            )
    return version


async def check_overdue(programs: Programs, today: date | None = None) -> int:
    """The scheduled check: each item past due raises ``RoadmapItemOverdue`` once."""
    today = today or programs.today()
    async with programs.reads.connect() as conn:
        candidates = list(
            await conn.execute(
                select(
                    roadmap_items.c.pair_id,
                    pairs.c.roadmap_version,
                    programmes.c.region,
                    programmes.c.municipality,
                    pairs.c.school,
                )
                .join(pairs, pairs.c.id == roadmap_items.c.pair_id)
                .join(programmes, programmes.c.id == pairs.c.programme_id)
                .where(
                    roadmap_items.c.due_on < today,
                    roadmap_items.c.completed_on.is_(None),
                    pairs.c.status == "active",
                    or_(
                        roadmap_items.c.overdue_for.is_(None),
                        roadmap_items.c.overdue_for != roadmap_items.c.due_on,
                    ),
                )
                .distinct()
            )
        )
    raised = 0
    for candidate in candidates:
        try:
            async with programs.units.begin() as uow:
                roadmap = await access.load_roadmap(uow, candidate.pair_id, candidate.roadmap_version)
                events = roadmap.overdue(today)
                await uow.record(
                    roadmap_domain.stream_id(candidate.pair_id),
                    roadmap.version,
                    events,
                    access.tenant_of(candidate),
                )
            raised += len(events)
        except ConcurrencyConflict:
            continue  # someone changed the roadmap meanwhile; the next check sees it anew
    return raised


def _item_texts(item: RoadmapItemIn) -> dict[str, Any]:
    return {
        "activity": item.activity,
        "kind": item.kind,
        "risks": item.risks,
        "prevention": item.prevention,
        "expected_results": item.expected_results,
        "criteria": item.criteria,
    }
