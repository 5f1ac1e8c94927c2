"""One trace follows an HTTP request through the append, the relay and the consumer."""

from __future__ import annotations

import httpx
import nats
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan

from mentornet_events import Subjects
from mentornet_spine.streams import delete_streams
from tests.conftest import Database, service_settings
from tests.integration.sample_service import create_app
from tests.integration.support import eventually
from tests.telemetry import InMemoryTelemetry, in_memory_telemetry


@pytest.fixture(scope="module", autouse=True)
def telemetry() -> InMemoryTelemetry:
    """Installed before any app of this module is made: apps instrument themselves if traced."""
    return in_memory_telemetry()


def _named(spans: list[ReadableSpan], prefix: str) -> list[ReadableSpan]:
    return [s for s in spans if s.name.startswith(prefix)]


async def test_request_append_relay_and_handling_share_one_trace(
    pg_database: Database, nats_url: str, subjects: Subjects, telemetry: InMemoryTelemetry
) -> None:
    settings = service_settings("sample", nats_url, subjects, pg_database.url, pg_database.schema)
    app = create_app(settings)
    telemetry.spans.clear()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sample") as client:
            answer = await client.post("/pairs", json={"school": "s7"})
            assert answer.status_code == 201

            async def handled() -> list[ReadableSpan]:
                return _named(list(telemetry.spans.get_finished_spans()), "handle PairFormed")

            await eventually(handled)
    spans = list(telemetry.spans.get_finished_spans())
    [request] = [s for s in _named(spans, "POST /pairs") if s.parent is None]
    [append] = _named(spans, "eventstore.append")
    [relay] = _named(spans, "outbox.relay")
    [handle] = _named(spans, "handle PairFormed")
    trace_id = request.context.trace_id
    assert {s.context.trace_id for s in (append, relay, handle)} == {trace_id}
    assert relay.parent is not None and relay.parent.span_id == append.context.span_id
    assert handle.parent is not None and handle.parent.span_id == relay.context.span_id
    assert relay.kind is trace.SpanKind.PRODUCER and handle.kind is trace.SpanKind.CONSUMER
    nc = await nats.connect(nats_url)
    await delete_streams(nc.jetstream(), subjects)
    await nc.close()
