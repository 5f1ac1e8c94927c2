"""Registry rules without I/O: the school lifecycle, entering bases with consent, erasure."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from mentornet_events.catalogue.registry import (
    ConsentGiven,
    MenteeRegistered,
    MentorRegistered,
    SchoolConnected,
    SchoolCredentialsRevoked,
    SchoolDisconnected,
)
from mentornet_events.vocabulary import BaseKind, ConsentGiver, DeficitArea, ParticipantRole, SchoolKind
from mentornet_spine.errors import DomainError, InvalidCommand
from registry.domain import participant as participants
from registry.domain import school as schools
from registry.domain.participant import experience_band

TODAY = date(2026, 9, 1)


def connected() -> schools.School:
    events = schools.apply_to_new("s1", "СОШ №1", SchoolKind.SCHOOL, 40, 500, approved=True)
    school = schools.School.replay(events)
    assert school is not None
    return school


def test_application_is_approved_into_a_connected_school() -> None:
    applied = schools.School.replay(
        schools.apply_to_new("s1", "СОШ №1", SchoolKind.SCHOOL, 40, 500, approved=False)
    )
    assert applied is not None and applied.status is schools.SchoolStatus.APPLIED
    [event] = applied.approve()
    assert isinstance(event, SchoolConnected)
    with pytest.raises(DomainError, match="подключена"):
        connected().approve()


def test_lifecycle_rules() -> None:
    school = connected()
    school = schools.School.replay(
        [
            *schools.apply_to_new("s1", "СОШ №1", SchoolKind.SCHOOL, 40, 500, approved=True),
            *school.issue_credentials("c1"),
            *school.suspend("проверка"),
        ]
    )
    assert (
        school is not None
        and school.status is schools.SchoolStatus.SUSPENDED
        and school.credentials == {"c1"}
    )
    with pytest.raises(DomainError):
        school.issue_credentials("c2")  # a suspended school gets no new credentials
    events = school.disconnect("закрыта")
    assert [type(e) for e in events] == [SchoolCredentialsRevoked, SchoolDisconnected]
    with pytest.raises(DomainError):
        school.revoke_credentials("unknown")


def test_unchanged_headcounts_emit_nothing() -> None:
    school = connected()
    assert school.update_headcounts(40, 500) == []
    assert len(school.update_headcounts(41, 500)) == 1


def mentor(pid: uuid.UUID, role: ParticipantRole = ParticipantRole.TEACHER) -> MentorRegistered:
    return MentorRegistered(
        participant_id=pid, role=role, competencies=[DeficitArea.ICT], hours_per_month=4, max_mentees=1
    )


def test_entering_a_base_records_consent_and_once_only() -> None:
    pid = uuid.uuid4()
    events = participants.register(
        None, mentor(pid), minor=False, consent_by=ConsentGiver.PARTICIPANT, today=TODAY
    )
    assert isinstance(events[1], ConsentGiven) and events[1].base is BaseKind.MENTOR
    person = participants.Participant.replay(events)
    assert person is not None and person.bases == {BaseKind.MENTOR}
    with pytest.raises(DomainError, match="уже состоит"):
        participants.register(
            person, mentor(pid), minor=False, consent_by=ConsentGiver.PARTICIPANT, today=TODAY
        )
    mentee = MenteeRegistered(
        participant_id=pid, role=ParticipantRole.TEACHER, deficits=[DeficitArea.LEGAL_NORMATIVE]
    )
    both = participants.register(
        person, mentee, minor=False, consent_by=ConsentGiver.PARTICIPANT, today=TODAY
    )
    person = participants.Participant.replay([*events, *both])
    assert person is not None and person.bases == {BaseKind.MENTOR, BaseKind.MENTEE}


def test_a_minor_needs_a_parent() -> None:
    entry = MenteeRegistered(
        participant_id=uuid.uuid4(), role=ParticipantRole.STUDENT, deficits=[DeficitArea.ICT]
    )
    with pytest.raises(InvalidCommand) as refused:
        participants.register(None, entry, minor=True, consent_by=ConsentGiver.PARTICIPANT, today=TODAY)
    assert refused.value.field == "consent_by"
    assert (
        len(participants.register(None, entry, minor=True, consent_by=ConsentGiver.PARENT, today=TODAY)) == 2
    )


def test_withdrawn_consent_leaves_the_base_and_erasure_is_final() -> None:
    pid = uuid.uuid4()
    events = participants.register(
        None, mentor(pid), minor=False, consent_by=ConsentGiver.PARTICIPANT, today=TODAY
    )
    person = participants.Participant.replay(events)
    assert person is not None
    events += person.withdraw_consent(BaseKind.MENTOR, TODAY)
    person = participants.Participant.replay(events)
    assert person is not None and person.bases == set()
    with pytest.raises(DomainError):
        person.withdraw_consent(BaseKind.MENTOR, TODAY)
    events += person.erase()
    person = participants.Participant.replay(events)
    assert person is not None and person.erased
    with pytest.raises(DomainError, match="удалён"):
        person.update_profile({"hours_per_month": 2})


def test_profile_update_emits_only_real_changes() -> None:
    pid = uuid.uuid4()
    person = participants.Participant.replay(
        participants.register(
            None, mentor(pid), minor=False, consent_by=ConsentGiver.PARTICIPANT, today=TODAY
        )
    )
    assert person is not None
    assert person.update_profile({"hours_per_month": 4}) == []
    [update] = person.update_profile({"hours_per_month": 6, "max_mentees": None})
    assert update.model_dump(exclude_none=True) == {"participant_id": pid, "hours_per_month": 6}


@pytest.mark.parametrize(
    ("years", "band"), [(0, "under_3"), (3, "3_to_10"), (19, "10_to_20"), (20, "over_20")]
)
def test_experience_is_published_as_a_band(years: int, band: str) -> None:
    assert experience_band(years) == band
