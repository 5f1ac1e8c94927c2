"""Chart.js configurations built from the monitoring service's figures (drawn by static/charts.js).

The pages send a chart as data (JSON in the page), never as code: the strict CSP forbids inline
scripts, and one small script turns every such block into a chart.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from mentornet_events import format_ru
from mentornet_events.labels_ru import label
from mentornet_events.vocabulary import EvaluationLevel

BLUE, GREEN, ORANGE, RED, GREY = "#1f5fa8", "#2e7d32", "#e07b00", "#c62828", "#555555"


def academic_year_key(today: date) -> str:
    first = today.year if today.month >= 9 else today.year - 1
    return f"{first}/{first + 1}"


def months_of(year_key: str, today: date) -> list[str]:
    """The months of an academic year up to the current one (``2026-09``, ``2026-10``, …)."""
    first = int(year_key.split("/")[0])
    keys = []
    for i in range(12):
        year, month = first + (8 + i) // 12, (8 + i) % 12 + 1
        if date(year, month, 1) > today:
            break
        keys.append(f"{year:04d}-{month:02d}")
    return keys


def month_label(key: str) -> str:
    year, month = key.split("-")
    return format_ru.month(date(int(year), int(month), 1))


def coverage_bars(groups: list[dict[str, Any]], target: float) -> dict[str, Any]:
    """Coverage per municipality or school against the 70 % target line."""
    names = [g["name"] for g in groups]
    shares = [round((g["figures"]["coverage"]["share"] or 0) * 100, 1) for g in groups]
    return {
        "type": "bar",
        "data": {
            "labels": names,
            "datasets": [
                {
                    "label": "Охват, %",
                    "data": shares,
                    "backgroundColor": [BLUE if s >= target * 100 else ORANGE for s in shares],
                },
                {
                    "type": "line",
                    "label": f"Цель {target * 100:.0f} %",
                    "data": [target * 100] * len(names),
                    "borderColor": RED,
                    "borderDash": [6, 4],
                    # a dash at each bar: with one municipality there is no line between points
                    "pointStyle": "line",
                    "pointRadius": 24,
                    "pointBorderWidth": 3,
                    "fill": False,
                },
            ],
        },
        "options": {
            "scales": {"y": {"min": 0, "suggestedMax": 100, "title": {"display": True, "text": "%"}}}
        },
    }


def lines(months: list[str], series: dict[str, tuple[str, list[Any]]]) -> dict[str, Any]:
    """Figures of each month of the academic year as lines (one per named series)."""
    return {
        "type": "line",
        "data": {
            "labels": [month_label(m) for m in months],
            "datasets": [
                {
                    "label": name,
                    "data": values,
                    "borderColor": colour,
                    "backgroundColor": colour,
                    "tension": 0.2,
                }
                for name, (colour, values) in series.items()
            ],
        },
        "options": {"scales": {"y": {"beginAtZero": True, "ticks": {"precision": 0}}}},
    }


def feedback_bars(mean_scores: dict[str, float]) -> dict[str, Any]:
    """Mean score 1–5 on each of the four evaluation levels."""
    levels = list(EvaluationLevel)
    return {
        "type": "bar",
        "data": {
            "labels": [label(level) for level in levels],
            "datasets": [
                {
                    "label": "Средняя оценка (1–5)",
                    "data": [mean_scores.get(level.value) for level in levels],
                    "backgroundColor": GREEN,
                }
            ],
        },
        "options": {"indexAxis": "y", "scales": {"x": {"min": 0, "max": 5}}},
    }


COLOURS = {"blue": BLUE, "green": GREEN, "orange": ORANGE, "red": RED, "grey": GREY}
