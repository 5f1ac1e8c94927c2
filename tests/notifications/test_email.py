"""E-mail over a real SMTP server, with addresses the registry gives at delivery time only."""

from __future__ import annotations

import asyncio
import email
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import date
from email.header import decode_header, make_header
from typing import Any

import httpx
import nats
import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from sqlalchemy import select, text

from mentornet_events import CATALOGUE, Subjects, envelope_to_json
from mentornet_events.vocabulary import MentoringForm
from mentornet_spine.db import create_schema, drop_schema
from mentornet_spine.natsserver import free_port
from mentornet_spine.relay import message_headers
from notifications.adapters.tables import emails
from notifications.bootstrap import create_app
from notifications.settings import NotificationsSettings
from tests.conftest import service_settings
from tests.integration.support import eventually
from tests.monitoring.scenario import Script
from tests.notifications.conftest import FAST
from tests.programs.conftest import mentee_body
from tests.registry.conftest import SCHOOLS, Network, mentor_body
from tests.registry.conftest import network as network  # the registry's fixtures, used here
from tests.registry.conftest import operator as operator
from tests.registry.conftest import registry_api as registry_api
from tests.registry.conftest import registry_app as registry_app

SERVICE_PASSWORD = "service-password-for-tests"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.Message]] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
async def mail_app(
    network: Network,
    registry_app: FastAPI,
    smtp: tuple[Inbox, int],
    nats_url: str,
    subjects: Subjects,
    postgres_url: str,
) -> AsyncIterator[FastAPI]:
    await network.api.ok(
        "POST",
        "/accounts",
        network.operator,
        json={"username": "notifications", "password": SERVICE_PASSWORD, "role": "service"},
    )
    schema = await create_schema(postgres_url, "notifications")
    settings = service_settings("notifications", nats_url, subjects, postgres_url, schema)
    own = NotificationsSettings(
        NOTIFICATIONS_SMTP_HOST="127.0.0.1",
        NOTIFICATIONS_SMTP_PORT=smtp[1],
        NOTIFICATIONS_REGISTRY_PASSWORD=SERVICE_PASSWORD,
    )
    registry = httpx.AsyncClient(transport=httpx.ASGITransport(app=registry_app), base_url="http://registry")

    async def jwks() -> dict[str, Any]:
        keys: dict[str, Any] = (await registry.get("/.well-known/jwks.json")).json()
        return keys

    app = create_app(settings, own, jwks=jwks, policy=FAST, registry_client=registry)
    async with app.router.lifespan_context(app):
        yield app
    await registry.aclose()
    await drop_schema(postgres_url, schema)


def _subject(message: email.message.Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


async def test_a_pair_formed_is_mailed_to_its_people_and_school_with_addresses_from_the_registry(
    network: Network, mail_app: FastAPI, smtp: tuple[Inbox, int], subjects: Subjects, nats_url: str
) -> None:
    code = SCHOOLS["A"][0]
    mentor = (
        await network.api.ok("POST", f"/schools/{code}/mentors", network.curator["A"], json=mentor_body())
    )["id"]
    body = mentee_body()
    body["person"]["email"] = "petrov@example.org"
    mentee = (await network.api.ok("POST", f"/schools/{code}/mentees", network.curator["A"], json=body))["id"]
    script = Script()
    script.ids.update({"T1": uuid.UUID(mentor), "T2": uuid.UUID(mentee)})
    script.pair("P1", code, date(2026, 9, 10), "T1", "T2", MentoringForm.TEACHER_TEACHER)
    _, envelope = script.envelopes[-1]
    envelope = envelope.model_copy(
        update={"tenant": envelope.tenant.model_copy(update={"municipality": SCHOOLS["A"][1]})}
    )
    nc_js = mail_app.state.notifications  # the app's engine, to look at what it stores
    nc = await nats.connect(nats_url)
    await nc.jetstream().publish(
        CATALOGUE.spec(envelope.type).subject(subjects),
        envelope_to_json(envelope),
        headers=message_headers(envelope),
    )
    await nc.close()
    inbox, _ = smtp

    def mailed(subject: str) -> list[str]:
        return sorted(rcpt for rcpts, m in inbox.messages if _subject(m) == subject for rcpt in rcpts)

    pair_formed = "Сформирована наставническая пара"
    await eventually(lambda: asyncio.sleep(0, result=len(inbox.messages) == 5))  # 3 + 2 schools connected
    assert mailed(pair_formed) == sorted(
        ["ivanova@example.org", "petrov@example.org", f"office@{code}.example.org"]
    )
    # the registry's own SchoolConnected events reached notifications too: each school's office was told
    connected = [f"Организация {c} подключена к MentorNet" for c, _ in SCHOOLS.values()]
    assert [mailed(s) for s in connected] == [[f"office@{c}.example.org"] for c, _ in SCHOOLS.values()]

    async def all_sent() -> bool:
        async with nc_js.engine.connect() as conn:
            return set(await conn.scalars(select(emails.c.status))) == {"sent"}

    await eventually(all_sent)  # the SMTP server may have a mail a moment before its status is recorded
    async with nc_js.engine.connect() as conn:
        stored = await conn.scalar(
            text("SELECT string_agg(body || subject, ' ') FROM notifications_messages")
        )
    assert len(inbox.messages) == 5
    assert "example.org" not in stored  # addresses are asked for, never kept
