"""Bulk import of a school's mentor or mentee base from CSV or XLSX, as schools keep them today.

Every row is checked first; the report lists each bad row with its line number and reason, and
the import applies all rows or none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import ValidationError

from mentornet_events.labels_ru import parse_label
from mentornet_events.vocabulary import (
    BaseKind,
    ConsentGiver,
    DeficitArea,
    MentoringForm,
    ParticipantRole,
    QualificationCategory,
)
from mentornet_spine.validation import ru_errors
from registry.adapters.spreadsheets import ImportFileError, spreadsheet_rows
from registry.application.schemas import MenteeRegistration, MentorRegistration

E = TypeVar("E", bound=StrEnum)

PERSON_COLUMNS = {
    "фамилия": "last_name",
    "имя": "first_name",
    "отчество": "middle_name",
    "email": "email",
    "телефон": "phone",
    "должность": "position",
}
MENTOR_COLUMNS = {
    "роль": "role",
    "предметы": "subjects",
    "стаж": "experience_years",
    "категория": "qualification",
    "компетенции": "competencies",
    "часов в месяц": "hours_per_month",
    "макс. наставляемых": "max_mentees",
    "согласие": "consent",
}
MENTEE_COLUMNS = {
    "роль": "role",
    "предметы": "subjects",
    "стаж": "experience_years",
    "молодой специалист": "young_specialist",
    "класс": "grade",
    "дефициты": "deficits",
    "желаемая форма": "desired_form",
    "согласие": "consent",
}
REQUIRED = {
    BaseKind.MENTOR: {"фамилия", "имя", "компетенции", "часов в месяц", "согласие"},
    BaseKind.MENTEE: {"фамилия", "имя", "дефициты", "согласие"},
}
YES = {"да", "yes", "1", "true", "+"}
NO = {"нет", "no", "0", "false", "-", ""}


@dataclass
class RowError:
    line: int
    reason: str


@dataclass
class ImportReport:
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    registrations: list[MentorRegistration | MenteeRegistration] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _enum(enum: type[E]) -> Callable[[str], E | None]:
    return lambda text: parse_label(enum, text) if text else None


def _enum_list(enum: type[E]) -> Callable[[str], list[E]]:
    return lambda text: [
        parse_label(enum, part) for part in text.replace(",", ";").split(";") if part.strip()
    ]


def _int(text: str) -> int | None:
    if not text:
        return None
    try:
        return int(float(text.replace(",", ".")))
    except ValueError:
        raise ValueError(f"«{text}» — нужно целое число") from None


def _bool(text: str) -> bool:
    value = text.strip().casefold()
    if value in YES:
        return True
    if value in NO:
        return False
    raise ValueError(f"«{text}» — ответьте «да» или «нет»")


def _consent(text: str) -> ConsentGiver:
    value = text.strip().casefold()
    if value in YES:
        return ConsentGiver.PARTICIPANT
    if value in {"родитель", "законный представитель", "parent"}:
        return ConsentGiver.PARENT
    raise ValueError("нет согласия: участие добровольное, внесите строку после получения согласия")


CONVERTERS: dict[str, Callable[[str], Any]] = {
    "role": _enum(ParticipantRole),
    "subjects": lambda text: [s.strip() for s in text.replace(",", ";").split(";") if s.strip()],
    "experience_years": _int,
    "qualification": _enum(QualificationCategory),
    "competencies": _enum_list(DeficitArea),
    "deficits": _enum_list(DeficitArea),
    "hours_per_month": _int,
    "max_mentees": _int,
    "young_specialist": _bool,
    "grade": _int,
    "desired_form": _enum(MentoringForm),
    "consent": _consent,
}


def parse_base(base: BaseKind, filename: str, content: bytes) -> ImportReport:
    columns = MENTOR_COLUMNS if base is BaseKind.MENTOR else MENTEE_COLUMNS
    rows = spreadsheet_rows(filename, content)
    header = next(rows, None)
    if header is None:
        raise ImportFileError("файл пуст")
    names = [h.strip().casefold() for h in header]
    shown = {name: title.strip() for name, title in zip(names, header, strict=True)}
    missing = REQUIRED[base] - set(names)
    if missing:
        raise ImportFileError(f"в файле нет обязательных столбцов: {', '.join(sorted(missing))}")
    report = ImportReport()
    for line, cells in enumerate(rows, start=2):
        if not any(cells):
            continue
        report.rows += 1
        values = dict(zip(names, cells + [""] * (len(names) - len(cells)), strict=False))
        registration, problems = _row(base, columns, values, shown)
        if problems:
            report.errors.append(RowError(line, "; ".join(problems)))
        elif registration is not None:
            report.registrations.append(registration)
    if report.rows == 0:
        raise ImportFileError("в файле нет ни одной строки с данными")
    return report


def _row(
    base: BaseKind, columns: dict[str, str], values: dict[str, str], shown: dict[str, str]
) -> tuple[MentorRegistration | MenteeRegistration | None, list[str]]:
    problems: list[str] = []
    person = {key: values.get(title, "") or None for title, key in PERSON_COLUMNS.items()}
    entry: dict[str, Any] = {}
    consent = ConsentGiver.PARTICIPANT
    for title, key in columns.items():
        text = values.get(title, "")
        try:
            value = CONVERTERS[key](text)
        except ValueError as error:
            problems.append(f"«{shown.get(title, title)}»: {error}")
            continue
        if key == "consent":
            consent = value
        elif value is not None:
            entry[key] = value
    if problems:
        return None, problems
    model = MentorRegistration if base is BaseKind.MENTOR else MenteeRegistration
    try:
        return model.model_validate(
            {
                "person": {k: v for k, v in person.items() if v},
                "entry": entry,
                "consent": {"given_by": consent},
            }
        ), []
    except ValidationError as error:
        titles = {v: k for k, v in {**PERSON_COLUMNS, **columns}.items()}
        return None, [
            f"«{shown.get(titles.get(e['field'].split('.')[-1], ''), e['field'])}»: {e['message']}"
            for e in ru_errors(error)
        ]
