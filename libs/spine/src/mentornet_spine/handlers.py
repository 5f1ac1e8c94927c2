"""Transactional event handling: a handler's effect and the record of what it applied commit together.

A batch is applied in one transaction (fast path); if anything in it fails, each event is retried
in a transaction of its own so that one poison event cannot hold back the events behind it.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from opentelemetry import propagate, trace
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from mentornet_events import CATALOGUE, Catalogue, DomainEvent, Envelope, envelope_from_json
from mentornet_spine import tracking
from mentornet_spine.outage import is_outage
from mentornet_spine.relay import POSITION_HEADER

log = logging.getLogger(__name__)
tracer = trace.get_tracer("mentornet.spine.handlers")


@dataclass(frozen=True)
class Scope:
    """Where a batch is applied: the ledger key of processed ids, and the handler's own state."""

    ledger: str
    state: Any = None


class TransactionalHandler(ABC):
    """An event consumer whose effects live in the service's database."""

    #: durable consumer name, ``<service>-<purpose>``
    name: str
    #: services whose streams this handler reads
    sources: tuple[str, ...]
    #: event types it applies; others are acknowledged and skipped
    event_types: frozenset[str]

    async def scope(self, conn: AsyncConnection) -> Scope:
        return Scope(ledger=self.name)

    @abstractmethod
    async def apply(
        self, conn: AsyncConnection, scope: Scope, envelope: Envelope, event: DomainEvent
    ) -> None:
        """Apply one event; raise to refuse it (it is retried, then dead-lettered)."""

    async def apply_many(
        self, conn: AsyncConnection, scope: Scope, items: Sequence[tuple[Envelope, DomainEvent]]
    ) -> None:
        """Apply a batch of new events in order; override to write them in bulk (same effect)."""
        for envelope, event in items:
            await self.apply(conn, scope, envelope, event)

    #: call ``processed`` for every batch, even one with nothing to apply (it costs a transaction)
    tracks_positions = False

    async def processed(self, conn: AsyncConnection, scope: Scope, deliveries: Sequence[Delivery]) -> None:
        """In the batch's transaction, every delivery it held (applied, duplicate or skipped): e.g.
        to record how far into each stream the handler has read (an "as of" for its answers)."""
        return None


class Outcome(Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    SKIPPED = "skipped"
    POISON = "poison"  # can never succeed: dead-letter now
    FAILED = "failed"  # may succeed later: redeliver


@dataclass
class Delivery:
    data: bytes
    stream_sequence: int
    headers: dict[str, str] = field(default_factory=dict)
    stream: str = ""
    envelope: Envelope | None = None
    event: DomainEvent | None = None
    outcome: Outcome | None = None
    reason: str = ""

    @property
    def stamped(self) -> bool:
        """Published by a relay, which stamps every message with the event's store position."""
        return self.headers.get(POSITION_HEADER, "").isdigit()

    @property
    def position(self) -> int:
        """The event's position in its source service's store, as the relay stamps it: unlike the
        stream sequence it survives a stream that lost its messages and was filled again (the
        sequence starts over at 1 there); a message without the stamp gives its stream sequence."""
        stamped = self.headers.get(POSITION_HEADER, "")
        return int(stamped) if stamped.isdigit() else self.stream_sequence


def decode(delivery: Delivery, handler: TransactionalHandler, catalogue: Catalogue) -> None:
    try:
        delivery.envelope = envelope_from_json(delivery.data)
    except ValueError as error:
        delivery.outcome, delivery.reason = Outcome.POISON, f"not a MentorNet envelope: {error}"
        return
    if delivery.envelope.type not in handler.event_types:
        delivery.outcome = Outcome.SKIPPED
        return
    try:
        delivery.event = catalogue.decode(delivery.envelope)
    except (LookupError, ValueError) as error:
        delivery.outcome, delivery.reason = Outcome.POISON, str(error)


async def _apply_all(
    conn: AsyncConnection,
    handler: TransactionalHandler,
    batch: Sequence[Delivery],
    scope: Scope | None,
    seen_batch: Sequence[Delivery] = (),
) -> list[Delivery]:
    scope = scope or await handler.scope(conn)
    if seen_batch:
        await handler.processed(conn, scope, seen_batch)
    known = await tracking.applied(conn, scope.ledger, batch)
    applied = []
    for d in batch:
        assert d.envelope is not None and d.event is not None
        if known.holds(d):
            d.outcome = Outcome.DUPLICATE
            continue
        known.take(d)  # the same event twice in one batch is applied once
        applied.append(d)
    if not applied:
        return applied
    # one span per event, child of the span that published it, covering the batch that applied it
    spans = [
        tracer.start_span(
            f"handle {d.envelope.type}",
            context=propagate.extract(d.headers or d.envelope.trace_context),
            kind=trace.SpanKind.CONSUMER,
            attributes={"mentornet.consumer": handler.name, "mentornet.event_id": str(d.envelope.event_id)},
        )
        for d in applied
        if d.envelope is not None
    ]
    try:
        await handler.apply_many(
            conn, scope, [(d.envelope, d.event) for d in applied if d.envelope and d.event]
        )
    except Exception as error:
        for span in spans:
            span.record_exception(error)
            span.set_status(trace.StatusCode.ERROR, str(error))
        raise
    finally:
        for span in spans:
            span.end()
    await tracking.record(conn, scope.ledger, known, applied)
    return applied


async def process_batch(
    engine: AsyncEngine,
    handler: TransactionalHandler,
    batch: Sequence[Delivery],
    catalogue: Catalogue = CATALOGUE,
    scope: Scope | None = None,
    *,
    raise_outages: bool = False,
) -> None:
    """Set every delivery's outcome; effects of applied events are committed on return.

    With ``raise_outages`` an outage of the database (see ``mentornet_spine.outage``) is raised
    instead of marking events failed, so the caller can retry the batch without spending attempts.
    """
    for d in batch:
        d.outcome, d.reason = None, ""
        decode(d, handler, catalogue)
    todo = [d for d in batch if d.outcome is None]
    seen = batch if handler.tracks_positions else ()
    if not todo:
        if seen:
            async with engine.begin() as conn:
                await handler.processed(conn, scope or await handler.scope(conn), seen)
        return
    try:
        async with engine.begin() as conn:
            applied = await _apply_all(conn, handler, todo, scope, seen)
        for d in applied:
            d.outcome = Outcome.APPLIED
        return
    except Exception as error:
        if raise_outages and is_outage(error):
            raise
        if len(todo) == 1:
            todo[0].outcome, todo[0].reason = Outcome.FAILED, f"{type(error).__name__}: {error}"
            return
        log.info("batch of %d failed (%r); retrying one by one", len(todo), error)
    for d in todo:
        d.outcome = None
        try:
            async with engine.begin() as conn:
                applied = await _apply_all(conn, handler, [d], scope, [d] if seen else ())
            if applied:
                d.outcome = Outcome.APPLIED
        except Exception as error:
            if raise_outages and is_outage(error):
                raise
            d.outcome, d.reason = Outcome.FAILED, f"{type(error).__name__}: {error}"
