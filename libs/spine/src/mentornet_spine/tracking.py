"""What a consumer has applied, read and recorded in the transaction of the batch that applies it.

Events carry their store position (the relay's stamp). Per consumer and upstream stream, a
tracking row holds the highest position applied; it is locked first (instances of one consumer
take turns) and moved at the end. A batch whose events all lie above it needs no lookup: that
is nearly every batch. An event at or below it is looked up in the batch rows that cover it (and,
for what was applied before the tracking rows existed, in the per-event ledger by event id).
Messages without a stamp are recorded in the per-event ledger by event id.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from uuid import UUID

from sqlalchemy import Delete, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from mentornet_spine.tables import applied_batches, consumer_tracking, processed_events

if TYPE_CHECKING:
    from mentornet_spine.handlers import Delivery


@dataclass
class Applied:
    """What the ledger knows of a batch's events: positions per stream and event ids it applied."""

    marks: dict[str, int | None] = field(default_factory=dict)
    positions: set[tuple[str, int]] = field(default_factory=set)
    event_ids: set[UUID] = field(default_factory=set)

    def holds(self, delivery: Delivery) -> bool:
        assert delivery.envelope is not None
        if delivery.envelope.event_id in self.event_ids:
            return True
        return delivery.stamped and (delivery.stream, delivery.position) in self.positions

    def take(self, delivery: Delivery) -> None:
        assert delivery.envelope is not None
        self.event_ids.add(delivery.envelope.event_id)
        if delivery.stamped:
            self.positions.add((delivery.stream, delivery.position))


async def applied(conn: AsyncConnection, ledger: str, batch: Sequence[Delivery]) -> Applied:
    found = Applied()
    by_stream: dict[str, list[int]] = defaultdict(list)
    for d in batch:
        if d.stamped:
            by_stream[d.stream].append(d.position)
    suspects: list[Delivery] = [d for d in batch if not d.stamped]
    for stream, positions in by_stream.items():
        mark = await conn.scalar(
            select(consumer_tracking.c.position)
            .where(consumer_tracking.c.consumer == ledger, consumer_tracking.c.stream == stream)
            .with_for_update()
        )
        found.marks[stream] = mark
        low = [p for p in positions if mark is None or p <= mark]
        if not low:
            continue  # all new: the common case, no lookup
        rows = await conn.execute(
            select(applied_batches.c.positions).where(
                applied_batches.c.consumer == ledger,
                applied_batches.c.stream == stream,
                applied_batches.c.last_position >= min(low),
                applied_batches.c.first_position <= max(low),
            )
        )
        found.positions |= {(stream, int(p)) for (held,) in rows for p in held}
        low_set = set(low)
        suspects += [d for d in batch if d.stamped and d.stream == stream and d.position in low_set]
    ids = [d.envelope.event_id for d in suspects if d.envelope is not None]
    if ids:
        found.event_ids = set(
            await conn.scalars(
                select(processed_events.c.event_id).where(
                    processed_events.c.consumer == ledger, processed_events.c.event_id.in_(ids)
                )
            )
        )
    return found


async def record(conn: AsyncConnection, ledger: str, known: Applied, batch: Sequence[Delivery]) -> None:
    """Record the batch's applied events: a row per stream, the mark moved; unstamped ones by id."""
    by_stream: dict[str, list[int]] = defaultdict(list)
    unstamped = []
    for d in batch:
        if d.stamped:
            by_stream[d.stream].append(d.position)
        elif d.envelope is not None:
            unstamped.append(
                {"consumer": ledger, "event_id": d.envelope.event_id, "stream_sequence": d.stream_sequence}
            )
    for stream, positions in by_stream.items():
        positions.sort()
        await conn.execute(
            insert(applied_batches).values(
                consumer=ledger,
                stream=stream,
                last_position=positions[-1],
                first_position=positions[0],
                positions=positions,
            )
        )
        mark = known.marks.get(stream)
        if mark is None:
            await conn.execute(
                insert(consumer_tracking).values(consumer=ledger, stream=stream, position=positions[-1])
            )
        elif positions[-1] > mark:
            await conn.execute(
                update(consumer_tracking)
                .where(consumer_tracking.c.consumer == ledger, consumer_tracking.c.stream == stream)
                .values(position=positions[-1])
            )
    if unstamped:
        await conn.execute(insert(processed_events), unstamped)


def forget(ledger: str) -> list[Delete]:
    """Statements that drop every record of a ledger (a projection generation rebuilt or dropped)."""
    return [
        delete(table).where(table.c.consumer == ledger)
        for table in (consumer_tracking, applied_batches, processed_events)
    ]
