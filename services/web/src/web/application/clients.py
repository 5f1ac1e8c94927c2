"""Clients of the services' public APIs: the pages call them with the signed-in person's token."""

from __future__ import annotations

import re
from typing import Any

import httpx

from web.settings import WebSettings


class ApiError(Exception):
    """A service refused or failed; ``detail`` is its Russian message, ``errors`` its field errors."""

    def __init__(self, status: int, detail: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors or []
        self.body: dict[str, Any] = {}


#: what a path to a service may hold: codes, ids and fixed words; a page's parameter that brings a
#: query, a fragment or a "../" of its own is refused before anything is sent
SAFE_PATH = re.compile(r"^(/(?!\.\.?(/|$))[A-Za-z0-9_~.-]+)+$")


class Backend:
    """One connection pool for all four services; every call carries the caller's bearer token."""

    def __init__(self, settings: WebSettings, client: httpx.AsyncClient | None = None) -> None:
        self.urls = {
            "registry": settings.registry_url.rstrip("/"),
            "programs": settings.programs_url.rstrip("/"),
            "monitoring": settings.monitoring_url.rstrip("/"),
            "notifications": settings.notifications_url.rstrip("/"),
        }
        self.client = client or httpx.AsyncClient(timeout=settings.backend_timeout_s)

    async def close(self) -> None:
        await self.client.aclose()

    async def raw(
        self, service: str, method: str, path: str, token: str | None, **kwargs: Any
    ) -> httpx.Response:
        if not SAFE_PATH.match(path):
            raise ApiError(404, "Страница не найдена")
        headers = dict(kwargs.pop("headers", None) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            answer = await self.client.request(method, self.urls[service] + path, headers=headers, **kwargs)
        except httpx.HTTPError:
            raise ApiError(503, "Сервис временно недоступен, повторите попытку позже") from None
        if answer.status_code >= 400 and answer.status_code != 422:
            raise _error(answer)
        return answer

    async def call(self, service: str, method: str, path: str, token: str | None, **kwargs: Any) -> Any:
        """The JSON answer of a call; any 4xx/5xx (422 too) becomes an ``ApiError``."""
        answer = await self.raw(service, method, path, token, **kwargs)
        if answer.status_code == 422:
            raise _error(answer)
        if answer.status_code == 204 or not answer.content:
            return None
        return answer.json()

    async def token(self, username: str, password: str) -> dict[str, Any] | None:
        try:
            answer = await self.client.post(
                self.urls["registry"] + "/auth/token",
                data={"grant_type": "password", "username": username, "password": password},
            )
        except httpx.HTTPError:
            raise ApiError(503, "Реестр временно недоступен, повторите попытку позже") from None
        if answer.status_code in (400, 401):
            return None
        if answer.status_code >= 300:
            raise _error(answer)
        data: dict[str, Any] = answer.json()
        return data


def _error(answer: httpx.Response) -> ApiError:
    detail = "Сервис ответил ошибкой"
    errors: list[dict[str, Any]] = []
    body: dict[str, Any] = {}
    try:
        parsed = answer.json()
        if isinstance(parsed, dict):
            body = parsed
            detail = str(parsed.get("detail") or detail)
            errors = list(parsed.get("errors") or [])
    except ValueError:
        pass
    if answer.status_code >= 500:
        detail = "Сервис временно недоступен, повторите попытку позже"
    error = ApiError(answer.status_code, detail, errors)
    error.body = body
    return error
