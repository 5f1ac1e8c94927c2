"""Every programme and pair endpoint, called by school A on school B's data, is refused."""

from __future__ import annotations

from typing import Any

import pytest

from tests.programs.conftest import World
from tests.programs.test_programs_api import item, pair_in

SCORES = {"reaction": 5, "knowledge": 5, "behaviour": 5, "results": 5}
CROSS_TENANT: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/programmes/{p}", None),
    ("POST", "/programmes/{p}/stage", {"stage": "work"}),
    ("POST", "/programmes/{p}/documents", {"kind": "pairs_order", "number": "1-н", "dated": "2026-09-01"}),
    ("GET", "/programmes/{p}/candidates?mentee={mentee}", None),
    ("POST", "/programmes/{p}/assignment", None),
    ("POST", "/programmes/{p}/pairs", {"mentor_ids": ["{mentor}"], "mentee_ids": ["{mentee}"]}),
    ("GET", "/programmes/{p}/pairs", None),
    ("POST", "/programmes/{p}/complete", {"reflection": "—"}),
    ("GET", "/programmes/{p}/report.xlsx", None),
    ("GET", "/pairs/{pair}", None),
    ("POST", "/pairs/{pair}/dissolve", {"reason": "other"}),
    ("POST", "/pairs/{pair}/reflection", {"text": "Чужая рефлексия"}),
    ("GET", "/pairs/{pair}/roadmap", None),
    ("PUT", "/pairs/{pair}/roadmap", {"items": [item("Чужой пункт")], "reason": "проверка"}),
    ("POST", "/pairs/{pair}/roadmap/from-template", {"template": "teacher_teacher_young_specialist"}),
    ("POST", "/pairs/{pair}/roadmap/items/{item}/complete", {"product_kind": "конспект"}),
    ("POST", "/pairs/{pair}/meetings", {"kind": "regular", "held_on": "2026-09-02"}),
    ("POST", "/pairs/{pair}/meetings/{meeting}/feedback", {"respondent_role": "mentor", "scores": SCORES}),
]


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids) if "{" in value else value
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


@pytest.mark.parametrize("actor", ["school", "curator"])
async def test_school_a_cannot_read_or_write_school_b(world: World, actor: str) -> None:
    pair, mentor, mentee = await pair_in(world, "B")
    curator_b = world.network.curator["B"]
    await world.programs.ok("PUT", f"/pairs/{pair}/roadmap", curator_b, json={"items": [item("Пункт")]})
    roadmap = await world.programs.ok("GET", f"/pairs/{pair}/roadmap", curator_b)
    meeting = await world.programs.ok(
        "POST", f"/pairs/{pair}/meetings", curator_b, json={"kind": "acquaintance", "held_on": "2026-09-02"}
    )
    pair_view = await world.programs.ok("GET", f"/pairs/{pair}", curator_b)
    ids = {
        "p": str(pair_view["programme_id"]),
        "pair": pair,
        "mentor": str(mentor),
        "mentee": str(mentee),
        "item": str(roadmap["items"][0]["item_id"]),
        "meeting": str(meeting["id"]),
    }
    headers = getattr(world.network, actor)["A"]
    let_through = []
    for method, template, body in CROSS_TENANT:
        url = template.format(**ids)
        answer = await world.programs.client.request(method, url, headers=headers, json=_fill(body, ids))
        if answer.status_code not in (403, 404):
            let_through.append(f"{method} {url} → {answer.status_code} {answer.text[:200]}")
    assert let_through == []
    after = await world.programs.ok("GET", f"/pairs/{pair}", curator_b)
    assert after["version"] == pair_view["version"] and after["status"] == "active"  # nothing changed
    assert (await world.programs.ok("GET", f"/pairs/{pair}/roadmap", curator_b))["version"] == roadmap[
        "version"
    ]
    assert await world.programs.ok("GET", "/programmes", headers) == []


def test_every_programme_or_pair_endpoint_is_in_the_cross_tenant_test(world_free_app: Any) -> None:
    """A new route under a programme or a pair must join CROSS_TENANT."""
    # the OpenAPI document lists every route (app.routes holds included routers unexpanded)
    scoped = {
        (method.upper(), path)
        for path, operations in world_free_app.openapi()["paths"].items()
        if "{programme_id}" in path or "{pair_id}" in path
        for method in operations
    }
    assert ("GET", "/programmes/{programme_id}") in scoped  # the listing is not empty
    names = {
        "{p}": "{programme_id}",
        "{pair}": "{pair_id}",
        "{item}": "{item_id}",
        "{meeting}": "{meeting_id}",
    }
    covered = set()
    for method, template, _ in CROSS_TENANT:
        path = template.split("?")[0]
        for short, full in names.items():
            path = path.replace(short, full)
        covered.add((method, path))
    assert scoped - covered == set()


@pytest.fixture
def world_free_app() -> Any:
    from mentornet_spine.settings import SpineSettings
    from programs.bootstrap import create_app

    return create_app(SpineSettings(service="programs", database_url="sqlite+aiosqlite:///:memory:"))


async def test_a_service_account_reads_no_programmes(world: World) -> None:
    """A service (notifications) has no school or municipality: the region's list is not for it."""
    await pair_in(world)
    network = world.network
    body = {"username": "notifications", "password": "service-password-1", "role": "service"}
    await network.api.ok("POST", "/accounts", network.operator, json=body)
    service = await network.api.login("notifications", "service-password-1")
    refused = await world.programs.client.get("/programmes", headers=service)
    assert refused.status_code == 403, refused.text
    listed = await world.programs.ok("GET", "/programmes", network.operator)
    assert len(listed) == 1  # the operator's view of the same list is not empty
