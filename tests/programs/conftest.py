"""The programs service in-process beside the registry, on real PostgreSQL and NATS.

The registry's events reach the programs service through JetStream (its own consumer), exactly
as in production; each service has a PostgreSQL schema of its own and both share a subject root.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from mentornet_events import Subjects
from mentornet_spine.db import create_schema, drop_schema
from programs.adapters.tables import eligible
from programs.application.context import Programs
from programs.bootstrap import create_app
from programs.settings import ProgramsSettings
from tests.conftest import service_settings
from tests.integration.support import eventually
from tests.registry.conftest import SCHOOLS, Api, Network
from tests.registry.conftest import network as network  # the registry's fixtures, used here
from tests.registry.conftest import operator as operator
from tests.registry.conftest import registry_api as registry_api
from tests.registry.conftest import registry_app as registry_app


class Clock:
    """The service's today, set by the test (overdue checks, default dates)."""

    def __init__(self, today: date) -> None:
        self.today = today

    def __call__(self) -> date:
        return self.today


@dataclass
class World:
    """A registry with two schools, the programs service, and helpers to act in both."""

    network: Network
    programs: Api
    app: FastAPI
    clock: Clock

    @property
    def service(self) -> Programs:
        programs: Programs = self.app.state.programs
        return programs

    async def register(self, school: str, base: str, body: dict[str, Any]) -> uuid.UUID:
        code = SCHOOLS[school][0]
        answer = await self.network.api.ok(
            "POST", f"/schools/{code}/{base}", self.network.curator[school], json=body
        )
        return uuid.UUID(answer["id"])

    async def eligible(self, participant_id: uuid.UUID, **expected: Any) -> Any:
        """Wait until the registry's events about a participant have reached the programs service."""

        async def check() -> Any:
            async with self.service.units.engine.connect() as conn:
                row = (
                    await conn.execute(select(eligible).where(eligible.c.id == participant_id))
                ).one_or_none()
            if row is None or any(getattr(row, k) != v for k, v in expected.items()):
                return None
            return row

        return await eventually(check)

    async def account(self, school: str, role: str, participant_id: uuid.UUID) -> dict[str, str]:
        username = f"{role}.{participant_id.hex[:12]}"
        await self.network.api.ok(
            "POST",
            "/accounts",
            self.network.curator[school],
            json={
                "username": username,
                "password": "person-password",
                "role": role,
                "school": SCHOOLS[school][0],
                "participant_id": str(participant_id),
            },
        )
        return await self.network.api.login(username, "person-password")


def mentee_body(deficits: list[str] | None = None) -> dict[str, Any]:
    return {
        "person": {"last_name": "Петров", "first_name": "Олег"},
        "entry": {
            "subjects": ["математика"],
            "experience_years": 1,
            "young_specialist": True,
            "deficits": deficits or ["methodological"],
        },
    }


@pytest.fixture
async def programs_app(
    registry_app: FastAPI, nats_url: str, subjects: Subjects, postgres_url: str
) -> AsyncIterator[tuple[FastAPI, Clock]]:
    schema = await create_schema(postgres_url, "programs")
    settings = service_settings("programs", nats_url, subjects, postgres_url, schema)
    transport = httpx.ASGITransport(app=registry_app)

    async def registry_jwks() -> dict[str, Any]:
        async with httpx.AsyncClient(transport=transport, base_url="http://registry") as client:
            keys: dict[str, Any] = (await client.get("/.well-known/jwks.json")).json()
            return keys

    clock = Clock(date(2026, 9, 1))
    app = create_app(settings, ProgramsSettings(PROGRAMS_OVERDUE_CHECK_EVERY=3600), jwks=registry_jwks)
    app.state.programs.today = clock
    async with app.router.lifespan_context(app):
        yield app, clock
    await drop_schema(postgres_url, schema)


@pytest.fixture
async def world(network: Network, programs_app: tuple[FastAPI, Clock]) -> AsyncIterator[World]:
    app, clock = programs_app
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url="http://programs") as client:
        yield World(network, Api(client), app, clock)
