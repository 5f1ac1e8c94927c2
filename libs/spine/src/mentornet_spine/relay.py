"""The outbox relay: committed events → JetStream, in commit order, ``Nats-Msg-Id`` = event id.

Crash-safety: an outbox row is deleted only after JetStream acknowledged its message, so a crash
anywhere re-sends at most the unacknowledged tail, which the stream's duplicate window drops.
Nothing uncommitted is visible to the relay, so nothing uncommitted is ever published.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from nats.js import JetStreamContext
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from mentornet_events import CATALOGUE, Catalogue, Envelope, Subjects, envelope_to_json
from mentornet_spine import metrics
from mentornet_spine.store import _row_to_envelope
from mentornet_spine.tables import events, outbox

log = logging.getLogger(__name__)
tracer = trace.get_tracer("mentornet.spine.relay")


def message_headers(envelope: Envelope) -> dict[str, str]:
    headers = {
        "Nats-Msg-Id": str(envelope.event_id),
        "Mentornet-Type": envelope.type,
        "Mentornet-Schema-Version": str(envelope.schema_version),
    }
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    headers.update(carrier)
    return headers


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        js: JetStreamContext,
        subjects: Subjects,
        *,
        catalogue: Catalogue = CATALOGUE,
        batch_size: int = 500,
        ack_timeout: float = 10.0,
    ) -> None:
        self.engine = engine
        self.js = js
        self.subjects = subjects
        self.catalogue = catalogue
        self.batch_size = batch_size
        self.ack_timeout = ack_timeout

    async def backlog(self) -> int:
        async with self.engine.connect() as conn:
            return int(await conn.scalar(select(func.count()).select_from(outbox)) or 0)

    async def relay_once(self) -> int:
        """Publish the oldest pending batch; returns how many events were acknowledged."""
        query = (
            select(events)
            .join(outbox, outbox.c.position == events.c.position)
            .order_by(events.c.position)
            .limit(self.batch_size)
        )
        async with self.engine.connect() as conn:
            rows = list(await conn.execute(query))
        if not rows:
            return 0
        positions = [r.position for r in rows]
        futures = []
        for row in rows:
            envelope = _row_to_envelope(row)
            parent = propagate.extract(envelope.trace_context)
            token = otel_context.attach(parent)
            try:
                with tracer.start_as_current_span(
                    "outbox.relay",
                    kind=trace.SpanKind.PRODUCER,
                    attributes={"mentornet.event_type": envelope.type, "mentornet.position": row.position},
                ):
                    subject = self.catalogue.spec(envelope.type).subject(self.subjects)
                    futures.append(
                        await self.js.publish_async(
                            subject, envelope_to_json(envelope), headers=message_headers(envelope)
                        )
                    )
            finally:
                otel_context.detach(token)
        acks = await asyncio.wait_for(asyncio.gather(*futures, return_exceptions=True), self.ack_timeout)
        done = []
        for position, ack in zip(positions, acks, strict=True):
            if isinstance(ack, BaseException):
                log.warning("publish of position %s failed: %r; will retry", position, ack)
                break  # keep commit order: the rest is retried after this one
            done.append(position)
        if done:
            async with self.engine.begin() as conn:
                await conn.execute(delete(outbox).where(outbox.c.position.in_(done)))
            metrics.events_relayed.add(len(done))
        return len(done)

    async def run(self, stop: asyncio.Event, idle_sleep: float = 0.05, error_sleep: float = 1.0) -> None:
        """Relay until ``stop`` is set; survives broker and database outages by retrying."""
        while not stop.is_set():
            try:
                sent = await self.relay_once()
            except Exception as error:  # the broker or the database is away: wait and retry
                log.warning("outbox relay error: %r", error)
                sent = 0
                await _sleep_or_stop(stop, error_sleep)
                continue
            if sent == 0:
                await _sleep_or_stop(stop, idle_sleep)


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
