"""The programs service against real NATS and PostgreSQL, fed by the registry's events."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date
from typing import Any

import nats

from mentornet_events import Subjects
from programs.application import roadmaps
from tests.integration.support import eventually, stream_messages
from tests.programs.conftest import World, mentee_body
from tests.registry.conftest import mentor_body


async def launch(world: World, school: str = "A", stage: str | None = "pairing") -> str:
    curator = world.network.curator[school]
    answer = await world.programs.ok(
        "POST",
        "/programmes",
        curator,
        json={"title": "Молодой педагог", "form": "teacher_teacher", "starts_on": "2026-09-01"},
    )
    if stage:
        await world.programs.ok("POST", f"/programmes/{answer['id']}/stage", curator, json={"stage": stage})
    return str(answer["id"])


async def pair_in(world: World, school: str = "A") -> tuple[str, uuid.UUID, uuid.UUID]:
    """A programme with one formed pair: (pair id, mentor id, mentee id)."""
    mentor = await world.register(school, "mentors", mentor_body())
    mentee = await world.register(school, "mentees", mentee_body())
    await world.eligible(mentor, mentor_consent=True)
    await world.eligible(mentee, mentee_consent=True)
    programme = await launch(world, school)
    formed = await world.programs.ok(
        "POST",
        f"/programmes/{programme}/pairs",
        world.network.curator[school],
        json={"mentor_ids": [str(mentor)], "mentee_ids": [str(mentee)]},
    )
    return str(formed["id"]), mentor, mentee


def item(activity: str, due_on: str | None = None, **more: Any) -> dict[str, Any]:
    return {"activity": activity, "direction": "methodological", "due_on": due_on, **more}


async def events_of(world: World, subjects: Subjects, nats_url: str, event_type: str) -> list[dict[str, Any]]:
    nc = await nats.connect(nats_url)
    try:
        messages = await stream_messages(
            nc.jetstream(), subjects.stream("programs"), subjects.service_wildcard("programs")
        )
    finally:
        await nc.close()
    return [e for e in (json.loads(m.data) for m in messages) if e["type"] == event_type]


async def test_a_registry_event_makes_a_participant_eligible_here(world: World) -> None:
    mentor = await world.register("A", "mentors", mentor_body())
    row = await world.eligible(mentor)
    assert row.school == "sch-a" and row.municipality == "m1" and row.mentor_consent
    assert row.mentor["competencies"] == ["methodological", "ict"] and row.mentor["max_mentees"] == 2
    assert "last_name" not in json.dumps(row.mentor)  # the registry keeps names to itself
    await world.network.api.ok(
        "POST", f"/participants/{mentor}/consent/mentor/withdraw", world.network.curator["A"]
    )
    await world.eligible(mentor, mentor_consent=False, mentor=None)


async def test_matching_ranks_with_an_explanation_and_proposes_pairs(world: World) -> None:
    mentor = await world.register("A", "mentors", mentor_body())
    mentee = await world.register("A", "mentees", mentee_body(["ict", "legal_normative"]))
    await world.eligible(mentor)
    await world.eligible(mentee)
    programme = await launch(world)
    curator = world.network.curator["A"]
    ranked = await world.programs.ok("GET", f"/programmes/{programme}/candidates?mentee={mentee}", curator)
    assert [c["mentor_id"] for c in ranked] == [str(mentor)]
    deficits = next(t for t in ranked[0]["explanation"] if t["key"] == "deficits")
    assert "1 из 2" in deficits["text"] and deficits["points"] > 0
    proposal = await world.programs.ok("POST", f"/programmes/{programme}/assignment", curator)
    assert [(p["mentee_id"], p["mentor_id"]) for p in proposal["pairs"]] == [(str(mentee), str(mentor))]


async def test_a_pair_without_both_consents_is_refused_with_a_clear_message(world: World) -> None:
    mentor = await world.register("A", "mentors", mentor_body())
    mentee = await world.register("A", "mentees", mentee_body())
    await world.network.api.ok(
        "POST", f"/participants/{mentee}/consent/mentee/withdraw", world.network.curator["A"]
    )
    await world.eligible(mentor, mentor_consent=True)
    await world.eligible(mentee, mentee_consent=False)
    programme = await launch(world)
    answer = await world.programs.client.post(
        f"/programmes/{programme}/pairs",
        headers=world.network.curator["A"],
        json={"mentor_ids": [str(mentor)], "mentee_ids": [str(mentee)]},
    )
    assert answer.status_code == 409, answer.text
    assert "нет в базе наставляемых" in answer.json()["detail"] or "нет согласия" in answer.json()["detail"]
    assert await world.programs.ok("GET", f"/programmes/{programme}/pairs", world.network.curator["A"]) == []


async def test_pairs_are_formed_only_from_the_pairing_stage(world: World) -> None:
    mentor = await world.register("A", "mentors", mentor_body())
    mentee = await world.register("A", "mentees", mentee_body())
    await world.eligible(mentor)
    await world.eligible(mentee)
    programme = await launch(world, stage=None)
    answer = await world.programs.client.post(
        f"/programmes/{programme}/pairs",
        headers=world.network.curator["A"],
        json={"mentor_ids": [str(mentor)], "mentee_ids": [str(mentee)]},
    )
    assert answer.status_code == 409 and "формирование пар" in answer.json()["detail"]


async def test_completing_an_item_emits_one_event_even_when_retried(
    world: World, subjects: Subjects, nats_url: str
) -> None:
    pair, _, _ = await pair_in(world)
    curator = world.network.curator["A"]
    await world.programs.ok("PUT", f"/pairs/{pair}/roadmap", curator, json={"items": [item("Открытый урок")]})
    roadmap = await world.programs.ok("GET", f"/pairs/{pair}/roadmap", curator)
    item_id = roadmap["items"][0]["item_id"]
    body = {"product_kind": "конспект урока", "product": "Урок по дробям", "attitude": "Полезно"}
    url = f"/pairs/{pair}/roadmap/items/{item_id}/complete"
    retry = {**curator, "Idempotency-Key": "complete-1"}
    first = await world.programs.client.post(url, headers=retry, json=body)
    again = await world.programs.client.post(url, headers=retry, json=body)
    assert first.status_code == again.status_code == 200
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json() == first.json()
    fresh = await world.programs.client.post(url, headers=curator, json=body)  # a retry without the key
    assert fresh.status_code == 200 and fresh.json() == first.json()
    completed = await eventually(lambda: events_of(world, subjects, nats_url, "RoadmapItemCompleted"))
    await asyncio.sleep(0.5)  # anything published twice would be on the stream by now
    completed = await events_of(world, subjects, nats_url, "RoadmapItemCompleted")
    assert [e["payload"]["item_id"] for e in completed] == [item_id]
    view = await world.programs.ok("GET", f"/pairs/{pair}/roadmap", curator)
    assert view["items"][0]["completion"] == {"product": "Урок по дробям", "attitude": "Полезно"}
    assert "Урок по дробям" not in json.dumps(completed)  # texts stay in the service


async def test_an_overdue_item_raises_exactly_one_event(
    world: World, subjects: Subjects, nats_url: str
) -> None:
    pair, _, _ = await pair_in(world)
    curator = world.network.curator["A"]
    items = [
        item("Анализ урока", "2026-10-01"),
        item("Позже", "2027-03-01"),
        item("Ритм", rhythm="quarterly"),
    ]
    await world.programs.ok("PUT", f"/pairs/{pair}/roadmap", curator, json={"items": items})
    assert await roadmaps.check_overdue(world.service, date(2026, 9, 30)) == 0
    checks = await asyncio.gather(
        *(roadmaps.check_overdue(world.service, date(2026, 10, 2)) for _ in range(3))
    )
    assert sum(checks) == 1, checks
    assert await roadmaps.check_overdue(world.service, date(2026, 11, 1)) == 0
    overdue = await eventually(lambda: events_of(world, subjects, nats_url, "RoadmapItemOverdue"))
    assert len(overdue) == 1 and overdue[0]["payload"]["due_on"] == "2026-10-01"


async def test_concurrent_edits_of_a_roadmap_give_one_success_and_one_409(world: World) -> None:
    pair, _, _ = await pair_in(world)
    curator = world.network.curator["A"]
    await world.programs.ok("PUT", f"/pairs/{pair}/roadmap", curator, json={"items": [item("Первый")]})
    read = await world.programs.client.get(f"/pairs/{pair}/roadmap", headers=curator)
    etag = read.headers["ETag"]
    edits = [{"items": [item(f"Правка {n}")], "reason": f"корректировка {n}"} for n in (1, 2)]
    answers = await asyncio.gather(
        *(
            world.programs.client.put(f"/pairs/{pair}/roadmap", headers={**curator, "If-Match": etag}, json=e)
            for e in edits
        )
    )
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    loser = next(a for a in answers if a.status_code == 409)
    assert "изменил кто-то другой" in loser.json()["detail"]
    missing_reason = await world.programs.client.put(
        f"/pairs/{pair}/roadmap", headers=curator, json={"items": [item("Без причины")]}
    )
    assert missing_reason.status_code == 422 and missing_reason.json()["errors"][0]["field"] == "reason"


async def test_a_mentee_cannot_read_another_pairs_roadmap(world: World) -> None:
    own_pair, _, mentee = await pair_in(world)
    other_pair, _, _ = await pair_in(world)
    curator = world.network.curator["A"]
    for pair in (own_pair, other_pair):
        await world.programs.ok("PUT", f"/pairs/{pair}/roadmap", curator, json={"items": [item("Пункт")]})
    as_mentee = await world.account("A", "mentee", mentee)
    assert (
        await world.programs.client.get(f"/pairs/{own_pair}/roadmap", headers=as_mentee)
    ).status_code == 200
    other = await world.programs.client.get(f"/pairs/{other_pair}/roadmap", headers=as_mentee)
    assert other.status_code == 404
    mine = await world.programs.ok("GET", "/pairs", as_mentee)
    assert [p["id"] for p in mine] == [own_pair]
    school_b = world.network.curator["B"]
    assert (
        await world.programs.client.get(f"/pairs/{own_pair}/roadmap", headers=school_b)
    ).status_code == 404


async def test_meetings_need_feedback_and_the_programme_completes_with_a_report(world: World) -> None:
    pair, mentor, mentee = await pair_in(world)
    curator = world.network.curator["A"]
    pair_view = await world.programs.ok("GET", f"/pairs/{pair}", curator)
    programme = str(pair_view["programme_id"])
    meeting = await world.programs.ok(
        "POST", f"/pairs/{pair}/meetings", curator, json={"kind": "acquaintance", "held_on": "2026-09-02"}
    )
    scores = {"reaction": 5, "knowledge": 4, "behaviour": 4, "results": 3}
    as_mentee = await world.account("A", "mentee", mentee)
    await world.programs.ok(
        "POST",
        f"/pairs/{pair}/meetings/{meeting['id']}/feedback",
        as_mentee,
        json={"respondent_role": "mentee", "scores": scores, "comment": "Спасибо"},
    )
    impersonation = await world.programs.client.post(
        f"/pairs/{pair}/meetings/{meeting['id']}/feedback",
        headers=as_mentee,
        json={"respondent_role": "mentor", "scores": scores},
    )
    assert impersonation.status_code == 403
    view = await world.programs.ok("GET", f"/pairs/{pair}", curator)
    assert view["meetings"][0]["feedback_missing"] == ["mentor"]
    reflection = await world.programs.client.post(
        f"/pairs/{pair}/reflection", headers=as_mentee, json={"text": "Научилась планировать уроки"}
    )
    assert reflection.status_code == 204, reflection.text
    await world.programs.ok("POST", f"/programmes/{programme}/stage", curator, json={"stage": "work"})
    await world.programs.ok(
        "POST",
        f"/programmes/{programme}/complete",
        curator,
        json={
            "reflection": "Пара сработалась",
            "results": "Цели достигнуты",
            "nominated_mentor_ids": [str(mentor)],
        },
    )
    assert (await world.programs.ok("GET", f"/pairs/{pair}", curator))["status"] == "completed"
    report = await world.programs.client.get(f"/programmes/{programme}/report.xlsx", headers=curator)
    assert report.status_code == 200 and report.content[:2] == b"PK"
    from io import BytesIO

    from openpyxl import load_workbook

    book = load_workbook(BytesIO(report.content))
    assert book.sheetnames == ["Программа", "Пары", "Обратная связь"]
    summary = {row[0]: row[1] for row in book["Программа"].iter_rows(values_only=True)}
    assert (
        summary["Завершили работу"] == 1 and summary["Результаты в сравнении с целями"] == "Цели достигнуты"
    )
    pair_rows = list(book["Пары"].iter_rows(values_only=True))
    assert pair_rows[1][pair_rows[0].index("Рефлексия наставляемого")] == "Научилась планировать уроки"
    feedback = {row[0]: row[1] for row in book["Обратная связь"].iter_rows(values_only=True)}
    assert feedback["реакция"] == 5


async def test_dates_outside_the_academic_range_or_the_programme_are_refused(world: World) -> None:
    curator = world.network.curator["A"]
    far = await world.programs.client.post(
        "/programmes",
        headers=curator,
        json={"title": "Далёкое будущее", "form": "teacher_teacher", "starts_on": "9999-12-31"},
    )
    assert far.status_code == 422, far.text  # once a 500: the default end overflowed
    assert far.json()["errors"][0]["message"] == "дата должна быть не позже 31.12.2099"
    programme = await launch(world, stage=None)
    late = await world.programs.client.post(
        f"/programmes/{programme}/stage", headers=curator, json={"stage": "mentee_base", "on": "2099-12-31"}
    )
    assert late.status_code == 422, late.text
    stages = await world.programs.ok("GET", f"/programmes/{programme}", curator)
    assert stages["stage"] == "preparation"


async def test_the_same_pair_confirmed_twice_is_one_pair(world: World) -> None:
    pair_id, mentor, mentee = await pair_in(world)
    curator = world.network.curator["A"]
    pairs = await world.programs.ok("GET", f"/pairs/{pair_id}", curator)
    again = await world.programs.client.post(
        f"/programmes/{pairs['programme_id']}/pairs",
        headers=curator,
        json={"mentor_ids": [str(mentor)], "mentee_ids": [str(mentee)]},
    )
    assert again.status_code == 409 and "Пара уже работает" in again.json()["detail"], again.text
    listed = await world.programs.ok("GET", f"/programmes/{pairs['programme_id']}/pairs", curator)
    assert [p["id"] for p in listed] == [pair_id]


async def test_what_happened_is_never_dated_in_the_future(world: World) -> None:
    """A meeting 200 days ahead and an item done tomorrow-but-one are refused; today (and skew) pass."""
    pair, _, _ = await pair_in(world)  # the service's clock: 01.09.2026
    curator = world.network.curator["A"]
    ahead = await world.programs.client.post(
        f"/pairs/{pair}/meetings", headers=curator, json={"kind": "acquaintance", "held_on": "2027-03-20"}
    )
    assert ahead.status_code == 422, ahead.text
    assert ahead.json()["errors"][0]["field"] == "held_on"
    assert "не может быть датой в будущем (20.03.2027)" in ahead.json()["detail"]
    await world.programs.ok(
        "POST", f"/pairs/{pair}/meetings", curator, json={"kind": "acquaintance", "held_on": "2026-09-02"}
    )
    await world.programs.ok("PUT", f"/pairs/{pair}/roadmap", curator, json={"items": [item("Открытый урок")]})
    item_id = (await world.programs.ok("GET", f"/pairs/{pair}/roadmap", curator))["items"][0]["item_id"]
    url = f"/pairs/{pair}/roadmap/items/{item_id}/complete"
    early = await world.programs.client.post(
        url, headers=curator, json={"product_kind": "конспект урока", "completed_on": "2026-09-03"}
    )
    assert early.status_code == 422 and early.json()["errors"][0]["field"] == "completed_on", early.text
    view = await world.programs.ok("GET", f"/pairs/{pair}/roadmap", curator)
    assert view["items"][0]["completed_on"] is None
    world.clock.today = date(2026, 9, 3)
    await world.programs.ok(
        "POST", url, curator, json={"product_kind": "конспект урока", "completed_on": "2026-09-03"}
    )
