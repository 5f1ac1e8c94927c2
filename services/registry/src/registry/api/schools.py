"""Municipalities, schools and their lifecycle, client credentials."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from mentornet_auth.fastapi import CurrentPrincipal
from mentornet_auth.principal import ANYONE, Role, may
from mentornet_spine.http import IfMatch, versioned
from registry.api.deps import RegistryDep
from registry.application import schools as schools_app
from registry.application import views
from registry.application.schemas import Headcounts, MunicipalityIn, Reason, SchoolIn

router = APIRouter(tags=["schools"])


@router.post(
    "/municipalities",
    status_code=201,
    summary="Зарегистрировать муниципалитет",
    openapi_extra=may(Role.REGIONAL_OPERATOR),
)
async def register_municipality(
    data: MunicipalityIn, principal: CurrentPrincipal, registry: RegistryDep
) -> dict[str, str]:
    await schools_app.register_municipality(registry, principal, data)
    return {"code": data.code}


@router.get(
    "/municipalities",
    summary="Муниципалитеты",
    openapi_extra=may(
        Role.REGIONAL_OPERATOR,
        Role.MUNICIPAL_OPERATOR,
        Role.SCHOOL,
        Role.SCHOOL_CURATOR,
        Role.MENTOR,
        Role.MENTEE,
    ),
)
async def list_municipalities(principal: CurrentPrincipal, registry: RegistryDep) -> list[dict[str, Any]]:
    return await views.municipality_list(registry, principal)


@router.post(
    "/schools",
    status_code=201,
    summary="Подключить организацию (региональный оператор)",
    openapi_extra=may(Role.REGIONAL_OPERATOR),
)
async def register_school(
    data: SchoolIn, principal: CurrentPrincipal, registry: RegistryDep, response: Response
) -> dict[str, int]:
    return versioned(response, await schools_app.register_school(registry, principal, data))


@router.post(
    "/schools/applications", status_code=202, summary="Подать заявку на подключение", openapi_extra=ANYONE
)
async def apply_school(data: SchoolIn, registry: RegistryDep, response: Response) -> dict[str, int]:
    return versioned(response, await schools_app.register_school(registry, None, data))


@router.get(
    "/schools",
    summary="Организации в пределах доступа",
    openapi_extra=may(
        Role.REGIONAL_OPERATOR,
        Role.MUNICIPAL_OPERATOR,
        Role.SCHOOL,
        Role.SCHOOL_CURATOR,
        Role.MENTOR,
        Role.MENTEE,
    ),
)
async def list_schools(
    principal: CurrentPrincipal, registry: RegistryDep, municipality: str | None = None
) -> list[dict[str, Any]]:
    return await views.school_list(registry, principal, municipality)


@router.get(
    "/schools/{code}",
    summary="Организация",
    openapi_extra=may(
        Role.REGIONAL_OPERATOR,
        Role.MUNICIPAL_OPERATOR,
        Role.SCHOOL,
        Role.SCHOOL_CURATOR,
        Role.MENTOR,
        Role.MENTEE,
    ),
)
async def get_school(
    code: str, principal: CurrentPrincipal, registry: RegistryDep, response: Response
) -> dict[str, Any]:
    school = await views.school(registry, principal, code)
    response.headers["ETag"] = f'"{school["version"]}"'
    return school


@router.post("/schools/{code}/approve", summary="Одобрить заявку", openapi_extra=may(Role.REGIONAL_OPERATOR))
async def approve(
    code: str, principal: CurrentPrincipal, registry: RegistryDep, expected: IfMatch, response: Response
) -> dict[str, int]:
    return versioned(response, await schools_app.approve(registry, principal, code, expected))


@router.post("/schools/{code}/suspend", summary="Приостановить", openapi_extra=may(Role.REGIONAL_OPERATOR))
async def suspend(
    code: str,
    data: Reason,
    principal: CurrentPrincipal,
    registry: RegistryDep,
    expected: IfMatch,
    response: Response,
) -> dict[str, int]:
    return versioned(response, await schools_app.suspend(registry, principal, code, data.reason, expected))


@router.post("/schools/{code}/resume", summary="Возобновить", openapi_extra=may(Role.REGIONAL_OPERATOR))
async def resume(
    code: str, principal: CurrentPrincipal, registry: RegistryDep, expected: IfMatch, response: Response
) -> dict[str, int]:
    return versioned(response, await schools_app.resume(registry, principal, code, expected))


@router.post("/schools/{code}/disconnect", summary="Отключить", openapi_extra=may(Role.REGIONAL_OPERATOR))
async def disconnect(
    code: str,
    data: Reason,
    principal: CurrentPrincipal,
    registry: RegistryDep,
    expected: IfMatch,
    response: Response,
) -> dict[str, int]:
    return versioned(response, await schools_app.disconnect(registry, principal, code, data.reason, expected))


@router.put(
    "/schools/{code}/headcounts",
    summary="Численность педагогов и обучающихся",
    openapi_extra=may(Role.REGIONAL_OPERATOR, Role.SCHOOL, Role.SCHOOL_CURATOR),
)
async def headcounts(
    code: str,
    data: Headcounts,
    principal: CurrentPrincipal,
    registry: RegistryDep,
    expected: IfMatch,
    response: Response,
) -> dict[str, int]:
    return versioned(
        response,
        await schools_app.update_headcounts(
            registry, principal, code, data.teachers, data.students, expected
        ),
    )


@router.post(
    "/schools/{code}/bases/refresh",
    summary="Ежегодная актуализация баз",
    openapi_extra=may(Role.SCHOOL, Role.SCHOOL_CURATOR),
)
async def refresh(
    code: str, principal: CurrentPrincipal, registry: RegistryDep, response: Response
) -> dict[str, int]:
    return versioned(response, await schools_app.refresh_bases(registry, principal, code))


@router.post(
    "/schools/{code}/credentials",
    status_code=201,
    summary="Выдать учётные данные (секрет показывается один раз)",
    openapi_extra=may(Role.REGIONAL_OPERATOR),
)
async def issue_credentials(code: str, principal: CurrentPrincipal, registry: RegistryDep) -> dict[str, str]:
    issued = await schools_app.issue_credentials(registry, principal, code)
    return {"client_id": issued.client_id, "client_secret": issued.client_secret}


@router.get(
    "/schools/{code}/credentials",
    summary="Учётные данные организации (без секретов)",
    openapi_extra=may(Role.REGIONAL_OPERATOR),
)
async def list_credentials(
    code: str, principal: CurrentPrincipal, registry: RegistryDep
) -> list[dict[str, Any]]:
    return await views.credentials(registry, principal, code)


@router.delete(
    "/schools/{code}/credentials/{client_id}",
    summary="Отозвать учётные данные",
    openapi_extra=may(Role.REGIONAL_OPERATOR),
)
async def revoke_credentials(
    code: str, client_id: str, principal: CurrentPrincipal, registry: RegistryDep, response: Response
) -> dict[str, int]:
    return versioned(response, await schools_app.revoke_credentials(registry, principal, code, client_id))
