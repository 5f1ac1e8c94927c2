"""Indicators per level (school, municipality, region) and the federal feed."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Response

from mentornet_auth.fastapi import CurrentPrincipal
from mentornet_auth.principal import Role, may
from mentornet_events.catalogue.monitoring import FederalAggregatesPublished
from monitoring.api.deps import FreshDep, MonitoringDep
from monitoring.application.answers import Answer
from monitoring.domain.indicators import INDICATORS

router = APIRouter(tags=["indicators"])
PeriodQuery = Query(
    default=None,
    max_length=9,
    description="2026-09, 2026-Q4 или 2026/2027 (по умолчанию — текущий учебный год)",
)


def _sent(answer: Answer) -> Response:
    return Response(answer.json(), media_type="application/json")


FRESHNESS = (
    "Ответ — самые свежие показатели, какие удаётся посчитать за доли секунды; иначе предыдущие "
    "(их позиции потоков — в as_of, время расчёта — в computed_at, не старше нескольких секунд под "
    "нагрузкой), пока новые считаются. Заголовок Cache-Control: no-cache требует показатели на "
    "текущие позиции."
)


@router.get(
    "/indicators/definitions",
    summary="Определения показателей",
    description="Каждый показатель один раз: ключ в ответах, подпись, что считается и источник. "
    "Потоки (on_day = false) считаются за период, запасы (on_day = true) — на дату периода "
    "(его последний день или сегодня, пока период идёт).",
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
async def definitions(_principal: CurrentPrincipal) -> list[dict[str, Any]]:
    return [i.as_json() for i in INDICATORS]


@router.get(
    "/indicators/schools/{code}",
    summary="Показатели организации",
    description=FRESHNESS,
    response_model=dict[str, Any],
    openapi_extra=may(Role.REGIONAL_OPERATOR, Role.MUNICIPAL_OPERATOR, Role.SCHOOL, Role.SCHOOL_CURATOR),
)
async def school(
    code: str,
    principal: CurrentPrincipal,
    monitoring: MonitoringDep,
    fresh: FreshDep,
    period: str | None = PeriodQuery,
) -> Response:
    return _sent(await monitoring.school(principal, code, period, fresh))


@router.get(
    "/indicators/municipalities/{code}",
    summary="Показатели муниципалитета",
    description=FRESHNESS,
    response_model=dict[str, Any],
    openapi_extra=may(Role.REGIONAL_OPERATOR, Role.MUNICIPAL_OPERATOR),
)
async def municipality(
    code: str,
    principal: CurrentPrincipal,
    monitoring: MonitoringDep,
    fresh: FreshDep,
    period: str | None = PeriodQuery,
    by_school: bool = False,
) -> Response:
    return _sent(await monitoring.municipality(principal, code, period, by_school, fresh))


@router.get(
    "/indicators/region",
    summary="Показатели региона (панель института)",
    description=FRESHNESS,
    response_model=dict[str, Any],
    openapi_extra=may(Role.REGIONAL_OPERATOR),
)
async def region(
    principal: CurrentPrincipal,
    monitoring: MonitoringDep,
    fresh: FreshDep,
    period: str | None = PeriodQuery,
    by: Literal["municipality", "school"] | None = None,
) -> Response:
    return _sent(await monitoring.region(principal, period, by, fresh))


@router.get(
    "/federal/aggregates",
    summary="Обезличенные агрегаты для федерального уровня",
    openapi_extra=may(Role.FEDERAL_CONSUMER, Role.REGIONAL_OPERATOR),
)
async def federal(
    principal: CurrentPrincipal, monitoring: MonitoringDep, period: str | None = PeriodQuery
) -> FederalAggregatesPublished:
    return await monitoring.federal(principal, period)


@router.post(
    "/federal/publish",
    summary="Отправить агрегаты периода федеральному уровню",
    openapi_extra=may(Role.REGIONAL_OPERATOR),
)
async def publish(
    principal: CurrentPrincipal, monitoring: MonitoringDep, period: str | None = PeriodQuery
) -> FederalAggregatesPublished:
    return await monitoring.publish_federal(principal, period)
