"""What happened is dated in the past: a record of the future would make every figure wrong."""

from __future__ import annotations

from datetime import date, timedelta

from mentornet_spine.errors import InvalidCommand

#: a school a time zone east of the server, or a clock a little fast, may already be in tomorrow
CLOCK_SKEW = timedelta(days=1)


def not_after_today(on: date, today: date, what: str, field: str) -> None:
    """Refuse a fact dated after today (and the skew)."""
    if on > today + CLOCK_SKEW:
        raise InvalidCommand(
            f"{what} не может быть датой в будущем ({on:%d.%m.%Y}); сегодня {today:%d.%m.%Y}", field
        )
