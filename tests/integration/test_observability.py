"""Metrics and logs a running service gives its operators: consumer lag, handler latency, outbox
backlog, dead letters and HTTP latency with sane values, and JSON log lines that lead to a trace.

In-process on the real NATS and PostgreSQL, with the SDK's in-memory exporters in place of OTLP.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import nats
import pytest
from opentelemetry import trace
from opentelemetry.sdk.metrics.export import Metric

from mentornet_events import Subjects
from mentornet_spine.relay import OutboxRelay
from mentornet_spine.sampling import MetricsSampler
from mentornet_spine.store import EventStore
from mentornet_spine.streams import delete_streams
from mentornet_spine.telemetry import JsonFormatter
from mentornet_spine.testing import EventCounts, item_completed, pair_formed, tenant
from tests.conftest import Database, service_settings
from tests.integration.sample_service import create_app
from tests.integration.support import eventually
from tests.telemetry import InMemoryTelemetry, in_memory_telemetry

CONSUMER = "sample-event-counts"


@pytest.fixture(scope="module", autouse=True)
def telemetry() -> InMemoryTelemetry:
    return in_memory_telemetry()


def _points(telemetry: InMemoryTelemetry, name: str, **attributes: str) -> list[Any]:
    found: list[Metric] = [m for m in telemetry.metrics() if m.name == name]
    return [
        p
        for m in found
        for p in m.data.data_points
        if all((p.attributes or {}).get(k) == v for k, v in attributes.items())
    ]


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """What the service logs, formatted as it is in production (one JSON object a line)."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter("sample"))
    handler.setLevel(logging.WARNING)
    root = logging.getLogger()
    root.addHandler(handler)
    yield out
    root.removeHandler(handler)


async def test_metrics_and_json_logs_of_a_running_service(
    pg_database: Database,
    nats_url: str,
    subjects: Subjects,
    telemetry: InMemoryTelemetry,
    json_log: io.StringIO,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SAMPLE_CONSUMER_BACKOFF", "0.05")  # the poison event is dead-lettered in a second
    settings = service_settings(
        "sample", nats_url, subjects, pg_database.url, pg_database.schema, metrics_interval=0.1
    )
    app = create_app(settings)
    counts = EventCounts(CONSUMER)
    async with app.router.lifespan_context(app):
        runtime = app.state.runtime
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sample") as client:
            for _ in range(5):
                assert (await client.post("/pairs", json={"school": "s3", "count": 4})).status_code == 201
        with trace.get_tracer("test").start_as_current_span("a curator completes an item") as span:
            poison_trace = f"{span.get_span_context().trace_id:032x}"
            await runtime.store.append("item-1", 0, [item_completed("POISON")], tenant=tenant("s3"))

        async def settled() -> bool:
            _, applied = await counts.content(pg_database.engine)
            stream = subjects.stream("programs")
            lag = _points(telemetry, "mentornet.consumer.lag", consumer=CONSUMER, stream=stream)
            backlog = _points(telemetry, "mentornet.outbox.backlog", service="sample")
            dead = _points(telemetry, "mentornet.dead_letters", consumer=CONSUMER)
            # everything relayed, applied or dead-lettered: no lag, no backlog (as last sampled)
            return len(applied) == 20 and bool(dead) and [p.value for p in lag + backlog] == [0, 0]

        await eventually(settled, within=20, interval=0.1)

    # handler latency: one histogram point per consumer, a count per batch, seconds
    [latency] = _points(telemetry, "mentornet.handler.duration", consumer=CONSUMER)
    assert latency.count >= 2 and 0 < latency.min <= latency.max < 10
    [dead] = _points(telemetry, "mentornet.dead_letters", consumer=CONSUMER)
    assert dead.value == 1
    http = [
        p
        for name in ("http.server.duration", "http.server.request.duration")
        for p in _points(telemetry, name)
        if "/pairs" in ((p.attributes or {}).get("http.route"), (p.attributes or {}).get("http.target"))
    ]
    assert http and sum(p.count for p in http) >= 5 and all(p.min > 0 for p in http)

    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    about_poison = [line for line in lines if line.get("trace_id") == poison_trace]
    assert any("dead-lettering" in line["message"] for line in about_poison), lines[-5:]
    assert all(len(line["span_id"]) == 16 and line["service"] == "sample" for line in about_poison)

    nc = await nats.connect(nats_url)
    await delete_streams(nc.jetstream(), subjects)
    await nc.close()


async def test_lag_and_backlog_are_sampled_from_the_broker_and_the_store(
    pg_database: Database, nats_url: str, subjects: Subjects, telemetry: InMemoryTelemetry
) -> None:
    """Gauges follow the figures: 7 events committed and not relayed are a backlog of 7; once
    relayed to a durable consumer that is not running, they are its lag of 7."""
    settings = service_settings("sample", nats_url, subjects, pg_database.url, pg_database.schema)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        pass  # creates the streams and the durable consumer, then stops consuming
    store = EventStore(pg_database.engine)
    for i in range(7):
        await store.append(f"pair-{i}", 0, [pair_formed()], tenant=tenant())
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    relay = OutboxRelay(pg_database.engine, js, subjects)
    sampler = MetricsSampler(f"lagged-{subjects.root}", js, subjects, [EventCounts(CONSUMER)], relay)
    try:
        stream = subjects.stream("programs")
        await sampler.sample()
        [backlog] = _points(telemetry, "mentornet.outbox.backlog", service=sampler.service)
        [lag] = _points(telemetry, "mentornet.consumer.lag", service=sampler.service, stream=stream)
        assert (backlog.value, lag.value) == (7, 0)
        assert await relay.relay_once() == 7
        await sampler.sample()
        [backlog] = _points(telemetry, "mentornet.outbox.backlog", service=sampler.service)
        [lag] = _points(telemetry, "mentornet.consumer.lag", service=sampler.service, stream=stream)
        assert (backlog.value, lag.value) == (0, 7)
    finally:
        sampler.close()
        await delete_streams(js, subjects)
        await nc.close()
