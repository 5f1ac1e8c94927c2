"""Texts that may describe a person (notes, reflections, comments): kept in the texts table in the
command's transaction, never in events; each new revision of a text wins over the older ones."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from programs.adapters.tables import texts

_INSERT_TEXT = insert(texts)


async def keep(
    conn: AsyncConnection, owner: UUID, kind: str, body: dict[str, Any], revision: int = 0
) -> None:
    if any(body.values()):
        await conn.execute(
            _INSERT_TEXT, {"owner_id": owner, "kind": kind, "revision": revision, "body": body}
        )


async def latest(reads: AsyncEngine, owner_ids: Sequence[UUID], kind: str) -> dict[UUID, dict[str, Any]]:
    if not owner_ids:
        return {}
    async with reads.connect() as conn:
        rows = await conn.execute(
            select(texts.c.owner_id, texts.c.revision, texts.c.body)
            .where(texts.c.owner_id.in_(owner_ids), texts.c.kind == kind)
            .order_by(texts.c.revision)
        )
        return {r.owner_id: dict(r.body) for r in rows}  # the latest revision wins
