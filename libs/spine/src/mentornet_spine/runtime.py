"""The composition root every service shares: database, event store, relay, consumers, HTTP health.

A service provides its FastAPI routes and its handlers; the runtime wires the rest the same way
for all of them, so knowing one service means knowing all.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from faststream.nats import ConsumerConfig, NatsBroker
from nats.aio.client import Client
from sqlalchemy import text

from mentornet_spine.consumer import ConsumerSettings, register_consumer, restore_consumers
from mentornet_spine.db import make_engine
from mentornet_spine.handlers import TransactionalHandler
from mentornet_spine.migrate import MigrationSet, migrate
from mentornet_spine.natsconnect import broker_options, connect, inbox_prefix, resilience, servers
from mentornet_spine.projection import Projection
from mentornet_spine.relay import OutboxRelay
from mentornet_spine.sampling import MetricsSampler
from mentornet_spine.settings import SpineSettings
from mentornet_spine.store import EventStore
from mentornet_spine.streams import ensure_streams
from mentornet_spine.telemetry import metrics_enabled

log = logging.getLogger(__name__)


class ServiceRuntime:
    def __init__(
        self,
        settings: SpineSettings,
        handlers: Sequence[TransactionalHandler] = (),
        consumer_settings: ConsumerSettings | None = None,
        migrations: Sequence[MigrationSet] = (),
    ) -> None:
        self.settings = settings
        self.migrations = list(migrations)
        self.subjects = settings.subjects
        self.handlers = list(handlers)
        self.engine = make_engine(
            settings.database_url,
            schema=settings.database_schema,
            pool_size=settings.database_pool_size,
            application_name=settings.database_application_name or f"mentornet-{settings.service}",
        )
        self.store = EventStore(self.engine)
        self.broker = NatsBroker(
            servers(settings.nats_url),
            graceful_timeout=30,
            log_level=logging.DEBUG,  # one line per message is noise at INFO
            **broker_options(settings),
            **resilience(settings, f"mentornet-{settings.service}"),
        )
        consumer_settings = consumer_settings or ConsumerSettings(
            ack_wait_s=settings.consumer_ack_wait, linger_s=settings.consumer_linger
        )
        #: each durable consumer's stream and config, to create it again if its stream lost it
        self.consumers: list[tuple[str, ConsumerConfig]] = []
        for handler in self.handlers:
            self.consumers += register_consumer(
                self.broker,
                self.engine,
                handler,
                self.subjects,
                consumer_settings,
                inbox_prefix=inbox_prefix(settings.nats_user),
            )
        #: run after migrations and before serving (e.g. bootstrap data)
        self.on_start: list[Callable[[], Awaitable[None]]] = []
        if self.consumers:
            self.every(settings.relay_reconcile_every, self._restore_consumers, "restore-consumers")
        #: run first when stopping (e.g. a service's own background tasks)
        self.on_stop: list[Callable[[], Awaitable[None]]] = []
        self._nc: Client | None = None
        self.relay: OutboxRelay | None = None
        self._stop = asyncio.Event()
        self._relay_task: asyncio.Task[None] | None = None
        self._sampler_task: asyncio.Task[None] | None = None
        self.sampler: MetricsSampler | None = None

    def every(self, interval_s: float, job: Callable[[], Awaitable[object]], name: str) -> None:
        """Run ``job`` every ``interval_s`` seconds while the service runs (a failure waits for the next)."""
        stop = asyncio.Event()

        async def loop() -> None:
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), interval_s)
                if stop.is_set():
                    break
                try:
                    await job()
                except Exception:
                    log.exception("%s failed; next run as scheduled", name)

        async def start() -> None:
            stop.clear()
            task = asyncio.create_task(loop(), name=name)

            async def finish() -> None:
                stop.set()
                await task

            self.on_stop.append(finish)

        self.on_start.append(start)

    async def _restore_consumers(self) -> int:
        return await restore_consumers(self._nc.jetstream(), self.consumers) if self._nc else 0

    async def start(self) -> None:
        await migrate(self.engine, *self.migrations)
        for handler in self.handlers:
            if isinstance(handler, Projection):
                await handler.install(self.engine)
        self._nc = await connect(
            self.settings, **resilience(self.settings, f"mentornet-{self.settings.service}-relay")
        )
        js = self._nc.jetstream()
        if self.settings.provision_streams:
            await ensure_streams(js, self.subjects, self.settings.stream_replicas)
        provision = None
        if self.settings.provision_streams:

            async def provision() -> None:
                await ensure_streams(js, self.subjects, self.settings.stream_replicas)

        self.relay = OutboxRelay(
            self.engine,
            js,
            self.subjects,
            service=self.settings.service,
            reconcile_every_s=self.settings.relay_reconcile_every,
            provision=provision,
        )
        self.store.on_appended.append(self.relay.wake)
        self._stop.clear()
        self._relay_task = asyncio.create_task(self.relay.run(self._stop), name="outbox-relay")
        if metrics_enabled():  # sampling costs queries: only when the figures go somewhere
            self.sampler = MetricsSampler(self.settings.service, js, self.subjects, self.handlers, self.relay)
            sampling = self.sampler.run(self._stop, self.settings.metrics_interval)
            self._sampler_task = asyncio.create_task(sampling, name="metrics-sampler")
        await self.broker.start()
        for hook in self.on_start:
            await hook()
        # What lives from start-up to the end (modules, tables, the app: ~200,000 objects) leaves
        # the collector's sight; otherwise every full collection walks it all and stalls each
        # request under way for ~100 ms.
        gc.collect()
        gc.freeze()
        log.info("service %s started", self.settings.service)

    async def stop(self) -> None:
        for hook in self.on_stop:
            await hook()
        self.on_stop.clear()
        self._stop.set()
        if self._relay_task:
            await self._relay_task
        if self._sampler_task:
            await self._sampler_task
        if self.sampler:
            self.sampler.close()
        # the broker may already be gone (a shutdown of the whole system): stop anyway
        try:
            await self.broker.stop()
        except Exception as error:
            log.warning("broker stop: %r", error)
        if self._nc is not None:
            try:
                await self._nc.drain()
            except Exception as error:
                log.warning("relay connection drain: %r", error)
                await self._nc.close()
        await self.engine.dispose()
        log.info("service %s stopped", self.settings.service)

    async def health(self) -> dict[str, Any]:
        """What ``/health`` reports; ``ok`` is false if the database or the broker is away."""
        checks: dict[str, Any] = {}
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as error:
            checks["database"] = f"error: {error}"
        connected = self._nc is not None and self._nc.is_connected
        checks["nats"] = "ok" if connected else "disconnected"
        if self.relay is not None and checks["database"] == "ok":
            checks["outbox_backlog"] = await self.relay.backlog()
            checks["outbox_parked"] = len(await self.relay.parked())
        checks["ok"] = checks["database"] == "ok" and connected
        checks["service"] = self.settings.service
        return checks

    @asynccontextmanager
    async def lifespan(self, _app: Any) -> AsyncIterator[None]:
        await self.start()
        try:
            yield
        finally:
            await self.stop()
