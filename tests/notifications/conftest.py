"""The notifications service in-process, fed over real JetStream, with real webhook receivers on loopback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from nats.js import JetStreamContext
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mentornet_auth import Principal, Role, SigningKey, TokenIssuer
from mentornet_events import CATALOGUE, Envelope, Subjects, envelope_to_json
from mentornet_events.catalogue.registry import SchoolConnected
from mentornet_events.vocabulary import SchoolKind
from mentornet_spine.db import create_schema, drop_schema
from mentornet_spine.natsserver import free_port
from mentornet_spine.relay import message_headers
from notifications.adapters.tables import schools
from notifications.bootstrap import create_app
from notifications.domain.webhooks import DeliveryPolicy
from tests.conftest import service_settings
from tests.integration.support import eventually
from tests.monitoring.scenario import REGION, Script

FAST = DeliveryPolicy(
    max_attempts=4, base_delay_s=0.05, max_delay_s=0.2, open_after_failures=2, open_for_s=0.3
)


@dataclass
class Receiver:
    """A school's own system: answers 500 ``fail`` times (or always), after ``delay`` seconds."""

    fail: int = 0
    always_fail: bool = False
    delay: float = 0.0
    requests: list[tuple[dict[str, str], bytes, int]] = field(default_factory=list)

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        if self.delay:
            await asyncio.sleep(self.delay)
        failing = self.always_fail or len([r for r in self.requests if r[2] >= 500]) < self.fail
        status = 500 if failing else 200
        self.requests.append((dict(request.headers), body, status))
        return Response(status_code=status)

    def received(self) -> list[dict[str, Any]]:
        """Messages accepted (2xx), each once per message id."""
        return [json.loads(body) for _, body, status in self.requests if status < 300]


@asynccontextmanager
async def receivers(boxes: dict[str, Receiver]) -> AsyncIterator[str]:
    """One HTTP server on loopback; ``/<school>`` is that school's receiver. Yields the base URL."""

    async def route(request: Request) -> Response:
        return await boxes[request.path_params["school"]].handle(request)

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            Starlette(routes=[Route("/{school}", route, methods=["POST"])]), port=port, log_level="warning"
        )
    )
    task = asyncio.create_task(server.serve())
    await eventually(lambda: asyncio.sleep(0, result=server.started), within=10)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@dataclass
class Post:
    app: FastAPI
    client: httpx.AsyncClient
    issuer: TokenIssuer
    js: JetStreamContext
    subjects: Subjects

    def headers(self, role: Role, **place: Any) -> dict[str, str]:
        principal = Principal(subject=f"{role.value}-{place}", role=role, region=REGION, **place)
        return {"Authorization": f"Bearer {self.issuer.issue(principal)}"}

    async def publish(self, envelopes: Iterable[tuple[str, Envelope]], msg_ids: bool = True) -> None:
        for _source, envelope in envelopes:
            headers = message_headers(envelope)
            if not msg_ids:
                headers.pop("Nats-Msg-Id")
            await self.js.publish(
                CATALOGUE.spec(envelope.type).subject(self.subjects),
                envelope_to_json(envelope),
                headers=headers,
            )

    async def connected(self, script: Script, codes: Iterable[str]) -> None:
        for code in codes:
            script.emit(
                f"school-{code}",
                code,
                date(2026, 8, 25),
                SchoolConnected(
                    code=code, name=f"Школа {code}", kind=SchoolKind.SCHOOL, teachers=10, students=100
                ),
            )
        await self.publish([e for e in script.envelopes if e[1].type == "SchoolConnected"])
        wanted = set(codes)

        async def known() -> bool:
            async with self.app.state.notifications.engine.connect() as conn:
                return wanted <= set(await conn.scalars(select(schools.c.code)))

        await eventually(known)

    async def ok(self, method: str, url: str, headers: dict[str, str], **kwargs: Any) -> Any:
        answer = await self.client.request(method, url, headers=headers, **kwargs)
        assert answer.status_code < 300, f"{method} {url}: {answer.status_code} {answer.text}"
        return answer.json() if answer.content else None


Start = Callable[[], Awaitable[Post]]


@pytest.fixture
async def post_office(
    nats_url: str, subjects: Subjects, postgres_url: str, js: JetStreamContext
) -> AsyncIterator[Callable[[], Any]]:
    """Starts the service (again, for restart tests) on one schema; yields an async context factory."""
    schema = await create_schema(postgres_url, "notifications")
    settings = service_settings("notifications", nats_url, subjects, postgres_url, schema)
    issuer = TokenIssuer([SigningKey.generate("test-1")])

    async def jwks() -> dict[str, Any]:
        return issuer.jwks()

    @asynccontextmanager
    async def running(concurrency: int = 100) -> AsyncIterator[Post]:
        from notifications.settings import NotificationsSettings

        app = create_app(
            settings,
            NotificationsSettings(NOTIFICATIONS_WEBHOOK_CONCURRENCY=concurrency),
            jwks=jwks,
            policy=FAST,
        )
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
            async with httpx.AsyncClient(transport=transport, base_url="http://notifications") as client:
                yield Post(app, client, issuer, js, subjects)

    yield running
    await drop_schema(postgres_url, schema)
