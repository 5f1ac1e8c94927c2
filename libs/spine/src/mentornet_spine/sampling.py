"""Gauges that need a query to read: consumer lag (JetStream's pending count) and outbox backlog.

Asking JetStream and the database inside the SDK's export callback would block the exporter's
thread on I/O of the event loop; instead a task of the service samples them every
``MENTORNET_METRICS_INTERVAL`` seconds and the gauges report the last sample.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Iterable, Sequence

from nats.js import JetStreamContext
from opentelemetry.metrics import CallbackOptions, Observation

from mentornet_events import Subjects
from mentornet_spine.handlers import TransactionalHandler
from mentornet_spine.metrics import meter
from mentornet_spine.relay import OutboxRelay

log = logging.getLogger(__name__)

_SAMPLERS: weakref.WeakSet[MetricsSampler] = weakref.WeakSet()


class MetricsSampler:
    """Samples one service's consumers and outbox; all live samplers feed the same gauges."""

    def __init__(
        self,
        service: str,
        js: JetStreamContext,
        subjects: Subjects,
        handlers: Sequence[TransactionalHandler],
        relay: OutboxRelay | None,
    ) -> None:
        self.service = service
        self.js = js
        self.subjects = subjects
        self.handlers = list(handlers)
        self.relay = relay
        #: (consumer, stream) → messages in the stream not yet delivered to the consumer
        self.lag: dict[tuple[str, str], int] = {}
        self.backlog: int | None = None
        _SAMPLERS.add(self)

    async def sample(self) -> None:
        for handler in self.handlers:
            for source in handler.sources:
                stream = self.subjects.stream(source)
                try:
                    info = await self.js.consumer_info(stream, handler.name, timeout=2)
                except Exception as error:  # not created yet, or the broker is away: keep the last value
                    log.debug("consumer lag of %s on %s: %r", handler.name, stream, error)
                    continue
                self.lag[(handler.name, stream)] = int(info.num_pending or 0) + int(info.num_ack_pending or 0)
        if self.relay is not None:
            try:
                self.backlog = await self.relay.backlog()
            except Exception as error:
                log.debug("outbox backlog: %r", error)

    async def run(self, stop: asyncio.Event, interval_s: float) -> None:
        while not stop.is_set():
            await self.sample()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_s)

    def close(self) -> None:
        _SAMPLERS.discard(self)


def _observe_lag(_options: CallbackOptions) -> Iterable[Observation]:
    return [
        Observation(n, {"service": s.service, "consumer": consumer, "stream": stream})
        for s in list(_SAMPLERS)
        for (consumer, stream), n in s.lag.items()
    ]


def _observe_backlog(_options: CallbackOptions) -> Iterable[Observation]:
    return [Observation(s.backlog, {"service": s.service}) for s in list(_SAMPLERS) if s.backlog is not None]


consumer_lag = meter.create_observable_gauge(
    "mentornet.consumer.lag",
    [_observe_lag],
    unit="{event}",
    description="Events in the stream not yet acknowledged by the durable consumer (pending + in flight)",
)
outbox_backlog = meter.create_observable_gauge(
    "mentornet.outbox.backlog",
    [_observe_backlog],
    unit="{event}",
    description="Events committed, not yet acknowledged by JetStream",
)
