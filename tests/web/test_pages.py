"""The pages' own guards, in-process: sessions that cannot be forged, CSRF, headers, role and tenant gates.

These refusals happen before any service is called, so no service runs here; the end-to-end test
(test_pages_e2e.py) drives the real system in Chromium.
"""

from __future__ import annotations

import hashlib
import re
import stat
import time
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import httpx
import pytest

from mentornet_spine.settings import SpineSettings
from web.api.auth import _safe_next
from web.api.pairs import _overdue
from web.application.charts import months_of
from web.application.session import COOKIE, Session, SessionCodec
from web.bootstrap import STATIC, create_app
from web.settings import WebSettings

SECRET = "s" * 40


def signed(role: str, school: str | None = None, municipality: str | None = None) -> str:
    session = Session(
        token="not-a-token",
        expires_at=time.time() + 600,
        username="someone",
        role=role,
        region="38",
        school=school,
        municipality=municipality,
    )
    return SessionCodec(SECRET.encode()).dump(session)


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = WebSettings(
        MENTORNET_DATA_DIR=tmp_path,
        WEB_SESSION_SECRET=SECRET,
        # nothing listens there: a page that called a service would fail, not pass
        MENTORNET_REGISTRY_URL="http://127.0.0.1:9",
        MENTORNET_PROGRAMS_URL="http://127.0.0.1:9",
        MENTORNET_MONITORING_URL="http://127.0.0.1:9",
        MENTORNET_NOTIFICATIONS_URL="http://127.0.0.1:9",
    )
    app = create_app(SpineSettings(service="web"), settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://web") as found:
        yield found


async def test_a_page_without_a_session_sends_to_sign_in_and_back(client: httpx.AsyncClient) -> None:
    answer = await client.get("/schools/sch-a/programmes")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/schools/sch-a/programmes"


async def test_a_tampered_session_is_no_session(client: httpx.AsyncClient) -> None:
    cookie = signed("regional_operator")
    body, _, mac = cookie.partition(".")
    forged = SessionCodec(b"another secret of forty characters......").dump(
        Session(token="x", expires_at=time.time() + 600, role="regional_operator")
    )
    for value in (body[:-4] + "AAAA." + mac, forged, "garbage", body):
        answer = await client.get("/dashboard", cookies={COOKIE: value})
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login"), value


async def test_forms_without_the_csrf_secret_are_refused(client: httpx.AsyncClient) -> None:
    page = await client.get("/login")
    secret = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert secret is not None
    form = {"username": "operator", "password": "whatever-it-is"}
    for sent in ({}, {"csrf": "wrong"}):
        answer = await client.post("/login", data=form | sent)
        assert answer.status_code == 403
        assert "Форма устарела" in answer.text
    header = await client.post("/logout", headers={"X-CSRF-Token": "wrong"})
    assert header.status_code == 403


async def test_pages_carry_a_strict_csp_and_an_httponly_samesite_cookie(client: httpx.AsyncClient) -> None:
    answer = await client.get("/login")
    csp = answer.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["cache-control"] == "no-store"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    assert '<html lang="ru">' in answer.text and "<script>" not in answer.text  # no inline code


async def test_the_cookie_is_secure_in_production(tmp_path: Path) -> None:
    settings = WebSettings(MENTORNET_DATA_DIR=tmp_path, WEB_SESSION_SECRET=SECRET, WEB_SECURE_COOKIES=True)
    app = create_app(SpineSettings(service="web"), settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://web") as client:
        assert "Secure" in (await client.get("/login")).headers["set-cookie"]


@pytest.mark.parametrize(
    ("who", "path"),
    [
        (("school_curator", "sch-a", None), "/schools/sch-b/participants?base=mentor"),
        (("school_curator", "sch-a", None), "/schools/sch-b/programmes"),
        (("school_curator", "sch-a", None), "/dashboard/schools/sch-b"),
        (("school_curator", "sch-a", None), "/dashboard"),
        (("school_curator", "sch-a", None), "/schools"),
        (("mentor", "sch-a", None), "/schools/sch-a/participants?base=mentee"),
        (("mentee", "sch-a", None), "/dashboard/schools/sch-a"),
        (("municipal_operator", None, "m1"), "/dashboard/municipalities/m2"),
        (("municipal_operator", None, "m1"), "/dashboard"),
        (("regional_operator", None, None), "/my"),
        (("regional_operator", None, None), "/schools/sch-a/participants?base=mentor"),
    ],
)
async def test_roles_and_tenants_are_refused_in_russian(
    client: httpx.AsyncClient, who: tuple[str, str | None, str | None], path: str
) -> None:
    role, school, municipality = who
    answer = await client.get(path, cookies={COOKIE: signed(role, school, municipality)})
    assert answer.status_code == 403, answer.text
    assert "<h1>Нет доступа</h1>" in answer.text


async def test_a_refused_form_post_does_not_reach_a_service(client: httpx.AsyncClient) -> None:
    cookie = signed("school_curator", "sch-a")
    page = await client.get("/schools/sch-b", cookies={COOKIE: cookie})
    assert page.status_code == 403
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    answer = await client.post(
        "/schools/sch-b/participants/mentor",
        data={"csrf": csrf[1], "last_name": "Иванова", "first_name": "Мария"},
        cookies={COOKIE: cookie},
    )
    assert answer.status_code == 403 and "другой организации" in answer.text


def test_sign_in_returns_only_to_this_site() -> None:
    assert _safe_next("/schools/sch-a") == "/schools/sch-a"
    for target in (
        "//evil.example",
        "https://evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        "",
        None,
    ):
        assert _safe_next(target) == "/"


def test_the_session_secret_is_made_once_and_kept_private(tmp_path: Path) -> None:
    settings = WebSettings(MENTORNET_DATA_DIR=tmp_path)
    first = settings.secret()
    assert len(first) >= 32 and settings.secret() == first
    assert stat.S_IMODE((tmp_path / "web-session-secret").stat().st_mode) == 0o600


def test_vendored_libraries_are_the_recorded_npm_releases() -> None:
    versions = (STATIC / "vendor" / "VERSIONS.md").read_text()
    for name, version in (("chart.umd.min.js", "4.6.1"), ("htmx.min.js", "2.0.11")):
        content = (STATIC / "vendor" / name).read_bytes()
        digest = hashlib.sha256(content).hexdigest()
        assert f"| {name} |" in versions and digest in versions, name
        assert version in versions
    assert b"Chart.js v4.6.1" in (STATIC / "vendor" / "chart.umd.min.js").read_bytes()[:200]
    assert b'version:"2.0.11"' in (STATIC / "vendor" / "htmx.min.js").read_bytes()


def test_an_item_is_overdue_past_its_due_date_until_done() -> None:
    today = date(2026, 11, 26)
    assert _overdue({"due_on": "2026-11-25"}, today)
    assert not _overdue({"due_on": "2026-11-26"}, today)
    assert not _overdue({"due_on": "2026-11-01", "completed_on": "2026-11-20"}, today)
    assert _overdue({"due_on": None, "overdue_for": "2026-10-01"}, today)  # reported by the service
    assert not _overdue({"due_on": None, "rhythm": "quarterly"}, today)


def test_the_line_charts_run_over_the_academic_year_up_to_this_month() -> None:
    assert months_of("2026/2027", date(2026, 11, 26)) == ["2026-09", "2026-10", "2026-11"]
    assert months_of("2025/2026", date(2026, 11, 26))[-1] == "2026-08"
    assert len(months_of("2025/2026", date(2026, 11, 26))) == 12


@pytest.mark.parametrize(
    "path",
    [
        "/schools/sch-a/participants/mentor/x%3Fperson=true",
        "/pairs/x%3Fy=1",
        "/schools/sch-a/participants/mentor/..%2F..%2Fschools",
        "/inbox/x%23y/read",
    ],
)
async def test_a_parameter_cannot_smuggle_a_query_or_a_path_to_a_service(
    client: httpx.AsyncClient, path: str
) -> None:
    cookie = signed("school_curator", "sch-a")
    if path.startswith("/inbox"):
        page = await client.get("/schools/sch-b", cookies={COOKIE: cookie})  # a refusal, with its form
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        answer = await client.post(path, data={"csrf": csrf[1]}, cookies={COOKIE: cookie})
    else:
        answer = await client.get(path, cookies={COOKIE: cookie})
    assert answer.status_code == 404  # refused before a service is called (none runs here)
    assert "Страница не найдена" in answer.text


async def test_every_page_but_sign_in_needs_a_session(client: httpx.AsyncClient) -> None:
    """A new page is gated from the start: anonymous GETs go to sign-in, forms need the CSRF secret."""
    app = client._transport.app  # type: ignore[attr-defined]
    public = {"/login", "/health"}
    checked = 0
    for path, operations in app.openapi()["paths"].items():
        if path in public:
            continue
        url = re.sub(r"\{(\w+)\}", lambda m: "xlsx" if m[1] == "extension" else "p-" + m[1], path)
        url = url.replace("p-base", "mentor")
        for method in operations:
            answer = await client.request(method.upper(), url)
            if method == "get":
                assert answer.status_code == 303 and answer.headers["location"].startswith("/login"), url
            else:
                assert answer.status_code in (303, 403), (method, url, answer.status_code)
            checked += 1
    assert checked > 25


async def test_a_mistyped_address_is_a_page_saying_what_to_fix(client: httpx.AsyncClient) -> None:
    """``?period=2026`` once answered FastAPI's raw JSON; it is a page in Russian, no service called."""
    answer = await client.get("/dashboard?period=2026", cookies={COOKIE: signed("regional_operator")})
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("text/html")
    assert "Неверный адрес страницы — period: неверный формат (учебный год в виде 2026/2027)" in answer.text
    assert '"detail"' not in answer.text
