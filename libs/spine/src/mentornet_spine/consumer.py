"""Durable JetStream pull consumers on faststream, with bounded redelivery and a dead-letter subject.

faststream's default NATS ack policy terminates a failing message; here acknowledgement is manual:
applied or duplicate → ack; failed → nak with a growing delay until ``max_deliver``; poison or
out of attempts → the original event and the reason go to ``<root>.dlq.<consumer>``, then term.
An outage of the database is none of the events' fault: the batch is retried in place (JetStream
told the work is in progress) until the database answers, so no attempt is spent on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Annotated, Any

from faststream import Context
from faststream.middlewares import AckPolicy as FastStreamAckPolicy
from faststream.nats import ConsumerConfig, JStream, NatsBroker, PullSub
from faststream.nats.message import NatsBatchMessage
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, DeliverPolicy
from nats.js.errors import NotFoundError
from opentelemetry import context as otel_context
from opentelemetry import propagate
from sqlalchemy.ext.asyncio import AsyncEngine

from mentornet_events import CATALOGUE, Catalogue, Subjects
from mentornet_spine import compat, metrics
from mentornet_spine.handlers import Delivery, Outcome, TransactionalHandler, process_batch
from mentornet_spine.outage import is_outage

log = logging.getLogger(__name__)
compat.install()


@dataclass(frozen=True)
class ConsumerSettings:
    max_deliver: int = 5
    ack_wait_s: float = 30.0
    batch_size: int = 256
    fetch_timeout_s: float = 0.5
    #: nak delays by attempt (seconds); the last one repeats
    backoff_s: tuple[float, ...] = (0.2, 1.0, 5.0, 15.0)
    #: how long a batch is retried in place through a database outage before attempts count again
    outage_patience_s: float = 3600.0
    #: after a small batch, wait this long before the next fetch, so events arriving one by one are
    #: applied a few dozen to a transaction (a batch's fixed cost is most of a small one's); the
    #: first event after a quiet spell is still fetched at once
    linger_s: float = 0.0

    def delay(self, attempt: int) -> float:
        return self.backoff_s[min(attempt, len(self.backoff_s)) - 1]


def dead_letter_body(consumer: str, msg: Msg, reason: str, attempts: int) -> bytes:
    meta = msg.metadata
    try:
        original: Any = json.loads(msg.data)
    except ValueError:
        original = msg.data.decode("utf-8", errors="replace")
    return json.dumps(
        {
            "consumer": consumer,
            "reason": reason,
            "attempts": attempts,
            "subject": msg.subject,
            "stream": meta.stream,
            "stream_sequence": meta.sequence.stream,
            "dead_lettered_at": datetime.now(UTC).isoformat(),
            "original": original,
        },
        ensure_ascii=False,
    ).encode()


async def _raw_bodies(_message: Any) -> None:
    """faststream would JSON-decode every body of the batch only to throw the result away."""
    return None


def register_consumer(
    broker: NatsBroker,
    engine: AsyncEngine,
    handler: TransactionalHandler,
    subjects: Subjects,
    settings: ConsumerSettings | None = None,
    catalogue: Catalogue = CATALOGUE,
    inbox_prefix: str = "_INBOX",
) -> list[tuple[str, ConsumerConfig]]:
    """Subscribe ``handler`` to each of its source streams with one durable consumer per stream;
    returns (stream, config) of each, for ``restore_consumers``.

    Pulled messages arrive under ``inbox_prefix`` (the subscriber's own option: faststream does not
    take the connection's), which the service's NATS user may subscribe to.
    """
    cfg = settings or ConsumerSettings()
    made: list[tuple[str, ConsumerConfig]] = []
    for source in handler.sources:
        # JetStream sends only the event types the handler applies (the rest would cost a delivery,
        # a decode and an ack each); a source none of whose types it wants is read whole, as before.
        wanted = sorted(
            spec.subject(subjects)
            for spec in catalogue
            if spec.service == source and spec.name in handler.event_types
        )
        config = ConsumerConfig(
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            max_deliver=cfg.max_deliver,
            ack_wait=cfg.ack_wait_s,
            max_ack_pending=cfg.batch_size * 8,
            filter_subjects=wanted,
        )
        made.append((subjects.stream(source), replace(config, durable_name=handler.name)))
        subscriber = broker.subscriber(
            subjects.service_wildcard(source),
            stream=JStream(subjects.stream(source), declare=False),
            durable=handler.name,
            pull_sub=PullSub(batch_size=cfg.batch_size, timeout=cfg.fetch_timeout_s, batch=True),
            inbox_prefix=f"{inbox_prefix}.".encode(),
            config=config,
            ack_policy=FastStreamAckPolicy.MANUAL,
            decoder=_raw_bodies,  # handle_messages parses the envelopes itself
            title=f"{handler.name}:{source}",
        )

        @subscriber
        async def on_batch(message: Annotated[NatsBatchMessage, Context("message")]) -> None:
            await handle_messages(broker, engine, handler, subjects, cfg, message.raw_message, catalogue)
            if cfg.linger_s and len(message.raw_message) < cfg.batch_size // 4:
                await asyncio.sleep(cfg.linger_s)

    return made


async def restore_consumers(js: JetStreamContext, consumers: list[tuple[str, ConsumerConfig]]) -> int:
    """Create again a durable consumer its stream lost (the stream recreated after a broker's data
    loss): the subscription pulls by the durable's name, so it resumes, and reads the stream from
    its start — what was applied before is a duplicate to the processed-events records."""
    restored = 0
    for stream, config in consumers:
        try:
            await js.consumer_info(stream, str(config.durable_name))
        except NotFoundError:
            try:
                await js.add_consumer(stream, config)
            except NotFoundError:
                continue  # the stream itself is missing: its relay or provisioner creates it
            log.warning("durable consumer %s on %s was missing: created again", config.durable_name, stream)
            restored += 1
    return restored


async def handle_messages(
    broker: NatsBroker,
    engine: AsyncEngine,
    handler: TransactionalHandler,
    subjects: Subjects,
    cfg: ConsumerSettings,
    msgs: list[Msg],
    catalogue: Catalogue = CATALOGUE,
) -> None:
    deliveries = [
        Delivery(m.data, m.metadata.sequence.stream, dict(m.headers or {}), m.metadata.stream) for m in msgs
    ]
    started = time.perf_counter()
    await _process_through_outages(engine, handler, cfg, msgs, deliveries, catalogue)
    metrics.handler_latency.record(time.perf_counter() - started, {"consumer": handler.name})
    outcomes = Counter(str(d.outcome and d.outcome.value) for d in deliveries)
    for outcome, count in outcomes.items():  # once per batch and outcome: it costs a lock and a dict
        metrics.events_handled.add(count, {"consumer": handler.name, "outcome": outcome})
    for msg, d in zip(msgs, deliveries, strict=True):
        attempts = msg.metadata.num_delivered
        if d.outcome in (Outcome.APPLIED, Outcome.DUPLICATE, Outcome.SKIPPED):
            await msg.ack()
        elif d.outcome is Outcome.POISON or attempts >= cfg.max_deliver:
            with _in_trace_of(d):
                log.error("dead-lettering %s seq %s: %s", handler.name, d.stream_sequence, d.reason)
            await broker.publish(
                dead_letter_body(handler.name, msg, d.reason, attempts),
                subjects.dead_letter(handler.name),
                # the event's store position, not the sequence a refilled stream would give another
                headers={"Nats-Msg-Id": f"{handler.name}:{msg.metadata.stream}:{d.position}"},
                stream=subjects.dead_letter_stream,
            )
            metrics.dead_letters.add(1, {"consumer": handler.name})
            await msg.term()
        else:
            with _in_trace_of(d):
                log.warning(
                    "%s seq %s failed (attempt %s): %s", handler.name, d.stream_sequence, attempts, d.reason
                )
            await msg.nak(delay=cfg.delay(attempts))


async def _process_through_outages(
    engine: AsyncEngine,
    handler: TransactionalHandler,
    cfg: ConsumerSettings,
    msgs: list[Msg],
    deliveries: list[Delivery],
    catalogue: Catalogue,
) -> None:
    """``process_batch``, retried in place while the database is away (up to ``outage_patience_s``)."""
    started = time.monotonic()
    pause = 0.1
    while True:
        patient = time.monotonic() - started < cfg.outage_patience_s
        try:
            await process_batch(engine, handler, deliveries, catalogue, raise_outages=patient)
            return
        except Exception as error:
            if not is_outage(error):
                raise
            metrics.outage_retries.add(1, {"consumer": handler.name})
            log.warning(
                "%s: database unavailable (%r); retrying the batch in %.1fs", handler.name, error, pause
            )
        # keep JetStream from redelivering what this process still holds (best effort: NATS may be away too)
        await asyncio.gather(*(m.in_progress() for m in msgs), return_exceptions=True)
        await asyncio.sleep(pause)
        pause = min(pause * 2, 2.0, cfg.ack_wait_s / 3)


@contextlib.contextmanager
def _in_trace_of(delivery: Delivery) -> Iterator[None]:
    """Log lines about an event carry the trace it travels in (even with tracing off here)."""
    carrier = delivery.headers or (delivery.envelope.trace_context if delivery.envelope else {})
    token = otel_context.attach(propagate.extract(carrier))
    try:
        yield
    finally:
        otel_context.detach(token)
