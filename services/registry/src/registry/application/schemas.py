"""Command and view models of the registry (validated by pydantic; shared by API and import)."""

from __future__ import annotations

from uuid import UUID

from pydantic import EmailStr, Field

from mentornet_auth import Role
from mentornet_events.vocabulary import (
    ConsentGiver,
    DeficitArea,
    MentoringForm,
    ParticipantRole,
    QualificationCategory,
    SchoolKind,
)
from mentornet_spine.validation import BirthDate, Code, Strict, Subject

#: a participant's areas: each at most once, so the list is never longer than the vocabulary
AREAS = len(DeficitArea)


class MunicipalityIn(Strict):
    code: Code = Field(description="Код муниципалитета")
    name: str = Field(min_length=1, max_length=300, description="Название муниципалитета")


class SchoolIn(Strict):
    code: Code = Field(description="Код образовательной организации")
    municipality: Code
    name: str = Field(min_length=1, max_length=500)
    kind: SchoolKind = SchoolKind.SCHOOL
    teachers: int = Field(ge=0, le=10_000, description="Число педагогов")
    students: int = Field(ge=0, le=100_000, description="Число обучающихся")
    contact_email: EmailStr | None = None
    contact_phone: str | None = Field(default=None, max_length=40)


class Headcounts(Strict):
    teachers: int = Field(ge=0, le=10_000)
    students: int = Field(ge=0, le=100_000)


class Reason(Strict):
    reason: str = Field(min_length=3, max_length=1000, description="Причина")


class PersonalData(Strict):
    """What only the registry keeps, encrypted per participant."""

    last_name: str = Field(min_length=1, max_length=100)
    first_name: str = Field(min_length=1, max_length=100)
    middle_name: str | None = Field(default=None, max_length=100)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=40)
    birth_date: BirthDate | None = None
    position: str | None = Field(default=None, max_length=200, description="Должность")
    at_risk: bool = Field(default=False, description="Состоит на учёте (только для реестра)")
    disability: bool = Field(default=False, description="ОВЗ / инвалидность (только для реестра)")
    parent_name: str | None = Field(
        default=None, max_length=300, description="Родитель / законный представитель"
    )


class Consent(Strict):
    given_by: ConsentGiver = ConsentGiver.PARTICIPANT


class MentorEntryIn(Strict):
    role: ParticipantRole = ParticipantRole.TEACHER
    subjects: list[Subject] = Field(default_factory=list, max_length=20)
    experience_years: int | None = Field(default=None, ge=0, le=70)
    qualification: QualificationCategory | None = None
    competencies: list[DeficitArea] = Field(min_length=1, max_length=AREAS)
    hours_per_month: int = Field(ge=1, le=200)
    max_mentees: int = Field(default=1, ge=1, le=30)


class MenteeEntryIn(Strict):
    role: ParticipantRole = ParticipantRole.TEACHER
    subjects: list[Subject] = Field(default_factory=list, max_length=20)
    experience_years: int | None = Field(default=None, ge=0, le=70)
    young_specialist: bool = False
    grade: int | None = Field(default=None, ge=1, le=11)
    deficits: list[DeficitArea] = Field(min_length=1, max_length=AREAS)
    desired_form: MentoringForm | None = None


class MentorRegistration(Strict):
    participant_id: UUID | None = Field(default=None, description="Уже известный участник (вторая база)")
    person: PersonalData | None = None
    entry: MentorEntryIn
    consent: Consent = Field(default_factory=Consent)
    minor: bool = False


class MenteeRegistration(Strict):
    participant_id: UUID | None = None
    person: PersonalData | None = None
    entry: MenteeEntryIn
    consent: Consent = Field(default_factory=Consent)
    minor: bool | None = Field(default=None, description="По умолчанию: ученик считается несовершеннолетним")


class ProfileChanges(Strict):
    subjects: list[Subject] | None = Field(default=None, max_length=20)
    experience_years: int | None = Field(default=None, ge=0, le=70)
    qualification: QualificationCategory | None = None
    young_specialist: bool | None = None
    grade: int | None = Field(default=None, ge=1, le=11)
    competencies: list[DeficitArea] | None = Field(default=None, min_length=1, max_length=AREAS)
    hours_per_month: int | None = Field(default=None, ge=1, le=200)
    max_mentees: int | None = Field(default=None, ge=1, le=30)
    deficits: list[DeficitArea] | None = Field(default=None, min_length=1, max_length=AREAS)
    desired_form: MentoringForm | None = None
    person: PersonalData | None = None


class AccountIn(Strict):
    username: str = Field(
        pattern=r"^[a-z0-9._-]{3,100}$",
        max_length=100,
        description="Латинские строчные буквы, цифры, точка, дефис, подчёркивание",
    )
    password: str = Field(min_length=10, max_length=200)
    role: Role = Field(
        description="Роль: regional_operator, municipal_operator, federal_consumer, school_curator, "
        "mentor, mentee или service (школьная система получает учётные данные клиента, не пароль)"
    )
    municipality: Code | None = Field(default=None, description="Для муниципального оператора")
    school: Code | None = Field(default=None, description="Для куратора, наставника и наставляемого")
    participant_id: UUID | None = None
