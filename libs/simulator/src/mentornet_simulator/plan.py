"""The simulated region as a plan: every command of one academic year, computed from a seed.

No I/O here, so the plan is tested on its own (same seed → same plan; shares as configured) and
the figures it implies are known before anything runs. The executor (``executor.py``) replays the
plan against the services' public APIs; ids the services assign (pairs, meetings) are referred to
by their place in the plan and resolved while it runs.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from mentornet_events.vocabulary import DeficitArea, DissolutionReason, MeetingKind

AREAS = list(DeficitArea)
SUBJECTS = [
    "начальные классы", "русский язык", "литература", "математика", "физика", "химия", "биология",
    "история", "обществознание", "география", "информатика", "английский язык", "физическая культура",
    "музыка", "изобразительное искусство", "технология", "основы безопасности жизнедеятельности",
]  # fmt: skip
PROGRAMME_TITLES = [
    "Молодой педагог", "Школа молодого учителя", "Наставник — новому коллеге", "Профессиональный старт",
    "Вместе к мастерству", "Первые шаги в профессии",
]  # fmt: skip
PRODUCTS = [
    "конспект урока", "технологическая карта", "методическая разработка", "пакет диагностик",
    "сценарий мероприятия", "презентация опыта", "рабочая программа",
]  # fmt: skip
REASONS = [  # why pairs dissolve, weighted as schools report them
    (DissolutionReason.MENTEE_LEFT, 4),
    (DissolutionReason.MENTOR_LEFT, 3),
    (DissolutionReason.INCOMPATIBLE, 2),
    (DissolutionReason.GOALS_CHANGED, 2),
    (DissolutionReason.OTHER, 1),
]


@dataclass(frozen=True)
class RegionConfig:
    """What the region looks like and how its year goes; the shares are what schools report."""

    schools: int = 1_100
    municipalities: int = 40
    teachers: int = 45_000
    students: int = 500_000
    mentor_share: float = 0.12  # teachers in the mentor base
    young_specialist_share: float = 0.10  # teachers in their first three years
    other_mentee_share: float = 0.06  # experienced teachers asking for help (new school, new skill)
    paired_share: float = 0.85  # mentees who get a pair this year
    dissolve_share: float = 0.06
    on_time_share: float = 0.70  # roadmap items completed by their due date
    late_share: float = 0.15  # completed after it; the rest stay open
    feedback_share: float = 0.92  # each side's form after a meeting
    regular_meetings: int = 2
    items_per_roadmap: int = 5
    year: int = 2026  # the academic year that starts on 1 September of it
    region: str = "38"
    until: date | None = None  # the last day acted on: the services refuse what is dated after today


class Preset(StrEnum):
    LARGE = "large"
    MEDIUM = "medium"
    DEMO = "demo"
    TINY = "tiny"


PRESETS: dict[Preset, RegionConfig] = {
    Preset.LARGE: RegionConfig(),
    Preset.MEDIUM: RegionConfig(schools=110, municipalities=8, teachers=4_500, students=50_000),
    Preset.DEMO: RegionConfig(schools=12, municipalities=3, teachers=480, students=5_400),
    Preset.TINY: RegionConfig(schools=3, municipalities=2, teachers=90, students=900),
}


def academic_year(today: date) -> int:
    """The year the current academic year started in (September to August)."""
    return today.year if today.month >= 9 else today.year - 1


class Act(StrEnum):
    """What a step does; the executor has one method per act."""

    MUNICIPALITY = "municipality"
    SCHOOL = "school"
    CREDENTIALS = "credentials"
    IMPORT = "import"
    LAUNCH = "launch"
    DOCUMENT = "document"
    STAGE = "stage"
    FORM_PAIR = "form_pair"
    ROADMAP = "roadmap"
    COMPLETE_ITEM = "complete_item"
    MEETING = "meeting"
    FEEDBACK = "feedback"
    DISSOLVE = "dissolve"
    COMPLETE_PROGRAMME = "complete_programme"


@dataclass(frozen=True)
class Person:
    last_name: str
    first_name: str
    middle_name: str


@dataclass(frozen=True)
class Mentor:
    person: Person
    subjects: tuple[str, ...]
    experience_years: int
    qualification: str
    competencies: tuple[DeficitArea, ...]
    hours_per_month: int
    max_mentees: int


@dataclass(frozen=True)
class Mentee:
    person: Person
    subject: str
    experience_years: int
    young_specialist: bool
    deficits: tuple[DeficitArea, ...]


@dataclass(frozen=True)
class Item:
    item_id: uuid.UUID
    direction: DeficitArea
    due_on: date


@dataclass(frozen=True)
class Pair:
    """A pair of the plan: ``mentor`` and ``mentees`` index the school's bases."""

    mentor: int
    mentees: tuple[int, ...]
    formed_on: date
    items: tuple[Item, ...]
    dissolved: tuple[date, DissolutionReason] | None = None


@dataclass(frozen=True)
class Step:
    """One command. ``on`` orders a school's steps; ``args`` are the act's plain arguments."""

    on: date
    act: Act
    args: tuple[object, ...] = ()


@dataclass(frozen=True)
class SchoolPlan:
    code: str
    municipality: str
    name: str
    teachers: int
    students: int
    mentors: tuple[Mentor, ...]
    mentees: tuple[Mentee, ...]
    pairs: tuple[Pair, ...]
    steps: tuple[Step, ...]  # in the order the school's curator acts, from the import to completion


@dataclass(frozen=True)
class Figures:
    """What the region's indicators for the simulated year must show once the plan has run."""

    schools: int
    teachers: int
    students: int
    mentors: int
    mentees: int
    pairs_formed: int
    pairs_dissolved: int
    pairs_completed: int
    items_planned: int
    items_completed: int
    meetings: int
    feedback_forms: int

    @staticmethod
    def shown(f: dict[str, Any]) -> dict[str, int]:
        """The same counts read off the monitoring service's region figures (its JSON answer)."""
        return {
            "schools": f["schools"],
            "teachers": f["headcounts"]["teachers"],
            "students": f["headcounts"]["students"],
            "mentors": f["bases"]["mentors"],
            "mentees": f["bases"]["mentees"],
            "pairs_formed": f["pairs"]["formed"],
            "pairs_dissolved": f["pairs"]["dissolved"],
            "pairs_completed": f["pairs"]["completed"],
            "items_planned": f["roadmaps"]["planned"],
            "items_completed": f["roadmaps"]["completed"],
            "meetings": f["feedback"]["meetings"],
            "feedback_forms": f["feedback"]["forms"],
        }


@dataclass(frozen=True)
class RegionPlan:
    config: RegionConfig
    seed: int
    municipalities: tuple[tuple[str, str], ...]
    schools: tuple[SchoolPlan, ...]
    period: str = field(default="")

    @property
    def regional_steps(self) -> int:
        """Municipalities, schools and their credentials: the operator's part."""
        return len(self.municipalities) + 2 * len(self.schools)

    @property
    def total_steps(self) -> int:
        return self.regional_steps + sum(len(s.steps) for s in self.schools)

    def figures(self) -> Figures:
        """Counted off the steps the plan does (a plan cut at today forms, ends and completes less)."""
        steps = [step for school in self.schools for step in school.steps]
        acts = [s.act for s in steps]
        formed = [s.args[0] for s in steps if s.act is Act.FORM_PAIR]
        items = sum(
            len(school.pairs[int(str(step.args[0]))].items)
            for school in self.schools
            for step in school.steps
            if step.act is Act.ROADMAP
        )
        completed = sum(
            sum(1 for s in school.steps if s.act is Act.FORM_PAIR)
            - sum(1 for s in school.steps if s.act is Act.DISSOLVE)
            for school in self.schools
            if any(s.act is Act.COMPLETE_PROGRAMME for s in school.steps)
        )
        return Figures(
            schools=len(self.schools),
            teachers=sum(s.teachers for s in self.schools),
            students=sum(s.students for s in self.schools),
            mentors=sum(len(s.mentors) for s in self.schools),
            mentees=sum(len(s.mentees) for s in self.schools),
            pairs_formed=len(formed),
            pairs_dissolved=acts.count(Act.DISSOLVE),
            pairs_completed=completed,
            items_planned=items,
            items_completed=sum(1 for s in steps if s.act is Act.COMPLETE_ITEM),
            meetings=sum(1 for s in steps if s.act is Act.MEETING),
            feedback_forms=sum(1 for s in steps if s.act is Act.FEEDBACK),
        )


def _split(total: int, parts: int, rng: random.Random, spread: float) -> list[int]:
    """``total`` in ``parts`` uneven shares (big town schools, small village ones) summing exactly."""
    weights = [rng.lognormvariate(0, spread) for _ in range(parts)]
    scale = total / sum(weights)
    shares = [int(w * scale) for w in weights]
    for i in rng.sample(range(parts), total - sum(shares)):
        shares[i] += 1
    return shares


class _Names:
    """Russian full names from Faker's ru_RU provider, seeded; imported only when a plan is made."""

    def __init__(self, seed: int) -> None:
        from faker import Faker

        self.fake = Faker("ru_RU")
        self.fake.seed_instance(seed)

    def towns(self, count: int) -> list[str]:
        """``count`` different towns: each municipality is one town and its schools."""
        towns: list[str] = []
        while len(towns) < count:
            town = self.fake.city_name()
            if town not in towns:
                towns.append(town)
        return towns

    def person(self, rng: random.Random, female_share: float = 0.8) -> Person:
        f = self.fake
        if rng.random() < female_share:  # most Russian teachers are women
            return Person(f.last_name_female(), f.first_name_female(), f.middle_name_female())
        return Person(f.last_name_male(), f.first_name_male(), f.middle_name_male())


def make_plan(config: RegionConfig, seed: int = 1) -> RegionPlan:
    """The whole year of the region; the same config and seed give the same plan."""
    rng = random.Random(seed)
    names = _Names(seed)
    towns = names.towns(config.municipalities)
    municipalities = tuple((f"m{n + 1:02d}", f"Городской округ {town}") for n, town in enumerate(towns))
    teachers = _split(config.teachers, config.schools, rng, 0.6)
    students = [max(0, t * config.students // max(1, config.teachers)) for t in teachers]
    students[0] += config.students - sum(students)
    schools = []
    for n in range(config.schools):  # a municipality's schools are in its town, numbered from 1
        m = n % len(municipalities)
        name = f"МБОУ «СОШ № {n // len(municipalities) + 1}» ({towns[m]})"
        schools.append(_school(config, rng, names, n, municipalities[m][0], name, teachers[n], students[n]))
    return RegionPlan(config, seed, municipalities, tuple(schools), f"{config.year}/{config.year + 1}")


def _school(
    config: RegionConfig,
    rng: random.Random,
    names: _Names,
    n: int,
    municipality: str,
    name: str,
    teachers: int,
    students: int,
) -> SchoolPlan:
    code = f"s{n + 1:04d}"

    def count(share: float) -> int:  # a share of a small school rounds by chance, not always down
        exact = teachers * share
        return int(exact) + (rng.random() < exact - int(exact))

    mentors = tuple(_mentor(rng, names) for _ in range(min(teachers, max(1, count(config.mentor_share)))))
    young = min(teachers - len(mentors), count(config.young_specialist_share))
    others = min(teachers - len(mentors) - young, count(config.other_mentee_share))
    mentees = tuple(_mentee(rng, names, young=True) for _ in range(young)) + tuple(
        _mentee(rng, names, young=False) for _ in range(others)
    )
    y = config.year
    pairs = _pairs(config, rng, mentors, mentees, date(y, 9, 15))
    steps: list[Step] = [  # an empty base is not imported (the registry refuses a file without rows)
        *(
            Step(date(y, 8, 28), Act.IMPORT, (base,))
            for base, rows in (("mentor", mentors), ("mentee", mentees))
            if rows
        ),
        Step(date(y, 9, 1), Act.LAUNCH, (rng.choice(PROGRAMME_TITLES), date(y, 9, 1))),
        Step(date(y, 9, 2), Act.DOCUMENT, (f"{rng.randint(10, 199)}-од", date(y, 9, 2))),
        Step(date(y, 9, 14), Act.STAGE, ("pairing", date(y, 9, 14))),
        Step(date(y, 10, 1), Act.STAGE, ("work", date(y, 10, 1))),
    ]
    completes_on = date(y + 1, 5, 25)
    for index, pair in enumerate(pairs):
        steps += _pair_steps(config, rng, index, pair, completes_on)
    nominated = tuple(sorted({p.mentor for p in pairs if not p.dissolved})[:2])
    steps.append(Step(completes_on, Act.COMPLETE_PROGRAMME, (completes_on, nominated)))
    order = {act: i for i, act in enumerate(Act)}
    steps.sort(key=lambda s: (s.on, order[s.act]))  # stable: a meeting before its forms on one day
    if config.until is not None:  # what a step needs is dated before it: a cut keeps the plan whole
        steps = [s for s in steps if s.on <= config.until]
    return SchoolPlan(
        code, municipality, name, teachers, students, mentors, mentees, tuple(pairs), tuple(steps)
    )


def _mentor(rng: random.Random, names: _Names) -> Mentor:
    return Mentor(
        person=names.person(rng),
        subjects=tuple(rng.sample(SUBJECTS, rng.randint(1, 2))),
        experience_years=rng.randint(8, 40),
        qualification=rng.choice(["highest", "highest", "first"]),
        competencies=tuple(rng.sample(AREAS, rng.randint(2, 4))),
        hours_per_month=rng.choice([4, 6, 8, 8, 10, 12]),
        max_mentees=rng.choice([1, 2, 2, 3]),
    )


def _mentee(rng: random.Random, names: _Names, young: bool) -> Mentee:
    return Mentee(
        person=names.person(rng, 0.75),
        subject=rng.choice(SUBJECTS),
        experience_years=rng.randint(0, 2) if young else rng.randint(3, 25),
        young_specialist=young,
        deficits=tuple(rng.sample(AREAS, rng.randint(1, 3))),
    )


def _pairs(
    config: RegionConfig,
    rng: random.Random,
    mentors: tuple[Mentor, ...],
    mentees: tuple[Mentee, ...],
    start: date,
) -> list[Pair]:
    """Mentees who get a pair, each with a mentor who covers most of their deficits and has room.

    A mentor with room for more takes a second mentee as a second pair (teacher–teacher form); a
    group of mentees under one mentor is the group form, which these programmes do not run.
    """
    waiting = [i for i in range(len(mentees)) if rng.random() < config.paired_share]
    load = [0] * len(mentors)
    pairs: list[Pair] = []
    for mentee in waiting:
        free = [m for m in range(len(mentors)) if load[m] < mentors[m].max_mentees]
        if not free:
            break
        need = set(mentees[mentee].deficits)
        mentor = max(free, key=lambda m: (len(need & set(mentors[m].competencies)), -load[m], -m))
        load[mentor] += 1
        formed_on = start + timedelta(days=rng.randint(0, 14))
        areas = sorted(need, key=AREAS.index)
        items = tuple(
            Item(
                item_id=uuid.UUID(int=rng.getrandbits(128), version=4),
                direction=areas[k % len(areas)],
                due_on=formed_on + timedelta(days=30 + k * 200 // max(1, config.items_per_roadmap - 1)),
            )
            for k in range(config.items_per_roadmap)
        )
        pairs.append(Pair(mentor, (mentee,), formed_on, items))
    if not pairs:
        return pairs
    return [
        Pair(
            p.mentor,
            p.mentees,
            p.formed_on,
            p.items,
            (p.formed_on + timedelta(days=rng.randint(40, 200)), _weighted(rng, REASONS))
            if rng.random() < config.dissolve_share
            else None,
        )
        for p in pairs
    ]


def _weighted(rng: random.Random, choices: list[tuple[DissolutionReason, int]]) -> DissolutionReason:
    return rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]


def _pair_steps(
    config: RegionConfig, rng: random.Random, index: int, pair: Pair, completes_on: date
) -> list[Step]:
    """The pair's year: formed, a roadmap, meetings with their forms, items done on time or late."""
    ends = pair.dissolved[0] if pair.dissolved else completes_on
    steps = [Step(pair.formed_on, Act.FORM_PAIR, (index,)), Step(pair.formed_on, Act.ROADMAP, (index,))]
    y = config.year
    meetings = [
        (MeetingKind.ACQUAINTANCE, pair.formed_on + timedelta(days=rng.randint(1, 10))),
        (MeetingKind.PLANNING, pair.formed_on + timedelta(days=rng.randint(12, 25))),
        *(
            (MeetingKind.REGULAR, date(y, 11, 1) + timedelta(days=k * 45 + rng.randint(0, 20)))
            for k in range(config.regular_meetings)
        ),
        (MeetingKind.INTERIM, date(y + 1, 1, 20) + timedelta(days=rng.randint(0, 20))),
        (MeetingKind.FINAL, date(y + 1, 5, 12) + timedelta(days=rng.randint(0, 10))),
    ]
    for held, (kind, on) in enumerate(sorted(meetings, key=lambda m: m[1])):
        if on >= ends:
            break
        steps.append(Step(on, Act.MEETING, (index, held, kind.value, on)))
        for side in ("mentor", "mentee"):
            if rng.random() < config.feedback_share:
                scores = tuple(rng.choices([3, 4, 4, 5, 5], k=4))
                wants = side == "mentee" and kind is MeetingKind.FINAL and rng.random() < 0.2
                later = on + timedelta(days=rng.randint(0, 3))
                if later < ends:
                    steps.append(Step(later, Act.FEEDBACK, (index, held, side, scores, wants)))
    for item in pair.items:
        chance = rng.random()
        if chance < config.on_time_share:
            done = item.due_on - timedelta(days=rng.randint(0, 20))
        elif chance < config.on_time_share + config.late_share:
            done = item.due_on + timedelta(days=rng.randint(1, 30))
        else:
            continue
        done = max(done, pair.formed_on + timedelta(days=1))
        if done < ends:
            product = rng.choice(PRODUCTS)
            steps.append(Step(done, Act.COMPLETE_ITEM, (index, str(item.item_id), done, product)))
    if pair.dissolved:
        steps.append(
            Step(pair.dissolved[0], Act.DISSOLVE, (index, pair.dissolved[1].value, pair.dissolved[0]))
        )
    return steps
