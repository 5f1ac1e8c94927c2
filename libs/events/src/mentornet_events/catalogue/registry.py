"""Events of the registry service.

Participants appear by pseudonymous id with only what matching and aggregates need: never names,
contacts, birth dates, or a minor's sensitive categories (those stay encrypted in the registry).
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import Field

from mentornet_events.catalogue.base import CATALOGUE, DomainEvent
from mentornet_events.vocabulary import (
    BaseKind,
    ConsentGiver,
    DeficitArea,
    ExperienceBand,
    MentoringForm,
    ParticipantRole,
    QualificationCategory,
    SchoolKind,
)

CODE = r"^[0-9A-Za-z_-]{1,32}$"


@CATALOGUE.event(service="registry", aggregate="municipality")
class MunicipalityRegistered(DomainEvent):
    """A municipality of the region joined the network as its own level."""

    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=300)


@CATALOGUE.event(service="registry", aggregate="school")
class SchoolApplied(DomainEvent):
    """A school applied to connect; the regional operator approves or rejects it."""

    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=500)
    kind: SchoolKind
    teachers: int = Field(ge=0)
    students: int = Field(ge=0)


@CATALOGUE.event(service="registry", aggregate="school")
class SchoolConnected(DomainEvent):
    """A school (ОО) is connected to the network; headcounts are the denominators of coverage."""

    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=500)
    kind: SchoolKind
    teachers: int = Field(ge=0, description="Teachers on staff (denominator of coverage)")
    students: int = Field(ge=0, description="Students enrolled (denominator of coverage)")


@CATALOGUE.event(service="registry", aggregate="school")
class SchoolSuspended(DomainEvent):
    code: str = Field(pattern=CODE)
    reason: str = Field(min_length=1, max_length=1000)


@CATALOGUE.event(service="registry", aggregate="school")
class SchoolResumed(DomainEvent):
    code: str = Field(pattern=CODE)


@CATALOGUE.event(service="registry", aggregate="school")
class SchoolDisconnected(DomainEvent):
    code: str = Field(pattern=CODE)
    reason: str = Field(min_length=1, max_length=1000)


@CATALOGUE.event(service="registry", aggregate="school")
class SchoolHeadcountsUpdated(DomainEvent):
    code: str = Field(pattern=CODE)
    teachers: int = Field(ge=0)
    students: int = Field(ge=0)


@CATALOGUE.event(service="registry", aggregate="school")
class SchoolCredentialsIssued(DomainEvent):
    """Client credentials for the school's own system; the secret never leaves the registry."""

    code: str = Field(pattern=CODE)
    client_id: str


@CATALOGUE.event(service="registry", aggregate="school")
class SchoolCredentialsRevoked(DomainEvent):
    code: str = Field(pattern=CODE)
    client_id: str


@CATALOGUE.event(service="registry", aggregate="school")
class SchoolBasesRefreshed(DomainEvent):
    """The curator's yearly refresh of the mentor and mentee bases, dated."""

    code: str = Field(pattern=CODE)
    refreshed_on: date
    mentors: int = Field(ge=0)
    mentees: int = Field(ge=0)


@CATALOGUE.event(service="registry", aggregate="participant")
class MentorRegistered(DomainEvent):
    """A participant entered the school's mentor base (наставник), with consent recorded."""

    participant_id: UUID = Field(description="Pseudonymous participant id")
    role: ParticipantRole
    subjects: list[str] = Field(default_factory=list, description="Subjects taught (codes)")
    experience_band: ExperienceBand | None = None
    qualification: QualificationCategory | None = None
    competencies: list[DeficitArea] = Field(description="Deficit areas the mentor can help with")
    hours_per_month: int = Field(ge=0, le=200, description="Hours per month available for mentoring")
    max_mentees: int = Field(ge=1, le=30, description="Most mentees the mentor accepts at once")


@CATALOGUE.event(service="registry", aggregate="participant")
class MenteeRegistered(DomainEvent):
    """A participant entered the school's mentee base (наставляемый), with consent recorded."""

    participant_id: UUID = Field(description="Pseudonymous participant id")
    role: ParticipantRole
    subjects: list[str] = Field(default_factory=list)
    experience_band: ExperienceBand | None = None
    young_specialist: bool = Field(default=False, description="Teacher in the first three years")
    grade: int | None = Field(default=None, ge=1, le=11, description="Student's grade")
    deficits: list[DeficitArea] = Field(description="Professional deficits or requests by area")
    desired_form: MentoringForm | None = None


@CATALOGUE.event(service="registry", aggregate="participant")
class ParticipantProfileUpdated(DomainEvent):
    """Matching attributes changed (never personal data); absent fields are unchanged."""

    participant_id: UUID
    subjects: list[str] | None = None
    experience_band: ExperienceBand | None = None
    qualification: QualificationCategory | None = None
    young_specialist: bool | None = None
    grade: int | None = Field(default=None, ge=1, le=11)
    competencies: list[DeficitArea] | None = None
    hours_per_month: int | None = Field(default=None, ge=0, le=200)
    max_mentees: int | None = Field(default=None, ge=1, le=30)
    deficits: list[DeficitArea] | None = None
    desired_form: MentoringForm | None = None


@CATALOGUE.event(service="registry", aggregate="participant")
class ConsentGiven(DomainEvent):
    participant_id: UUID
    base: BaseKind
    given_by: ConsentGiver
    given_on: date


@CATALOGUE.event(service="registry", aggregate="participant")
class ConsentWithdrawn(DomainEvent):
    """Participation is voluntary: withdrawing consent takes the person out of that base."""

    participant_id: UUID
    base: BaseKind
    withdrawn_on: date


@CATALOGUE.event(service="registry", aggregate="participant")
class ParticipantErased(DomainEvent):
    """Erasure on request (152-FZ): the personal-data key is destroyed; the log stays."""

    participant_id: UUID
