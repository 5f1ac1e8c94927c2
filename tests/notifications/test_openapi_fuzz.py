"""The notifications service under schemathesis (see tests/fuzzing.py): two schools, a pair, a
broadcast; the school's curator, the pair's mentee, the operators and nobody."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from mentornet_auth import Role
from mentornet_events.vocabulary import MentoringForm
from tests.fuzzing import ANONYMOUS, fuzz_service
from tests.integration.support import eventually
from tests.monitoring.scenario import Script
from tests.notifications.test_notifications import inbox

pytestmark = [pytest.mark.nats, pytest.mark.db, pytest.mark.timeout(300)]


async def test_no_operation_answers_with_a_server_error(post_office: Any) -> None:
    async with post_office() as post:
        script = Script()
        await post.connected(script, ["s1", "s3"])
        script.pair("P1", "s1", date(2026, 9, 10), "T1", "T2", MentoringForm.TEACHER_TEACHER)
        await post.publish(script.envelopes[-1:])
        operator = post.headers(Role.REGIONAL_OPERATOR)
        mentee = post.headers(Role.MENTEE, municipality="m1", school="s1", participant_id=script.id("T2"))
        curator = post.headers(Role.SCHOOL_CURATOR, municipality="m1", school="s1")
        sent = await post.ok("POST", "/broadcasts", operator, json={"title": "Объявление", "text": "Текст"})
        messages = await eventually(lambda: inbox(post, mentee))
        await post.ok("PUT", "/schools/s1/webhook", curator, json={"url": "http://127.0.0.1:9/s1"})
        known = {
            "code": ["s1", "s3"],
            "broadcast_id": [str(sent["id"])],
            "message_id": [str(m["id"]) for m in messages],
        }
        roles = {
            "curator of s1": curator,
            "mentee": mentee,
            "regional operator": operator,
            "municipal operator of m2": post.headers(Role.MUNICIPAL_OPERATOR, municipality="m2"),
            ANONYMOUS: {},
        }
        print(f"\n{await fuzz_service(post.client, roles, known, min_reached=3)}")
