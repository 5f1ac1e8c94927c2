"""Closed vocabularies of the domain (see DOMAIN.md); values are stable English codes."""

from enum import StrEnum


class DeficitArea(StrEnum):
    """Areas of professional deficits; the same list structures a roadmap."""

    SCIENTIFIC_THEORETICAL = "scientific_theoretical"
    LEGAL_NORMATIVE = "legal_normative"
    SUBJECT_PROFESSIONAL = "subject_professional"
    PSYCHOLOGICAL_PEDAGOGICAL = "psychological_pedagogical"
    METHODOLOGICAL = "methodological"
    ICT = "ict"
    DIGITALISATION = "digitalisation"
    EXTRACURRICULAR_UPBRINGING = "extracurricular_upbringing"
    HEALTH_PRESERVATION = "health_preservation"


class MentoringForm(StrEnum):
    TEACHER_TEACHER = "teacher_teacher"
    TEACHER_STUDENT = "teacher_student"
    STUDENT_STUDENT = "student_student"
    LECTURER_YOUNG_TEACHER = "lecturer_young_teacher"
    EMPLOYER_STUDENT = "employer_student"
    REVERSE = "reverse"
    GROUP = "group"


class ParticipantRole(StrEnum):
    TEACHER = "teacher"
    STUDENT = "student"
    STAFF = "staff"


class ExperienceBand(StrEnum):
    """Years of experience in bands: aggregates need the band, never the exact figure."""

    UNDER_3 = "under_3"
    FROM_3_TO_10 = "3_to_10"
    FROM_10_TO_20 = "10_to_20"
    OVER_20 = "over_20"


class EvaluationLevel(StrEnum):
    """The four evaluation levels of a programme's results."""

    REACTION = "reaction"
    KNOWLEDGE = "knowledge"
    BEHAVIOUR = "behaviour"
    RESULTS = "results"


class SchoolKind(StrEnum):
    SCHOOL = "school"
    KINDERGARTEN = "kindergarten"
    COLLEGE = "college"
    ADDITIONAL_EDUCATION = "additional_education"


class QualificationCategory(StrEnum):
    NONE = "none"
    FIRST = "first"
    HIGHEST = "highest"


class BaseKind(StrEnum):
    """Which base of the school a participant is in (a person may be in both)."""

    MENTOR = "mentor"
    MENTEE = "mentee"


class ConsentGiver(StrEnum):
    PARTICIPANT = "participant"
    PARENT = "parent"  # for a minor
