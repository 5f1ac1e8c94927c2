"""Numbers, shares, dates and times as a Russian reader expects them, through Babel.

One place for every page and report, so a figure reads the same wherever it is shown: ``4,17``,
``1,9 %``, ``12 345``, ``07.12.2026 10:11 (Иркутск, UTC+8)``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, get_timezone_location
from babel.numbers import format_decimal, format_percent

LOCALE = "ru_RU"
DEFAULT_TIMEZONE = "Europe/Moscow"
NBSP = "\u00a0"


def number(value: float | int | None, digits: int = 2) -> str:
    """``4,17``, ``12 345``; nothing known reads as a dash."""
    if value is None:
        return "—"
    pattern = "#,##0" + ("." + "#" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=LOCALE)


def percent(share: float | None, digits: int = 1) -> str:
    """A share (0.0193) as ``1,9 %``: always ``digits`` decimals, so shares side by side align."""
    if share is None:
        return "—"
    pattern = "#,##0" + ("." + "0" * digits if digits else "") + NBSP + "%"
    return format_percent(share, format=pattern, locale=LOCALE)


def day(value: date | None) -> str:
    return "—" if value is None else format_date(value, "dd.MM.yyyy", locale=LOCALE)


def month(value: date, short: bool = True) -> str:
    """``дек 2026`` (a chart's axis) or ``декабрь 2026``."""
    text = format_date(value, "LLL yyyy" if short else "LLLL yyyy", locale=LOCALE)
    return text.replace(".", "")


def moment(value: datetime | str | None, timezone: str = DEFAULT_TIMEZONE) -> str:
    """A point in time in the region's zone, saying which: ``07.12.2026 10:11 (Иркутск, UTC+8)``."""
    if value is None:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    zone = ZoneInfo(timezone)
    local = value.astimezone(zone)
    offset = local.utcoffset()
    hours = int(offset.total_seconds() // 3600) if offset is not None else 0
    minutes = int(offset.total_seconds() % 3600 // 60) if offset is not None else 0
    utc = f"UTC{hours:+d}" + (f":{minutes:02d}" if minutes else "")
    place = get_timezone_location(zone, locale=LOCALE)
    city = m[1] if (m := re.search(r"\(([^)]+)\)", place)) else place
    return f"{format_datetime(local, 'dd.MM.yyyy HH:mm', locale=LOCALE)} ({city}, {utc})"
