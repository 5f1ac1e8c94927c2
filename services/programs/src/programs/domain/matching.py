"""Matching mentors to mentees: the score of a pair, its explanation, and the programme's assignment.

Pure domain: no I/O. The curator sees why a mentor is proposed (each score term comes with a
Russian sentence), so ``candidate`` is the one definition of the score. A whole programme is
assigned at once by an optimal assignment (``scipy.optimize.linear_sum_assignment``) over a score
matrix computed with numpy: a municipality has thousands of mentors and mentees, and scoring
millions of pairs one by one in Python would take minutes. A unit test keeps the matrix equal to
``candidate``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from math import isfinite
from uuid import UUID

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from mentornet_events.labels_ru import label
from mentornet_events.vocabulary import (
    DeficitArea,
    ExperienceBand,
    MentoringForm,
    ParticipantRole,
    QualificationCategory,
)

__all__ = [
    "Assignment",
    "Candidate",
    "MatchingPolicy",
    "MenteeProfile",
    "MentorProfile",
    "ScoreMatrix",
    "ScoreTerm",
    "Unmatched",
    "assign",
    "candidate",
    "compatible",
    "rank",
    "remaining_capacity",
    "score_matrix",
    "solve",
]

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.int64]

NO_COMPATIBLE_MENTOR = "no_compatible_mentor"
NO_DEFICIT_COVERED = "no_deficit_covered"
CAPACITY_EXHAUSTED = "capacity_exhausted"

DEFICITS: tuple[DeficitArea, ...] = tuple(DeficitArea)
BANDS: tuple[ExperienceBand, ...] = tuple(ExperienceBand)  # in order of experience
BAND_RANK: dict[ExperienceBand, int] = {band: rank for rank, band in enumerate(BANDS)}
QUALIFICATION_LEVEL: dict[QualificationCategory, int] = {
    QualificationCategory.NONE: 0,
    QualificationCategory.FIRST: 1,
    QualificationCategory.HIGHEST: 2,
}
ROLES: tuple[ParticipantRole, ...] = tuple(ParticipantRole)

_T, _S, _F = ParticipantRole.TEACHER, ParticipantRole.STUDENT, ParticipantRole.STAFF
#: (mentor roles, mentee roles) each form admits; group mentoring admits anyone
FORM_ROLES: dict[MentoringForm, tuple[frozenset[ParticipantRole], frozenset[ParticipantRole]]] = {
    MentoringForm.TEACHER_TEACHER: (frozenset({_T, _F}), frozenset({_T})),
    MentoringForm.LECTURER_YOUNG_TEACHER: (frozenset({_T, _F}), frozenset({_T})),
    MentoringForm.TEACHER_STUDENT: (frozenset({_T, _F}), frozenset({_S})),
    MentoringForm.STUDENT_STUDENT: (frozenset({_S}), frozenset({_S})),
    MentoringForm.EMPLOYER_STUDENT: (frozenset({_F, _T}), frozenset({_S})),
    MentoringForm.REVERSE: (frozenset({_T, _S}), frozenset({_T})),
    MentoringForm.GROUP: (frozenset(ROLES), frozenset(ROLES)),
}


# --- profiles and results -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MentorProfile:
    """What matching needs of a mentor-base entry: no names, only matching attributes."""

    id: UUID
    school: str
    role: ParticipantRole
    subjects: frozenset[str]
    competencies: frozenset[DeficitArea]
    experience_band: ExperienceBand | None
    qualification: QualificationCategory | None
    hours_per_month: int
    max_mentees: int
    current_mentees: int = 0  # mentees already in active pairs with this mentor

    def __post_init__(self) -> None:
        if min(self.hours_per_month, self.max_mentees, self.current_mentees) < 0:
            raise ValueError("hours, max_mentees and current_mentees cannot be negative")


@dataclass(frozen=True, slots=True)
class MenteeProfile:
    """What matching needs of a mentee-base entry: the deficits drive the choice of mentor."""

    id: UUID
    school: str
    role: ParticipantRole
    subjects: frozenset[str]
    deficits: frozenset[DeficitArea]
    experience_band: ExperienceBand | None = None
    young_specialist: bool = False
    grade: int | None = None


@dataclass(frozen=True, slots=True)
class ScoreTerm:
    """One line of a score's explanation; the points of a candidate's terms add up to its score."""

    key: str  # "deficits", "subject", "school", "experience", "qualification", "capacity"
    points: float
    explanation: str


@dataclass(frozen=True, slots=True)
class Candidate:
    """A mentor proposed to a mentee, with the reasons; capacity is the mentor's free places now."""

    mentor_id: UUID
    score: float
    terms: tuple[ScoreTerm, ...]
    remaining_capacity: int


@dataclass(frozen=True, slots=True)
class Unmatched:
    """A mentee left without a mentor and why, so the curator knows what to change."""

    mentee_id: UUID
    reason: str  # NO_COMPATIBLE_MENTOR | NO_DEFICIT_COVERED | CAPACITY_EXHAUSTED
    explanation: str


@dataclass(frozen=True, slots=True)
class Assignment:
    pairs: tuple[tuple[UUID, Candidate], ...]  # (mentee id, chosen candidate), in the mentees' order
    unmatched: tuple[Unmatched, ...]
    total_score: float


@dataclass(frozen=True, slots=True)
class MatchingPolicy:
    """Weights of the score. Deficits dominate: the point of a pair is closing the mentee's deficits."""

    deficit_weight: float = 10.0  # per covered deficit
    subject_weight: float = 4.0  # shares a subject
    same_school_weight: float = 3.0
    partner_school_weight: float = 1.5  # mentor's school is one of the programme's network partners
    experience_weight: float = 1.0  # per experience band the mentor is above the mentee
    qualification_weight: float = 1.0  # per level: first = 1, highest = 2
    capacity_weight: float = 0.5  # per free place: spreads the load (the "overloaded mentors" risk)

    def __post_init__(self) -> None:
        # weights are never negative: the assignment relies on a pair never being worse than none
        for weight in fields(self):
            value = getattr(self, weight.name)
            if not isfinite(value) or value < 0:
                raise ValueError(f"{weight.name} must be a finite non-negative number, not {value!r}")


DEFAULT_POLICY = MatchingPolicy()
NO_PARTNERS: frozenset[str] = frozenset()


# --- one pair -------------------------------------------------------------------------------------


def remaining_capacity(mentor: MentorProfile) -> int:
    """Free places; a mentor with no hours this month takes nobody whatever the maximum."""
    if mentor.hours_per_month == 0:
        return 0
    return max(0, mentor.max_mentees - mentor.current_mentees)


def _mentee_band(mentee: MenteeProfile) -> int | None:
    """A young specialist is in the first three years by definition, even if no band was given."""
    if mentee.experience_band is not None:
        return BAND_RANK[mentee.experience_band]
    return 0 if mentee.young_specialist else None


def _mentor_band(mentor: MentorProfile) -> int | None:
    return None if mentor.experience_band is None else BAND_RANK[mentor.experience_band]


def compatible(form: MentoringForm, mentor: MentorProfile, mentee: MenteeProfile) -> bool:
    """Whether the form admits this mentor for this mentee (roles; reverse: the younger teaches)."""
    if mentor.id == mentee.id:
        return False
    mentor_roles, mentee_roles = FORM_ROLES[form]
    if mentor.role not in mentor_roles or mentee.role not in mentee_roles:
        return False
    if form is MentoringForm.REVERSE:
        mentor_band, mentee_band = _mentor_band(mentor), _mentee_band(mentee)
        if mentor_band is not None and mentee_band is not None and mentor_band >= mentee_band:
            return False
    return True


def _areas(areas: Iterable[DeficitArea]) -> str:
    chosen = set(areas)
    return ", ".join(label(a) for a in DEFICITS if a in chosen)


def _of_deficits(n: int) -> str:
    """Genitive after «из»: «из 1 дефицита», «из 3 дефицитов»."""
    return "дефицита" if n % 10 == 1 and n % 100 != 11 else "дефицитов"


def _bands(n: int) -> str:
    if n % 10 == 1 and n % 100 != 11:
        return "ступень"
    if n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14):
        return "ступени"
    return "ступеней"


def _deficit_term(mentor: MentorProfile, mentee: MenteeProfile, policy: MatchingPolicy) -> ScoreTerm:
    if not mentee.deficits:
        return ScoreTerm("deficits", 0.0, "Наставляемый не указал дефицитов")
    covered = mentee.deficits & mentor.competencies
    text = f"Покрывает {len(covered)} из {len(mentee.deficits)} {_of_deficits(len(mentee.deficits))}"
    if covered:
        text += f": {_areas(covered)}"
    missed = mentee.deficits - mentor.competencies
    if missed:
        text += f"; не покрывает: {_areas(missed)}"
    return ScoreTerm("deficits", policy.deficit_weight * len(covered), text)


def _subject_term(mentor: MentorProfile, mentee: MenteeProfile, policy: MatchingPolicy) -> ScoreTerm:
    shared = mentor.subjects & mentee.subjects
    if not shared:
        return ScoreTerm("subject", 0.0, "Нет общего предмета")
    return ScoreTerm("subject", policy.subject_weight, f"Общий предмет: {', '.join(sorted(shared))}")


def _school_term(
    mentor: MentorProfile, mentee: MenteeProfile, policy: MatchingPolicy, partners: frozenset[str]
) -> ScoreTerm:
    if mentor.school == mentee.school:
        return ScoreTerm("school", policy.same_school_weight, f"Та же школа ({mentor.school})")
    if mentor.school in partners:
        return ScoreTerm("school", policy.partner_school_weight, f"Школа-партнёр сети ({mentor.school})")
    return ScoreTerm("school", 0.0, f"Другая школа ({mentor.school})")


def _experience_term(mentor: MentorProfile, mentee: MenteeProfile, policy: MatchingPolicy) -> ScoreTerm:
    mentor_band, mentee_band = _mentor_band(mentor), _mentee_band(mentee)
    if mentor_band is None or mentee_band is None:
        return ScoreTerm("experience", 0.0, "Стаж одного из участников не указан")
    above = mentor_band - mentee_band
    if above <= 0:
        return ScoreTerm("experience", 0.0, "Стаж наставника не больше стажа наставляемого")
    return ScoreTerm(
        "experience",
        policy.experience_weight * above,
        f"Стаж наставника ({label(BANDS[mentor_band])}) на {above} {_bands(above)} "
        f"выше стажа наставляемого ({label(BANDS[mentee_band])})",
    )


def _qualification_term(mentor: MentorProfile, policy: MatchingPolicy) -> ScoreTerm:
    if mentor.qualification is None:
        return ScoreTerm("qualification", 0.0, "Квалификационная категория не указана")
    level = QUALIFICATION_LEVEL[mentor.qualification]
    if level == 0:
        return ScoreTerm("qualification", 0.0, "Без квалификационной категории")
    return ScoreTerm(
        "qualification",
        policy.qualification_weight * level,
        f"Квалификационная категория: {label(mentor.qualification)}",
    )


def _capacity_term(free: int, policy: MatchingPolicy) -> ScoreTerm:
    return ScoreTerm("capacity", policy.capacity_weight * free, f"Свободных мест у наставника: {free}")


def candidate(
    mentor: MentorProfile,
    mentee: MenteeProfile,
    form: MentoringForm,
    policy: MatchingPolicy = DEFAULT_POLICY,
    partners: frozenset[str] = NO_PARTNERS,
) -> Candidate | None:
    """The scored, explained proposal of this mentor, or None when the pair may not be formed.

    A pair is not formed when the form does not admit it, the mentor has no free place, or the
    mentor covers none of the mentee's deficits (a pair that closes no deficit is formalism).
    This is the definition of the score; ``score_matrix`` computes the same numbers in bulk.
    """
    if not compatible(form, mentor, mentee):
        return None
    free = remaining_capacity(mentor)
    if free == 0:
        return None
    if mentee.deficits and not mentee.deficits & mentor.competencies:
        return None
    terms = (
        _deficit_term(mentor, mentee, policy),
        _subject_term(mentor, mentee, policy),
        _school_term(mentor, mentee, policy, partners),
        _experience_term(mentor, mentee, policy),
        _qualification_term(mentor, policy),
        _capacity_term(free, policy),
    )
    score = 0.0
    for term in terms:  # this order of additions is the one score_matrix repeats, bit for bit
        score += term.points
    return Candidate(mentor.id, score, terms, free)


def rank(
    mentee: MenteeProfile,
    mentors: Iterable[MentorProfile],
    form: MentoringForm,
    policy: MatchingPolicy = DEFAULT_POLICY,
    partners: frozenset[str] = NO_PARTNERS,
    limit: int = 10,
) -> list[Candidate]:
    """The best ``limit`` candidates for one mentee, best first; equal scores by mentor id."""
    found = [c for m in mentors if (c := candidate(m, mentee, form, policy, partners)) is not None]
    found.sort(key=lambda c: (-c.score, c.mentor_id))
    return found[: max(0, limit)]


# --- the whole programme --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class ScoreMatrix:
    """Scores of every (mentee, mentor) pair at once, with what ``solve`` needs to explain the result.

    ``scores[i, j]`` equals ``candidate(mentors[j], mentees[i], ...).score`` where ``allowed[i, j]``
    and is 0 elsewhere.
    """

    mentees: tuple[MenteeProfile, ...]
    mentors: tuple[MentorProfile, ...]
    form: MentoringForm
    policy: MatchingPolicy
    partners: frozenset[str]
    scores: Floats  # mentees × mentors
    allowed: Bools  # mentees × mentors: candidate() is not None
    free: Ints  # per mentor: remaining_capacity()
    any_compatible: Bools  # per mentee: some mentor is compatible for the form
    any_covering: Bools  # per mentee: some compatible mentor covers a deficit (or none are asked)


def _unique_ids(kind: str, ids: Iterable[UUID]) -> None:
    seen: set[UUID] = set()
    for id_ in ids:
        if id_ in seen:
            raise ValueError(f"{kind} {id_} appears twice")
        seen.add(id_)


def _role_ok(
    profiles: Sequence[MentorProfile] | Sequence[MenteeProfile], roles: frozenset[ParticipantRole]
) -> Bools:
    return np.fromiter((p.role in roles for p in profiles), dtype=np.bool_, count=len(profiles))


def _one_hot(sets: Sequence[Iterable[str]], vocabulary: dict[str, int]) -> npt.NDArray[np.float32]:
    """Rows of 0/1 over a vocabulary: set overlaps become one matrix product (exact in float32)."""
    out = np.zeros((len(sets), len(vocabulary)), dtype=np.float32)
    for i, items in enumerate(sets):
        out[i, [vocabulary[x] for x in items]] = 1.0
    return out


#: cells of the score matrix computed at once: temporaries stay small and in cache
BLOCK_CELLS = 1 << 19


def score_matrix(
    mentees: Sequence[MenteeProfile],
    mentors: Sequence[MentorProfile],
    form: MentoringForm,
    policy: MatchingPolicy = DEFAULT_POLICY,
    partners: frozenset[str] = NO_PARTNERS,
) -> ScoreMatrix:
    """``candidate`` for all pairs with array operations: 6 million pairs in a fraction of a second.

    Profiles become arrays once (areas and subjects as 0/1 rows, schools as integer codes,
    experience and qualification as ordinals); the matrix is then filled in blocks of mentee rows,
    so that temporaries stay a few megabytes whatever the size of the municipality. Each term is
    added in ``candidate``'s order and only where it is non-zero, so the sums are the same
    floating-point numbers ``candidate`` gives.
    """
    mentees, mentors = tuple(mentees), tuple(mentors)
    _unique_ids("mentee", (p.id for p in mentees))
    _unique_ids("mentor", (q.id for q in mentors))
    n, m = len(mentees), len(mentors)

    mentor_roles, mentee_roles = FORM_ROLES[form]
    mentee_ok, mentor_ok = _role_ok(mentees, mentee_roles), _role_ok(mentors, mentor_roles)
    mentee_band = np.array([-1 if (b := _mentee_band(p)) is None else b for p in mentees], dtype=np.int8)
    mentor_band = np.array([-1 if (b := _mentor_band(q)) is None else b for q in mentors], dtype=np.int8)
    column = {q.id: j for j, q in enumerate(mentors)}
    same_person = {i: j for i, p in enumerate(mentees) if (j := column.get(p.id)) is not None}

    areas = {a.value: k for k, a in enumerate(DEFICITS)}
    deficits = _one_hot([p.deficits for p in mentees], areas)
    competencies_t = _one_hot([q.competencies for q in mentors], areas).T.copy()
    no_deficits = np.fromiter((not p.deficits for p in mentees), dtype=np.bool_, count=n)

    seen = {s for p in mentees for s in p.subjects} | {s for q in mentors for s in q.subjects}
    vocabulary = {s: k for k, s in enumerate(sorted(seen))}
    mentee_subjects = _one_hot([p.subjects for p in mentees], vocabulary)
    mentor_subjects_t = _one_hot([q.subjects for q in mentors], vocabulary).T.copy()

    schools = {s: k for k, s in enumerate(sorted({p.school for p in mentees} | {q.school for q in mentors}))}
    mentee_school = np.array([schools[p.school] for p in mentees], dtype=np.int32)
    mentor_school = np.array([schools[q.school] for q in mentors], dtype=np.int32)
    partner = np.fromiter((q.school in partners for q in mentors), dtype=np.bool_, count=m)

    free = np.array([remaining_capacity(q) for q in mentors], dtype=np.int64)
    level = np.array(
        [0 if q.qualification is None else QUALIFICATION_LEVEL[q.qualification] for q in mentors],
        dtype=np.int64,
    )
    per_mentor = [(v, v != 0) for v in (policy.qualification_weight * level, policy.capacity_weight * free)]

    scores: Floats = np.empty((n, m), dtype=np.float64)
    allowed: Bools = np.empty((n, m), dtype=np.bool_)
    any_compatible: Bools = np.empty(n, dtype=np.bool_)
    any_covering: Bools = np.empty(n, dtype=np.bool_)
    rows = max(1, BLOCK_CELLS // max(1, m))
    for a in range(0, n, rows):
        b = min(n, a + rows)
        block = scores[a:b]

        # compatibility: roles by form, reverse mentoring's experience rule, never the same person
        compat = mentee_ok[a:b, None] & mentor_ok[None, :]
        known = (mentee_band[a:b] >= 0)[:, None] & (mentor_band >= 0)[None, :]
        above = mentor_band[None, :] - mentee_band[a:b, None]  # bands the mentor is above the mentee
        if form is MentoringForm.REVERSE:
            compat &= ~known | (above < 0)
        for i in range(a, b):
            if (j := same_person.get(i)) is not None:
                compat[i - a, j] = False

        # deficits covered (counts converted to float64 before weighting, as in candidate)
        overlap = deficits[a:b] @ competencies_t
        block[...] = overlap
        block *= policy.deficit_weight
        covering = (overlap > 0) | no_deficits[a:b, None]
        covering &= compat

        if vocabulary:
            np.add(
                block, policy.subject_weight, out=block, where=(mentee_subjects[a:b] @ mentor_subjects_t) > 0
            )

        same = mentee_school[a:b, None] == mentor_school[None, :]
        np.add(block, policy.same_school_weight, out=block, where=same)
        np.add(block, policy.partner_school_weight, out=block, where=~same & partner[None, :])

        above[~known] = 0
        for step in range(1, len(BANDS)):
            np.add(block, policy.experience_weight * step, out=block, where=above == step)

        for value, nonzero in per_mentor:
            np.add(block, value[None, :], out=block, where=nonzero[None, :])

        np.logical_and(covering, (free > 0)[None, :], out=allowed[a:b])
        np.copyto(block, 0.0, where=~allowed[a:b])
        any_compatible[a:b] = compat.any(axis=1)
        any_covering[a:b] = covering.any(axis=1)

    return ScoreMatrix(
        mentees=mentees,
        mentors=mentors,
        form=form,
        policy=policy,
        partners=partners,
        scores=scores,
        allowed=allowed,
        free=free,
        any_compatible=any_compatible,
        any_covering=any_covering,
    )


def _unmatched(matrix: ScoreMatrix, i: int) -> Unmatched:
    mentee = matrix.mentees[i]
    if not matrix.any_compatible[i]:
        return Unmatched(
            mentee.id,
            NO_COMPATIBLE_MENTOR,
            f"Нет наставников, допустимых для формы «{label(matrix.form)}» "
            f"(наставляемый: {label(mentee.role)})",
        )
    if not matrix.any_covering[i]:
        return Unmatched(
            mentee.id,
            NO_DEFICIT_COVERED,
            f"Ни один подходящий наставник не владеет компетенциями по дефицитам: {_areas(mentee.deficits)}",
        )
    if matrix.allowed[i].any():
        text = "Свободные места подходящих наставников отданы парам с более высокой оценкой"
    else:
        text = "У подходящих наставников не осталось свободных мест"
    return Unmatched(mentee.id, CAPACITY_EXHAUSTED, text)


def solve(matrix: ScoreMatrix) -> Assignment:
    """The assignment with the greatest total score that respects every mentor's free places.

    Each mentor becomes as many slot columns as places that can matter (free places, but no more
    than the mentees it may take); mentees and mentors without any allowed pair are left out.
    Forbidden cells score 0, like leaving the mentee unmatched, and weights are non-negative, so
    the rectangular assignment's optimum, with forbidden pairs dropped, is the optimum of the
    partial assignment; a forbidden pair is dropped by the mask, never trusted to the solver.
    (A pair a policy makes worth exactly 0 points ties with no pair and may be left unformed.)
    """
    allowed = matrix.allowed
    slots = np.minimum(matrix.free, allowed.sum(axis=0))
    slot_mentor = np.repeat(np.arange(len(matrix.mentors)), slots)
    rows = np.flatnonzero(allowed.any(axis=1))
    chosen: dict[int, int] = {}
    if rows.size and slot_mentor.size:
        # the solver copies a matrix it must negate (maximize) or transpose (more rows than
        # columns): hand it costs already negated, with the shorter side as rows, in one allocation
        tall = rows.size > slot_mentor.size
        cost = (
            matrix.scores.T[np.ix_(slot_mentor, rows)] if tall else matrix.scores[np.ix_(rows, slot_mentor)]
        )
        np.negative(cost, out=cost)
        a, b = linear_sum_assignment(cost)
        del cost
        row_ind, col_ind = (b, a) if tall else (a, b)
        for r, c in zip(row_ind.tolist(), col_ind.tolist(), strict=True):
            i, j = int(rows[r]), int(slot_mentor[c])
            if allowed[i, j]:
                chosen[i] = j

    pairs: list[tuple[UUID, Candidate]] = []
    unmatched: list[Unmatched] = []
    for i, mentee in enumerate(matrix.mentees):
        found = None
        if (k := chosen.get(i)) is not None:
            found = candidate(matrix.mentors[k], mentee, matrix.form, matrix.policy, matrix.partners)
        if found is None:
            unmatched.append(_unmatched(matrix, i))
        else:
            pairs.append((mentee.id, found))
    return Assignment(tuple(pairs), tuple(unmatched), sum((c.score for _, c in pairs), 0.0))


def assign(
    mentees: Sequence[MenteeProfile],
    mentors: Sequence[MentorProfile],
    form: MentoringForm,
    policy: MatchingPolicy = DEFAULT_POLICY,
    partners: frozenset[str] = NO_PARTNERS,
) -> Assignment:
    """Pairs for a whole programme at once: optimal for the programme, not greedy mentee by mentee."""
    return solve(score_matrix(mentees, mentors, form, policy, partners))
