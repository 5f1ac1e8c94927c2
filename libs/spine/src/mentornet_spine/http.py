"""The HTTP side every service shares: FastAPI with tracing, health, and domain errors as 409/404/422."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from sqlalchemy.exc import DBAPIError
from starlette.types import ASGIApp, Receive, Scope, Send

from mentornet_events import InvalidEventPayload, UnknownEventType
from mentornet_spine.errors import DomainError, InvalidCommand
from mentornet_spine.runtime import ServiceRuntime
from mentornet_spine.store import ConcurrencyConflict
from mentornet_spine.telemetry import metrics_enabled, tracing_enabled
from mentornet_spine.validation import ru_errors


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


def create_http_app(runtime: ServiceRuntime, title: str) -> FastAPI:
    app = FastAPI(title=title, lifespan=runtime.lifespan)
    app.state.runtime = runtime
    app.add_middleware(RejectNul)

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

    @app.exception_handler(NotFound)
    async def not_found(_request: Request, error: NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=404)

    @app.exception_handler(InvalidEventPayload)
    @app.exception_handler(UnknownEventType)
    async def invalid(_request: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=422)

    @app.exception_handler(DBAPIError)
    async def database_away(_request: Request, error: DBAPIError) -> JSONResponse:
        if not error.connection_invalidated:
            raise error
        return JSONResponse(
            {"detail": "База данных временно недоступна, повторите запрос"},
            status_code=503,
            headers={"Retry-After": "1"},
        )

    if tracing_enabled() or metrics_enabled():  # spans and HTTP latency, only when they go somewhere
        FastAPIInstrumentor.instrument_app(app, excluded_urls="/health")
    return app
