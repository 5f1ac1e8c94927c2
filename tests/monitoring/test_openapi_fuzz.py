"""The monitoring service under schemathesis (see tests/fuzzing.py), after the scripted year."""

from __future__ import annotations

import pytest

from mentornet_auth import Role
from tests.fuzzing import ANONYMOUS, fuzz_service
from tests.monitoring.conftest import Observatory
from tests.monitoring.scenario import academic_year

pytestmark = [pytest.mark.nats, pytest.mark.db, pytest.mark.timeout(300)]


async def test_no_operation_answers_with_a_server_error(observatory: Observatory) -> None:
    await observatory.publish(academic_year().envelopes)
    await observatory.settled()
    known = {
        "code": ["s1", "s2", "s3", "m1", "m2"],
        "period": ["2026/2027", "2026-10", "2026-Q4"],
        "level": ["school", "municipality", "region"],
    }
    roles = {
        "regional operator": observatory.region_operator,
        "municipal operator of m1": observatory.headers(Role.MUNICIPAL_OPERATOR, municipality="m1"),
        "curator of s1": observatory.headers(Role.SCHOOL_CURATOR, municipality="m1", school="s1"),
        "federal consumer": observatory.headers(Role.FEDERAL_CONSUMER),
        ANONYMOUS: {},
    }
    print(f"\n{await fuzz_service(observatory.client, roles, known, min_reached=2)}")
