"""A minimal service built on the spine's runtime, to test ``mentornet up``, processes and faults.

It appends PairFormed events on request and projects them with the spine's test projection.
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from mentornet_spine.consumer import ConsumerSettings
from mentornet_spine.http import create_http_app
from mentornet_spine.projection import Projection
from mentornet_spine.runtime import ServiceRuntime
from mentornet_spine.services import ServiceSpec
from mentornet_spine.settings import SpineSettings
from mentornet_spine.testing import EventCounts, pair_formed, tenant

SPEC = ServiceSpec(
    name="sample",
    app_factory="tests.integration.sample_service:create_app",
    projections="tests.integration.sample_service:projections",
    port=18950,
    description="spine test service",
)


def projections() -> list[Projection]:
    return [EventCounts("sample-event-counts")]


class FormPairs(BaseModel):
    school: str = "s1"
    count: int = 1
    expected_version: int | None = None
    stream_id: str | None = None


def consumer_settings(settings: SpineSettings) -> ConsumerSettings:
    """Fault tests shorten the redelivery delays (``SAMPLE_CONSUMER_BACKOFF=0.1,0.2``) so that a
    failure counted as the event's would reach the last attempt, and the dead letters, in seconds."""
    backoff = os.environ.get("SAMPLE_CONSUMER_BACKOFF")
    if not backoff:
        return ConsumerSettings(ack_wait_s=settings.consumer_ack_wait)
    delays = tuple(float(d) for d in backoff.split(","))
    return ConsumerSettings(ack_wait_s=settings.consumer_ack_wait, backoff_s=delays)


def create_app(settings: SpineSettings) -> FastAPI:
    [counts] = projections()
    runtime = ServiceRuntime(settings, [counts], consumer_settings(settings))
    app = create_http_app(runtime, "Sample")

    @app.post("/pairs", status_code=201)
    async def form_pairs(command: FormPairs) -> dict[str, Any]:
        stored = []
        for _ in range(command.count):
            event = pair_formed()
            stored += await runtime.store.append(
                command.stream_id or f"pair-{event.pair_id}",
                command.expected_version if command.stream_id else 0,
                [event],
                tenant=tenant(command.school),
            )
        return {"event_ids": [str(s.envelope.event_id) for s in stored]}

    @app.get("/counts")
    async def read_counts() -> dict[str, Any]:
        assert isinstance(counts, EventCounts)
        table, applied = await counts.content(runtime.engine)
        return {
            "counts": {f"{school}/{kind}": n for (school, kind), n in table.items()},
            "applied": len(applied),
        }

    return app
