"""The HTTP side every service shares: FastAPI with tracing, health, and domain errors as 409/404/422."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response as StarletteResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mentornet_events import InvalidEventPayload, UnknownEventType
from mentornet_spine.errors import DomainError, InvalidCommand
from mentornet_spine.outage import is_outage
from mentornet_spine.runtime import ServiceRuntime
from mentornet_spine.store import ConcurrencyConflict
from mentornet_spine.telemetry import metrics_enabled, tracing_enabled
from mentornet_spine.validation import ru_errors, ru_http_detail


class NotFound(LookupError):
    """A resource that does not exist, or that the caller may not know exists (HTTP 404)."""


class RejectNul:
    """PostgreSQL text cannot hold NUL: refuse it in the path or query as bad input (422), not a 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw = scope.get("raw_path", b"") + b"?" + scope.get("query_string", b"")
            if b"\x00" in raw or b"%00" in raw.lower() or "\x00" in scope.get("path", ""):
                answer = JSONResponse({"detail": "Недопустимый символ NUL в адресе запроса"}, status_code=422)
                await answer(scope, receive, send)
                return
        await self.app(scope, receive, send)


#: A command's JSON never needs more; an event must stay under the stream's 1 MiB message limit.
MAX_BODY_BYTES = 1024 * 1024


def human_size(size: int) -> str:
    return f"{size / (1024 * 1024):g} МБ" if size >= 1024 * 1024 else f"{size // 1024} КБ"


def body_too_large(limit: int) -> str:
    return f"Запрос слишком велик: не больше {human_size(limit)}; сократите текст или разделите файл"


def too_large_json(limit: int) -> StarletteResponse:
    return JSONResponse({"detail": body_too_large(limit)}, status_code=413)


class LimitBody:
    """Refuse a request body over its limit with 413 before anything parses it.

    The body is read up to the limit (a lying or absent Content-Length changes nothing) and handed
    on whole, so no handler, form parser or JSON decoder ever holds more than the limit.
    ``larger`` gives paths (regular expressions) a limit of their own, e.g. a file import.
    """

    def __init__(
        self,
        app: ASGIApp,
        limit: int = MAX_BODY_BYTES,
        larger: Sequence[tuple[str, int]] = (),
        answer: Callable[[int], StarletteResponse] = too_large_json,
    ) -> None:
        self.app = app
        self.limit = limit
        self.larger = [(re.compile(pattern), size) for pattern, size in larger]
        self.answer = answer

    def limit_of(self, path: str) -> int:
        return next((size for pattern, size in self.larger if pattern.fullmatch(path)), self.limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.limit_of(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await self.answer(limit)(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self.answer(limit)(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()  # after the body: wait for the disconnect, as Starlette does
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def if_match(
    if_match: Annotated[str | None, Header(description="Ожидаемая версия (ETag)")] = None,
) -> int | None:
    """Optimistic concurrency from the ``If-Match`` header (the ETag of a previous read)."""
    if if_match is None:
        return None
    try:
        return int(if_match.strip().strip('W/"').strip('"'))
    except ValueError:
        return -1  # never matches: the client sent something that is not one of our ETags


IfMatch = Annotated[int | None, Depends(if_match)]


def versioned(response: Response, version: int, **more: Any) -> dict[str, Any]:
    """A command's answer: the aggregate's new version, also as the ETag for the next If-Match."""
    response.headers["ETag"] = f'"{version}"'
    return {"version": version, **more}


def create_http_app(
    runtime: ServiceRuntime, title: str, larger_bodies: Sequence[tuple[str, int]] = ()
) -> FastAPI:
    """``larger_bodies``: (path pattern, byte limit) for the few routes that take files."""
    app = FastAPI(title=title, lifespan=runtime.lifespan)
    app.state.runtime = runtime
    app.add_middleware(RejectNul)
    app.add_middleware(LimitBody, larger=larger_bodies)  # added last: runs first

    @app.get("/health", tags=["ops"])
    async def health() -> JSONResponse:
        report = await runtime.health()
        return JSONResponse(report, status_code=200 if report["ok"] else 503)

    @app.exception_handler(ConcurrencyConflict)
    async def stale(_request: Request, error: ConcurrencyConflict) -> JSONResponse:
        detail = (
            f"Данные уже изменил кто-то другой (ожидалась версия {error.expected}, сейчас {error.actual}); "
            "обновите их и повторите действие"
        )
        return JSONResponse({"detail": detail}, status_code=409)

    @app.exception_handler(DomainError)
    async def refused(_request: Request, error: DomainError) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=409)

    @app.exception_handler(InvalidCommand)
    async def invalid_command(_request: Request, error: InvalidCommand) -> JSONResponse:
        errors = [{"field": error.field or "<body>", "message": str(error)}]
        return JSONResponse({"detail": str(error), "errors": errors}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def validation(_request: Request, error: RequestValidationError) -> JSONResponse:
        errors = ru_errors(list(error.errors()))
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return JSONResponse({"detail": f"Проверьте данные — {summary}", "errors": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        detail = ru_http_detail(error.status_code, error.detail)
        return JSONResponse({"detail": detail}, status_code=error.status_code, headers=error.headers)

    @app.exception_handler(NotFound)
    async def not_found(_request: Request, error: NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=404)

    @app.exception_handler(InvalidEventPayload)
    @app.exception_handler(UnknownEventType)
    async def invalid(_request: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=422)

    @app.exception_handler(DBAPIError)
    @app.exception_handler(OSError)  # connection refused, reset: asyncpg raises them unwrapped
    async def database_away(_request: Request, error: Exception) -> JSONResponse:
        if not is_outage(error):
            raise error
        return JSONResponse(
            {"detail": "База данных временно недоступна, повторите запрос"},
            status_code=503,
            headers={"Retry-After": "1"},
        )

    if tracing_enabled() or metrics_enabled():  # spans and HTTP latency, only when they go somewhere
        FastAPIInstrumentor.instrument_app(app, excluded_urls="/health")
    return app
