"""The pair aggregate without I/O: who may be paired, what a pair records, when it stops taking changes."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, timedelta

import pytest

from mentornet_events.catalogue.programs import FeedbackSubmitted, MeetingHeld, PairDissolved, PairFormed
from mentornet_events.vocabulary import (
    DissolutionReason,
    EvaluationLevel,
    MeetingKind,
    MeetingMode,
    MentoringForm,
)
from mentornet_spine.errors import DomainError, InvalidCommand
from programs.domain.pair import Eligibility, Pair, PairStatus

TODAY = date(2026, 12, 5)
SCORES = dict.fromkeys(EvaluationLevel, 4)


def person(school: str = "s1", municipality: str = "m1", **changes: object) -> Eligibility:
    base = Eligibility(
        id=uuid.uuid4(),
        school=school,
        municipality=municipality,
        in_mentor_base=True,
        in_mentee_base=True,
        mentor_consent=True,
        mentee_consent=True,
        max_mentees=2,
        active_mentees=0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def formed(mentor: Eligibility | None = None, mentee: Eligibility | None = None, **kw: object) -> PairFormed:
    mentor, mentee = mentor or person(), mentee or person()
    args: dict[str, object] = {
        "pair_id": uuid.uuid4(),
        "programme_id": uuid.uuid4(),
        "form": MentoringForm.TEACHER_TEACHER,
        "school": "s1",
        "municipality": "m1",
        "mentors": [mentor],
        "mentees": [mentee],
        "formed_on": TODAY,
    } | kw
    [event] = Pair.start(**args)  # type: ignore[arg-type]
    assert isinstance(event, PairFormed)
    return event


def pair_of(*events: object) -> Pair:
    pair = Pair.replay(events)  # type: ignore[arg-type]
    assert pair is not None
    return pair


def test_the_aggregate_raises_pair_formed_with_its_people() -> None:
    mentor, mentee = person(), person()
    event = formed(mentor, mentee)
    assert (event.mentor_ids, event.mentee_ids, event.formed_on) == ([mentor.id], [mentee.id], TODAY)
    pair = pair_of(event)
    assert pair.status is PairStatus.ACTIVE and pair.version == 1 and pair.mentee_ids == [mentee.id]


def test_a_mentor_from_another_municipality_is_refused_one_from_the_network_is_not() -> None:
    with pytest.raises(DomainError, match="муниципальной сети"):
        formed(person(school="s9", municipality="m2"))
    assert formed(person(school="s2", municipality="m1")).mentor_ids  # another school of the network


@pytest.mark.parametrize(
    ("mentor", "mentee", "says"),
    [
        (person(mentor_consent=False), person(), "нет согласия наставника"),
        (person(), person(mentee_consent=False), "нет согласия наставляемого"),
        (person(in_mentor_base=False), person(), "нет в базе наставников"),
        (person(), person(erased=True), "нет в базе наставляемых"),
        (person(active_mentees=2), person(), "уже 2 наставляемых"),
        (person(), person(school="s2"), "не из этой организации"),
    ],
)
def test_pairing_needs_consent_bases_and_room(mentor: Eligibility, mentee: Eligibility, says: str) -> None:
    with pytest.raises(DomainError, match=says):
        formed(mentor, mentee)


def test_one_active_pair_per_mentor_and_mentee_and_groups_only_in_the_group_form() -> None:
    mentor, mentee = person(), person()
    with pytest.raises(DomainError, match="уже работает"):
        formed(mentor, mentee, paired={(mentor.id, mentee.id)})
    with pytest.raises(InvalidCommand, match="групповая форма"):
        formed(mentor, mentees=[mentee, person()])
    assert len(formed(mentor, mentees=[mentee, person()], form=MentoringForm.GROUP).mentee_ids) == 2
    with pytest.raises(InvalidCommand, match="дважды"):
        formed(mentor, mentor, form=MentoringForm.TEACHER_TEACHER)


def test_meetings_start_with_the_acquaintance_and_are_never_in_the_future() -> None:
    pair = pair_of(formed())
    with pytest.raises(DomainError, match="встречи-знакомства"):
        pair.hold_meeting(uuid.uuid4(), MeetingKind.REGULAR, MeetingMode.IN_PERSON, TODAY, TODAY)
    with pytest.raises(InvalidCommand, match="в будущем"):
        pair.hold_meeting(
            uuid.uuid4(), MeetingKind.ACQUAINTANCE, MeetingMode.IN_PERSON, TODAY + timedelta(days=2), TODAY
        )
    tomorrow = TODAY + timedelta(days=1)  # a school a time zone east is there already
    [held] = pair.hold_meeting(uuid.uuid4(), MeetingKind.ACQUAINTANCE, MeetingMode.IN_PERSON, tomorrow, TODAY)
    pair = pair_of(formed(), held)
    with pytest.raises(DomainError, match="уже была"):
        pair.hold_meeting(uuid.uuid4(), MeetingKind.ACQUAINTANCE, MeetingMode.ONLINE, TODAY, TODAY)


def test_feedback_once_per_side_and_meeting_with_all_four_levels() -> None:
    start = formed()
    meeting = MeetingHeld(
        pair_id=start.pair_id,
        meeting_id=uuid.uuid4(),
        kind=MeetingKind.ACQUAINTANCE,
        mode=MeetingMode.IN_PERSON,
        held_on=TODAY,
    )
    pair = pair_of(start, meeting)
    with pytest.raises(DomainError, match="не было"):
        pair.submit_feedback(uuid.uuid4(), "mentor", SCORES, False)
    with pytest.raises(InvalidCommand, match="Оцените все четыре уровня"):
        pair.submit_feedback(meeting.meeting_id, "mentor", {EvaluationLevel.REACTION: 5}, False)
    [form] = pair.submit_feedback(meeting.meeting_id, "mentor", SCORES, False)
    assert isinstance(form, FeedbackSubmitted)
    pair = pair_of(start, meeting, form)
    assert pair.meetings_without_feedback() == [meeting.meeting_id]  # the mentee's form is still owed
    with pytest.raises(DomainError, match="уже заполнена"):
        pair.submit_feedback(meeting.meeting_id, "mentor", SCORES, False)


def test_a_dissolved_pair_takes_no_changes_and_completing_twice_changes_nothing() -> None:
    start = formed()
    [dissolved] = pair_of(start).dissolve(DissolutionReason.INCOMPATIBLE, TODAY)
    assert isinstance(dissolved, PairDissolved)
    pair = pair_of(start, dissolved)
    assert pair.status is PairStatus.DISSOLVED
    with pytest.raises(DomainError, match="расформирована"):
        pair.hold_meeting(uuid.uuid4(), MeetingKind.ACQUAINTANCE, MeetingMode.IN_PERSON, TODAY, TODAY)
    assert pair.complete(TODAY) == []
    [completed] = pair_of(start).complete(TODAY)
    assert pair_of(start, completed).complete(TODAY) == []
