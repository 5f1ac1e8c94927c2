"""Risk flags derived from indicators, each with the rule that raised it (the sources' named risks)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mentornet_events.format_ru import percent

COVERAGE_TARGET = 0.70  # the national target: 70 % of students and teachers covered
FORMALISM_SHARE = 0.20  # meetings without the mandatory feedback form
OVERDUE_SHARE = 0.20  # roadmap items past due among those planned


@dataclass(frozen=True, slots=True)
class RiskFlag:
    code: str
    rule: str  # Russian: the rule and the figure that broke it


def risk_flags(ind: dict[str, Any]) -> list[RiskFlag]:
    flags: list[RiskFlag] = []
    coverage = ind["coverage"]["share"]
    if coverage is not None and coverage < COVERAGE_TARGET:
        flags.append(
            RiskFlag(
                "low_coverage",
                f"Охват наставничеством {percent(coverage)} — ниже цели {percent(COVERAGE_TARGET)}",
            )
        )
    overloaded = ind["pairs"]["mentors_overloaded"]
    if overloaded:
        flags.append(RiskFlag("mentor_overload", f"Наставников с нагрузкой сверх заявленной: {overloaded}"))
    without = ind["feedback"]["meetings_without_feedback_share"]
    if without is not None and without > FORMALISM_SHARE:
        flags.append(
            RiskFlag(
                "formalism",
                f"Встреч без обязательной формы обратной связи {percent(without)} "
                f"(порог {percent(FORMALISM_SHARE)})",
            )
        )
    planned, overdue = ind["roadmaps"]["planned"], ind["roadmaps"]["overdue"]
    if planned and overdue / planned > OVERDUE_SHARE:
        flags.append(
            RiskFlag(
                "overdue",
                f"Просрочено {overdue} из {planned} пунктов дорожных карт (порог {percent(OVERDUE_SHARE)})",
            )
        )
    bases = ind["bases"]
    if bases["mentees_waiting"] and not bases["mentees_in_pair"]:  # in a pair: working or completed
        waiting = bases["mentees_waiting"]
        flags.append(RiskFlag("no_pairs", f"Наставляемых ждут пару: {waiting}, и ни один не в паре"))
    return flags
