"""Notification rules as data (rules.yaml): which event notifies whom, how, with which template."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from importlib import resources

import yaml


class Audience(StrEnum):
    SCHOOL = "school"  # the school's inbox and its own system's webhook
    REGION = "region"  # the regional operators' inbox
    MUNICIPALITY = "municipality"  # the municipal operators' inbox
    MENTORS = "mentors"
    MENTEES = "mentees"


class Channel(StrEnum):
    INBOX = "inbox"
    WEBHOOK = "webhook"
    EMAIL = "email"  # to people and to the school's official address


class Priority(StrEnum):
    MANDATORY = "mandatory"
    NORMAL = "normal"
    LOW = "low"


@dataclass(frozen=True, slots=True)
class Rule:
    event: str
    template: str
    priority: Priority
    to: tuple[Audience, ...]
    channels: tuple[Channel, ...]
    #: for the scheduled rules: how many days before (due soon) or after (overdue, no form)
    days: int | None = None


def parse_rules(raw: object) -> list[Rule]:
    if not isinstance(raw, list):
        raise ValueError("rules: a list of rules expected")
    rules = []
    for n, item in enumerate(raw, start=1):
        try:
            rules.append(
                Rule(
                    event=str(item["event"]),
                    template=str(item["template"]),
                    priority=Priority(item.get("priority", "normal")),
                    to=tuple(Audience(a) for a in item["to"]),
                    channels=tuple(Channel(c) for c in item["channels"]),
                    days=int(item["days"]) if "days" in item else None,
                )
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"rule {n}: {error!r}") from error
    return rules


def load_rules() -> list[Rule]:
    text = resources.files("notifications").joinpath("rules.yaml").read_text(encoding="utf-8")
    return parse_rules(yaml.safe_load(text))


def rules_by_event(rules: list[Rule]) -> dict[str, list[Rule]]:
    table: dict[str, list[Rule]] = {}
    for rule in rules:
        table.setdefault(rule.event, []).append(rule)
    return table
