"""The mentor and mentee bases: registration with consent, profile, consent withdrawal, erasure, import."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, File, Query, Response, UploadFile
from fastapi.responses import JSONResponse

from mentornet_auth.fastapi import CurrentPrincipal
from mentornet_auth.principal import Role, may
from mentornet_events.vocabulary import BaseKind
from mentornet_spine.http import IfMatch
from registry.api.deps import RegistryDep
from registry.application import participants as participants_app
from registry.application import views
from registry.application.importing import parse_base
from registry.application.schemas import MenteeRegistration, MentorRegistration, ProfileChanges

router = APIRouter(tags=["participants"])
MAX_IMPORT_BYTES = 20 * 1024 * 1024


@router.post(
    "/schools/{code}/mentors",
    status_code=201,
    summary="Внести в базу наставников",
    openapi_extra=may(Role.SCHOOL, Role.SCHOOL_CURATOR),
)
async def register_mentor(
    code: str, data: MentorRegistration, principal: CurrentPrincipal, registry: RegistryDep
) -> dict[str, UUID]:
    return {"id": await participants_app.register(registry, principal, code, data)}


@router.post(
    "/schools/{code}/mentees",
    status_code=201,
    summary="Внести в базу наставляемых",
    openapi_extra=may(Role.SCHOOL, Role.SCHOOL_CURATOR),
)
async def register_mentee(
    code: str, data: MenteeRegistration, principal: CurrentPrincipal, registry: RegistryDep
) -> dict[str, UUID]:
    return {"id": await participants_app.register(registry, principal, code, data)}


@router.get(
    "/schools/{code}/participants",
    summary="Участники баз организации",
    openapi_extra=may(Role.REGIONAL_OPERATOR, Role.MUNICIPAL_OPERATOR, Role.SCHOOL, Role.SCHOOL_CURATOR),
)
async def list_participants(
    code: str,
    principal: CurrentPrincipal,
    registry: RegistryDep,
    base: BaseKind | None = None,
    person: Annotated[
        bool, Query(description="С персональными данными (только для самой организации)")
    ] = False,
) -> list[dict[str, Any]]:
    return await views.participant_list(registry, principal, code, base, person)


@router.get(
    "/participants/{participant_id}",
    summary="Участник",
    openapi_extra=may(
        Role.REGIONAL_OPERATOR,
        Role.MUNICIPAL_OPERATOR,
        Role.SCHOOL,
        Role.SCHOOL_CURATOR,
        Role.MENTOR,
        Role.MENTEE,
    ),
)
async def get_participant(
    participant_id: UUID, principal: CurrentPrincipal, registry: RegistryDep, response: Response
) -> dict[str, Any]:
    view = await views.participant(registry, principal, participant_id)
    response.headers["ETag"] = f'"{view["version"]}"'
    return view


@router.patch(
    "/participants/{participant_id}",
    summary="Изменить профиль",
    openapi_extra=may(Role.SCHOOL, Role.SCHOOL_CURATOR),
)
async def update_participant(
    participant_id: UUID,
    changes: ProfileChanges,
    principal: CurrentPrincipal,
    registry: RegistryDep,
    expected: IfMatch,
    response: Response,
) -> dict[str, int]:
    version = await participants_app.update(registry, principal, participant_id, changes, expected)
    response.headers["ETag"] = f'"{version}"'
    return {"version": version}


@router.post(
    "/participants/{participant_id}/consent/{base}/withdraw",
    summary="Отозвать согласие",
    openapi_extra=may(Role.SCHOOL, Role.SCHOOL_CURATOR, Role.MENTOR, Role.MENTEE),
)
async def withdraw_consent(
    participant_id: UUID, base: BaseKind, principal: CurrentPrincipal, registry: RegistryDep
) -> dict[str, int]:
    return {"version": await participants_app.withdraw_consent(registry, principal, participant_id, base)}


@router.delete(
    "/participants/{participant_id}",
    summary="Удалить персональные данные по запросу",
    openapi_extra=may(Role.SCHOOL, Role.SCHOOL_CURATOR, Role.MENTOR, Role.MENTEE),
)
async def erase(participant_id: UUID, principal: CurrentPrincipal, registry: RegistryDep) -> dict[str, int]:
    return {"version": await participants_app.erase(registry, principal, participant_id)}


@router.post(
    "/schools/{code}/import/{base}",
    summary="Импорт базы из CSV или XLSX (все строки или ни одной)",
    openapi_extra=may(Role.SCHOOL, Role.SCHOOL_CURATOR),
)
async def import_base(
    code: str,
    base: BaseKind,
    principal: CurrentPrincipal,
    registry: RegistryDep,
    file: Annotated[UploadFile, File(description="CSV (UTF-8 или Windows-1251) или XLSX")],
    dry_run: Annotated[bool, Query(description="Только проверить, ничего не вносить")] = False,
) -> JSONResponse:
    content = await file.read(MAX_IMPORT_BYTES + 1)
    if len(content) > MAX_IMPORT_BYTES:
        return JSONResponse({"detail": "Файл больше 20 МБ"}, status_code=413)
    await participants_app.ensure_writable(registry, principal, code)
    report = parse_base(base, file.filename or "", content)
    body: dict[str, Any] = {
        "rows": report.rows,
        "errors": [asdict(e) for e in report.errors],
        "dry_run": dry_run,
        "imported": 0,
    }
    if not report.ok:
        return JSONResponse(body | {"detail": "В файле есть ошибки; ничего не внесено"}, status_code=422)
    if not dry_run:
        body["imported"] = await participants_app.import_all(registry, principal, code, report.registrations)
    return JSONResponse(body, status_code=200 if dry_run else 201)
