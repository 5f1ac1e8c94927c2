"""The programme aggregate without I/O: its stages in order and within its dates, acts once, completion."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from mentornet_events.catalogue.programs import ProgrammeCompleted, ProgrammeStageChanged
from mentornet_events.vocabulary import (
    DocumentKind,
    MeetingMode,
    MentoringForm,
    ProgrammeDuration,
    ProgrammeStage,
)
from mentornet_spine.errors import DomainError, InvalidCommand
from programs.domain.programme import Programme

STARTS, ENDS = date(2026, 9, 1), date(2027, 5, 31)


def launched() -> list[object]:
    return list(
        Programme.launch(
            uuid.uuid4(), MentoringForm.TEACHER_TEACHER, ProgrammeDuration.LONG_TERM,
            MeetingMode.IN_PERSON, STARTS, ENDS,
        )
    )  # fmt: skip


def programme_of(events: list[object]) -> Programme:
    programme = Programme.replay(events)  # type: ignore[arg-type]
    assert programme is not None
    return programme


def at(stage: ProgrammeStage) -> list[object]:
    events = launched()
    events += programme_of(events).change_stage(stage, date(2026, 10, 1))
    return events


def test_a_programme_ends_after_it_starts() -> None:
    with pytest.raises(InvalidCommand, match="позже даты начала"):
        Programme.launch(
            uuid.uuid4(), MentoringForm.TEACHER_TEACHER, ProgrammeDuration.LONG_TERM,
            MeetingMode.ONLINE, ENDS, STARTS,
        )  # fmt: skip
    programme = programme_of(launched())
    assert programme.stage is ProgrammeStage.PREPARATION and programme.version == 1


def test_stages_go_forward_within_the_programme_s_dates_and_may_skip_one() -> None:
    programme = programme_of(launched())
    with pytest.raises(InvalidCommand, match="вне сроков программы"):
        programme.change_stage(ProgrammeStage.PAIRING, date(2027, 6, 1))
    [moved] = programme.change_stage(ProgrammeStage.PAIRING, date(2026, 10, 1))  # earlier stages skipped
    assert isinstance(moved, ProgrammeStageChanged) and moved.stage is ProgrammeStage.PAIRING
    later = programme_of([*launched(), moved])
    with pytest.raises(DomainError, match="проходят по порядку"):
        later.change_stage(ProgrammeStage.PREPARATION, date(2026, 10, 2))


def test_pairs_are_formed_from_the_pairing_stage_on() -> None:
    with pytest.raises(DomainError, match="Пары формируются на этапе"):
        programme_of(launched()).require_pairing()
    programme_of(at(ProgrammeStage.PAIRING)).require_pairing()


def test_an_act_is_recorded_once_and_a_completed_programme_takes_no_changes() -> None:
    events = at(ProgrammeStage.WORK)
    events += programme_of(events).record_document(DocumentKind.PAIRS_ORDER, "12-о", date(2026, 9, 1))
    with pytest.raises(DomainError, match="уже внесён"):
        programme_of(events).record_document(DocumentKind.PAIRS_ORDER, "12-о", date(2026, 9, 2))
    [done] = programme_of(events).complete(date(2027, 5, 20), 3, [])
    assert isinstance(done, ProgrammeCompleted)
    finished = programme_of([*events, done])
    assert finished.completed and finished.stage is ProgrammeStage.COMPLETION
    with pytest.raises(DomainError, match="уже завершена"):
        finished.record_document(DocumentKind.PAIRS_ORDER, "13-о", date(2027, 5, 21))


def test_a_programme_without_work_of_pairs_cannot_be_completed() -> None:
    with pytest.raises(DomainError, match="шла работа пар"):
        programme_of(at(ProgrammeStage.PAIRING)).complete(date(2027, 5, 20), 0, [])
