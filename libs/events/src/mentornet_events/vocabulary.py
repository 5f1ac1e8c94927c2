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


class ProgrammeStage(StrEnum):
    """The seven stages of a mentoring programme, in order."""

    PREPARATION = "preparation"
    MENTEE_BASE = "mentee_base"
    MENTOR_BASE = "mentor_base"
    MENTOR_TRAINING = "mentor_training"
    PAIRING = "pairing"
    WORK = "work"
    COMPLETION = "completion"


class ProgrammeDuration(StrEnum):
    SHORT_TERM = "short_term"  # 1–2 months, one problem
    LONG_TERM = "long_term"  # 1–3 years


class MeetingMode(StrEnum):
    ONLINE = "online"
    IN_PERSON = "in_person"
    MIXED = "mixed"


class TeacherStudentVariant(StrEnum):
    """Variants of teacher–student mentoring; kept in the school's programme, never in events."""

    UNDERACHIEVING = "underachieving"
    PASSIVE = "passive"
    GIFTED = "gifted"
    DISABILITIES = "disabilities"


class MeetingKind(StrEnum):
    ACQUAINTANCE = "acquaintance"
    PLANNING = "planning"
    REGULAR = "regular"
    INTERIM = "interim"
    FINAL = "final"


class Rhythm(StrEnum):
    """How often a roadmap item recurs when it has no single due date."""

    QUARTERLY = "quarterly"
    HALF_YEARLY = "half_yearly"
    DURING_YEAR = "during_year"
    ON_SCHEDULE = "on_schedule"


class DissolutionReason(StrEnum):
    INCOMPATIBLE = "incompatible"
    MENTOR_LEFT = "mentor_left"
    MENTEE_LEFT = "mentee_left"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    GOALS_CHANGED = "goals_changed"
    OTHER = "other"


class DocumentKind(StrEnum):
    """Local acts of the school's inner contour."""

    REGULATIONS_ORDER = "regulations_order"
    PAIRS_ORDER = "pairs_order"
    ROADMAP_ORDER = "roadmap_order"
    OTHER = "other"
