"""``Idempotency-Key`` for commands: a repeated request with the same key gets the first answer.

Keys are scoped to the authenticated subject; the same key with a different request is refused
(422), and a key whose first request is still running answers 409.
"""

from __future__ import annotations

import hashlib
import json
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from mentornet_auth import InvalidToken
from mentornet_auth.fastapi import Authenticator
from mentornet_spine.db import is_sqlite, statement_reads
from mentornet_spine.tables import UTCDateTime

HEADER = "Idempotency-Key"
KEEP = timedelta(hours=24)


def idempotency_table(metadata: MetaData, name: str) -> Table:
    """The keys a service remembers, in its own database (its migration creates the table)."""
    return Table(
        name,
        metadata,
        Column("key", String(200), primary_key=True),
        Column("subject", String(200), primary_key=True),
        Column("request_hash", String(64), nullable=False),
        Column("status_code", Integer),
        Column("response", Text),
        Column("created_at", UTCDateTime(), nullable=False),
    )


class IdempotencyMiddleware(BaseHTTPMiddleware):
    def __init__(self, app: ASGIApp, engine: AsyncEngine, authenticator: Authenticator, table: Table) -> None:
        super().__init__(app)
        self.engine = engine
        self.authenticator = authenticator
        self.table = table
        self.autocommit = statement_reads(engine)

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        key = request.headers[HEADER]  # IdempotencyGate sends only commands that carry it
        if not 1 <= len(key) <= 200:
            return JSONResponse({"detail": "Idempotency-Key: от 1 до 200 символов"}, status_code=422)
        subject = await self._subject(request)
        body = await request.body()
        digest = hashlib.sha256(
            f"{request.method} {request.url.path}?{request.url.query}\n".encode() + body
        ).hexdigest()
        if not await self._claim(key, subject, digest):
            return await self._replay(key, subject, digest)
        response = await call_next(request)
        content = b"".join([chunk async for chunk in response.body_iterator])  # type: ignore[attr-defined]
        mine = (self.table.c.key == key) & (self.table.c.subject == subject)
        async with self._write() as conn:
            if response.status_code >= 500:
                await conn.execute(delete(self.table).where(mine))
            else:
                await conn.execute(
                    update(self.table)
                    .where(mine)
                    .values(
                        status_code=response.status_code, response=content.decode("utf-8", errors="replace")
                    )
                )
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return Response(
            content, status_code=response.status_code, headers=headers, media_type=response.media_type
        )

    def _write(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """One statement: autocommit on PostgreSQL (no BEGIN/COMMIT round trips), a transaction on SQLite."""
        return self.engine.begin() if is_sqlite(self.engine) else self.autocommit.connect()

    async def _claim(self, key: str, subject: str, digest: str) -> bool:
        """Take the key in one statement: new, or its first use older than ``KEEP``; False if it is live."""
        now = datetime.now(UTC)
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        claim = dialect.insert(self.table).values(
            key=key, subject=subject, request_hash=digest, created_at=now, status_code=None, response=None
        )
        claim = claim.on_conflict_do_update(
            index_elements=["key", "subject"],
            set_={"request_hash": digest, "created_at": now, "status_code": None, "response": None},
            where=self.table.c.created_at < now - KEEP,
        ).returning(self.table.c.key)
        async with self._write() as conn:
            return (await conn.execute(claim)).first() is not None

    async def _subject(self, request: Request) -> str:
        authorization = request.headers.get("Authorization", "")
        if authorization.lower().startswith("bearer "):
            try:
                subject: str = (await self.authenticator.authenticate(authorization[7:])).subject
                return subject
            except InvalidToken:
                return "invalid-token"
        return f"anonymous:{request.client.host if request.client else '-'}"

    async def _replay(self, key: str, subject: str, digest: str) -> Response:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(self.table).where(self.table.c.key == key, self.table.c.subject == subject)
                )
            ).one()
        if row.request_hash != digest:
            return JSONResponse(
                {"detail": "Этот Idempotency-Key уже использован с другим запросом"}, status_code=422
            )
        if row.status_code is None:
            return JSONResponse({"detail": "Запрос с этим Idempotency-Key ещё выполняется"}, status_code=409)
        try:
            json.loads(row.response or "null")
            media = "application/json"
        except ValueError:
            media = "text/plain"
        return Response(
            row.response or "",
            status_code=row.status_code,
            media_type=media,
            headers={"Idempotent-Replayed": "true"},
        )


class IdempotencyGate:
    """Only commands that carry the header pay for the buffering middleware; reads go straight on."""

    def __init__(self, app: ASGIApp, engine: AsyncEngine, authenticator: Authenticator, table: Table) -> None:
        self.app = app
        self.keeper = IdempotencyMiddleware(app, engine, authenticator, table)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] not in ("GET", "HEAD", "OPTIONS")
            and any(name == b"idempotency-key" for name, _ in scope["headers"])
        ):
            await self.keeper(scope, receive, send)
        else:
            await self.app(scope, receive, send)
