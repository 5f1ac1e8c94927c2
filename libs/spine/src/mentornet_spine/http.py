"""The HTTP side every service shares: FastAPI with tracing, health, and domain errors as 409/404/422."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

from mentornet_events import InvalidEventPayload, UnknownEventType
from mentornet_spine.runtime import ServiceRuntime
from mentornet_spine.store import ConcurrencyConflict


class NotFound(LookupError):
    """A resource that does not exist, or that the caller may not know exists (HTTP 404)."""


def create_http_app(runtime: ServiceRuntime, title: str) -> FastAPI:
    app = FastAPI(title=title, lifespan=runtime.lifespan)
    app.state.runtime = runtime

    @app.get("/health", tags=["ops"])
    async def health() -> JSONResponse:
        report = await runtime.health()
        return JSONResponse(report, status_code=200 if report["ok"] else 503)

    @app.exception_handler(ConcurrencyConflict)
    async def conflict(_request: Request, error: ConcurrencyConflict) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=409)

    @app.exception_handler(NotFound)
    async def not_found(_request: Request, error: NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=404)

    @app.exception_handler(InvalidEventPayload)
    @app.exception_handler(UnknownEventType)
    async def invalid(_request: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=422)

    FastAPIInstrumentor.instrument_app(app, excluded_urls="/health")
    return app
