"""Pairs and groups: formed only with both sides' consent, their meetings and feedback, their end."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from uuid import UUID

from mentornet_events import DomainEvent
from mentornet_events.catalogue.programs import (
    FeedbackSubmitted,
    MeetingHeld,
    PairCompleted,
    PairDissolved,
    PairFormed,
)
from mentornet_events.labels_ru import label
from mentornet_events.vocabulary import (
    DissolutionReason,
    EvaluationLevel,
    MeetingKind,
    MeetingMode,
    MentoringForm,
)
from mentornet_spine.errors import DomainError, InvalidCommand
from programs.domain.dates import not_after_today


def stream_id(pair_id: UUID) -> str:
    return f"pair-{pair_id}"


class PairStatus(StrEnum):
    ACTIVE = "active"
    DISSOLVED = "dissolved"
    COMPLETED = "completed"


@dataclass(frozen=True, slots=True)
class Eligibility:
    """What the programs service knows of a participant, from registry events only."""

    id: UUID
    school: str
    municipality: str
    in_mentor_base: bool
    in_mentee_base: bool
    mentor_consent: bool
    mentee_consent: bool
    max_mentees: int
    active_mentees: int
    erased: bool = False


def check_pair(
    form: MentoringForm,
    school: str,
    mentors: Sequence[Eligibility],
    mentees: Sequence[Eligibility],
    paired: Collection[tuple[UUID, UUID]] = (),
) -> None:
    """A pair (or group) may be formed only with each participant's recorded consent, and a mentor
    and a mentee make one active pair per programme (``paired``: its active mentor–mentee links)."""
    if not 1 <= len(mentors) <= 2:
        raise InvalidCommand("У пары один наставник и, при необходимости, второй", "mentor_ids")
    if not mentees:
        raise InvalidCommand("Нужен хотя бы один наставляемый", "mentee_ids")
    if len(mentees) > 1 and form is not MentoringForm.GROUP:
        raise InvalidCommand(
            "Несколько наставляемых у одного наставника — это групповая форма наставничества", "mentee_ids"
        )
    ids = [p.id for p in (*mentors, *mentees)]
    if len(set(ids)) != len(ids):
        raise InvalidCommand("Один и тот же участник указан дважды", "mentee_ids")
    twice = [(r, e) for r in mentors for e in mentees if (r.id, e.id) in paired]
    if twice:
        raise DomainError(
            "Пара уже работает в этой программе: "
            + "; ".join(f"наставник {r.id} и наставляемый {e.id}" for r, e in twice)
        )
    problems: list[str] = []
    for mentor in mentors:
        if mentor.erased or not mentor.in_mentor_base:
            problems.append(f"участника {mentor.id} нет в базе наставников")
        elif not mentor.mentor_consent:
            problems.append(f"нет согласия наставника {mentor.id}")
        elif mentor.active_mentees + len(mentees) > mentor.max_mentees:
            problems.append(
                f"у наставника {mentor.id} уже {mentor.active_mentees} наставляемых при заявленном "
                f"максимуме {mentor.max_mentees}"
            )
    for mentee in mentees:
        if mentee.school != school:
            problems.append(f"наставляемый {mentee.id} не из этой организации")
        elif mentee.erased or not mentee.in_mentee_base:
            problems.append(f"участника {mentee.id} нет в базе наставляемых")
        elif not mentee.mentee_consent:
            problems.append(f"нет согласия наставляемого {mentee.id} (для несовершеннолетнего — родителя)")
    if problems:
        raise DomainError("Пару нельзя закрепить: " + "; ".join(problems))


@dataclass
class Pair:
    id: UUID
    programme_id: UUID
    form: MentoringForm
    mentor_ids: list[UUID]
    mentee_ids: list[UUID]
    status: PairStatus = PairStatus.ACTIVE
    meetings: dict[UUID, MeetingKind] = field(default_factory=dict)
    feedback: set[tuple[UUID, str]] = field(default_factory=set)
    version: int = 0

    @staticmethod
    def start(
        pair_id: UUID,
        programme_id: UUID,
        form: MentoringForm,
        school: str,
        municipality: str,
        mentors: Sequence[Eligibility],
        mentees: Sequence[Eligibility],
        formed_on: date,
        paired: Collection[tuple[UUID, UUID]] = (),
    ) -> list[DomainEvent]:
        """A new pair of a programme run by ``school`` of ``municipality``: its mentors work in
        that school or its municipal network, and ``check_pair``'s rules hold."""
        if any(m.municipality != municipality and m.school != school for m in mentors):
            raise DomainError("Наставник должен работать в этой организации или в её муниципальной сети")
        check_pair(form, school, mentors, mentees, paired)
        return [
            PairFormed(
                pair_id=pair_id,
                programme_id=programme_id,
                form=form,
                mentor_ids=[m.id for m in mentors],
                mentee_ids=[m.id for m in mentees],
                formed_on=formed_on,
            )
        ]

    @classmethod
    def replay(cls, events: Iterable[DomainEvent]) -> Pair | None:
        pair: Pair | None = None
        for event in events:
            if isinstance(event, PairFormed):
                pair = cls(
                    id=event.pair_id,
                    programme_id=event.programme_id,
                    form=event.form,
                    mentor_ids=list(event.mentor_ids),
                    mentee_ids=list(event.mentee_ids),
                )
            elif pair is None:
                continue
            elif isinstance(event, PairDissolved):
                pair.status = PairStatus.DISSOLVED
            elif isinstance(event, PairCompleted):
                pair.status = PairStatus.COMPLETED
            elif isinstance(event, MeetingHeld):
                pair.meetings[event.meeting_id] = event.kind
            elif isinstance(event, FeedbackSubmitted):
                pair.feedback.add((event.meeting_id, event.respondent_role))
            if pair is not None:
                pair.version += 1
        return pair

    def _require_active(self) -> None:
        if self.status is not PairStatus.ACTIVE:
            state = "расформирована" if self.status is PairStatus.DISSOLVED else "завершила работу"
            raise DomainError(f"Пара {state}: изменения не принимаются")

    def dissolve(self, reason: DissolutionReason, on: date) -> list[DomainEvent]:
        self._require_active()
        return [
            PairDissolved(pair_id=self.id, programme_id=self.programme_id, reason=reason, dissolved_on=on)
        ]

    def complete(self, on: date) -> list[DomainEvent]:
        if self.status is not PairStatus.ACTIVE:
            return []
        return [PairCompleted(pair_id=self.id, programme_id=self.programme_id, completed_on=on)]

    def hold_meeting(
        self, meeting_id: UUID, kind: MeetingKind, mode: MeetingMode, held_on: date, today: date
    ) -> list[DomainEvent]:
        """A meeting is recorded once held: never dated after today."""
        self._require_active()
        not_after_today(held_on, today, "Дата проведённой встречи", "held_on")
        if kind is MeetingKind.ACQUAINTANCE and MeetingKind.ACQUAINTANCE in self.meetings.values():
            raise DomainError("Встреча-знакомство у пары уже была")
        if kind is not MeetingKind.ACQUAINTANCE and not self.meetings:
            raise DomainError(f"Работа пары начинается со встречи-знакомства, а не с «{label(kind)}»")
        return [MeetingHeld(pair_id=self.id, meeting_id=meeting_id, kind=kind, mode=mode, held_on=held_on)]

    def submit_feedback(
        self,
        meeting_id: UUID,
        respondent_role: str,
        scores: dict[EvaluationLevel, int],
        wants_to_become_mentor: bool,
    ) -> list[DomainEvent]:
        if meeting_id not in self.meetings:
            raise DomainError(f"Встречи {meeting_id} у этой пары не было")
        if (meeting_id, respondent_role) in self.feedback:
            raise DomainError("Форма обратной связи по этой встрече уже заполнена")
        missing = [label(level) for level in EvaluationLevel if level not in scores]
        if missing:
            raise InvalidCommand("Оцените все четыре уровня: нет оценки — " + ", ".join(missing), "scores")
        return [
            FeedbackSubmitted(
                pair_id=self.id,
                meeting_id=meeting_id,
                respondent_role=respondent_role,
                scores=scores,
                wants_to_become_mentor=wants_to_become_mentor,
            )
        ]

    def meetings_without_feedback(self) -> list[UUID]:
        """Each meeting needs both sides' feedback form; these still lack one."""
        return [
            m
            for m in self.meetings
            if (m, "mentor") not in self.feedback or (m, "mentee") not in self.feedback
        ]
