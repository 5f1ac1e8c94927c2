"""Queries: what a caller may see of programmes, pairs, roadmaps and a programme's yearly report.
Each reads outside any transaction; the access checks are the commands' own (access.py)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import select

from mentornet_auth import AccessDenied, Principal, Role
from mentornet_spine.errors import DomainError
from programs.adapters.tables import feedback, meetings, pair_members, pairs, programmes, roadmap_items
from programs.application import access, texts
from programs.application.context import Programs


async def programme(programs: Programs, principal: Principal, programme_id: UUID) -> dict[str, Any]:
    async with programs.reads.connect() as conn:
        return dict((await access.programme_row(conn, principal, programme_id))._mapping)


async def programme_list(
    programs: Programs, principal: Principal, school: str | None = None
) -> list[dict[str, Any]]:
    if principal.role in access.PEOPLE or principal.role is Role.FEDERAL_CONSUMER:
        raise AccessDenied("Список программ доступен организации и операторам")
    query = select(programmes).where(programmes.c.region == principal.region)
    if principal.role is Role.MUNICIPAL_OPERATOR:
        query = query.where(programmes.c.municipality == principal.municipality)
    elif principal.role in access.WRITERS:
        query = query.where(programmes.c.school == principal.school)
    elif principal.role is not Role.REGIONAL_OPERATOR:  # a service reads only what is made for it
        raise AccessDenied("Список программ доступен организации и операторам")
    if school:
        query = query.where(programmes.c.school == school)
    async with programs.reads.connect() as conn:
        return [dict(r._mapping) for r in await conn.execute(query.order_by(programmes.c.starts_on))]


async def pair(programs: Programs, principal: Principal, pair_id: UUID) -> dict[str, Any]:
    async with programs.reads.connect() as conn:
        row, _ = await access.pair_row(conn, principal, pair_id)
        view = dict(row._mapping)
        view["meetings"] = [
            dict(m._mapping)
            for m in await conn.execute(
                select(meetings).where(meetings.c.pair_id == pair_id).order_by(meetings.c.held_on)
            )
        ]
        given = {
            (f.meeting_id, f.respondent_role)
            for f in await conn.execute(
                select(feedback.c.meeting_id, feedback.c.respondent_role).where(feedback.c.pair_id == pair_id)
            )
        }
    for m in view["meetings"]:
        m["feedback_missing"] = [r for r in ("mentor", "mentee") if (m["id"], r) not in given]
    return view


async def pair_list(
    programs: Programs, principal: Principal, programme_id: UUID | None = None
) -> list[dict[str, Any]]:
    """A programme's pairs for its school and operators; a mentor's or mentee's own pairs."""
    async with programs.reads.connect() as conn:
        if principal.role in access.PEOPLE:
            if principal.participant_id is None:
                return []
            query = (
                select(pairs)
                .join(pair_members, pair_members.c.pair_id == pairs.c.id)
                .where(pair_members.c.participant_id == principal.participant_id)
            )
            if programme_id:
                query = query.where(pairs.c.programme_id == programme_id)
        else:
            if programme_id is None:
                raise DomainError("Укажите программу")
            await access.programme_row(conn, principal, programme_id)
            query = select(pairs).where(pairs.c.programme_id == programme_id)
        return [dict(r._mapping) for r in await conn.execute(query.order_by(pairs.c.formed_on, pairs.c.id))]


async def roadmap(programs: Programs, principal: Principal, pair_id: UUID) -> dict[str, Any]:
    async with programs.reads.connect() as conn:
        row, _ = await access.pair_row(conn, principal, pair_id)
        items = [
            dict(r._mapping)
            for r in await conn.execute(
                select(roadmap_items)
                .where(roadmap_items.c.pair_id == pair_id)
                .order_by(roadmap_items.c.position)
            )
        ]
    ids = [i["item_id"] for i in items]
    item_texts = await texts.latest(programs.reads, ids, "roadmap_item")
    done_texts = await texts.latest(programs.reads, ids, "completion")
    for item in items:
        item.update(item_texts.get(item["item_id"], {}))
        item["completion"] = done_texts.get(item["item_id"])
    return {"pair_id": pair_id, "version": row.roadmap_version, "items": items}


async def report_data(programs: Programs, principal: Principal, programme_id: UUID) -> dict[str, Any]:
    """What the yearly report shows: the programme, its pairs, roadmaps, meetings, feedback."""
    async with programs.reads.connect() as conn:
        row = await access.programme_row(conn, principal, programme_id)
        pair_rows = [
            dict(r._mapping)
            for r in await conn.execute(
                select(pairs).where(pairs.c.programme_id == programme_id).order_by(pairs.c.formed_on)
            )
        ]
        ids = [p["id"] for p in pair_rows]
        items = [
            dict(r._mapping)
            for r in await conn.execute(select(roadmap_items).where(roadmap_items.c.pair_id.in_(ids)))
        ]
        held = [
            dict(r._mapping) for r in await conn.execute(select(meetings).where(meetings.c.pair_id.in_(ids)))
        ]
        forms = [
            dict(r._mapping) for r in await conn.execute(select(feedback).where(feedback.c.pair_id.in_(ids)))
        ]
    completion = (await texts.latest(programs.reads, [programme_id], "completion")).get(programme_id)
    for side in ("mentor", "mentee", "curator"):
        reflections = await texts.latest(programs.reads, ids, f"reflection_{side}")
        for pair_row in pair_rows:
            pair_row[f"reflection_{side}"] = reflections.get(pair_row["id"], {}).get("text", "")
    return {
        "programme": dict(row._mapping),
        "pairs": pair_rows,
        "items": items,
        "meetings": held,
        "feedback": forms,
        "completion": completion,
        "today": programs.today(),
    }
