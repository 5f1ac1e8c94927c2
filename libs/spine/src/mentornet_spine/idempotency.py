"""``Idempotency-Key`` for commands: a repeated request with the same key gets the first answer.

Keys are scoped to the authenticated subject; the same key with a different request is refused
(422), and a key whose first request is still running answers 409.
"""

from __future__ import annotations

import hashlib
import json
import logging
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mentornet_auth import InvalidToken
from mentornet_auth.fastapi import Authenticator, KeysUnavailable, keys_unavailable
from mentornet_spine.db import is_sqlite, statement_reads
from mentornet_spine.outage import is_outage
from mentornet_spine.tables import UTCDateTime

log = logging.getLogger(__name__)
HEADER = "Idempotency-Key"
DATABASE_AWAY = JSONResponse(
    {"detail": "База данных временно недоступна, повторите запрос"},
    status_code=503,
    headers={"Retry-After": "1"},
)
KEEP = timedelta(hours=24)
#: a key whose first request has no answer after this long was held by a process that died
#: (kill -9 between the claim and the answer): its retry may run the command again
LEASE = timedelta(seconds=60)


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


class IdempotencyMiddleware:
    """Pure ASGI (Starlette's BaseHTTPMiddleware costs a task and a stream per request)."""

    def __init__(self, app: ASGIApp, engine: AsyncEngine, authenticator: Authenticator, table: Table) -> None:
        self.app = app
        self.engine = engine
        self.authenticator = authenticator
        self.table = table
        self.autocommit = statement_reads(engine)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        key = headers[HEADER]  # IdempotencyGate sends only commands that carry it
        if not 1 <= len(key) <= 200:
            answer = JSONResponse({"detail": "Idempotency-Key: от 1 до 200 символов"}, status_code=422)
            await answer(scope, receive, send)
            return
        try:
            subject = await self._subject(headers, scope)
        except KeysUnavailable:  # outside FastAPI's handlers: the same 503 as theirs
            await keys_unavailable()(scope, receive, send)
            return
        body = await _body(receive)
        target = f"{scope['method']} {scope['path']}?{scope.get('query_string', b'').decode('latin-1')}\n"
        digest = hashlib.sha256(target.encode() + body).hexdigest()
        try:
            claimed = await self._claim(key, subject, digest)
            if not claimed:
                await (await self._replay(key, subject, digest))(scope, receive, send)
                return
        except Exception as error:  # outside FastAPI's handlers: an outage is a 503 here too
            if not is_outage(error):
                raise
            await DATABASE_AWAY(scope, receive, send)
            return
        given = False

        async def replayed() -> Message:
            nonlocal given
            if not given:
                given = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        start: Message = {}
        chunks: list[bytes] = []

        async def keep(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        mine = (self.table.c.key == key) & (self.table.c.subject == subject)
        try:
            await self.app(scope, replayed, keep)
        except BaseException:
            async with self._write() as conn:  # a failed first attempt must not block the retry
                await conn.execute(delete(self.table).where(mine))
            raise
        content = b"".join(chunks)
        status = int(start.get("status", 500))
        for attempt in (1, 2):  # the command is done: its answer goes out whatever happens here
            try:
                async with self._write() as conn:
                    if status >= 500:
                        await conn.execute(delete(self.table).where(mine))
                    else:
                        await conn.execute(
                            update(self.table)
                            .where(mine)
                            .values(status_code=status, response=content.decode("utf-8", errors="replace"))
                        )
                break
            except Exception as error:
                if not is_outage(error) or attempt == 2:
                    # the key stays claimed; after LEASE a retry runs the command again, and its
                    # domain rules (one pair, one acquaintance meeting…) answer what exists
                    log.warning("Idempotency-Key %s: the answer was not kept (%r)", key, error)
        await send(start)
        await send({"type": "http.response.body", "body": content, "more_body": False})

    def _write(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """One statement: autocommit on PostgreSQL (no BEGIN/COMMIT round trips), a transaction on SQLite."""
        return self.engine.begin() if is_sqlite(self.engine) else self.autocommit.connect()

    async def _claim(self, key: str, subject: str, digest: str) -> bool:
        """Take the key in one statement: new, its first use older than ``KEEP``, or a claim left
        unanswered past ``LEASE`` by a process that died; False if it is live."""
        now = datetime.now(UTC)
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        claim = dialect.insert(self.table).values(
            key=key, subject=subject, request_hash=digest, created_at=now, status_code=None, response=None
        )
        claim = claim.on_conflict_do_update(
            index_elements=["key", "subject"],
            set_={"request_hash": digest, "created_at": now, "status_code": None, "response": None},
            where=(self.table.c.created_at < now - KEEP)
            | (self.table.c.status_code.is_(None) & (self.table.c.created_at < now - LEASE)),
        ).returning(self.table.c.key)
        async with self._write() as conn:
            return (await conn.execute(claim)).first() is not None

    async def _subject(self, headers: Headers, scope: Scope) -> str:
        authorization = headers.get("Authorization", "")
        if authorization.lower().startswith("bearer "):
            try:
                subject: str = (await self.authenticator.authenticate(authorization[7:])).subject
                return subject
            except InvalidToken:
                return "invalid-token"
        client = scope.get("client")
        return f"anonymous:{client[0] if client else '-'}"

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
            return JSONResponse(  # Retry-After: not an answer about the command, ask again later
                {"detail": "Запрос с этим Idempotency-Key ещё выполняется: повторите его чуть позже"},
                status_code=409,
                headers={"Retry-After": "2"},
            )
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


async def _body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)
