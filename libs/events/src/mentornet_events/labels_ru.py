"""Russian labels of the vocabularies: what people read on pages, in imports and reports."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from mentornet_events.vocabulary import (
    BaseKind,
    DeficitArea,
    DissolutionReason,
    DocumentKind,
    EvaluationLevel,
    ExperienceBand,
    MeetingKind,
    MeetingMode,
    MentoringForm,
    ParticipantRole,
    ProgrammeDuration,
    ProgrammeStage,
    QualificationCategory,
    Rhythm,
    SchoolKind,
    TeacherStudentVariant,
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
    ProgrammeStage.PREPARATION: "подготовка условий",
    ProgrammeStage.MENTEE_BASE: "формирование базы наставляемых",
    ProgrammeStage.MENTOR_BASE: "формирование базы наставников",
    ProgrammeStage.MENTOR_TRAINING: "отбор и обучение наставников",
    ProgrammeStage.PAIRING: "формирование пар и групп",
    ProgrammeStage.WORK: "работа пар и групп",
    ProgrammeStage.COMPLETION: "завершение программы",
    ProgrammeDuration.SHORT_TERM: "краткосрочная",
    ProgrammeDuration.LONG_TERM: "долгосрочная",
    MeetingMode.ONLINE: "дистанционно",
    MeetingMode.IN_PERSON: "очно",
    MeetingMode.MIXED: "смешанно",
    TeacherStudentVariant.UNDERACHIEVING: "неуспевающий обучающийся",
    TeacherStudentVariant.PASSIVE: "пассивный обучающийся",
    TeacherStudentVariant.GIFTED: "одарённый обучающийся",
    TeacherStudentVariant.DISABILITIES: "ребёнок с ОВЗ",
    MeetingKind.ACQUAINTANCE: "встреча-знакомство",
    MeetingKind.PLANNING: "пробная рабочая (планирование)",
    MeetingKind.REGULAR: "рабочая встреча",
    MeetingKind.INTERIM: "промежуточная встреча",
    MeetingKind.FINAL: "итоговая встреча",
    Rhythm.QUARTERLY: "1 раз в квартал",
    Rhythm.HALF_YEARLY: "1 раз в полугодие",
    Rhythm.DURING_YEAR: "в течение года",
    Rhythm.ON_SCHEDULE: "по графику",
    DissolutionReason.INCOMPATIBLE: "психологическая несовместимость",
    DissolutionReason.MENTOR_LEFT: "наставник выбыл",
    DissolutionReason.MENTEE_LEFT: "наставляемый выбыл",
    DissolutionReason.CONSENT_WITHDRAWN: "отозвано согласие",
    DissolutionReason.GOALS_CHANGED: "изменились цели",
    DissolutionReason.OTHER: "иная причина",
    DocumentKind.REGULATIONS_ORDER: "приказ об утверждении положения о наставничестве",
    DocumentKind.PAIRS_ORDER: "приказ о закреплении наставнических пар",
    DocumentKind.ROADMAP_ORDER: "приказ об утверждении дорожной карты",
    DocumentKind.OTHER: "иной локальный акт",
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
