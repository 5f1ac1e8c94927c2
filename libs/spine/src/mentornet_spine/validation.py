"""Validation messages a person understands: Russian text, with the machine-readable field path."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

MESSAGES = {
    "missing": "обязательное поле",
    "int_parsing": "нужно целое число",
    "int_type": "нужно целое число",
    "bool_parsing": "нужно «да» или «нет»",
    "greater_than_equal": "значение должно быть не меньше {ge}",
    "less_than_equal": "значение должно быть не больше {le}",
    "too_short": "слишком мало значений (нужно не меньше {min_length})",
    "too_long": "слишком много значений (не больше {max_length})",
    "string_too_short": "слишком коротко (не меньше {min_length} символов)",
    "string_too_long": "слишком длинно (не больше {max_length} символов)",
    "string_pattern_mismatch": "неверный формат",
    "enum": "недопустимое значение; допустимо: {expected}",
    "extra_forbidden": "неизвестное поле",
    "value_error": "{error}",
    "uuid_parsing": "неверный идентификатор",
    "date_from_datetime_parsing": "нужна дата в формате ГГГГ-ММ-ДД",
    "date_parsing": "нужна дата в формате ГГГГ-ММ-ДД",
    "json_invalid": "тело запроса — не корректный JSON",
}


def ru_message(error: dict[str, Any]) -> str:
    template = MESSAGES.get(error["type"])
    if template is None:
        return str(error["msg"])
    try:
        return template.format(**(error.get("ctx") or {}))
    except (KeyError, IndexError):
        return str(error["msg"])


def field_path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc if part not in ("body",)) or "<body>"


def ru_errors(error: ValidationError | list[dict[str, Any]]) -> list[dict[str, str]]:
    errors = error.errors() if isinstance(error, ValidationError) else error
    return [{"field": field_path(tuple(e["loc"])), "message": ru_message(dict(e))} for e in errors]


def has_nul(value: Any, depth: int = 2) -> bool:
    """NUL anywhere in the strings of a value (nested models check their own fields)."""
    if isinstance(value, str):
        return "\x00" in value
    if depth and isinstance(value, dict):
        return any(has_nul(k, 0) or has_nul(v, depth - 1) for k, v in value.items())
    if depth and isinstance(value, list | tuple):
        return any(has_nul(v, depth - 1) for v in value)
    return False


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if has_nul(data):
            raise ValueError("недопустимый символ NUL в тексте")
        return data
