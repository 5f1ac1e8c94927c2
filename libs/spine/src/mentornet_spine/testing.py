"""A small SQL projection and event factories for tests and benchmarks of the spine."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import date

from sqlalchemy import Column, Integer, MetaData, String, Table, Uuid, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from mentornet_events import DomainEvent, Envelope, Tenant
from mentornet_events.catalogue.programs import PairFormed, RoadmapItemCompleted
from mentornet_events.vocabulary import DeficitArea, MentoringForm
from mentornet_spine.db import reader
from mentornet_spine.handlers import Scope
from mentornet_spine.projection import Projection, Tables
from mentornet_spine.upsert import insert_rows, upsert

POISON = "POISON"


class EventCounts(Projection):
    """Counts pair events per school and type and keeps one row per applied event.

    A roadmap item whose product is ``POISON`` is refused, to exercise dead-lettering.
    """

    sources = ("programs",)
    event_types = frozenset({"PairFormed", "RoadmapItemCompleted"})

    def __init__(self, name: str = "test-event-counts") -> None:
        super().__init__()
        self.name = name

    def define_tables(self, metadata: MetaData, suffix: str) -> Tables:
        return {
            "counts": Table(
                f"event_counts{suffix}",
                metadata,
                Column("school", String(32), primary_key=True),
                Column("type", String(100), primary_key=True),
                Column("n", Integer, nullable=False),
            ),
            "applied": Table(
                f"event_applied{suffix}",
                metadata,
                Column("id", Integer, primary_key=True, autoincrement=True),
                Column("event_id", Uuid, nullable=False),  # not unique: a double apply must show
                Column("stream_id", String(200), nullable=False),
                Column("stream_version", Integer, nullable=False),
            ),
        }

    async def apply(
        self, conn: AsyncConnection, scope: Scope, envelope: Envelope, event: DomainEvent
    ) -> None:
        await self.apply_many(conn, scope, [(envelope, event)])

    async def apply_many(
        self, conn: AsyncConnection, scope: Scope, items: Sequence[tuple[Envelope, DomainEvent]]
    ) -> None:
        """In bulk: one statement adds the batch's counts, one multi-row insert keeps its events."""
        counts, applied = scope.state["counts"], scope.state["applied"]
        increments: Counter[tuple[str, str]] = Counter()
        for envelope, event in items:
            if isinstance(event, RoadmapItemCompleted) and event.product_kind == POISON:
                raise ValueError("product kind POISON is refused by the test projection")
            increments[(envelope.tenant.school or "-", envelope.type)] += 1
        rows = [{"school": school, "type": kind, "n": n} for (school, kind), n in increments.items()]
        await upsert(conn, counts, rows, keys=("school", "type"), update=(), add="n")
        await insert_rows(
            conn,
            applied,
            [
                {"event_id": e.event_id, "stream_id": e.stream_id, "stream_version": e.stream_version}
                for e, _ in items
            ],
        )

    async def snapshot(self, engine: AsyncEngine) -> tuple[dict[tuple[str, str], int], set[uuid.UUID]]:
        """The projection's content, for comparing a live build with a rebuild."""
        counts, applied = await self.content(engine)
        return counts, set(applied)

    async def content(self, engine: AsyncEngine) -> tuple[dict[tuple[str, str], int], list[uuid.UUID]]:
        """Counts, and every applied event id in order of application (duplicates included)."""
        scope = await self.read_scope(engine)
        applied = scope.state["applied"]
        async with reader(engine).connect() as conn:
            counts = {(r.school, r.type): r.n for r in await conn.execute(select(scope.state["counts"]))}
            ids = list(await conn.scalars(select(applied.c.event_id).order_by(applied.c.id)))
        return counts, ids


def tenant(school: str = "s1") -> Tenant:
    return Tenant(region="38", municipality="m1", school=school)


def pair_formed() -> PairFormed:
    return PairFormed(
        pair_id=uuid.uuid4(),
        programme_id=uuid.uuid4(),
        form=MentoringForm.TEACHER_TEACHER,
        mentor_ids=[uuid.uuid4()],
        mentee_ids=[uuid.uuid4()],
        formed_on=date(2026, 9, 15),
    )


def item_completed(product_kind: str = "lesson plan") -> RoadmapItemCompleted:
    return RoadmapItemCompleted(
        pair_id=uuid.uuid4(),
        item_id=uuid.uuid4(),
        direction=DeficitArea.METHODOLOGICAL,
        completed_on=date(2026, 10, 1),
        product_kind=product_kind,
    )
