"""Events of the programs service: pairs, roadmaps, feedback."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from pydantic import Field

from mentornet_events.catalogue.base import CATALOGUE, DomainEvent
from mentornet_events.vocabulary import DeficitArea, EvaluationLevel, MentoringForm


@CATALOGUE.event(service="programs", aggregate="pair")
class PairFormed(DomainEvent):
    """A pair or group was formed with both participants' written consent."""

    pair_id: UUID
    programme_id: UUID
    form: MentoringForm
    mentor_ids: list[UUID] = Field(min_length=1, max_length=2, description="Main and optional second mentor")
    mentee_ids: list[UUID] = Field(min_length=1, description="One mentee, or several for a group")
    formed_on: date


@CATALOGUE.event(service="programs", aggregate="roadmap")
class RoadmapItemCompleted(DomainEvent):
    """A roadmap item was done; the product is what the mentee produced (lesson plan, method…)."""

    pair_id: UUID
    item_id: UUID
    direction: DeficitArea
    completed_on: date
    due_on: date | None = None
    product_kind: str = Field(min_length=1, max_length=200, description="Kind of pedagogical product")


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
