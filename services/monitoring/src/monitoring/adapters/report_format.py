"""What both renderers of a report say alike: Russian captions, a unit's name, a figure as text."""

from __future__ import annotations

from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from mentornet_events import format_ru
from monitoring.domain.periods import Period
from monitoring.domain.report import Breakdown, Fmt, YearlyReport

LEVEL_RU: dict[str, str] = {"school": "Организация", "municipality": "Муниципалитет", "region": "Регион"}
TOTAL_RU: dict[str, str] = {
    "school": "Итого по организации",
    "municipality": "Итого по муниципалитету",
    "region": "Итого по региону",
}
RISK_RU: dict[str, str] = {
    "low_coverage": "Низкий охват",
    "mentor_overload": "Перегрузка наставников",
    "formalism": "Формализм (нет обратной связи)",
    "overdue": "Просрочки дорожных карт",
    "no_pairs": "Наставляемые без пар",
}
MONTHS_RU = (
    "январь",
    "февраль",
    "март",
    "апрель",
    "май",
    "июнь",
    "июль",
    "август",
    "сентябрь",
    "октябрь",
    "ноябрь",
    "декабрь",
)
QUARTERS_RU = ("I", "II", "III", "IV")
#: the pairs that worked in a period (the summary's lines of these keys): both formats chart them
PAIR_STATES = (
    ("pairs.active", "работают"),
    ("pairs.completed", "завершили работу"),
    ("pairs.dissolved", "расформированы"),
)


def period_caption(period: Period) -> str:
    """``2026/2027 учебный год``, ``октябрь 2026``, ``IV квартал 2026``."""
    key = period.key
    if "/" in key:
        text = f"{key} учебный год"
    elif "-Q" in key:
        year, quarter = key.split("-Q")
        text = f"{QUARTERS_RU[int(quarter) - 1]} квартал {year}"
    else:
        year, month = key.split("-")
        text = f"{MONTHS_RU[int(month) - 1]} {year}"
    return f"{text} ({period.start:%d.%m.%Y} – {period.end:%d.%m.%Y})"


def title(report: YearlyReport) -> str:
    if "/" in report.period_key:
        return "Годовой аналитический отчёт о наставничестве"
    return "Аналитический отчёт о наставничестве за период"


def scope_caption(report: YearlyReport) -> str:
    if report.level == "region" and report.region_name:
        return report.region_name
    kind = "school" if report.level == "school" else "municipality"
    return f"{LEVEL_RU[report.level]} {name_of(report, kind, report.code)}"


def as_of_caption(as_of: dict[str, int]) -> str:
    if not as_of:
        return "событий ещё не учтено"
    return ", ".join(f"{stream} № {sequence}" for stream, sequence in sorted(as_of.items()))


def covered_share(area: dict[str, int]) -> float | None:
    """The share of an area's mentees whose deficit a mentor of their pair covers."""
    return round(area["covered"] / area["mentees"], 4) if area["mentees"] else None


def ordered_codes(report: YearlyReport, part: Breakdown) -> list[str]:
    """Codes of a breakdown; the region's schools grouped by their municipality."""
    if part.with_municipality:
        return sorted(part.rows, key=lambda c: (report.municipality_of.get(c, ""), c))
    return sorted(part.rows)


def unit_code(code: str) -> str:
    """A unit's code as a row shows it; a dash for none."""
    return code or "—"


def name_of(report: YearlyReport, kind: str, code: str) -> str:
    """A municipality's or a school's public name; its code while the name is not known yet
    (without the control characters XLSX cannot hold: a stored name never breaks a report)."""
    return str(ILLEGAL_CHARACTERS_RE.sub("", report.names.get(kind, {}).get(code) or unit_code(code)))


def text(value: Any, fmt: Fmt = "int") -> str:
    """A figure as people read it in Russian: ``4,6 %``, ``1,50``, ``—`` for no data."""
    if value is None or value == "":
        return "—"
    if fmt == "share":
        return format_ru.percent(value)
    if fmt == "number":
        return format_ru.number(value)
    return format_ru.number(value) if isinstance(value, int | float) else str(value)
