"""The analytic report of a school, a municipality or the region: what figures it holds.

Pure functions of the answers of the Monitoring use cases (``Monitoring.yearly_report`` gathers
them into a ``YearlyReport``): the level's key indicators in sections, the columns of its
breakdown tables and which breakdowns a level has. The XLSX and PDF renderers
(``monitoring.adapters.report_xlsx``, ``monitoring.adapters.report_pdf``) lay these contents out.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from mentornet_events import format_ru
from mentornet_events.vocabulary import DissolutionReason, EvaluationLevel, MentoringForm
from monitoring.domain.indicators import Unit, indicator
from monitoring.domain.report import Breakdown, Column, Fmt, Line, ReportContents, YearlyReport, label_of

FMT: dict[Unit, Fmt] = {"count": "int", "share": "share", "number": "number"}


def _line(key: str, f: dict[str, Any]) -> Line:
    """A summary line of the one definition of ``key`` (monitoring.domain.indicators)."""
    i = indicator(key)
    return Line(i.label, i.value(f), FMT[i.unit], key)


def key_indicators(f: dict[str, Any], day: date | None = None) -> list[tuple[str, list[Line]]]:
    """The level's indicators in sections, with Russian captions (the summary of both formats)."""
    cov, pairs = f["coverage"], f["pairs"]
    on = f" на {format_ru.day(day)}" if day else ""
    coverage = [
        _line(k, f)
        for k in (
            "coverage.teachers",
            "coverage.students",
            "coverage.share",
            "coverage.target",
            "coverage.teachers_share",
            "coverage.students_share",
        )
    ]
    coverage += [
        Line(f"Участников в форме «{label_of(MentoringForm, form)}»", n)
        for form, n in sorted(cov["by_form"].items())
    ]
    pair_lines = [_line(k, f) for k in ("pairs.formed", "pairs.active", "pairs.completed", "pairs.dissolved")]
    pair_lines += [
        Line(f"Расформированы: {label_of(DissolutionReason, reason)}", n)
        for reason, n in sorted(pairs["dissolved_by_reason"].items())
    ]
    pair_lines += [
        _line(k, f)
        for k in ("pairs.mentors_with_mentees", "pairs.mentees_per_mentor", "pairs.mentors_overloaded")
    ]
    section = [
        ("Организации и численность", ("schools", "headcounts.teachers", "headcounts.students")),
        ("Охват наставничеством", ()),
        (
            f"Базы наставников и наставляемых{on}",
            ("bases.mentors", "bases.mentees", "bases.mentors_in_pair", "bases.mentees_in_pair",
             "bases.mentees_waiting"),
        ),
        ("Наставнические пары", ()),
        (
            "Дорожные карты",
            ("roadmaps.planned", "roadmaps.completed", "roadmaps.completed_to_date", "roadmaps.overdue",
             "roadmaps.completion_rate", "roadmaps.days_to_first_meeting"),
        ),
        (
            "Обратная связь",
            ("feedback.forms", *(f"feedback.mean_scores.{level.value}" for level in EvaluationLevel),
             "feedback.meetings", "feedback.meetings_without_feedback",
             "feedback.meetings_without_feedback_share"),
        ),
        (
            "Результаты",
            ("outcomes.young_specialists_cohort", "outcomes.young_specialists_retained",
             "outcomes.want_to_become_mentors"),
        ),
    ]  # fmt: skip
    given = {"Охват наставничеством": coverage, "Наставнические пары": pair_lines}
    return [(title_, given.get(title_) or [_line(k, f) for k in keys]) for title_, keys in section]


def _risks_text(f: dict[str, Any]) -> str:
    return "; ".join(r["rule"] for r in f["risks"])


def _column(key: str, width: int = 12, pdf: str | None = None) -> Column:
    """A breakdown column of the one definition of ``key``; ``pdf``: the narrow PDF caption
    (empty: not in the PDF; None: the short label)."""
    i = indicator(key)
    return Column(i.short, i.value, FMT[i.unit], i.short if pdf is None else pdf, width)


COLUMNS: list[Column] = [
    _column("schools", 13, ""),
    _column("headcounts.teachers", pdf=""),
    _column("headcounts.students", 13, ""),
    _column("coverage.teachers", 15, ""),
    _column("coverage.students", 15, ""),
    _column("coverage.share"),
    _column("coverage.target", 8, ""),
    _column("bases.mentors", 13, "Настав\u00adников"),
    _column("bases.mentees", 14, "Настав\u00adляемых"),
    _column("bases.mentees_waiting"),
    _column("pairs.formed", 13, "Пар сформ."),
    _column("pairs.active", pdf="Пар работ."),
    _column("pairs.completed", pdf=""),
    _column("pairs.dissolved", 15, ""),
    _column("pairs.mentors_overloaded", 14, ""),
    _column("roadmaps.planned", pdf=""),
    _column("roadmaps.completion_rate", pdf="Выпол\u00adнение карт"),
    _column("roadmaps.overdue", 13, ""),
    _column("feedback.forms", 10, ""),
    *(_column(f"feedback.mean_scores.{level.value}", 14, "") for level in EvaluationLevel),
    _column("feedback.meetings_without_feedback_share"),
    Column("Флагов риска", lambda f: len(f["risks"]), pdf="Флагов риска", width=10),
    Column("Флаги риска", _risks_text, "text", width=70),
]


def breakdowns(report: YearlyReport) -> list[Breakdown]:
    if report.level == "region":
        return [
            Breakdown("Муниципалитеты", "Муниципалитет", "municipality", report.breakdown),
            Breakdown("Организации", "Организация", "school", report.schools, with_municipality=True),
        ]
    if report.level == "municipality":
        return [Breakdown("Организации", "Организация", "school", report.breakdown)]
    return [Breakdown("Организация", "Организация", "school", report.breakdown)]


def contents(report: YearlyReport) -> ReportContents:
    """The report as both formats show it."""
    return ReportContents(
        report=report,
        sections=key_indicators(report.figures, report.day),
        columns=COLUMNS,
        breakdowns=breakdowns(report),
    )
