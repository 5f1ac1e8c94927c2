"""Russian labels of the vocabularies: what people read on pages, in imports and reports."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from mentornet_events.vocabulary import (
    BaseKind,
    DeficitArea,
    EvaluationLevel,
    ExperienceBand,
    MentoringForm,
    ParticipantRole,
    QualificationCategory,
    SchoolKind,
)

LABELS: dict[StrEnum, str] = {
    DeficitArea.SCIENTIFIC_THEORETICAL: "научно-теоретическая",
    DeficitArea.LEGAL_NORMATIVE: "нормативно-правовая",
    DeficitArea.SUBJECT_PROFESSIONAL: "предметно-профессиональная",
    DeficitArea.PSYCHOLOGICAL_PEDAGOGICAL: "психолого-педагогическая",
    DeficitArea.METHODOLOGICAL: "методическая",
    DeficitArea.ICT: "ИКТ-компетенции",
    DeficitArea.DIGITALISATION: "цифровизация образования",
    DeficitArea.EXTRACURRICULAR_UPBRINGING: "внеурочная и воспитательная работа",
    DeficitArea.HEALTH_PRESERVATION: "здоровьесбережение обучающихся",
    MentoringForm.TEACHER_TEACHER: "учитель – учитель",
    MentoringForm.TEACHER_STUDENT: "учитель – ученик",
    MentoringForm.STUDENT_STUDENT: "ученик – ученик",
    MentoringForm.LECTURER_YOUNG_TEACHER: "педагог вуза/колледжа – молодой педагог",
    MentoringForm.EMPLOYER_STUDENT: "работодатель – обучающийся",
    MentoringForm.REVERSE: "реверсивное наставничество",
    MentoringForm.GROUP: "групповое наставничество",
    ParticipantRole.TEACHER: "педагог",
    ParticipantRole.STUDENT: "обучающийся",
    ParticipantRole.STAFF: "сотрудник",
    ExperienceBand.UNDER_3: "до 3 лет",
    ExperienceBand.FROM_3_TO_10: "3–10 лет",
    ExperienceBand.FROM_10_TO_20: "10–20 лет",
    ExperienceBand.OVER_20: "более 20 лет",
    QualificationCategory.NONE: "без категории",
    QualificationCategory.FIRST: "первая",
    QualificationCategory.HIGHEST: "высшая",
    SchoolKind.SCHOOL: "школа",
    SchoolKind.KINDERGARTEN: "детский сад",
    SchoolKind.COLLEGE: "колледж",
    SchoolKind.ADDITIONAL_EDUCATION: "дополнительное образование",
    BaseKind.MENTOR: "наставник",
    BaseKind.MENTEE: "наставляемый",
    EvaluationLevel.REACTION: "реакция",
    EvaluationLevel.KNOWLEDGE: "изменение знаний",
    EvaluationLevel.BEHAVIOUR: "изменение поведения",
    EvaluationLevel.RESULTS: "результаты для организации",
}

E = TypeVar("E", bound=StrEnum)


def label(value: StrEnum) -> str:
    return LABELS.get(value, value.value)


def parse_label(enum: type[E], text: str) -> E:
    """Accept the code or the Russian label, case-insensitively; ValueError names what is allowed."""
    wanted = text.strip().casefold()
    for member in enum:
        if wanted in (member.value.casefold(), label(member).casefold()):
            return member
    allowed = ", ".join(label(m) for m in enum)
    raise ValueError(f"неизвестное значение «{text.strip()}»; допустимо: {allowed}")
