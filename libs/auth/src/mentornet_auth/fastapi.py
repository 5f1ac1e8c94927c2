"""FastAPI glue: the bearer token → ``Principal`` dependency, and 401/403 answers people can read."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import httpx
import jwt
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from mentornet_auth.principal import AccessDenied, Principal
from mentornet_auth.tokens import InvalidToken, TokenVerifier

JwksSource = Callable[[], Awaitable[dict[str, Any]]]


class KeysUnavailable(Exception):
    """The registry's signing keys cannot be fetched now (it restarts, the network is away): the
    token can be neither accepted nor refused, so the request is to be asked again (503)."""


def keys_unavailable() -> JSONResponse:
    return JSONResponse(
        {"detail": "Проверка входа временно недоступна: реестр не отвечает; повторите запрос"},
        status_code=503,
        headers={"Retry-After": "2"},
    )


def jwks_from_url(url: str) -> JwksSource:
    async def fetch() -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                answer = await client.get(url)
                answer.raise_for_status()
                data: dict[str, Any] = answer.json()
                return data
        except (httpx.HTTPError, ValueError) as error:
            raise KeysUnavailable(f"{url}: {error!r}") from error

    return fetch


class Authenticator:
    """Verifies bearer tokens; refreshes the JWKS when an unknown key id appears (at most every 30 s)."""

    def __init__(self, source: JwksSource, refresh_every_s: float = 30.0, cache_size: int = 10_000) -> None:
        self.source = source
        self.cache_size = cache_size
        self._verified: dict[str, tuple[Principal, float]] = {}
        self.refresh_every_s = refresh_every_s
        self._verifier: TokenVerifier | None = None
        self._fetched_at = 0.0

    async def _ensure(self, kid: str | None) -> TokenVerifier:
        stale = time.monotonic() - self._fetched_at > self.refresh_every_s
        if self._verifier is None or (kid and not self._verifier.knows(kid) and stale):
            jwks = await self.source()
            self._verifier = TokenVerifier(jwks)
            self._fetched_at = time.monotonic()
        return self._verifier

    async def authenticate(self, token: str) -> Principal:
        """Verify a token; a verified one is remembered until it expires (signature checks add up)."""
        known = self._verified.get(token)
        if known is not None and known[1] > time.time():
            return known[0]
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            raise InvalidToken("недействительный токен") from None
        verifier = await self._ensure(kid)
        principal = verifier.verify(token)
        if len(self._verified) >= self.cache_size:
            self._verified.clear()
        self._verified[token] = (
            principal,
            float(jwt.decode(token, options={"verify_signature": False})["exp"]),
        )
        return principal


bearer = HTTPBearer(auto_error=False, description="Токен, выданный реестром MentorNet")


def install_auth(app: FastAPI, authenticator: Authenticator) -> None:
    """Register the authenticator and the 401/403 error answers on an app."""
    app.state.authenticator = authenticator

    @app.exception_handler(InvalidToken)
    async def unauthorized(_request: Request, error: InvalidToken) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=401, headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(AccessDenied)
    async def forbidden(_request: Request, error: AccessDenied) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=403)

    @app.exception_handler(KeysUnavailable)
    async def keys_away(_request: Request, _error: KeysUnavailable) -> JSONResponse:
        return keys_unavailable()


async def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    if credentials is None:
        raise InvalidToken("нужна авторизация: передайте токен в заголовке Authorization: Bearer")
    authenticator: Authenticator = request.app.state.authenticator
    return await authenticator.authenticate(credentials.credentials)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
