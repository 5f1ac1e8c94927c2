"""The monitoring dashboard: region → municipality → school, with charts, risks and the yearly report."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response

from web.api.deps import CURATOR, MUNICIPAL, OPERATORS, REGIONAL, Refused, backend, call, render, role
from web.application import charts
from web.application.session import Session

router = APIRouter()
PeriodParam = Query(default=None, pattern=r"^\d{4}/\d{4}$", description="Учебный год, например 2026/2027")


async def _figures(request: Request, path: str, period: str, fresh: bool, **params: Any) -> dict[str, Any]:
    headers = {"Cache-Control": "no-cache"} if fresh else {}
    answer: dict[str, Any] = await call(
        request, "monitoring", "GET", path, params={"period": period, **params}, headers=headers
    )
    return answer


async def _level(
    request: Request,
    *,
    title: str,
    path: str,
    breakdown: dict[str, Any] | None,
    names: dict[str, str],
    link: str | None,
    period: str | None,
    fresh: bool,
    report: dict[str, str],
    crumbs: list[tuple[str, str]],
) -> Response:
    today = date.today()
    year = period or charts.academic_year_key(today)
    months = charts.months_of(year, today)
    # "fresh" asks for the year's and this month's figures at the current positions; past months come
    # as the monitoring service has them (computing a region's month afresh a dozen times costs seconds)
    definitions, own, *monthly = await asyncio.gather(
        call(request, "monitoring", "GET", "/indicators/definitions"),
        _figures(request, path, year, fresh),
        *(_figures(request, path, m, fresh and m == months[-1]) for m in months),
    )
    figures = own["figures"]
    groups = []
    if breakdown is not None:
        split = await _figures(request, breakdown["path"], year, fresh, **breakdown["params"])
        for code, group in sorted(split["figures"].items()):
            groups.append({"code": code, "name": names.get(code, code), "figures": group})
    per_month = [m["figures"] for m in monthly]
    pairs_chart = charts.lines(
        months,
        {
            "Активные пары": (charts.BLUE, [f["pairs"]["active"] for f in per_month]),
            "Сформировано за месяц": (charts.GREEN, [f["pairs"]["formed"] for f in per_month]),
        },
    )
    roadmaps_chart = charts.lines(
        months,
        {
            "Пунктов запланировано": (charts.GREY, [f["roadmaps"]["planned"] for f in per_month]),
            "Выполнено (нарастающим итогом)": (
                charts.GREEN,
                [f["roadmaps"]["completed_to_date"] for f in per_month],
            ),
            "Просрочено": (charts.RED, [f["roadmaps"]["overdue"] for f in per_month]),
        },
    )
    return render(
        request,
        "dashboard.html",
        title=title,
        year=year,
        figures=figures,
        as_of=own.get("computed_at"),
        day=own.get("period", {}).get("day"),
        defs={d["key"]: d for d in definitions},  # monitoring's one definition of each indicator
        groups=groups,
        link=link,
        months=[charts.month_label(m) for m in months],
        per_month=per_month,
        coverage_chart=charts.coverage_bars(groups, figures["coverage"]["target"]) if groups else None,
        pairs_chart=pairs_chart,
        roadmaps_chart=roadmaps_chart,
        feedback_chart=charts.feedback_bars(figures["feedback"]["mean_scores"]),
        report=report,
        crumbs=crumbs,
        fresh=fresh,
    )


@router.get("/dashboard")
async def region(
    request: Request,
    session: Session = Depends(role(REGIONAL)),
    period: str | None = PeriodParam,
    fresh: bool = False,
) -> Response:
    municipalities = await call(request, "registry", "GET", "/municipalities")
    return await _level(
        request,
        title=request.app.state.region[0],
        path="/indicators/region",
        breakdown={"path": "/indicators/region", "params": {"by": "municipality"}},
        names={m["code"]: m["name"] for m in municipalities},
        link="/dashboard/municipalities/{code}",
        period=period,
        fresh=fresh,
        report={"level": "region"},
        crumbs=[("Регион", "/dashboard")],
    )


@router.get("/dashboard/municipalities/{code}")
async def municipality(
    request: Request,
    code: str,
    session: Session = Depends(role(*OPERATORS)),
    period: str | None = PeriodParam,
    fresh: bool = False,
) -> Response:
    if session.role == MUNICIPAL and session.municipality != code:
        raise Refused("Это страница другого муниципалитета: у вас нет к ней доступа")
    municipalities, schools = await asyncio.gather(
        call(request, "registry", "GET", "/municipalities"),
        call(request, "registry", "GET", "/schools", params={"municipality": code}),
    )
    name = next((m["name"] for m in municipalities if m["code"] == code), code)
    crumbs = [("Регион", "/dashboard")] if session.role == REGIONAL else []
    return await _level(
        request,
        title=name,
        path=f"/indicators/municipalities/{code}",
        breakdown={"path": f"/indicators/municipalities/{code}", "params": {"by_school": "true"}},
        names={s["code"]: s["name"] for s in schools},
        link="/dashboard/schools/{code}",
        period=period,
        fresh=fresh,
        report={"level": "municipality", "code": code},
        crumbs=[*crumbs, (name, f"/dashboard/municipalities/{code}")],
    )


@router.get("/dashboard/schools/{code}")
async def school(
    request: Request,
    code: str,
    session: Session = Depends(role(*OPERATORS, CURATOR)),
    period: str | None = PeriodParam,
    fresh: bool = False,
) -> Response:
    if session.role == CURATOR and session.school != code:
        raise Refused("Это страница другой организации: у вас нет к ней доступа")
    found = await call(request, "registry", "GET", f"/schools/{code}")
    crumbs = [("Регион", "/dashboard")] if session.role == REGIONAL else []
    if session.role in OPERATORS:
        crumbs.append(("Муниципалитет", f"/dashboard/municipalities/{found['municipality']}"))
    return await _level(
        request,
        title=found["name"],
        path=f"/indicators/schools/{code}",
        breakdown=None,
        names={},
        link=None,
        period=period,
        fresh=fresh,
        report={"level": "school", "code": code},
        crumbs=[*crumbs, (found["name"], f"/dashboard/schools/{code}")],
    )


@router.get("/reports/yearly.{extension}")
async def yearly_report(
    request: Request,
    extension: str,
    session: Session = Depends(role(*OPERATORS, CURATOR)),
    level: str = Query(pattern="^(region|municipality|school)$"),
    code: str | None = Query(default=None, max_length=32),
    period: str | None = PeriodParam,
) -> Response:
    """The monitoring service's yearly analytic report, passed through as it is (XLSX or PDF)."""
    if extension not in ("xlsx", "pdf"):
        raise Refused("Отчёт выгружается в XLSX или PDF")
    params = {"level": level} | ({"code": code} if code else {}) | ({"period": period} if period else {})
    answer = await backend(request).raw(
        "monitoring", "GET", f"/reports/yearly.{extension}", session.token, params=params
    )
    return Response(
        answer.content,
        media_type=answer.headers.get("content-type"),
        headers={"Content-Disposition": answer.headers.get("content-disposition", "attachment")},
    )
