"""Validation messages a person understands: Russian text, with the machine-readable field path."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from mentornet_events.envelope import CODE_PATTERN

#: The dates a command may carry: wide for any real academic year, narrow enough that date
#: arithmetic (a programme's default end, a quarter's last day) can never overflow.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)

#: Every string and list of a command is bounded (and says so in OpenAPI): one oversized field
#: must never make an event too large for its stream.
Code = Annotated[str, StringConstraints(pattern=CODE_PATTERN, max_length=32)]
"""A municipality's or a school's code."""
Subject = Annotated[str, StringConstraints(min_length=1, max_length=100)]
"""A school subject as people write it (``математика``)."""
Day = Annotated[date, Field(ge=FIRST_DAY, le=LAST_DAY)]
"""A date of the mentoring year: a programme's start, a meeting, a due date."""
BirthDate = Annotated[date, Field(ge=date(1900, 1, 1), le=LAST_DAY)]

#: Every kind of error pydantic can raise, in Russian, saying what to fix
#: (tests/unit/test_validation_messages.py walks pydantic_core's list and fails on a missing one).
MESSAGES = {
    "missing": "обязательное поле: заполните его",
    "json_invalid": "тело запроса — не корректный JSON",
    "json_type": "нужен JSON: строка, байты или массив байтов",
    "needs_python_object": "нужно значение, а не его текстовая запись",
    "recursion_loop": "значение ссылается само на себя",
    "recursion_depth_exceeded": "слишком глубокая вложенность",
    "no_such_attribute": "неизвестное поле",
    "frozen_field": "это поле нельзя менять",
    "frozen_instance": "эти данные нельзя менять",
    "extra_forbidden": "неизвестное поле: уберите его",
    "invalid_key": "ключи должны быть строками",
    "get_attribute_error": "не удалось прочитать значение",
    "model_type": "нужен объект с полями",
    "model_attributes_type": "нужен объект с полями",
    "dataclass_type": "нужен объект с полями",
    "dataclass_exact_type": "нужен объект с полями",
    "named_tuple_type": "нужен список значений",
    "default_factory_not_called": "значение по умолчанию недоступно",
    "none_required": "здесь должно быть пусто (null)",
    "greater_than": "значение должно быть больше {gt}",
    "greater_than_equal": "значение должно быть не меньше {ge}",
    "less_than": "значение должно быть меньше {lt}",
    "less_than_equal": "значение должно быть не больше {le}",
    "multiple_of": "значение должно быть кратно {multiple_of}",
    "finite_number": "нужно конечное число",
    "too_short": "слишком мало значений (нужно не меньше {min_length})",
    "too_long": "слишком много значений (не больше {max_length})",
    "iterable_type": "нужен список",
    "iteration_error": "не удалось перебрать значения списка",
    "string_type": "нужна строка текста",
    "string_unicode": "текст должен быть в кодировке UTF-8",
    "string_too_short": "слишком коротко (не меньше {min_length} символов)",
    "string_too_long": "слишком длинно (не больше {max_length} символов)",
    "string_pattern_mismatch": "неверный формат",
    "string_not_ascii": "допустимы только латинские буквы, цифры и знаки",
    "enum": "недопустимое значение; допустимо: {expected}",
    "literal_error": "недопустимое значение; допустимо: {expected}",
    "dict_type": "нужен объект (словарь)",
    "frozen_dict_type": "нужен объект (словарь)",
    "ordered_dict_type": "нужен объект (словарь)",
    "counter_type": "нужен объект (словарь)",
    "mapping_type": "нужен объект (словарь)",
    "list_type": "нужен список",
    "deque_type": "нужен список",
    "tuple_type": "нужен список",
    "set_type": "нужен список без повторов",
    "frozen_set_type": "нужен список без повторов",
    "set_item_not_hashable": "значение нельзя поместить в список без повторов",
    "bool_type": "нужно «да» или «нет» (true или false)",
    "bool_parsing": "нужно «да» или «нет» (true или false)",
    "int_type": "нужно целое число",
    "int_parsing": "нужно целое число",
    "int_parsing_size": "слишком большое число",
    "int_from_float": "нужно целое число, без дробной части",
    "float_type": "нужно число",
    "float_parsing": "нужно число",
    "bytes_type": "нужны байты",
    "bytes_too_short": "слишком мало байтов (нужно не меньше {min_length})",
    "bytes_too_long": "слишком много байтов (не больше {max_length})",
    "bytes_invalid_encoding": "неверная кодировка байтов",
    "value_error": "{error}",
    "assertion_error": "{error}",
    "missing_sentinel_error": "здесь не должно быть значения",
    "ellipsis_error": "здесь не должно быть значения",
    "date_type": "нужна дата в формате ГГГГ-ММ-ДД",
    "date_parsing": "нужна дата в формате ГГГГ-ММ-ДД",
    "date_from_datetime_parsing": "нужна дата в формате ГГГГ-ММ-ДД",
    "date_from_datetime_inexact": "нужна дата без времени (ГГГГ-ММ-ДД)",
    "date_past": "дата должна быть в прошлом",
    "date_future": "дата должна быть в будущем",
    "time_type": "нужно время в формате ЧЧ:ММ",
    "time_parsing": "нужно время в формате ЧЧ:ММ",
    "datetime_type": "нужны дата и время в формате ГГГГ-ММ-ДДTЧЧ:ММ",
    "datetime_parsing": "нужны дата и время в формате ГГГГ-ММ-ДДTЧЧ:ММ",
    "datetime_object_invalid": "такой даты и времени не бывает",
    "datetime_from_date_parsing": "нужны дата и время в формате ГГГГ-ММ-ДДTЧЧ:ММ",
    "datetime_past": "момент должен быть в прошлом",
    "datetime_future": "момент должен быть в будущем",
    "timezone_naive": "укажите время без часового пояса",
    "timezone_aware": "укажите часовой пояс (например, +03:00)",
    "timezone_offset": "нужен часовой пояс со смещением {tz_expected} с",
    "time_delta_type": "нужна продолжительность",
    "time_delta_parsing": "нужна продолжительность (например, PT1H)",
    "is_instance_of": "значение неподходящего вида",
    "is_subclass_of": "значение неподходящего вида",
    "callable_type": "значение неподходящего вида",
    "union_tag_invalid": "неизвестный вид значения {tag}; допустимо: {expected_tags}",
    "union_tag_not_found": "не указан вид значения (поле {discriminator})",
    "arguments_type": "нужен список значений",
    "missing_argument": "обязательное поле: заполните его",
    "unexpected_keyword_argument": "неизвестное поле: уберите его",
    "missing_keyword_only_argument": "обязательное поле: заполните его",
    "unexpected_positional_argument": "лишнее значение: уберите его",
    "missing_positional_only_argument": "обязательное поле: заполните его",
    "multiple_argument_values": "поле указано дважды",
    "url_type": "нужен адрес (URL)",
    "url_parsing": "неверный адрес (URL)",
    "url_syntax_violation": "неверный адрес (URL)",
    "url_too_long": "слишком длинный адрес (не больше {max_length} символов)",
    "url_scheme": "адрес должен начинаться с {expected_schemes}",
    "uuid_type": "нужен идентификатор (UUID)",
    "uuid_parsing": "неверный идентификатор (нужен UUID)",
    "uuid_version": "нужен идентификатор UUID версии {expected_version}",
    "decimal_type": "нужно число",
    "decimal_parsing": "нужно число",
    "decimal_max_digits": "слишком много цифр (не больше {max_digits})",
    "decimal_max_places": "слишком много знаков после запятой (не больше {decimal_places})",
    "decimal_whole_digits": "слишком много цифр до запятой (не больше {whole_digits})",
    "fraction_type": "нужна дробь",
    "fraction_parsing": "нужна дробь (например, 1/2)",
    "complex_type": "нужно комплексное число",
    "complex_str_parsing": "нужно комплексное число",
}
#: the comparisons, said of dates
DATE_BOUNDS = {
    "greater_than": "дата должна быть позже {gt}",
    "greater_than_equal": "дата должна быть не раньше {ge}",
    "less_than": "дата должна быть раньше {lt}",
    "less_than_equal": "дата должна быть не позже {le}",
}
CYRILLIC = re.compile("[А-Яа-яЁё]")
QUOTED = re.compile(r"'([^']*)'")
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _as_date(value: Any) -> date | None:
    """A bound pydantic reports as a date or (in ``errors()``) as its ISO text."""
    if isinstance(value, date):
        return value
    if isinstance(value, str) and ISO_DAY.fullmatch(value):
        return date.fromisoformat(value)
    return None


def _context(error: dict[str, Any]) -> dict[str, Any]:
    """The message's placeholders, in Russian forms: dates as ДД.ММ.ГГГГ, choices as a list."""
    ctx = dict(error.get("ctx") or {})
    for key, value in ctx.items():
        if (day := _as_date(value)) is not None:
            ctx[key] = day.strftime("%d.%m.%Y")
    if isinstance(ctx.get("expected"), str):  # pydantic's "'a', 'b' or 'c'"
        choices = QUOTED.findall(ctx["expected"])
        if choices:
            ctx["expected"] = ", ".join(choices)
    return ctx


def _value_error(error: dict[str, Any]) -> str:
    """Our validators speak Russian; a library's English reason becomes what to fix."""
    reason = str((error.get("ctx") or {}).get("error", "") or error.get("msg", ""))
    if CYRILLIC.search(reason):
        return reason.removeprefix("Value error, ")
    if "email" in reason.lower():
        return "неверный адрес электронной почты (нужен вид имя@домен.ру)"
    return "недопустимое значение"


def ru_message(error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind in ("value_error", "assertion_error"):
        return _value_error(error)
    ctx = _context(error)
    raw = error.get("ctx") or {}
    template = DATE_BOUNDS.get(kind) if any(_as_date(v) for v in raw.values()) else None
    template = template or MESSAGES.get(kind)
    if template is None:
        return "недопустимое значение"
    try:
        return template.format(**ctx)
    except (KeyError, IndexError):
        return template.split("{")[0].rstrip(" (:;,") or "недопустимое значение"


#: what Starlette and FastAPI say by themselves, in Russian
HTTP_DETAILS = {
    400: "Неверный запрос: проверьте его формат",
    401: "Нужна авторизация",
    403: "Недостаточно прав",
    404: "Не найдено: проверьте адрес",
    405: "Этот метод здесь не поддерживается",
    406: "Нужный формат ответа не поддерживается",
    413: "Запрос слишком велик",
    415: "Формат тела запроса не поддерживается: нужен JSON или форма",
    429: "Слишком много запросов: повторите позже",
}
BODY_UNREADABLE = "Не удалось прочитать тело запроса: пришлите корректный JSON или форму"


def ru_http_detail(status: int, detail: Any) -> Any:
    """A framework's English ``detail`` in Russian; our own (already Russian) passes unchanged."""
    if not isinstance(detail, str) or CYRILLIC.search(detail):
        return detail
    if "parsing the body" in detail:
        return BODY_UNREADABLE
    return HTTP_DETAILS.get(status, "Запрос не выполнен: проверьте его и повторите")


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
