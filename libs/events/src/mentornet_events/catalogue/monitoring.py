"""Events of the monitoring service: what the federal level receives."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from mentornet_events.catalogue.base import CATALOGUE, DomainEvent


class FederalRow(BaseModel):
    """Anonymous aggregates of a region or one of its municipalities; ``None`` is a suppressed count."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    region: str
    municipality: str | None = Field(default=None, description="None: the whole region")
    schools: int | None
    teachers: int | None
    students: int | None
    teachers_in_mentoring: int | None
    students_in_mentoring: int | None
    coverage_share: float | None
    mentors: int | None
    mentees: int | None
    pairs_formed: int | None
    pairs_active: int | None
    pairs_completed: int | None
    suppressed: list[str] = Field(default_factory=list, description="Counts withheld as too small")


@CATALOGUE.event(service="monitoring", aggregate="federal", federal=True)
class FederalAggregatesPublished(DomainEvent):
    """The region's figures for a period, for the federal level: counts only, small ones suppressed."""

    period: str
    threshold: int = Field(ge=1)
    rows: list[FederalRow]


@CATALOGUE.event(service="monitoring", aggregate="risk")
class RiskFlagRaised(DomainEvent):
    """A school's indicators newly broke a risk rule in a period (once per school, period and rule)."""

    school: str
    period: str
    code: str = Field(description="low_coverage, mentor_overload, formalism, overdue, no_pairs")
    rule: str = Field(description="The rule and the figure that broke it, in Russian (counts only)")
