"""The registry in-process on real PostgreSQL and NATS, and helpers to act as each role."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from fastapi import FastAPI

from mentornet_events import Subjects
from mentornet_spine.streams import delete_streams
from registry.bootstrap import create_app
from registry.settings import RegistrySettings
from tests.conftest import Database, service_settings

OPERATOR_PASSWORD = "operator-password-for-tests"


@dataclass
class Api:
    client: httpx.AsyncClient

    async def token(self, **form: str) -> str:
        answer = await self.client.post("/auth/token", data=form)
        assert answer.status_code == 200, answer.text
        token: str = answer.json()["access_token"]
        return token

    async def login(self, username: str, password: str) -> dict[str, str]:
        token = await self.token(grant_type="password", username=username, password=password)
        return {"Authorization": f"Bearer {token}"}

    async def as_client(self, client_id: str, secret: str) -> dict[str, str]:
        token = await self.token(grant_type="client_credentials", client_id=client_id, client_secret=secret)
        return {"Authorization": f"Bearer {token}"}

    async def ok(self, method: str, url: str, headers: dict[str, str], **kwargs: Any) -> Any:
        answer = await self.client.request(method, url, headers=headers, **kwargs)
        assert answer.status_code < 300, f"{method} {url}: {answer.status_code} {answer.text}"
        return answer.json()


@pytest.fixture
async def registry_app(
    pg_database: Database, nats_url: str, subjects: Subjects, tmp_path: Path
) -> AsyncIterator[FastAPI]:
    """The registry started with its lifespan on a PostgreSQL schema and a subject root of its own."""
    settings = service_settings("registry", nats_url, subjects, pg_database.url, pg_database.schema)
    own = RegistrySettings(MENTORNET_DATA_DIR=tmp_path, REGISTRY_BOOTSTRAP_PASSWORD=OPERATOR_PASSWORD)
    app = create_app(settings, own)
    async with app.router.lifespan_context(app):
        yield app
    nc = await nats.connect(nats_url)
    await delete_streams(nc.jetstream(), subjects)
    await nc.close()


@pytest.fixture
async def registry_api(registry_app: FastAPI) -> AsyncIterator[Api]:
    transport = httpx.ASGITransport(app=registry_app, raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url="http://registry") as client:
        yield Api(client)


@pytest.fixture
async def operator(registry_api: Api) -> dict[str, str]:
    return await registry_api.login("operator", OPERATOR_PASSWORD)


SCHOOLS = {"A": ("sch-a", "m1"), "B": ("sch-b", "m2")}


def school_body(code: str, municipality: str) -> dict[str, Any]:
    return {
        "code": code,
        "municipality": municipality,
        "name": f"МБОУ СОШ {code}",
        "teachers": 40,
        "students": 500,
        "contact_email": f"office@{code}.example.org",
    }


def mentor_body(last_name: str = "Иванова") -> dict[str, Any]:
    return {
        "person": {
            "last_name": last_name,
            "first_name": "Мария",
            "email": "ivanova@example.org",
            "phone": "+7 900 000-00-00",
        },
        "entry": {
            "subjects": ["математика"],
            "experience_years": 15,
            "qualification": "highest",
            "competencies": ["methodological", "ict"],
            "hours_per_month": 8,
            "max_mentees": 2,
        },
    }


@dataclass
class Network:
    """Two connected schools in two municipalities, each with client credentials and a curator."""

    api: Api
    operator: dict[str, str]
    school: dict[str, dict[str, str]]  # name -> auth headers of the school's own system
    curator: dict[str, dict[str, str]]
    credentials: dict[str, tuple[str, str]]


@pytest.fixture
async def network(registry_api: Api, operator: dict[str, str]) -> Network:
    api = registry_api
    school: dict[str, dict[str, str]] = {}
    curator: dict[str, dict[str, str]] = {}
    credentials: dict[str, tuple[str, str]] = {}
    for name, (code, municipality) in SCHOOLS.items():
        await api.ok(
            "POST", "/municipalities", operator, json={"code": municipality, "name": f"Район {municipality}"}
        )
        await api.ok("POST", "/schools", operator, json=school_body(code, municipality))
        issued = await api.ok("POST", f"/schools/{code}/credentials", operator)
        credentials[name] = (issued["client_id"], issued["client_secret"])
        school[name] = await api.as_client(*credentials[name])
        username = f"curator.{code}"
        await api.ok(
            "POST",
            "/accounts",
            operator,
            json={
                "username": username,
                "password": "curator-password",
                "role": "school_curator",
                "school": code,
            },
        )
        curator[name] = await api.login(username, "curator-password")
    return Network(api, operator, school, curator, credentials)
