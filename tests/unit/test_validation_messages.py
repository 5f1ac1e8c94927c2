"""Every validation error pydantic can raise reaches a person in Russian, saying what to fix."""

from __future__ import annotations

import string
from datetime import date
from enum import StrEnum
from typing import Any, get_args

import pytest
from pydantic import BaseModel, ValidationError
from pydantic_core.core_schema import ErrorType

from mentornet_spine.validation import CYRILLIC, MESSAGES, Day, Strict, ru_errors, ru_http_detail, ru_message

KINDS = get_args(ErrorType)
OURS = {"value_error", "assertion_error"}  # our validators' own (Russian) text, handled apart


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_the_walk_sees_pydantics_list() -> None:
    assert len(KINDS) > 90 and "string_too_long" in KINDS and "enum" in KINDS


@pytest.mark.parametrize("kind", KINDS)
def test_each_error_kind_has_a_russian_message(kind: str) -> None:
    if kind in OURS:
        return
    assert kind in MESSAGES, f"no Russian message for pydantic's {kind!r}"
    template = MESSAGES[kind]
    ctx: dict[str, Any] = {name: 3 for name in _placeholders(template)}
    message = ru_message({"type": kind, "ctx": ctx, "msg": "English text"})
    assert CYRILLIC.search(message), message
    assert "{" not in message and "English" not in message, message


def test_a_message_without_its_context_still_reads_well() -> None:
    message = ru_message({"type": "string_too_long", "msg": "String should have at most 5 characters"})
    assert CYRILLIC.search(message) and "{" not in message


class Colour(StrEnum):
    RED = "red"
    GREEN = "green"
    BLUE = "blue"


class Form(Strict):
    name: str
    count: int
    share: float
    tags: list[str]
    extra: dict[str, int]
    colour: Colour
    day: Day
    flag: bool


def test_real_errors_of_every_common_kind_are_russian() -> None:
    bad = {
        "name": ["not", "a", "string"],
        "count": "many",
        "share": "half",
        "tags": "one",
        "extra": [1],
        "colour": "violet",
        "day": "9999-12-31",
        "flag": "perhaps",
        "unexpected": 1,
    }
    with pytest.raises(ValidationError) as raised:
        Form.model_validate(bad)
    errors = ru_errors(raised.value)
    assert {e["field"] for e in errors} >= set(bad)
    for error in errors:
        assert CYRILLIC.search(error["message"]), error
    colour = next(e["message"] for e in errors if e["field"] == "colour")
    assert "red, green, blue" in colour and " or " not in colour
    day = next(e["message"] for e in errors if e["field"] == "day")
    assert "31.12.2099" in day


def test_a_missing_date_and_a_bad_json_are_russian() -> None:
    class Only(BaseModel):
        day: date

    with pytest.raises(ValidationError) as raised:
        Only.model_validate_json("{not json")
    assert all(CYRILLIC.search(e["message"]) for e in ru_errors(raised.value))
    assert CYRILLIC.search(ru_http_detail(400, "There was an error parsing the body"))
    assert ru_http_detail(409, "Пара уже есть") == "Пара уже есть"
