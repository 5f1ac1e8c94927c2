"""Command models of the programs service (validated by pydantic, messages mapped to Russian)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from mentornet_events.vocabulary import (
    DeficitArea,
    DissolutionReason,
    DocumentKind,
    EvaluationLevel,
    MeetingKind,
    MeetingMode,
    MentoringForm,
    ProgrammeDuration,
    ProgrammeStage,
    Rhythm,
    TeacherStudentVariant,
)
from mentornet_spine.validation import Code, Day, Strict

TEXT = 4000


class ProgrammeIn(Strict):
    title: str = Field(min_length=1, max_length=300, description="Название программы")
    form: MentoringForm
    variant: TeacherStudentVariant | None = Field(default=None, description="Для формы «учитель – ученик»")
    duration: ProgrammeDuration = ProgrammeDuration.LONG_TERM
    mode: MeetingMode = MeetingMode.MIXED
    curator: str | None = Field(default=None, max_length=200, description="Куратор программы")
    partner_schools: list[Code] = Field(
        default_factory=list,
        max_length=50,
        description="Сетевые партнёры: их наставники подбираются в приоритете",
    )
    starts_on: Day
    ends_on: Day | None = Field(default=None, description="По умолчанию — через учебный год")


class StageIn(Strict):
    stage: ProgrammeStage
    on: Day | None = None


class DocumentIn(Strict):
    kind: DocumentKind
    number: str = Field(min_length=1, max_length=50, description="Номер приказа")
    dated: Day
    title: str = Field(default="", max_length=500)


class ReflectionIn(Strict):
    text: str = Field(min_length=1, max_length=TEXT, description="Рефлексия пары")


class PairIn(Strict):
    mentor_ids: list[UUID] = Field(
        min_length=1, max_length=2, description="Наставник и, при необходимости, второй"
    )
    mentee_ids: list[UUID] = Field(min_length=1, max_length=30)
    formed_on: Day | None = None


class DissolveIn(Strict):
    reason: DissolutionReason
    note: str = Field(default="", max_length=TEXT)
    on: Day | None = None


class RoadmapItemIn(Strict):
    item_id: UUID | None = Field(default=None, description="Оставьте пустым для нового пункта")
    activity: str = Field(min_length=1, max_length=TEXT, description="Мероприятие")
    kind: str = Field(default="", max_length=TEXT, description="Вид, форма деятельности")
    direction: DeficitArea
    risks: str = Field(default="", max_length=TEXT)
    prevention: str = Field(default="", max_length=TEXT)
    expected_results: str = Field(default="", max_length=TEXT)
    criteria: str = Field(default="", max_length=TEXT)
    due_on: Day | None = None
    rhythm: Rhythm | None = None


class RoadmapIn(Strict):
    items: list[RoadmapItemIn] = Field(min_length=1, max_length=200)
    reason: str | None = Field(default=None, max_length=TEXT, description="Причина корректировки")


class FromTemplateIn(Strict):
    template: str = Field(min_length=1, max_length=100)


class CompletionIn(Strict):
    completed_on: Day | None = None
    product_kind: str = Field(min_length=1, max_length=200, description="Педагогический продукт")
    product: str = Field(default="", max_length=TEXT, description="Описание продукта")
    attitude: str = Field(default="", max_length=TEXT, description="Отношение наставляемого")


class MeetingIn(Strict):
    kind: MeetingKind
    mode: MeetingMode = MeetingMode.IN_PERSON
    held_on: Day
    notes: str = Field(default="", max_length=TEXT)


class FeedbackIn(Strict):
    respondent_role: Literal["mentor", "mentee"] = Field(description="mentor или mentee")
    scores: dict[EvaluationLevel, Annotated[int, Field(ge=1, le=5)]] = Field(
        max_length=len(EvaluationLevel), description="Оценка 1–5 по каждому из четырёх уровней"
    )
    comment: str = Field(default="", max_length=TEXT)
    wants_to_become_mentor: bool = False


class ProgrammeCompletionIn(Strict):
    completed_on: Day | None = None
    reflection: str = Field(default="", max_length=TEXT)
    results: str = Field(default="", max_length=TEXT, description="Результаты в сравнении с целями")
    nominated_mentor_ids: list[UUID] = Field(default_factory=list, max_length=50)
