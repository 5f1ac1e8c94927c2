"""Programmes: launch, stages, local acts, matching, pairs, completion and the yearly report."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Query, Response

from mentornet_auth.fastapi import CurrentPrincipal
from mentornet_auth.principal import Role, may
from mentornet_spine.http import IfMatch, versioned
from programs.api.deps import ProgramsDep
from programs.application import pairing, views
from programs.application import pairs as pairs_app
from programs.application import programmes as programmes_app
from programs.application.schemas import DocumentIn, PairIn, ProgrammeCompletionIn, ProgrammeIn, StageIn

router = APIRouter(tags=["programmes"])


@router.post(
    "/programmes",
    status_code=201,
    summary="Запустить программу наставничества",
    openapi_extra=may(Role.SCHOOL, Role.SCHOOL_CURATOR),
)
async def launch(
    data: ProgrammeIn, principal: CurrentPrincipal, programs: ProgramsDep, response: Response
) -> dict[str, Any]:
    programme_id, version = await programmes_app.launch(programs, principal, data)
    return versioned(response, version, id=programme_id)


@router.get(
    "/programmes",
    summary="Программы в пределах доступа",
    openapi_extra=may(Role.REGIONAL_OPERATOR, Role.MUNICIPAL_OPERATOR, Role.SCHOOL, Role.SCHOOL_CURATOR),
)
async def list_programmes(
    principal: CurrentPrincipal,
    programs: ProgramsDep,
    school: str | None = Query(default=None, max_length=32),
) -> list[dict[str, Any]]:
    return await views.programme_list(programs, principal, school)


@router.get(
    "/programmes/{programme_id}",
    summary="Программа",
    openapi_extra=may(Role.REGIONAL_OPERATOR, Role.MUNICIPAL_OPERATOR, Role.SCHOOL, Role.SCHOOL_CURATOR),
)
async def get_programme(
    programme_id: UUID, principal: CurrentPrincipal, programs: ProgramsDep, response: Response
) -> dict[str, Any]:
    programme = await views.programme(programs, principal, programme_id)
    response.headers["ETag"] = f'"{programme["version"]}"'
    return programme


@router.post(
    "/programmes/{programme_id}/stage",
    summary="Перевести программу на этап",
    openapi_extra=may(Role.SCHOOL, Role.SCHOOL_CURATOR),
)
async def change_stage(
    programme_id: UUID,
    data: StageIn,
    principal: CurrentPrincipal,
    programs: ProgramsDep,
    expected: IfMatch,
    response: Response,
) -> dict[str, Any]:
    return versioned(
        response, await programmes_app.change_stage(programs, principal, programme_id, data, expected)
    )


@router.post(
    "/programmes/{programme_id}/documents",
    summary="Внести локальный акт (приказ)",
    openapi_extra=may(Role.SCHOOL, Role.SCHOOL_CURATOR),
)
async def record_document(
    programme_id: UUID,
    data: DocumentIn,
    principal: CurrentPrincipal,
    programs: ProgramsDep,
    expected: IfMatch,
    response: Response,
) -> dict[str, Any]:
    return versioned(
        response, await programmes_app.record_document(programs, principal, programme_id, data, expected)
    )


@router.get(
    "/programmes/{programme_id}/candidates",
    summary="Наставники для наставляемого, с объяснением",
    openapi_extra=may(Role.SCHOOL, Role.SCHOOL_CURATOR),
)
async def candidates(
    programme_id: UUID,
    principal: CurrentPrincipal,
    programs: ProgramsDep,
    mentee: UUID,
    limit: int = Query(default=10, ge=1, le=50),
) -> list[dict[str, Any]]:
    return await pairing.candidates(programs, principal, programme_id, mentee, limit)


@router.post(
    "/programmes/{programme_id}/assignment",
    summary="Оптимальное распределение по парам (предложение)",
    openapi_extra=may(Role.SCHOOL, Role.SCHOOL_CURATOR),
)
async def proposal(programme_id: UUID, principal: CurrentPrincipal, programs: ProgramsDep) -> dict[str, Any]:
    return await pairing.proposal(programs, principal, programme_id)


@router.post(
    "/programmes/{programme_id}/pairs",
    status_code=201,
    summary="Закрепить пару или группу",
    openapi_extra=may(Role.SCHOOL, Role.SCHOOL_CURATOR),
)
async def form_pair(
    programme_id: UUID, data: PairIn, principal: CurrentPrincipal, programs: ProgramsDep, response: Response
) -> dict[str, Any]:
    pair_id, version = await pairs_app.form(programs, principal, programme_id, data)
    return versioned(response, version, id=pair_id)


@router.get(
    "/programmes/{programme_id}/pairs",
    summary="Пары программы",
    openapi_extra=may(
        Role.REGIONAL_OPERATOR,
        Role.MUNICIPAL_OPERATOR,
        Role.SCHOOL,
        Role.SCHOOL_CURATOR,
        Role.MENTOR,
        Role.MENTEE,
    ),
)
async def programme_pairs(
    programme_id: UUID, principal: CurrentPrincipal, programs: ProgramsDep
) -> list[dict[str, Any]]:
    return await views.pair_list(programs, principal, programme_id)


@router.post(
    "/programmes/{programme_id}/complete",
    summary="Завершить программу (этап 7)",
    openapi_extra=may(Role.SCHOOL, Role.SCHOOL_CURATOR),
)
async def complete(
    programme_id: UUID,
    data: ProgrammeCompletionIn,
    principal: CurrentPrincipal,
    programs: ProgramsDep,
    expected: IfMatch,
    response: Response,
) -> dict[str, Any]:
    return versioned(
        response, await programmes_app.complete(programs, principal, programme_id, data, expected)
    )
