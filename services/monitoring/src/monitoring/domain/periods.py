"""Reporting periods: a month, a calendar quarter, or an academic year (1 September – 31 August)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, timedelta

from mentornet_spine.errors import InvalidCommand
from mentornet_spine.validation import FIRST_DAY, LAST_DAY

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})/(\d{4})$")
_FORMS = "Период: месяц (2026-09), квартал (2026-Q4) или учебный год (2026/2027)"


@dataclass(frozen=True, slots=True)
class Period:
    """``start``–``end`` bound what happened in the period (pairs formed, items done, forms);
    what stands (active pairs, the bases, who is in a pair) is taken on ``day``: the period's last
    day, or today while the period runs — so the year's figures and this month's agree."""

    key: str
    start: date
    end: date  # inclusive
    today: date | None = None

    @property
    def day(self) -> date:
        return min(self.end, self.today) if self.today else self.end


def _month_end(year: int, month: int) -> date:
    first_next = date(year + month // 12, month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def academic_year(day: date) -> Period:
    first = day.year if day.month >= 9 else day.year - 1
    return Period(f"{first}/{first + 1}", date(first, 9, 1), date(first + 1, 8, 31))


def parse_period(text: str | None, today: date) -> Period:
    """``2026-09``, ``2026-Q4`` or ``2026/2027``; nothing means the current academic year.

    Years lie in the range every date of the system does (2000–2099), so no period's arithmetic
    leaves the calendar (9999-Q4 once overflowed into a 500).
    """
    return replace(_parse(text, today), today=today)


def _parse(text: str | None, today: date) -> Period:
    if not text:
        return academic_year(today)
    if m := _MONTH.match(text):
        year, month = _year(text, m[1]), int(m[2])
        if 1 <= month <= 12:
            return Period(text, date(year, month, 1), _month_end(year, month))
    elif m := _QUARTER.match(text):
        year, quarter = _year(text, m[1]), int(m[2])
        return Period(text, date(year, 3 * quarter - 2, 1), _month_end(year, 3 * quarter))
    elif (m := _YEAR.match(text)) and int(m[2]) == int(m[1]) + 1:
        _year(text, m[2])
        return academic_year(date(_year(text, m[1]), 9, 1))
    raise InvalidCommand(_FORMS, "period")


def _year(text: str, digits: str) -> int:
    year = int(digits)
    if not FIRST_DAY.year <= year <= LAST_DAY.year:
        raise InvalidCommand(
            f"Период {text} вне допустимого диапазона: годы с {FIRST_DAY.year} по {LAST_DAY.year}", "period"
        )
    return year
