"""Composition root of the web pages: settings, the services' clients, sessions, security headers, routes.

The pages hold no data: no database, no broker. Every figure and every change goes through the
services' public APIs with the signed-in person's token, so the services' own role and tenant
checks apply; the pages add their own on top (a school's staff never see another school's pages).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from urllib.parse import quote

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from mentornet_spine.http import LimitBody, body_too_large
from mentornet_spine.services import ServiceSpec
from mentornet_spine.settings import SpineSettings
from mentornet_spine.validation import ru_errors
from web.api import auth, dashboard, inbox, pairs, programmes, regional, school
from web.api.deps import TEMPLATES, Refused, SignInRequired, render
from web.api.school import MAX_IMPORT_BYTES
from web.application.clients import ApiError, Backend
from web.application.session import COOKIE, Session, SessionCodec
from web.settings import WebSettings

SPEC = ServiceSpec(
    name="web",
    app_factory="web.bootstrap:create_app",
    port=8105,
    description="pages for people: the institute, municipalities, curators, mentors and mentees",
    database=False,
    broker=False,
    pages=True,
)
STATIC = Path(__file__).resolve().parent / "static"
#: scripts and styles only from this site (no inline code), nothing framed, forms only to here
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

#: what a page's query parameter must look like, said when a person typed it wrong
ADDRESS_HINTS = {"period": "учебный год в виде 2026/2027"}


def _too_large_page(limit: int) -> HTMLResponse:
    """The 413 as a page: the body limit answers before any session is read, so signed out."""
    page = TEMPLATES.get_template("error.html").render(
        session=Session(), flash=None, csrf="", today=date.today(), text=body_too_large(limit)
    )
    return HTMLResponse(page, status_code=413)


def create_app(
    settings: SpineSettings, web_settings: WebSettings | None = None, client: httpx.AsyncClient | None = None
) -> FastAPI:
    own = web_settings or WebSettings()
    codec = SessionCodec(own.secret())
    backend = Backend(own, client)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await backend.close()

    app = FastAPI(
        title="MentorNet — страницы", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.backend = backend
    app.state.settings = own
    app.state.region = (settings.region_name, settings.timezone)
    imports = (r"/schools/[^/]+/import/[^/]+", MAX_IMPORT_BYTES + 64 * 1024)
    app.add_middleware(LimitBody, larger=[imports], answer=_too_large_page)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.middleware("http")
    async def sessions_and_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        static = request.url.path.startswith("/static/")
        request.state.session = codec.load(request.cookies.get(COOKIE))
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if static:
            response.headers["Cache-Control"] = "public, max-age=3600"
            return response
        response.headers.setdefault("Cache-Control", "no-store")
        response.set_cookie(
            COOKIE,
            codec.dump(request.state.session),
            httponly=True,
            samesite="lax",
            secure=own.secure_cookies,
            path="/",
        )
        return response

    @app.get("/health", include_in_schema=False)
    async def health() -> JSONResponse:
        """Up when the registry answers: without it nobody can sign in."""
        try:
            answer = await backend.client.get(backend.urls["registry"] + "/.well-known/jwks.json", timeout=5)
            registry = "ok" if answer.status_code == 200 else f"status {answer.status_code}"
        except httpx.HTTPError as error:
            registry = f"error: {error}"
        ok = registry == "ok"
        return JSONResponse(
            {"ok": ok, "service": settings.service, "registry": registry}, status_code=200 if ok else 503
        )

    @app.exception_handler(SignInRequired)
    async def sign_in(request: Request, _error: SignInRequired) -> Response:
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": "/login"})
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(Refused)
    async def refused(request: Request, error: Refused) -> Response:
        return render(request, "refused.html", 403, text=error.text)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, error: ApiError) -> Response:
        if error.status == 401:  # the token ran out or was refused: sign in again
            request.state.session.token = None
            return await sign_in(request, SignInRequired())
        if error.status == 403:
            return render(request, "refused.html", 403, text=error.detail)
        if error.status == 404:
            text = "Страница не найдена или у вас нет к ней доступа"
            return render(request, "refused.html", 404, text=text, detail=error.detail)
        status = error.status if error.status >= 500 else 400
        return render(request, "error.html", status, text=error.detail)

    @app.exception_handler(RequestValidationError)
    async def bad_address(request: Request, error: RequestValidationError) -> Response:
        """A page's query (``?period=…``) a person typed wrong: a page saying what to fix, not JSON."""
        problems = []
        for e in ru_errors(list(error.errors())):
            name = e["field"].rsplit(".", 1)[-1]
            hint = ADDRESS_HINTS.get(name)
            problems.append(f"{name}: {e['message']}" + (f" ({hint})" if hint else ""))
        return render(request, "error.html", 422, text=f"Неверный адрес страницы — {'; '.join(problems)}")

    @app.exception_handler(404)
    async def not_found(request: Request, _error: Exception) -> Response:
        return render(request, "refused.html", 404, text="Страница не найдена")

    for module in (auth, dashboard, regional, school, programmes, pairs, inbox):
        app.include_router(module.router)
    return app
