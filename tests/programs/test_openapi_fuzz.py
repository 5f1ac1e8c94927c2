"""The programs service under schemathesis (see tests/fuzzing.py): a programme with a pair, its
roadmap and a meeting; the curator, the pair's mentee, the regional operator and nobody."""

from __future__ import annotations

import pytest

from tests.fuzzing import ANONYMOUS, fuzz_service
from tests.programs.conftest import World
from tests.programs.test_programs_api import item, pair_in

pytestmark = [pytest.mark.nats, pytest.mark.db, pytest.mark.timeout(300)]

ENDS_OF_LIFE = ("POST /pairs/{pair_id}/dissolve", "POST /programmes/{programme_id}/complete")


async def test_no_operation_answers_with_a_server_error(world: World) -> None:
    pair, mentor, mentee = await pair_in(world)
    curator = world.network.curator["A"]
    await world.programs.ok(
        "PUT", f"/pairs/{pair}/roadmap", curator, json={"items": [item("Пункт", "2026-10-01")]}
    )
    roadmap = await world.programs.ok("GET", f"/pairs/{pair}/roadmap", curator)
    meeting = await world.programs.ok(
        "POST", f"/pairs/{pair}/meetings", curator, json={"kind": "acquaintance", "held_on": "2026-09-02"}
    )
    programme = (await world.programs.ok("GET", f"/pairs/{pair}", curator))["programme_id"]
    known = {
        "programme_id": [str(programme)],
        "pair_id": [pair],
        "item_id": [str(roadmap["items"][0]["item_id"])],
        "meeting_id": [str(meeting["id"])],
        "mentee": [str(mentee)],
        "school": ["sch-a", "sch-b"],
    }
    roles = {
        "curator of A": curator,
        "mentee": await world.account("A", "mentee", mentee),
        "regional operator": world.network.operator,
        ANONYMOUS: {},
    }
    del mentor
    print(f"\n{await fuzz_service(world.programs.client, roles, known, ends_of_life=ENDS_OF_LIFE)}")
