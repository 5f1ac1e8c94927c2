"""Command models of the programs service (validated by pydantic, messages mapped to Russian)."""

from __future__ import annotations

from datetime import date
from typing import Annotated
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
from mentornet_spine.validation import Strict

TEXT = 4000
CODE = r"^[0-9A-Za-z_-]{1,32}$"


class ProgrammeIn(Strict):
    title: str = Field(min_length=1, max_length=300, description="Название программы")
    form: MentoringForm
    variant: TeacherStudentVariant | None = Field(default=None, description="Для формы «учитель – ученик»")
    duration: ProgrammeDuration = ProgrammeDuration.LONG_TERM
    mode: MeetingMode = MeetingMode.MIXED
    curator: str | None = Field(default=None, max_length=200, description="Куратор программы")
    partner_schools: list[Annotated[str, Field(pattern=CODE)]] = Field(
        default_factory=list,
        max_length=50,
        description="Сетевые партнёры: их наставники подбираются в приоритете",
    )
    starts_on: date
    ends_on: date | None = Field(default=None, description="По умолчанию — через учебный год")


class StageIn(Strict):
    stage: ProgrammeStage
    on: date | None = None


class DocumentIn(Strict):
    kind: DocumentKind
    number: str = Field(min_length=1, max_length=50, description="Номер приказа")
    dated: date
    title: str = Field(default="", max_length=500)


class ReflectionIn(Strict):
    text: str = Field(min_length=1, max_length=TEXT, description="Рефлексия пары")


class PairIn(Strict):
    mentor_ids: list[UUID] = Field(
        min_length=1, max_length=2, description="Наставник и, при необходимости, второй"
    )
    mentee_ids: list[UUID] = Field(min_length=1, max_length=30)
    formed_on: date | None = None


class DissolveIn(Strict):
    reason: DissolutionReason
    note: str = Field(default="", max_length=TEXT)
    on: date | None = None


class RoadmapItemIn(Strict):
    item_id: UUID | None = Field(default=None, description="Оставьте пустым для нового пункта")
    activity: str = Field(min_length=1, max_length=TEXT, description="Мероприятие")
    kind: str = Field(default="", max_length=TEXT, description="Вид, форма деятельности")
    direction: DeficitArea
    risks: str = Field(default="", max_length=TEXT)
    prevention: str = Field(default="", max_length=TEXT)
    expected_results: str = Field(default="", max_length=TEXT)
    criteria: str = Field(default="", max_length=TEXT)
    due_on: date | None = None
    rhythm: Rhythm | None = None


class RoadmapIn(Strict):
    items: list[RoadmapItemIn] = Field(min_length=1, max_length=200)
    reason: str | None = Field(default=None, max_length=TEXT, description="Причина корректировки")


class FromTemplateIn(Strict):
    template: str = Field(min_length=1, max_length=100)


class CompletionIn(Strict):
    completed_on: date | None = None
    product_kind: str = Field(min_length=1, max_length=200, description="Педагогический продукт")
    product: str = Field(default="", max_length=TEXT, description="Описание продукта")
    attitude: str = Field(default="", max_length=TEXT, description="Отношение наставляемого")


class MeetingIn(Strict):
    kind: MeetingKind
    mode: MeetingMode = MeetingMode.IN_PERSON
    held_on: date
    notes: str = Field(default="", max_length=TEXT)


class FeedbackIn(Strict):
    respondent_role: str = Field(pattern=r"^(mentor|mentee)$", description="mentor или mentee")
    scores: dict[EvaluationLevel, Annotated[int, Field(ge=1, le=5)]] = Field(
        description="Оценка 1–5 по каждому из четырёх уровней"
    )
    comment: str = Field(default="", max_length=TEXT)
    wants_to_become_mentor: bool = False


class ProgrammeCompletionIn(Strict):
    completed_on: date | None = None
    reflection: str = Field(default="", max_length=TEXT)
    results: str = Field(default="", max_length=TEXT, description="Результаты в сравнении с целями")
    nominated_mentor_ids: list[UUID] = Field(default_factory=list, max_length=50)
