"""Pairs: the roadmap, meetings and their feedback forms, dissolution."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response

from mentornet_auth.fastapi import CurrentPrincipal
from mentornet_auth.principal import Role, may
from mentornet_spine.http import IfMatch, versioned
from programs.api.deps import ProgramsDep
from programs.application import pairs as pairs_app
from programs.application import roadmaps, views
from programs.application.schemas import (
    CompletionIn,
    DissolveIn,
    FeedbackIn,
    FromTemplateIn,
    MeetingIn,
    ReflectionIn,
    RoadmapIn,
)

router = APIRouter(tags=["pairs"])


@router.get(
    "/pairs", summary="Мои пары (наставник, наставляемый)", openapi_extra=may(Role.MENTOR, Role.MENTEE)
)
async def my_pairs(principal: CurrentPrincipal, programs: ProgramsDep) -> list[dict[str, Any]]:
    return await views.pair_list(programs, principal)


@router.get(
    "/pairs/{pair_id}",
    summary="Пара",
    openapi_extra=may(
        Role.REGIONAL_OPERATOR,
        Role.MUNICIPAL_OPERATOR,
        Role.SCHOOL,
        Role.SCHOOL_CURATOR,
        Role.MENTOR,
        Role.MENTEE,
    ),
)
async def get_pair(pair_id: UUID, principal: CurrentPrincipal, programs: ProgramsDep) -> dict[str, Any]:
    return await views.pair(programs, principal, pair_id)


@router.post(
    "/pairs/{pair_id}/dissolve",
    summary="Расформировать пару",
    openapi_extra=may(Role.SCHOOL, Role.SCHOOL_CURATOR),
)
async def dissolve(
    pair_id: UUID, data: DissolveIn, principal: CurrentPrincipal, programs: ProgramsDep, response: Response
) -> dict[str, Any]:
    return versioned(response, await pairs_app.dissolve(programs, principal, pair_id, data))


@router.get(
    "/pairs/{pair_id}/roadmap",
    summary="Дорожная карта пары",
    openapi_extra=may(
        Role.REGIONAL_OPERATOR,
        Role.MUNICIPAL_OPERATOR,
        Role.SCHOOL,
        Role.SCHOOL_CURATOR,
        Role.MENTOR,
        Role.MENTEE,
    ),
)
async def get_roadmap(
    pair_id: UUID, principal: CurrentPrincipal, programs: ProgramsDep, response: Response
) -> dict[str, Any]:
    roadmap = await views.roadmap(programs, principal, pair_id)
    response.headers["ETag"] = f'"{roadmap["version"]}"'
    return roadmap


@router.put(
    "/pairs/{pair_id}/roadmap",
    summary="Составить или скорректировать дорожную карту",
    openapi_extra=may(Role.SCHOOL, Role.SCHOOL_CURATOR, Role.MENTOR),
)
async def set_roadmap(
    pair_id: UUID,
    data: RoadmapIn,
    principal: CurrentPrincipal,
    programs: ProgramsDep,
    expected: IfMatch,
    response: Response,
) -> dict[str, Any]:
    return versioned(response, await roadmaps.set_items(programs, principal, pair_id, data, expected))


@router.post(
    "/pairs/{pair_id}/roadmap/from-template",
    summary="Дорожная карта по шаблону",
    openapi_extra=may(Role.SCHOOL, Role.SCHOOL_CURATOR, Role.MENTOR),
)
async def from_template(
    pair_id: UUID,
    data: FromTemplateIn,
    principal: CurrentPrincipal,
    programs: ProgramsDep,
    expected: IfMatch,
    response: Response,
) -> dict[str, Any]:
    return versioned(
        response, await roadmaps.from_template(programs, principal, pair_id, data.template, expected)
    )


@router.post(
    "/pairs/{pair_id}/roadmap/items/{item_id}/complete",
    summary="Отметить выполнение пункта",
    openapi_extra=may(Role.SCHOOL, Role.SCHOOL_CURATOR, Role.MENTOR, Role.MENTEE),
)
async def complete_item(
    pair_id: UUID,
    item_id: UUID,
    data: CompletionIn,
    principal: CurrentPrincipal,
    programs: ProgramsDep,
    response: Response,
) -> dict[str, Any]:
    return versioned(response, await roadmaps.complete_item(programs, principal, pair_id, item_id, data))


@router.post(
    "/pairs/{pair_id}/meetings",
    status_code=201,
    summary="Провести встречу",
    openapi_extra=may(Role.SCHOOL, Role.SCHOOL_CURATOR, Role.MENTOR),
)
async def hold_meeting(
    pair_id: UUID, data: MeetingIn, principal: CurrentPrincipal, programs: ProgramsDep, response: Response
) -> dict[str, Any]:
    meeting_id, version = await pairs_app.hold_meeting(programs, principal, pair_id, data)
    return versioned(response, version, id=meeting_id)


@router.post(
    "/pairs/{pair_id}/meetings/{meeting_id}/feedback",
    status_code=201,
    summary="Форма обратной связи",
    openapi_extra=may(Role.SCHOOL, Role.SCHOOL_CURATOR, Role.MENTOR, Role.MENTEE),
)
async def submit_feedback(
    pair_id: UUID,
    meeting_id: UUID,
    data: FeedbackIn,
    principal: CurrentPrincipal,
    programs: ProgramsDep,
    response: Response,
) -> dict[str, Any]:
    return versioned(
        response, await pairs_app.submit_feedback(programs, principal, pair_id, meeting_id, data)
    )


@router.post(
    "/pairs/{pair_id}/reflection",
    status_code=204,
    summary="Рефлексия пары (наставник, наставляемый, куратор)",
    openapi_extra=may(Role.SCHOOL, Role.SCHOOL_CURATOR, Role.MENTOR, Role.MENTEE),
)
async def reflect(
    pair_id: UUID, data: ReflectionIn, principal: CurrentPrincipal, programs: ProgramsDep
) -> None:
    await pairs_app.reflect(programs, principal, pair_id, data)
