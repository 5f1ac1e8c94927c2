"""Indicators per level (school, municipality, region) and the federal feed."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query

from mentornet_auth.fastapi import CurrentPrincipal
from mentornet_events.catalogue.monitoring import FederalAggregatesPublished
from monitoring.api.deps import MonitoringDep

router = APIRouter(tags=["indicators"])
PeriodQuery = Query(
    default=None,
    max_length=9,
    description="2026-09, 2026-Q4 или 2026/2027 (по умолчанию — текущий учебный год)",
)


@router.get("/indicators/schools/{code}", summary="Показатели организации")
async def school(
    code: str, principal: CurrentPrincipal, monitoring: MonitoringDep, period: str | None = PeriodQuery
) -> dict[str, Any]:
    return await monitoring.school(principal, code, period)


@router.get("/indicators/municipalities/{code}", summary="Показатели муниципалитета")
async def municipality(
    code: str,
    principal: CurrentPrincipal,
    monitoring: MonitoringDep,
    period: str | None = PeriodQuery,
    by_school: bool = False,
) -> dict[str, Any]:
    return await monitoring.municipality(principal, code, period, by_school)


@router.get("/indicators/region", summary="Показатели региона (панель института)")
async def region(
    principal: CurrentPrincipal,
    monitoring: MonitoringDep,
    period: str | None = PeriodQuery,
    by: Literal["municipality", "school"] | None = None,
) -> dict[str, Any]:
    return await monitoring.region(principal, period, by)


@router.get("/federal/aggregates", summary="Обезличенные агрегаты для федерального уровня")
async def federal(
    principal: CurrentPrincipal, monitoring: MonitoringDep, period: str | None = PeriodQuery
) -> FederalAggregatesPublished:
    return await monitoring.federal(principal, period)


@router.post("/federal/publish", summary="Отправить агрегаты периода федеральному уровню")
async def publish(
    principal: CurrentPrincipal, monitoring: MonitoringDep, period: str | None = PeriodQuery
) -> FederalAggregatesPublished:
    return await monitoring.publish_federal(principal, period)
