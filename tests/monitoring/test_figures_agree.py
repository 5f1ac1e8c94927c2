"""Every figure a person sees for one indicator and period is the same on every page and report.

One scripted year (tests/monitoring/scenario.py) in the real monitoring service; the web pages
in-process call it over HTTP as in production. Only the registry's name lists are stood in for
(names are not figures): the dashboard of the region, a municipality's drill-down and the
region's XLSX report must show equal figures for the same indicator, and each equals the API's.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from openpyxl import load_workbook

from mentornet_auth import Role
from mentornet_events import format_ru
from mentornet_spine.settings import SpineSettings
from monitoring.domain.indicators import indicator
from tests.monitoring.conftest import Observatory
from tests.monitoring.scenario import PLACES, REGION, academic_year
from web.application.session import COOKIE, Session, SessionCodec
from web.bootstrap import create_app
from web.settings import WebSettings

YEAR = "2026/2027"
SECRET = "figures-agree-" * 4
#: what the dashboard shows per indicator: the card (data-figure) and the breakdown's cell (data-cell)
CARDS = {
    "coverage": "coverage.share",
    "schools": "schools",
    "pairs-active": "pairs.active",
    "waiting": "bases.mentees_waiting",
    "items-done": "roadmaps.completed_to_date",
    "feedback-forms": "feedback.forms",
}
CELLS = {"coverage": "coverage.share", "pairs-active": "pairs.active", "waiting": "bases.mentees_waiting"}


def shown(key: str, value: Any) -> str:
    """A figure as the pages print it (the reports hold the number itself)."""
    return format_ru.percent(value) if indicator(key).unit == "share" else format_ru.number(value)


def registry_names() -> FastAPI:
    """The registry's public name lists, as the dashboard asks for them (names, not figures)."""
    names = FastAPI()
    municipalities = [{"code": m, "name": f"Округ {m}"} for m in sorted(set(PLACES.values()))]
    schools = [{"code": s, "name": f"МБОУ «Школа {s}»", "municipality": m} for s, m in PLACES.items()]

    @names.get("/municipalities")
    async def _municipalities() -> list[dict[str, str]]:
        return municipalities

    @names.get("/schools")
    async def _schools(municipality: str | None = None) -> list[dict[str, str]]:
        return [s for s in schools if municipality in (None, s["municipality"])]

    return names


class Services(httpx.AsyncBaseTransport):
    """Requests to the monitoring service reach it; to the registry, its name lists."""

    def __init__(self, monitoring: FastAPI) -> None:
        self.monitoring = httpx.ASGITransport(app=monitoring)
        self.registry = httpx.ASGITransport(app=registry_names())

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        target = self.monitoring if request.url.port == 8103 else self.registry
        return await target.handle_async_request(request)


@pytest.fixture
async def pages(observatory: Observatory, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    await observatory.publish(academic_year().envelopes)
    await observatory.settled()
    backend = httpx.AsyncClient(transport=Services(observatory.app))
    settings = WebSettings(
        MENTORNET_DATA_DIR=tmp_path,
        WEB_SESSION_SECRET=SECRET,
        MENTORNET_MONITORING_URL="http://monitoring:8103",
        MENTORNET_REGISTRY_URL="http://registry:8101",
    )
    app = create_app(SpineSettings(service="web"), settings, client=backend)
    token = observatory.headers(Role.REGIONAL_OPERATOR)["Authorization"].removeprefix("Bearer ")
    session = Session(
        token=token,
        expires_at=time.time() + 600,
        username="operator",
        role="regional_operator",
        region=REGION,
    )
    cookie = SessionCodec(SECRET.encode()).dump(session)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url="http://web", cookies={COOKIE: cookie}) as web:
        yield web
    await backend.aclose()


async def page(web: httpx.AsyncClient, url: str) -> str:
    answer = await web.get(url, params={"period": YEAR, "fresh": "true"})
    assert answer.status_code == 200, answer.text
    return answer.text


def cards(html: str) -> dict[str, str]:
    return {
        CARDS[k]: v.strip() for k, v in re.findall(r'data-figure="([\w-]+)">([^<]*)<', html) if k in CARDS
    }


def rows(html: str) -> dict[str, dict[str, str]]:
    """The breakdown's rows by the code their link names."""
    found = {}
    for row in re.findall(r"<tr>(.*?)</tr>", html, flags=re.S):
        link = re.search(r'href="/dashboard/(?:municipalities|schools)/([\w-]+)"', row)
        if link:
            found[link[1]] = {
                CELLS[k]: v.strip() for k, v in re.findall(r'data-cell="([\w-]+)">([^<]*)<', row)
            }
    return found


def sheet_rows(sheet: Any) -> dict[str, dict[str, Any]]:
    header = [c.value for c in sheet[1]]
    return {r[0]: dict(zip(header, r, strict=True)) for r in sheet.iter_rows(min_row=2, values_only=True)}


@pytest.mark.parametrize("observatory", ["postgresql"], indirect=True)
async def test_the_dashboard_the_drill_down_and_the_report_agree(
    observatory: Observatory, pages: httpx.AsyncClient
) -> None:
    api = (await observatory.get(f"/indicators/region?period={YEAR}"))["figures"]
    by_municipality = (await observatory.get(f"/indicators/region?period={YEAR}&by=municipality"))["figures"]
    report = await observatory.client.get(
        f"/reports/yearly.xlsx?level=region&period={YEAR}", headers=observatory.region_operator
    )
    assert report.status_code == 200, report.text
    book = load_workbook(io.BytesIO(report.content))
    summary = {r[0]: r[1] for r in book["Сводка"].iter_rows(values_only=True) if r[0]}
    municipalities = sheet_rows(book["Муниципалитеты"])

    region = await page(pages, "/dashboard")
    on_cards = cards(region)
    assert set(on_cards) == set(CARDS.values())
    for key, text in on_cards.items():  # the region's card = the API = the report's summary
        i = indicator(key)
        assert text == shown(key, i.value(api)) == shown(key, summary[i.label]), key
    assert on_cards["pairs.active"] == "3" and on_cards["bases.mentees_waiting"] == "2"  # see check_year

    listed = rows(region)
    assert set(listed) == set(by_municipality) == {"m1", "m2"}
    for code, cells in listed.items():  # a municipality's row = its drill-down = its report row
        drill_down = cards(await page(pages, f"/dashboard/municipalities/{code}"))
        for key, text in cells.items():
            i = indicator(key)
            assert text == drill_down[key] == shown(key, i.value(by_municipality[code])), (code, key)
            assert text == shown(key, municipalities[code][i.short]), (code, key)
    assert sum(int(cells["pairs.active"]) for cells in listed.values()) == int(on_cards["pairs.active"])
