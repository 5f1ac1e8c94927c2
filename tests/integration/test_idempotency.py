"""The Idempotency-Key gate on SQLite and PostgreSQL: one answer per key, a live key's reuse refused,
an expired key free again."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import MetaData, Table, update
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mentornet_auth.fastapi import Authenticator, CurrentPrincipal, install_auth, jwks_from_url
from mentornet_spine.idempotency import KEEP, IdempotencyGate, idempotency_table
from mentornet_spine.natsserver import free_port
from tests.conftest import Database


class Anonymous:
    """Requests without a bearer token are keyed by their client address; no verifier is asked."""

    async def authenticate(self, token: str) -> Any:  # pragma: no cover - never called here
        raise AssertionError(token)


async def _keys_table(database: Database, name: str) -> Table:
    metadata = MetaData()
    table = idempotency_table(metadata, name)
    async with database.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    return table


async def test_a_key_gets_one_answer_and_is_free_again_once_expired(database: Database) -> None:
    table = await _keys_table(database, "test_idempotency")
    made: list[int] = []

    async def create(request: Request) -> JSONResponse:
        made.append(len(made) + 1)
        return JSONResponse({"n": made[-1], "body": (await request.json())}, status_code=201)

    app = Starlette(routes=[Route("/things", create, methods=["POST"])])
    gated = IdempotencyGate(app, database.engine, Anonymous(), table)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gated), base_url="http://t") as client:
        key = {"Idempotency-Key": "k-1"}
        first = await client.post("/things", headers=key, json={"a": 1})
        again = await client.post("/things", headers=key, json={"a": 1})
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json() == {"n": 1, "body": {"a": 1}}
        assert again.headers["Idempotent-Replayed"] == "true"
        other = await client.post("/things", headers=key, json={"a": 2})
        assert other.status_code == 422
        async with database.engine.begin() as conn:  # a day later the key is forgotten
            await conn.execute(update(table).values(created_at=datetime.now(UTC) - KEEP * 2))
        later = await client.post("/things", headers=key, json={"a": 2})
        assert later.status_code == 201 and later.json() == {"n": 2, "body": {"a": 2}}
        assert (await client.post("/things", headers=key, json={"a": 2})).json()["n"] == 2
    assert made == [1, 2]


async def test_a_first_attempt_that_failed_leaves_the_key_free_for_the_retry(database: Database) -> None:
    table = await _keys_table(database, "test_idempotency_failed")
    attempts: list[bytes] = []

    async def create(request: Request) -> JSONResponse:
        attempts.append(await request.body())
        if len(attempts) == 1:
            raise RuntimeError("the database went away mid-command")
        if len(attempts) == 2:
            return JSONResponse({"detail": "try later"}, status_code=503)
        return JSONResponse({"made": True}, status_code=201, headers={"ETag": '"1"'})

    app = Starlette(routes=[Route("/things", create, methods=["POST"])])
    gated = IdempotencyGate(app, database.engine, Anonymous(), table)  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=gated, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        key = {"Idempotency-Key": "k-2"}
        assert (await client.post("/things", headers=key, content=b'{"a": 1}')).status_code == 500
        assert (await client.post("/things", headers=key, content=b'{"a": 1}')).status_code == 503
        made = await client.post("/things", headers=key, content=b'{"a": 1}')
        assert made.status_code == 201 and made.headers["ETag"] == '"1"'
        replayed = await client.post("/things", headers=key, content=b'{"a": 1}')
        assert replayed.status_code == 201 and replayed.json() == {"made": True}
    assert attempts == [b'{"a": 1}'] * 3  # the body reached the app whole each time


async def test_a_command_while_the_registry_s_keys_cannot_be_fetched_is_a_503(database: Database) -> None:
    """A service restarted while the registry is away has no signing keys yet: a command's token can
    be neither accepted nor refused, so the answer is 503 with Retry-After (it was a 500), with the
    Idempotency-Key gate and without it, and the command is not run."""
    table = await _keys_table(database, "test_idempotency_keys_away")
    made: list[int] = []
    api = FastAPI()
    authenticator = Authenticator(jwks_from_url(f"http://127.0.0.1:{free_port()}/.well-known/jwks.json"))
    install_auth(api, authenticator)

    @api.post("/things", status_code=201)
    async def things(principal: CurrentPrincipal) -> dict[str, str]:
        made.append(1)
        return {"by": principal.subject}

    gated = IdempotencyGate(api, database.engine, authenticator, table)
    token = {"Authorization": "Bearer eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIn0.e30.c2ln"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gated), base_url="http://t") as client:
        for headers in (token | {"Idempotency-Key": "k-1"}, token):
            answer = await client.post("/things", headers=headers, json={})
            assert answer.status_code == 503, answer.text
            assert answer.headers["Retry-After"] and "реестр не отвечает" in answer.json()["detail"]
    assert made == []
