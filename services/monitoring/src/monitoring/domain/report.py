"""What an analytic report is made of: the figures of one scope, and its contents as both formats show it.

Plain data. ``monitoring.application.report`` builds the contents from the figures (which lines,
which columns, which breakdowns); the renderers in ``monitoring.adapters`` lay them out as XLSX or
PDF. Nothing here names a person: the figures are counts and shares.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, Literal

from mentornet_events.labels_ru import label
from monitoring.domain.periods import Period

Level = Literal["school", "municipality", "region"]
Fmt = Literal["int", "share", "number", "text"]


@dataclass(frozen=True, slots=True)
class YearlyReport:
    """What a report is drawn from: the answers of the Monitoring use cases for one scope."""

    level: Level
    code: str
    period_key: str
    period_start: date
    period_end: date
    as_of: dict[str, int]  # stream -> last sequence the figures reflect
    figures: dict[str, Any]  # the level's own indicators (monitoring.application.indicators)
    #: the level below, per code: the region's municipalities, a municipality's schools, a school itself
    breakdown: dict[str, dict[str, Any]]
    #: the region's schools (its second breakdown); empty for the other levels
    schools: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: school code -> municipality code, for the region's school sheet
    municipality_of: dict[str, str] = field(default_factory=dict)
    generated_on: date | None = None
    #: the region's name (its settings), shown instead of its code
    region_name: str = ""
    #: "municipality" / "school" -> code -> public name
    names: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def period(self) -> Period:
        return Period(self.period_key, self.period_start, self.period_end, self.generated_on)

    @property
    def day(self) -> date:
        """The day the stocks (pairs working, the bases) are taken on."""
        return self.period.day


# -- what both formats show ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Line:
    caption: str
    value: Any
    fmt: Fmt = "int"
    key: str = ""


@dataclass(frozen=True, slots=True)
class Column:
    caption: str
    get: Callable[[dict[str, Any]], Any]
    fmt: Fmt = "int"
    pdf: str = ""  # the caption in the PDF's (narrower) table; none: not there
    width: int = 12


@dataclass(frozen=True, slots=True)
class Breakdown:
    title: str  # sheet title
    unit: str  # what a row is
    kind: str  # municipality | school: whose names the rows carry
    rows: dict[str, dict[str, Any]]
    with_municipality: bool = False


@dataclass(frozen=True, slots=True)
class ReportContents:
    """A report as both formats show it (``monitoring.application.report.contents``)."""

    report: YearlyReport
    #: the level's key indicators in sections, with Russian captions (the summary)
    sections: list[tuple[str, list[Line]]]
    #: the columns of a breakdown's table, one unit per row
    columns: list[Column]
    #: the level's breakdowns: the region's municipalities and schools, a municipality's schools
    breakdowns: list[Breakdown]


def label_of(enum: type[StrEnum], value: str) -> str:
    """The Russian label of a stored vocabulary value; the value itself when it is not known."""
    try:
        return label(enum(value))
    except ValueError:
        return value
