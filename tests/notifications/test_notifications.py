"""Notifications against real NATS, PostgreSQL and HTTP receivers on loopback."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from typing import Any

from sqlalchemy import text

from mentornet_auth import Role
from mentornet_events.catalogue.monitoring import RiskFlagRaised
from mentornet_events.catalogue.programs import PairDissolved, ProgrammeCompleted, RoadmapItemOverdue
from mentornet_events.vocabulary import DeficitArea, DissolutionReason, MentoringForm
from notifications.domain.webhooks import verify
from tests.integration.support import eventually
from tests.monitoring.scenario import Script
from tests.notifications.conftest import Post, Receiver, receivers


async def inbox(post: Post, headers: dict[str, str]) -> list[dict[str, Any]]:
    answer: list[dict[str, Any]] = await post.ok("GET", "/inbox", headers)
    return answer


async def test_each_rule_reaches_exactly_the_right_recipients(post_office: Any) -> None:
    async with post_office() as post:
        script = Script()
        await post.connected(script, ["s1", "s2"])
        script.pair("P1", "s1", date(2026, 9, 10), "T1", "T2", MentoringForm.TEACHER_TEACHER)
        script.emit(
            f"pair-{script.id('P1')}",
            "s1",
            date(2026, 11, 1),
            PairDissolved(
                pair_id=script.id("P1"),
                programme_id=script.id("programme-s1"),
                reason=DissolutionReason.INCOMPATIBLE,
                dissolved_on=date(2026, 11, 1),
            ),
        )
        await post.publish([e for e in script.envelopes if e[0] == "programs"])
        curator_s1 = post.headers(Role.SCHOOL_CURATOR, municipality="m1", school="s1")
        mentor = post.headers(Role.MENTOR, municipality="m1", school="s1", participant_id=script.id("T1"))
        mentee = post.headers(Role.MENTEE, municipality="m1", school="s1", participant_id=script.id("T2"))
        stranger = post.headers(Role.MENTEE, municipality="m1", school="s1", participant_id=script.id("T3"))

        async def school_has_three() -> bool:
            return len(await inbox(post, curator_s1)) == 3

        await eventually(school_has_three)
        subjects = [m["subject"] for m in await inbox(post, curator_s1)]
        assert sorted(subjects) == sorted(
            [
                "Организация s1 подключена к MentorNet",
                "Сформирована наставническая пара",
                "Наставническая пара расформирована",
            ]
        )
        # the dissolution names nobody: its recipients come from the pair formed before
        for person in (mentor, mentee):
            assert sorted(m["subject"] for m in await inbox(post, person)) == [
                "Наставническая пара расформирована",
                "Сформирована наставническая пара",
            ]
        assert await inbox(post, stranger) == []
        region = [m["subject"] for m in await inbox(post, post.headers(Role.REGIONAL_OPERATOR))]
        assert sorted(region) == [
            "Организация s1 подключена к MentorNet",
            "Организация s2 подключена к MentorNet",
        ]
        curator_s2 = post.headers(Role.SCHOOL_CURATOR, municipality="m1", school="s2")
        assert [m["subject"] for m in await inbox(post, curator_s2)] == [
            "Организация s2 подключена к MentorNet"
        ]
        # redelivered after the broker's duplicate window: nobody is told twice
        await post.publish(script.envelopes, msg_ids=False)
        await asyncio.sleep(1.0)
        assert len(await inbox(post, curator_s1)) == 3 and len(await inbox(post, mentor)) == 2
        unread = await post.ok("GET", "/inbox/unread-count", mentee)
        first = (await inbox(post, mentee))[0]["id"]
        await post.ok("POST", f"/inbox/{first}/read", mentee)
        assert (await post.ok("GET", "/inbox/unread-count", mentee))["unread"] == unread["unread"] - 1
        assert (await post.client.post(f"/inbox/{first}/read", headers=stranger)).status_code == 404


async def _hook(post: Post, base: str, code: str) -> str:
    curator = post.headers(Role.SCHOOL_CURATOR, municipality="m1", school=code)
    answer = await post.ok("PUT", f"/schools/{code}/webhook", curator, json={"url": f"{base}/{code}"})
    return str(answer["secret"])


async def test_a_webhook_that_fails_twice_gets_the_message_once_signed(post_office: Any) -> None:
    boxes = {"s1": Receiver(fail=2)}
    async with receivers(boxes) as base, post_office() as post:
        await post.connected(Script(), ["s1"])
        secret = await _hook(post, base, "s1")
        sent = await post.ok(
            "POST",
            "/broadcasts",
            post.headers(Role.REGIONAL_OPERATOR),
            json={"title": "Отчёт", "text": "До 1 июня"},
        )
        await eventually(lambda: asyncio.sleep(0, result=len(boxes["s1"].received()) == 1))
        await asyncio.sleep(0.3)
        received = boxes["s1"].received()
        assert len(received) == 1 and received[0]["subject"] == "Отчёт"
        assert [status for _, _, status in boxes["s1"].requests] == [500, 500, 200]
        headers, body, _ = boxes["s1"].requests[-1]
        assert verify(secret, int(headers["x-mentornet-timestamp"]), body, headers["x-mentornet-signature"])
        assert not verify(
            "another-secret", int(headers["x-mentornet-timestamp"]), body, headers["x-mentornet-signature"]
        )
        status = await post.ok("GET", f"/broadcasts/{sent['id']}", post.headers(Role.REGIONAL_OPERATOR))
        assert status["deliveries"] == [
            {"school": "s1", "inbox": "delivered", "webhook": "sent", "attempts": 3}
        ]


async def test_a_dead_endpoint_ends_in_the_dead_letter_record_while_others_receive(post_office: Any) -> None:
    boxes = {"s1": Receiver(always_fail=True), "s2": Receiver()}
    async with receivers(boxes) as base, post_office() as post:
        await post.connected(Script(), ["s1", "s2"])
        for code in boxes:
            await _hook(post, base, code)
        operator = post.headers(Role.REGIONAL_OPERATOR)
        for n in range(3):
            await post.ok("POST", "/broadcasts", operator, json={"title": f"Объявление {n}", "text": "Текст"})
        curator_s1 = post.headers(Role.SCHOOL_CURATOR, municipality="m1", school="s1")

        async def broadcast_log() -> list[dict[str, Any]]:
            log = await post.ok("GET", "/schools/s1/deliveries", curator_s1)
            return [entry for entry in log if entry["source_type"] == "Broadcast"]

        async def all_dead() -> bool:
            log = await broadcast_log()
            return len(log) == 3 and all(entry["webhook_status"] == "dead" for entry in log)

        await eventually(all_dead)
        assert sorted(m["subject"] for m in boxes["s2"].received()) == [f"Объявление {n}" for n in range(3)]
        log = await broadcast_log()
        assert all("после 4 попыток" in entry["webhook_error"] for entry in log)
        assert [e["webhook_attempts"] for e in log] == [4, 4, 4] and len(boxes["s1"].requests) == 12
        hook = await post.ok("GET", "/schools/s1/webhook", curator_s1)
        assert hook["failures"] >= 2 and hook["open_until"] is not None  # opened after two failures in a row
        assert "secret" not in hook
        assert boxes["s1"].received() == []
        # a school sees its own log only
        other = await post.client.get("/schools/s2/deliveries", headers=curator_s1)
        assert other.status_code == 404


async def test_a_restart_in_the_middle_of_a_broadcast_sends_no_duplicate_and_misses_no_school(
    post_office: Any,
) -> None:
    codes = [f"s{n}" for n in range(1, 41)]
    boxes = {code: Receiver(delay=0.2) for code in codes}
    async with receivers(boxes) as base:
        async with post_office(concurrency=4) as post:
            await post.connected(Script(), codes)
            for code in codes:
                await _hook(post, base, code)
            sent = await post.ok(
                "POST",
                "/broadcasts",
                post.headers(Role.REGIONAL_OPERATOR),
                json={"title": "Срочно", "text": "!"},
            )
            await eventually(
                lambda: asyncio.sleep(0, result=sum(len(b.requests) for b in boxes.values()) >= 6)
            )
        # stopped mid-way (in-flight sends finish); a new process takes over
        halfway = sum(len(b.requests) for b in boxes.values())
        assert 0 < halfway < len(codes)
        async with post_office(concurrency=20) as post:
            await eventually(lambda: asyncio.sleep(0, result=all(b.received() for b in boxes.values())))
            await asyncio.sleep(0.5)
            status = await post.ok("GET", f"/broadcasts/{sent['id']}", post.headers(Role.REGIONAL_OPERATOR))
        assert {code: len(b.requests) for code, b in boxes.items()} == dict.fromkeys(codes, 1)
        assert {d["webhook"] for d in status["deliveries"]} == {"sent"} and len(status["deliveries"]) == 40
        ids = {json.loads(b.requests[0][1])["message_id"] for b in boxes.values()}
        assert len(ids) == 40


async def test_broadcasts_stay_in_the_operators_scope(post_office: Any) -> None:
    async with post_office() as post:
        script = Script()
        await post.connected(script, ["s1", "s3"])  # s1 in m1, s3 in m2 (see the scenario's places)
        m1 = post.headers(Role.MUNICIPAL_OPERATOR, municipality="m1")
        sent = await post.ok("POST", "/broadcasts", m1, json={"title": "Для m1", "text": "Текст"})
        assert sent["schools"] == 1
        refused = await post.client.post(
            "/broadcasts", headers=m1, json={"title": "x", "text": "y", "municipality": "m2"}
        )
        assert refused.status_code == 403
        curator = post.headers(Role.SCHOOL_CURATOR, municipality="m1", school="s1")
        assert (
            await post.client.post("/broadcasts", headers=curator, json={"title": "x", "text": "y"})
        ).status_code == 403
        s3 = post.headers(Role.SCHOOL_CURATOR, municipality="m2", school="s3")
        assert [m["subject"] for m in await inbox(post, s3)] == ["Организация s3 подключена к MentorNet"]


async def test_preferences_are_respected_and_mandatory_messages_still_arrive(post_office: Any) -> None:
    async with post_office() as post:
        script = Script()
        mentee = post.headers(Role.MENTEE, municipality="m1", school="s1", participant_id=script.id("T2"))
        mentor = post.headers(Role.MENTOR, municipality="m1", school="s1", participant_id=script.id("T1"))
        curator = post.headers(Role.SCHOOL_CURATOR, municipality="m1", school="s1")
        await post.ok("PUT", "/preferences", mentee, json={"channel": "inbox", "opt_out": True})
        await post.ok("PUT", "/preferences", curator, json={"channel": "inbox", "opt_out": True})
        await post.connected(script, ["s1"])  # mandatory: the school is told despite its opt-out
        script.pair("P1", "s1", date(2026, 9, 10), "T1", "T2", MentoringForm.TEACHER_TEACHER)
        await post.publish([e for e in script.envelopes if e[0] == "programs"])

        async def mentor_told() -> bool:
            return len(await inbox(post, mentor)) == 1

        await eventually(mentor_told)
        assert await inbox(post, mentee) == []  # opted out of this non-mandatory message
        assert [m["subject"] for m in await inbox(post, curator)] == ["Организация s1 подключена к MentorNet"]
        log = await post.ok("GET", "/schools/s1/deliveries", curator)
        assert {e["source_type"] for e in log} == {"SchoolConnected", "PairFormed"}  # the log keeps both
        assert await post.ok("GET", "/preferences", mentee) == [
            {
                "recipient": f"participant:{script.id('T2')}",
                "channel": "inbox",
                "opt_out": True,
                "digest": False,
            }
        ]


async def test_low_priority_messages_wait_for_one_daily_digest(post_office: Any) -> None:
    async with post_office() as post:
        script = Script()
        await post.connected(script, ["s1"])
        curator = post.headers(Role.SCHOOL_CURATOR, municipality="m1", school="s1")
        await post.ok("PUT", "/preferences", curator, json={"channel": "inbox", "digest": True})
        for n in (1, 2):
            script.emit(
                f"programme-{n}",
                "s1",
                date(2027, 5, 30),
                ProgrammeCompleted(
                    programme_id=script.id(f"programme-{n}"),
                    completed_on=date(2027, 5, 30),
                    pairs_completed=n,
                ),
            )
        await post.publish([e for e in script.envelopes if e[1].type == "ProgrammeCompleted"])
        service = post.app.state.notifications

        async def held() -> bool:
            async with service.engine.connect() as conn:
                return (
                    await conn.scalar(
                        text("SELECT count(*) FROM notifications_messages WHERE state = 'digest'")
                    )
                ) == 2

        await eventually(held)
        assert [m["subject"] for m in await inbox(post, curator)] == ["Организация s1 подключена к MentorNet"]
        assert await service.make_digests(date(2027, 5, 30)) == 1
        assert await service.make_digests(date(2027, 5, 30)) == 0
        digest = (await inbox(post, curator))[0]
        assert digest["subject"] == "Сводка уведомлений за 30.05.2027"
        assert digest["body"].count("Программа наставничества завершена") == 2


async def test_scheduled_reminders_reach_the_right_people_once(post_office: Any) -> None:
    async with post_office() as post:
        script = Script()
        await post.connected(script, ["s1"])
        script.pair("P1", "s1", date(2026, 9, 10), "T1", "T2", MentoringForm.TEACHER_TEACHER)
        script.roadmap(
            "P1", "s1", date(2026, 9, 11), 1, {"soon": date(2026, 10, 5), "late": date(2026, 9, 20)}
        )
        script.emit(
            f"roadmap-{script.id('P1')}",
            "s1",
            date(2026, 9, 21),
            RoadmapItemOverdue(
                pair_id=script.id("P1"),
                item_id=script.id("late"),
                direction=DeficitArea.METHODOLOGICAL,
                due_on=date(2026, 9, 20),
                detected_on=date(2026, 9, 21),
            ),
        )
        script.meeting("M1", "P1", "s1", date(2026, 9, 25))
        script.feedback("M1", "P1", "s1", date(2026, 9, 25), "mentee", (5, 5, 5, 5))
        await post.publish([e for e in script.envelopes if e[0] == "programs"])
        mentor = post.headers(Role.MENTOR, municipality="m1", school="s1", participant_id=script.id("T1"))
        mentee = post.headers(Role.MENTEE, municipality="m1", school="s1", participant_id=script.id("T2"))
        curator = post.headers(Role.SCHOOL_CURATOR, municipality="m1", school="s1")

        async def overdue_told() -> bool:  # the event itself notified mentor, mentee and school
            return any(m["subject"] == "Просрочен пункт дорожной карты" for m in await inbox(post, curator))

        await eventually(overdue_told)
        reminders = post.app.state.reminders
        today = date(2026, 9, 30)
        await reminders.run_once(today)
        await reminders.run_once(today)  # a second run (or replica) tells nobody twice

        def subjects(messages: list[dict[str, Any]]) -> list[str]:
            return sorted(m["subject"] for m in messages if m["source_type"] != "PairFormed")

        assert subjects(await inbox(post, mentor)) == [
            "Заполните форму обратной связи по встрече",  # the mentor owes the form
            "Просрочен пункт дорожной карты",
            "Скоро срок пункта дорожной карты",
        ]
        assert subjects(await inbox(post, mentee)) == [
            "Просрочен пункт дорожной карты",
            "Скоро срок пункта дорожной карты",
        ]
        assert "Пункт дорожной карты всё ещё просрочен" in subjects(await inbox(post, curator))
        assert subjects(await inbox(post, curator)).count("Пункт дорожной карты всё ещё просрочен") == 1


async def test_a_risk_flag_reaches_the_school_and_its_municipality(post_office: Any) -> None:
    async with post_office() as post:
        script = Script()
        await post.connected(script, ["s1", "s3"])
        script.emit(
            "risks-s1-2026-2027",
            "s1",
            date(2027, 6, 1),
            RiskFlagRaised(
                school="s1", period="2026/2027", code="formalism", rule="Встреч без формы 67% (порог 20%)"
            ),
        )
        await post.publish(script.envelopes[-1:])
        curator = post.headers(Role.SCHOOL_CURATOR, municipality="m1", school="s1")
        m1 = post.headers(Role.MUNICIPAL_OPERATOR, municipality="m1")
        m2 = post.headers(Role.MUNICIPAL_OPERATOR, municipality="m2")

        async def told() -> bool:
            return any(m["source_type"] == "RiskFlagRaised" for m in await inbox(post, m1))

        await eventually(told)
        flagged = [m for m in await inbox(post, curator) if m["source_type"] == "RiskFlagRaised"]
        assert len(flagged) == 1 and "Встреч без формы 67%" in flagged[0]["body"]
        assert await inbox(post, m2) == []
