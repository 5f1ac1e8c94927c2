"""Addresses for the services that deliver messages: asked at delivery time, never kept by them."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from pydantic import Field

from mentornet_auth.fastapi import CurrentPrincipal
from mentornet_auth.principal import Role, may
from mentornet_spine.validation import Code, Strict
from registry.api.deps import RegistryDep
from registry.application import views

router = APIRouter(tags=["directory"])


class AddressQuery(Strict):
    participant_ids: list[UUID] = Field(default_factory=list, max_length=500)
    school_codes: list[Code] = Field(default_factory=list, max_length=2000)


@router.post(
    "/directory/addresses",
    summary="Адреса для доставки (только для сервисов)",
    openapi_extra=may(Role.SERVICE),
)
async def addresses(
    query: AddressQuery, principal: CurrentPrincipal, registry: RegistryDep
) -> dict[str, dict[str, str | None]]:
    return await views.addresses(registry, principal, query.participant_ids, query.school_codes)
