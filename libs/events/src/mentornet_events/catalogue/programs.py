"""Events of the programs service: programmes, pairs, roadmaps, meetings, feedback.

Free text that may describe a person (meeting notes, comments, the mentee's attitude, reflections)
stays in the programs service's own tables; events carry ids, dates, vocabularies and scores.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from mentornet_events.catalogue.base import CATALOGUE, DomainEvent
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
)


@CATALOGUE.event(service="programs", aggregate="programme")
class ProgrammeLaunched(DomainEvent):
    """A school started a mentoring programme (stage 1, preparation)."""

    programme_id: UUID
    form: MentoringForm
    duration: ProgrammeDuration
    mode: MeetingMode
    starts_on: date
    ends_on: date


@CATALOGUE.event(service="programs", aggregate="programme")
class ProgrammeStageChanged(DomainEvent):
    programme_id: UUID
    stage: ProgrammeStage
    changed_on: date


@CATALOGUE.event(service="programs", aggregate="programme")
class ProgrammeDocumentRecorded(DomainEvent):
    """A local act (order with its number and date) of the programme."""

    programme_id: UUID
    kind: DocumentKind
    number: str = Field(min_length=1, max_length=50)
    dated: date


@CATALOGUE.event(service="programs", aggregate="programme")
class ProgrammeCompleted(DomainEvent):
    """Stage 7 done: reflection written, results judged, best mentors nominated."""

    programme_id: UUID
    completed_on: date
    pairs_completed: int = Field(ge=0)
    nominated_mentor_ids: list[UUID] = Field(default_factory=list)


@CATALOGUE.event(service="programs", aggregate="pair")
class PairFormed(DomainEvent):
    """A pair or group was formed with both participants' written consent."""

    pair_id: UUID
    programme_id: UUID
    form: MentoringForm
    mentor_ids: list[UUID] = Field(min_length=1, max_length=2, description="Main and optional second mentor")
    mentee_ids: list[UUID] = Field(min_length=1, description="One mentee, or several for a group")
    formed_on: date


@CATALOGUE.event(service="programs", aggregate="pair")
class PairDissolved(DomainEvent):
    pair_id: UUID
    programme_id: UUID
    reason: DissolutionReason
    dissolved_on: date


@CATALOGUE.event(service="programs", aggregate="pair")
class PairCompleted(DomainEvent):
    """The pair worked to the end of its programme."""

    pair_id: UUID
    programme_id: UUID
    completed_on: date


class PlannedItem(BaseModel):
    """One roadmap item as monitoring needs it (the item's texts stay in the service)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    item_id: UUID
    direction: DeficitArea
    due_on: date | None = None
    rhythm: Rhythm | None = None


@CATALOGUE.event(service="programs", aggregate="roadmap")
class RoadmapSet(DomainEvent):
    """The pair's roadmap as a whole: first drawn up (version 1) or corrected (with a reason)."""

    pair_id: UUID
    revision: int = Field(ge=1)
    items: list[PlannedItem]


@CATALOGUE.event(service="programs", aggregate="roadmap")
class RoadmapItemOverdue(DomainEvent):
    """An item passed its due date without being completed (raised once per item and due date)."""

    pair_id: UUID
    item_id: UUID
    direction: DeficitArea
    due_on: date
    detected_on: date


@CATALOGUE.event(service="programs", aggregate="roadmap")
class RoadmapItemCompleted(DomainEvent):
    """A roadmap item was done; the product is what the mentee produced (lesson plan, method…)."""

    pair_id: UUID
    item_id: UUID
    direction: DeficitArea
    completed_on: date
    due_on: date | None = None
    product_kind: str = Field(min_length=1, max_length=200, description="Kind of pedagogical product")


@CATALOGUE.event(service="programs", aggregate="pair")
class MeetingHeld(DomainEvent):
    pair_id: UUID
    meeting_id: UUID
    kind: MeetingKind
    mode: MeetingMode
    held_on: date


@CATALOGUE.event(service="programs", aggregate="meeting")
class FeedbackSubmitted(DomainEvent):
    """A feedback form after a meeting, scored on the four evaluation levels (1–5)."""

    pair_id: UUID
    meeting_id: UUID
    respondent_role: str = Field(pattern=r"^(mentor|mentee)$")
    scores: dict[EvaluationLevel, Annotated[int, Field(ge=1, le=5)]] = Field(
        description="Score 1–5 per evaluation level"
    )
    wants_to_become_mentor: bool = False
