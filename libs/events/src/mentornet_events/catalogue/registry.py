"""Events of the registry service. Participants appear by pseudonymous id only."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from mentornet_events.catalogue.base import CATALOGUE, DomainEvent
from mentornet_events.vocabulary import DeficitArea, ExperienceBand, MentoringForm, ParticipantRole


@CATALOGUE.event(service="registry", aggregate="participant")
class MentorRegistered(DomainEvent):
    """A participant entered the school's mentor base (наставник), with consent recorded."""

    participant_id: UUID = Field(description="Pseudonymous participant id")
    role: ParticipantRole
    subjects: list[str] = Field(default_factory=list, description="Subjects taught (codes)")
    experience_band: ExperienceBand | None = None
    competencies: list[DeficitArea] = Field(description="Deficit areas the mentor can help with")
    hours_per_month: int = Field(ge=0, le=200, description="Hours per month available for mentoring")
    max_mentees: int = Field(ge=1, le=30, description="Most mentees the mentor accepts at once")


@CATALOGUE.event(service="registry", aggregate="participant")
class MenteeRegistered(DomainEvent):
    """A participant entered the school's mentee base (наставляемый), with consent recorded."""

    participant_id: UUID = Field(description="Pseudonymous participant id")
    role: ParticipantRole
    young_specialist: bool = Field(default=False, description="Teacher in the first three years")
    grade: int | None = Field(default=None, ge=1, le=11, description="Student's grade")
    deficits: list[DeficitArea] = Field(description="Professional deficits or requests by area")
    desired_form: MentoringForm | None = None
