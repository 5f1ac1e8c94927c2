"""Monitoring against real NATS and PostgreSQL: a scripted academic year, hand-computed figures."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest

from mentornet_auth import Role
from mentornet_spine.consumer import restore_consumers
from mentornet_spine.projection import rebuild
from mentornet_spine.streams import ensure_streams
from tests.integration.support import eventually, stream_messages
from tests.monitoring.conftest import Observatory, store_positions
from tests.monitoring.scenario import academic_year, payload_ids

YEAR = "/indicators/region?period=2026/2027"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def check_year(f: dict[str, Any]) -> None:
    """The region over 2026/2027, computed by hand from tests/monitoring/scenario.py."""
    assert f["schools"] == 3 and f["headcounts"] == {"teachers": 23, "students": 150}
    cov = f["coverage"]  # in a pair at some time in the year: T1–T6, T8 and the student S1
    assert (cov["teachers"], cov["students"]) == (7, 1)
    assert cov["share"] == round(8 / 173, 4) and cov["by_form"] == {
        "teacher_teacher": 6,
        "teacher_student": 2,
    }
    # in a pair: P1, P2, P5 active and P3 completed in the year (T2, T3, T8, S1 with T1, T5, T4);
    # T6 of the dissolved P4 and T7 wait
    bases = f["bases"]
    assert (bases["mentors"], bases["mentees"], bases["mentors_in_pair"], bases["mentees_in_pair"]) == (
        3,
        6,
        3,
        4,
    )
    assert bases["mentees_waiting"] == 2
    assert bases["deficits"]["ict"] == {"mentees": 3, "covered": 1}  # T3 with T1; T8's mentor lacks ICT
    assert bases["deficits"]["methodological"] == {"mentees": 1, "covered": 1}
    assert bases["deficits"]["legal_normative"] == {"mentees": 1, "covered": 0}
    pairs = f["pairs"]
    assert (pairs["formed"], pairs["active"], pairs["completed"], pairs["dissolved"]) == (5, 3, 1, 1)
    assert pairs["dissolved_by_reason"] == {"incompatible": 1}
    assert (pairs["mentors_with_mentees"], pairs["mentees_per_mentor"], pairs["mentors_overloaded"]) == (
        2,
        1.5,
        0,
    )
    roadmaps = f["roadmaps"]  # P1 revision 2 (A, B, D) + P2 (E); A and E done; B overdue; E was, then done
    assert (roadmaps["planned"], roadmaps["completed"], roadmaps["overdue"]) == (4, 2, 1)
    assert roadmaps["completion_rate"] == 0.5 and roadmaps["days_to_first_meeting"] == 3.7  # (2 + 8 + 1) / 3
    fb = f["feedback"]
    assert fb["forms"] == 3
    assert fb["mean_scores"] == {"reaction": 4.67, "knowledge": 4.33, "behaviour": 3.67, "results": 3.33}
    assert (fb["meetings"], fb["meetings_without_feedback"]) == (3, 2)
    assert f["outcomes"] == {
        "young_specialists_cohort": 1,
        "young_specialists_retained": 1,
        "want_to_become_mentors": 1,
    }
    assert {r["code"] for r in f["risks"]} == {"low_coverage", "formalism", "overdue"}


@pytest.mark.parametrize("observatory", ["sqlite", "postgresql"], indirect=True)
async def test_a_scripted_year_gives_the_hand_computed_figures(observatory: Observatory) -> None:
    script = academic_year()
    await observatory.publish(script.envelopes)
    await observatory.settled()
    year = await observatory.get(YEAR)
    check_year(year["figures"])
    october = (await observatory.get("/indicators/region?period=2026-10"))["figures"]
    assert (october["pairs"]["formed"], october["pairs"]["active"]) == (2, 5)
    assert october["pairs"]["mentors_overloaded"] == 1  # T5 with P4 and P5, declared one
    assert "mentor_overload" in {r["code"] for r in october["risks"]}
    m2 = (await observatory.get("/indicators/municipalities/m2?period=2026/2027"))["figures"]
    assert m2["bases"]["mentees_waiting"] == 1 and {r["code"] for r in m2["risks"]} >= {
        "no_pairs",
        "low_coverage",
    }
    s2 = (await observatory.get("/indicators/schools/s2?period=2026/2027"))["figures"]
    assert s2["coverage"]["teachers"] == 3 and s2["coverage"]["share"] == round(3 / 55, 4)
    by_school = (await observatory.get(YEAR + "&by=school"))["figures"]
    assert sorted(by_school) == ["s1", "s2", "s3"] and by_school["s1"]["pairs"]["formed"] == 3


async def test_replaying_the_streams_gives_identical_figures(observatory: Observatory) -> None:
    await observatory.publish(academic_year().envelopes)
    await observatory.settled()
    before = await observatory.get(YEAR)
    service = observatory.service
    result = await rebuild(service.engine, observatory.js, service.facts, observatory.subjects)
    assert result.generation == 2 and result.refused == []
    after = await observatory.get(YEAR)
    assert after["figures"] == before["figures"] and after["as_of"] == before["as_of"]
    check_year(after["figures"])


async def test_duplicated_and_redelivered_events_change_nothing(observatory: Observatory) -> None:
    script = academic_year()
    await observatory.publish(script.envelopes)
    await observatory.publish(script.envelopes)  # the same ids: JetStream drops them
    await observatory.publish(script.envelopes[-10:], msg_ids=False)  # past the window: the ledger drops them
    await observatory.settled()
    check_year((await observatory.get(YEAR))["figures"])


def complete(figures: dict[str, Any]) -> bool:
    try:
        check_year(figures)
    except AssertionError:
        return False
    return True


async def _applied(observatory: Observatory, upto: dict[str, int]) -> dict[str, Any] | None:
    """The year's answer once it is as of at least ``upto`` (stream → store position)."""
    answer = await observatory.get(YEAR)
    return answer if all(answer["as_of"].get(k, 0) >= v for k, v in upto.items()) else None


def _last_positions(
    observatory: Observatory, positions: dict[uuid.UUID, int], envelopes: Any
) -> dict[str, int]:
    last: dict[str, int] = {}
    for source, envelope in envelopes:
        stream = observatory.subjects.stream(source)
        last[stream] = max(last.get(stream, 0), positions[envelope.event_id])
    return last


async def test_a_stream_filled_again_after_a_broker_s_loss_gives_current_figures(
    observatory: Observatory,
) -> None:
    """The programs stream is lost and its relay fills it again (issue 17): its sequences start over
    at 1, below those the answers were held at, so answers kept "as of" stream sequences looked
    current and were served stale for good. Kept as of the sources' store positions they are not."""
    script = academic_year()
    positions = store_positions(script.envelopes)
    held_back = [e for e in script.envelopes if e[0] == "programs"][-3:]
    earlier = [e for e in script.envelopes if e not in held_back]
    stream = observatory.subjects.stream("programs")
    await observatory.publish(earlier, positions=positions)
    await observatory.js.purge_stream(stream)  # a reconciliation that published again: higher sequences
    await observatory.publish(earlier, msg_ids=False, positions=positions)
    before = await eventually(lambda: _applied(observatory, _last_positions(observatory, positions, earlier)))
    assert not complete(before["figures"]), "the held-back events should be missing"
    await observatory.js.delete_stream(stream)
    await ensure_streams(observatory.js, observatory.subjects)
    await restore_consumers(observatory.js, observatory.app.state.runtime.consumers)
    await observatory.publish(earlier + held_back, positions=positions)  # the relay, from position 1
    after = await eventually(
        lambda: _applied(observatory, _last_positions(observatory, positions, script.envelopes))
    )
    check_year(after["figures"])


async def test_an_event_arriving_after_a_later_one_is_in_the_next_answer(observatory: Observatory) -> None:
    """A redelivery (its first ack lost) or a refilled stream brings an event after later ones:
    the facts change but no stream's position moves, and the answer held must not be served."""
    script = academic_year()
    positions = store_positions(script.envelopes)
    late = next(e for e in script.envelopes if e[1].type == "FeedbackSubmitted")  # one of 3 forms
    await observatory.publish([e for e in script.envelopes if e is not late], positions=positions)
    before = await eventually(
        lambda: _applied(observatory, _last_positions(observatory, positions, script.envelopes))
    )
    assert not complete(before["figures"]), f"{late[1].type} should be missing"
    await observatory.publish([late], positions=positions)

    async def current() -> bool:
        return complete((await observatory.get(YEAR))["figures"])

    await eventually(current)


async def test_events_arriving_before_what_they_depend_on_still_count(observatory: Observatory) -> None:
    script = academic_year()
    programs = [e for e in script.envelopes if e[0] == "programs"]
    registry = [e for e in script.envelopes if e[0] == "registry"]
    await observatory.publish(programs)  # pairs before the schools and people they are about
    await observatory.settled()
    early = (await observatory.get(YEAR))["figures"]
    assert early["pairs"]["formed"] == 5 and early["coverage"]["teachers"] == 0  # roles not known yet
    await observatory.publish(registry)
    await observatory.settled()
    check_year((await observatory.get(YEAR))["figures"])


async def test_the_federal_feed_suppresses_small_counts_and_carries_no_ids(observatory: Observatory) -> None:
    script = academic_year()
    await observatory.publish(script.envelopes)
    await observatory.settled()
    federal = observatory.headers(Role.FEDERAL_CONSUMER)
    feed = await observatory.get("/federal/aggregates?period=2026/2027", federal)
    region = feed["rows"][0]
    assert region["municipality"] is None and region["teachers"] == 23 and region["students"] == 150
    assert region["teachers_in_mentoring"] == 7 and region["pairs_formed"] == 5
    assert region["students_in_mentoring"] is None and region["pairs_active"] is None  # 1 and 3: below 5
    assert region["coverage_share"] is None and "students_in_mentoring" in region["suppressed"]
    m2 = next(r for r in feed["rows"] if r["municipality"] == "m2")
    assert m2["mentees"] is None and m2["teachers"] == 8
    text = json.dumps(feed)
    assert not UUID.findall(text) and not any(i in text for i in payload_ids(script))
    published = await observatory.client.post(
        "/federal/publish?period=2026/2027", headers=observatory.region_operator
    )
    assert published.status_code == 200, published.text
    subjects = observatory.subjects
    messages = await eventually(
        lambda: stream_messages(
            observatory.js, subjects.stream("monitoring"), subjects.service_wildcard("monitoring")
        )
    )
    assert [m.subject for m in messages] == [
        f"{subjects.root}.monitoring.federal.federal_aggregates_published"
    ]
    payload = json.loads(messages[0].data)["payload"]
    assert payload["rows"] == feed["rows"] and not any(
        i in messages[0].data.decode() for i in payload_ids(script)
    )
    refused = await observatory.client.get("/indicators/region", headers=federal)
    assert refused.status_code == 403


async def test_a_municipality_cannot_read_another_municipality(observatory: Observatory) -> None:
    await observatory.publish(academic_year().envelopes)
    await observatory.settled()
    m1 = observatory.headers(Role.MUNICIPAL_OPERATOR, municipality="m1")
    assert (await observatory.client.get("/indicators/municipalities/m1", headers=m1)).status_code == 200
    assert (await observatory.client.get("/indicators/municipalities/m2", headers=m1)).status_code == 403
    assert (await observatory.client.get("/indicators/schools/s3", headers=m1)).status_code == 404
    assert (await observatory.client.get("/indicators/schools/s1", headers=m1)).status_code == 200
    assert (await observatory.client.get("/indicators/region", headers=m1)).status_code == 403
    school = observatory.headers(Role.SCHOOL_CURATOR, municipality="m1", school="s1")
    assert (await observatory.client.get("/indicators/schools/s2", headers=school)).status_code == 404
    own = await observatory.get("/indicators/schools/s1?period=2026/2027", school)
    assert own["figures"]["pairs"]["formed"] == 3


async def test_newly_broken_risk_rules_are_raised_once_per_school_and_period(
    observatory: Observatory,
) -> None:
    await observatory.publish(academic_year().envelopes)
    await observatory.settled()
    watch = observatory.app.state.risk_watch
    first = await watch.run_once()
    assert first > 0 and await watch.run_once() == 0
    subjects = observatory.subjects
    messages = await eventually(
        lambda: stream_messages(
            observatory.js, subjects.stream("monitoring"), subjects.service_wildcard("monitoring")
        )
    )
    raised = [json.loads(m.data) for m in messages]
    by_school = {(e["tenant"]["school"], e["payload"]["code"]) for e in raised}
    assert len(raised) == first == len(by_school)
    assert ("s3", "no_pairs") in by_school and ("s1", "low_coverage") in by_school
    assert all(e["tenant"]["municipality"] for e in raised)
    assert not UUID.findall(json.dumps([e["payload"] for e in raised]))


async def test_the_dashboard_follows_the_events_without_asking_for_fresh_figures(
    observatory: Observatory,
) -> None:
    script = academic_year()
    await observatory.publish([e for e in script.envelopes if e[0] == "registry"])
    await observatory.settled()
    before = await observatory.get(YEAR, fresh=False)
    assert before["figures"]["pairs"]["formed"] == 0 and before["computed_at"]
    await observatory.publish([e for e in script.envelopes if e[0] == "programs"])

    async def caught_up() -> bool:
        answer = await observatory.get(YEAR, fresh=False)  # as a dashboard asks: never kept waiting long
        try:
            check_year(answer["figures"])
        except AssertionError:
            return False
        return True

    await eventually(caught_up)


@pytest.mark.parametrize("observatory", ["postgresql"], indirect=True)
async def test_periods_outside_the_academic_range_are_refused_and_the_rest_goes_on(
    observatory: Observatory,
) -> None:
    """9999-Q4 once overflowed a date: a 500, then a background refresh raising every two seconds."""
    operator = observatory.region_operator
    for period in ("9999-Q4", "9999-12", "0001-01", "1999/2000"):
        for url in (
            f"/indicators/region?period={period}",
            f"/reports/yearly.pdf?level=region&period={period}",
        ):
            answer = await observatory.client.get(url, headers=operator)
            assert answer.status_code == 422, f"{url}: {answer.status_code} {answer.text}"
            assert "2000" in answer.text and "2099" in answer.text, answer.text
    await observatory.publish(academic_year().envelopes)
    await observatory.settled()
    check_year((await observatory.get(YEAR))["figures"])
