"""One trace across services: a curator's request to the registry, the event it appended, the
registry's relay, and the programs service's consumer that applied it, all under one trace id."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan

from tests.programs.conftest import World, mentee_body
from tests.telemetry import InMemoryTelemetry, in_memory_telemetry


@pytest.fixture(scope="module", autouse=True)
def telemetry() -> InMemoryTelemetry:
    """Installed before the apps are made: an app instruments itself only when traces go somewhere."""
    return in_memory_telemetry()


def _ancestors(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[ReadableSpan]:
    chain = [span]
    while chain[-1].parent is not None and chain[-1].parent.span_id in by_id:
        chain.append(by_id[chain[-1].parent.span_id])
    return chain


async def test_a_registry_request_and_the_programs_consumer_share_one_trace(
    world: World, telemetry: InMemoryTelemetry
) -> None:
    mentee = await world.register("A", "mentees", mentee_body())
    await world.eligible(mentee, mentee_consent=True)  # the programs service has applied it

    spans = telemetry.finished_spans()
    [handled] = [
        s
        for s in spans
        if s.name == "handle MenteeRegistered"
        and s.attributes is not None
        and s.attributes.get("mentornet.consumer") == "programs-eligibility"
        and s.context.trace_id in {r.context.trace_id for r in spans if "mentees" in r.name}
    ]
    by_id = {s.context.span_id: s for s in spans if s.context.trace_id == handled.context.trace_id}
    chain = _ancestors(handled, by_id)
    names = [s.name for s in chain]
    # consumer (programs) ← relay publish (registry) ← append (registry) ← … ← the HTTP request
    assert names[:3] == ["handle MenteeRegistered", "outbox.relay", "eventstore.append"], names
    root = chain[-1]
    assert root.parent is None and root.kind is trace.SpanKind.SERVER, names
    assert root.name.startswith("POST /schools/") and "mentees" in root.name, names
    assert chain[0].kind is trace.SpanKind.CONSUMER and chain[1].kind is trace.SpanKind.PRODUCER
