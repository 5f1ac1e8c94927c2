"""The yearly analytic report (XLSX, PDF) of a school, a municipality or the region."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote

from fastapi import APIRouter, Query, Response
from starlette.concurrency import run_in_threadpool

from mentornet_auth import Principal, Role
from mentornet_auth.fastapi import CurrentPrincipal
from mentornet_auth.principal import may
from mentornet_events.envelope import CODE_PATTERN
from monitoring.adapters.report_pdf import render_pdf
from monitoring.adapters.report_xlsx import render_xlsx
from monitoring.api.deps import MonitoringDep
from monitoring.api.indicators import PeriodQuery
from monitoring.application.monitoring import Monitoring
from monitoring.application.report import contents
from monitoring.domain.report import Level, ReportContents, YearlyReport

router = APIRouter(tags=["reports"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"
LevelQuery = Query(description="school — организация, municipality — муниципалитет, region — регион")
CodeQuery = Query(
    default=None,
    max_length=32,
    pattern=CODE_PATTERN,
    description="Код организации или муниципалитета (для region не нужен)",
)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def disposition(report: YearlyReport, extension: str) -> str:
    """An ASCII file name for every client, and the Russian one (RFC 6266) for those that read it."""
    period = report.period_key.replace("/", "-")
    code = _UNSAFE.sub("_", report.code) or "_"
    ascii_name = f"yearly-report-{report.level}-{code}-{period}.{extension}"
    russian = f"Аналитический отчёт {report.code} {period}.{extension}"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(russian)}"


async def _answer(
    monitoring: Monitoring,
    principal: Principal,
    level: Level,
    code: str | None,
    period: str | None,
    render: Callable[[ReportContents], bytes],
    media_type: str,
    extension: str,
) -> Response:
    report = await monitoring.yearly_report(principal, level, code, period)
    body = await run_in_threadpool(render, contents(report))  # CPU-bound: off the event loop
    return Response(
        body, media_type=media_type, headers={"Content-Disposition": disposition(report, extension)}
    )


@router.get(
    "/reports/yearly.xlsx",
    summary="Годовой аналитический отчёт (XLSX)",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}},
    openapi_extra=may(Role.REGIONAL_OPERATOR, Role.MUNICIPAL_OPERATOR, Role.SCHOOL, Role.SCHOOL_CURATOR),
)
async def yearly_xlsx(
    principal: CurrentPrincipal,
    monitoring: MonitoringDep,
    level: Level = LevelQuery,
    code: str | None = CodeQuery,
    period: str | None = PeriodQuery,
) -> Response:
    return await _answer(monitoring, principal, level, code, period, render_xlsx, XLSX, "xlsx")


@router.get(
    "/reports/yearly.pdf",
    summary="Годовой аналитический отчёт (PDF)",
    response_class=Response,
    responses={200: {"content": {PDF: {}}}},
    openapi_extra=may(Role.REGIONAL_OPERATOR, Role.MUNICIPAL_OPERATOR, Role.SCHOOL, Role.SCHOOL_CURATOR),
)
async def yearly_pdf(
    principal: CurrentPrincipal,
    monitoring: MonitoringDep,
    level: Level = LevelQuery,
    code: str | None = CodeQuery,
    period: str | None = PeriodQuery,
) -> Response:
    return await _answer(monitoring, principal, level, code, period, render_pdf, PDF, "pdf")
