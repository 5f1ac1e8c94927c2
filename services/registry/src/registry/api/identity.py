"""Tokens (OAuth2 client credentials for schools, passwords for people), the JWKS, accounts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse

from mentornet_auth.fastapi import CurrentPrincipal
from mentornet_auth.principal import ANYONE, Role, may
from mentornet_auth.tokens import TokenIssuer
from mentornet_spine.validation import has_nul
from registry.api.deps import RegistryDep
from registry.application import accounts
from registry.application.schemas import AccountIn

router = APIRouter(tags=["identity"])


@router.get("/.well-known/jwks.json", summary="Открытые ключи для проверки токенов", openapi_extra=ANYONE)
async def jwks(request: Request) -> dict[str, Any]:
    issuer: TokenIssuer = request.app.state.issuer
    return issuer.jwks()


@router.post("/auth/token", summary="Получить токен (client_credentials или password)", openapi_extra=ANYONE)
async def token(
    request: Request,
    registry: RegistryDep,
    grant_type: Annotated[str, Form(max_length=50, description="client_credentials или password")],
    client_id: Annotated[str | None, Form(max_length=100)] = None,
    client_secret: Annotated[str | None, Form(max_length=200)] = None,
    username: Annotated[str | None, Form(max_length=100)] = None,
    password: Annotated[str | None, Form(max_length=200)] = None,
) -> JSONResponse:
    if has_nul([grant_type, client_id, client_secret, username, password]):
        return JSONResponse(
            {"error": "invalid_request", "detail": "Недопустимый символ NUL"}, status_code=400
        )
    if grant_type == "client_credentials" and client_id and client_secret:
        principal = await accounts.client_principal(registry, client_id, client_secret)
    elif grant_type == "password" and username and password:
        principal = await accounts.user_principal(registry, username, password)
    else:
        return JSONResponse(
            {"error": "invalid_request", "detail": "Нужны grant_type и соответствующие ему учётные данные"},
            status_code=400,
        )
    if principal is None:
        return JSONResponse(
            {"error": "invalid_client", "detail": "Неверные или отозванные учётные данные"}, status_code=401
        )
    issuer: TokenIssuer = request.app.state.issuer
    return JSONResponse(
        {
            "access_token": issuer.issue(principal),
            "token_type": "bearer",
            "expires_in": issuer.lifetime_s,
            "role": principal.role.value,
        },
        headers={"Cache-Control": "no-store"},
    )


@router.get(
    "/me",
    summary="Кто я",
    openapi_extra=may(
        Role.REGIONAL_OPERATOR,
        Role.MUNICIPAL_OPERATOR,
        Role.FEDERAL_CONSUMER,
        Role.SCHOOL,
        Role.SCHOOL_CURATOR,
        Role.MENTOR,
        Role.MENTEE,
        Role.SERVICE,
    ),
)
async def me(principal: CurrentPrincipal) -> dict[str, Any]:
    return principal.model_dump(mode="json")


@router.post(
    "/accounts",
    status_code=201,
    summary="Создать учётную запись",
    openapi_extra=may(Role.REGIONAL_OPERATOR, Role.SCHOOL_CURATOR),
)
async def create_account(
    data: AccountIn, principal: CurrentPrincipal, registry: RegistryDep
) -> dict[str, str]:
    await accounts.create(registry, principal, data)
    return {"username": data.username}
