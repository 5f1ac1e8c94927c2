"""The monitoring service in-process on its own PostgreSQL schema (or SQLite), fed over real JetStream."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI
from nats.js import JetStreamContext

from mentornet_auth import Principal, Role, SigningKey, TokenIssuer
from mentornet_events import CATALOGUE, Envelope, Subjects, envelope_to_json
from mentornet_spine.db import create_schema, drop_schema
from mentornet_spine.relay import message_headers
from monitoring.application.monitoring import Monitoring
from monitoring.bootstrap import create_app
from monitoring.settings import MonitoringSettings
from tests.conftest import service_settings
from tests.integration.support import eventually
from tests.monitoring.scenario import REGION


def store_positions(envelopes: Iterable[tuple[str, Envelope]]) -> dict[UUID, int]:
    """Each event's position in its source service's store: 1, 2, ... per source, in script order."""
    counted: Counter[str] = Counter()
    positions = {}
    for source, envelope in envelopes:
        counted[source] += 1
        positions[envelope.event_id] = counted[source]
    return positions


@dataclass
class Observatory:
    app: FastAPI
    client: httpx.AsyncClient
    issuer: TokenIssuer
    js: JetStreamContext
    subjects: Subjects

    @property
    def service(self) -> Monitoring:
        monitoring: Monitoring = self.app.state.monitoring
        return monitoring

    def headers(self, role: Role, **place: Any) -> dict[str, str]:
        principal = Principal(subject=f"{role.value}-test", role=role, region=REGION, **place)
        return {"Authorization": f"Bearer {self.issuer.issue(principal)}"}

    @property
    def region_operator(self) -> dict[str, str]:
        return self.headers(Role.REGIONAL_OPERATOR)

    async def publish(
        self,
        envelopes: Iterable[tuple[str, Envelope]],
        msg_ids: bool = True,
        positions: Mapping[UUID, int] | None = None,
    ) -> None:
        """As an upstream service's relay would: subject per event, Nats-Msg-Id = event id, and
        with ``positions`` each event's position in its source's store (see ``store_positions``)."""
        for _source, envelope in envelopes:
            position = positions[envelope.event_id] if positions is not None else None
            headers = message_headers(envelope, position=position)
            if not msg_ids:
                headers.pop("Nats-Msg-Id")
            subject = CATALOGUE.spec(envelope.type).subject(self.subjects)
            await self.js.publish(subject, envelope_to_json(envelope), headers=headers)

    async def settled(self) -> None:
        """Wait until monitoring has applied everything on the registry and programs streams."""
        ends = {}
        for source in ("registry", "programs"):
            info = await self.js.stream_info(self.subjects.stream(source))
            ends[self.subjects.stream(source)] = info.state.last_seq

        async def check() -> bool:
            answer = await self.get("/indicators/region")
            return all(answer["as_of"].get(s, 0) >= seq for s, seq in ends.items() if seq)

        await eventually(check)

    async def get(self, url: str, headers: dict[str, str] | None = None, fresh: bool = True) -> Any:
        """GET as the region's operator (or ``headers``); ``fresh``: at the current positions."""
        asked = dict(headers or self.region_operator)
        if fresh:
            asked["Cache-Control"] = "no-cache"
        answer = await self.client.get(url, headers=asked)
        assert answer.status_code == 200, f"{url}: {answer.status_code} {answer.text}"
        return answer.json()


@pytest.fixture
async def observatory(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    nats_url: str,
    subjects: Subjects,
    postgres_url: str,
    js: JetStreamContext,
) -> AsyncIterator[Observatory]:
    """On PostgreSQL; ``parametrize("observatory", ["sqlite"], indirect=True)`` for the embedded one."""
    embedded = getattr(request, "param", "postgresql") == "sqlite"
    schema = None if embedded else await create_schema(postgres_url, "monitoring")
    settings = service_settings(
        "monitoring",
        nats_url,
        subjects,
        f"sqlite+aiosqlite:///{tmp_path / 'monitoring.db'}" if embedded else postgres_url,
        schema,
    )
    issuer = TokenIssuer([SigningKey.generate("test-1")])

    async def jwks() -> dict[str, Any]:
        return issuer.jwks()

    app = create_app(settings, MonitoringSettings(MENTORNET_REGION=REGION), jwks=jwks)
    app.state.monitoring.today = lambda: date(2027, 6, 1)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
        async with httpx.AsyncClient(transport=transport, base_url="http://monitoring") as client:
            yield Observatory(app, client, issuer, js, subjects)
    if schema:
        await drop_schema(postgres_url, schema)
