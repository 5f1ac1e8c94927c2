"""Matching rules without I/O: compatibility by form, the explained score, the optimal assignment."""

from __future__ import annotations

import itertools
import random
import uuid
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from mentornet_events.labels_ru import label
from mentornet_events.vocabulary import (
    DeficitArea,
    ExperienceBand,
    MentoringForm,
    ParticipantRole,
    QualificationCategory,
)
from programs.domain.matching import (
    Assignment,
    MatchingPolicy,
    MenteeProfile,
    MentorProfile,
    assign,
    candidate,
    compatible,
    rank,
    remaining_capacity,
    score_matrix,
)

T, S, F = ParticipantRole.TEACHER, ParticipantRole.STUDENT, ParticipantRole.STAFF
D = DeficitArea
TT = MentoringForm.TEACHER_TEACHER
SCHOOLS = ("s1", "s2", "s3", "s4")
SUBJECTS = ("math", "physics", "history", "english")


def uid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def mentor(
    *,
    school: str = "s1",
    role: ParticipantRole = T,
    subjects: Sequence[str] = (),
    competencies: Sequence[DeficitArea] = (D.METHODOLOGICAL,),
    band: ExperienceBand | None = None,
    qualification: QualificationCategory | None = None,
    hours: int = 4,
    max_mentees: int = 2,
    current: int = 0,
    id: uuid.UUID | None = None,
) -> MentorProfile:
    return MentorProfile(
        id=id or uuid.uuid4(),
        school=school,
        role=role,
        subjects=frozenset(subjects),
        competencies=frozenset(competencies),
        experience_band=band,
        qualification=qualification,
        hours_per_month=hours,
        max_mentees=max_mentees,
        current_mentees=current,
    )


def mentee(
    *,
    school: str = "s1",
    role: ParticipantRole = T,
    subjects: Sequence[str] = (),
    deficits: Sequence[DeficitArea] = (D.METHODOLOGICAL,),
    band: ExperienceBand | None = None,
    young: bool = False,
    id: uuid.UUID | None = None,
) -> MenteeProfile:
    return MenteeProfile(
        id=id or uuid.uuid4(),
        school=school,
        role=role,
        subjects=frozenset(subjects),
        deficits=frozenset(deficits),
        experience_band=band,
        young_specialist=young,
    )


def random_mentor(rng: random.Random, roles: Sequence[ParticipantRole] = (T, T, S, F)) -> MentorProfile:
    max_mentees = rng.randint(1, 4)
    return MentorProfile(
        id=uid(rng),
        school=rng.choice(SCHOOLS),
        role=rng.choice(roles),
        subjects=frozenset(rng.sample(SUBJECTS, rng.randint(0, 2))),
        competencies=frozenset(rng.sample(list(DeficitArea), rng.randint(0, 4))),
        experience_band=rng.choice([None, *ExperienceBand]),
        qualification=rng.choice([None, *QualificationCategory]),
        hours_per_month=rng.choice((0, 2, 4, 8, 8)),
        max_mentees=max_mentees,
        current_mentees=rng.choice((0, 0, 0, rng.randint(0, max_mentees + 1))),
    )


def random_mentee(rng: random.Random, roles: Sequence[ParticipantRole] = (T, T, S)) -> MenteeProfile:
    return MenteeProfile(
        id=uid(rng),
        school=rng.choice(SCHOOLS),
        role=rng.choice(roles),
        subjects=frozenset(rng.sample(SUBJECTS, rng.randint(0, 2))),
        deficits=frozenset(rng.sample(list(DeficitArea), rng.choice((0, 1, 2, 3, 3)))),
        experience_band=rng.choice([None, *ExperienceBand]),
        young_specialist=rng.random() < 0.2,
    )


def random_policy(rng: random.Random) -> MatchingPolicy:
    """Weights like 0.1 and 0.3 whose sums round: the matrix must still equal candidate exactly."""
    return MatchingPolicy(*(rng.choice((0.0, 0.1, 0.3, 1.7, 2.5, 10.0)) for _ in range(7)))


def random_case(
    seed: int, n_mentees: int, n_mentors: int
) -> tuple[list[MenteeProfile], list[MentorProfile], frozenset[str], MatchingPolicy]:
    rng = random.Random(seed)
    mentors = [random_mentor(rng) for _ in range(n_mentors)]
    mentees = [random_mentee(rng) for _ in range(n_mentees)]
    for k in range(min(2, n_mentees, n_mentors)):  # a few people are in both bases
        mentees[k] = MenteeProfile(
            mentors[k].id, mentors[k].school, mentors[k].role, frozenset(), frozenset()
        )
    policy = MatchingPolicy() if seed % 2 else random_policy(rng)
    return mentees, mentors, frozenset(rng.sample(SCHOOLS, 2)), policy


def check_feasible(
    result: Assignment, mentees: Sequence[MenteeProfile], mentors: Sequence[MentorProfile]
) -> None:
    """Every mentee once (paired or unmatched), no mentor above its free places, no forbidden pair."""
    seen = [m for m, _ in result.pairs] + [u.mentee_id for u in result.unmatched]
    assert sorted(seen) == sorted(p.id for p in mentees)
    load = Counter(c.mentor_id for _, c in result.pairs)
    by_id = {q.id: q for q in mentors}
    for mentor_id, taken in load.items():
        assert taken <= remaining_capacity(by_id[mentor_id])
    assert result.total_score == pytest.approx(sum(c.score for _, c in result.pairs))


# --- compatibility and capacity -------------------------------------------------------------------

ROLE_RULES = [
    (MentoringForm.TEACHER_TEACHER, {T, F}, {T}),
    (MentoringForm.LECTURER_YOUNG_TEACHER, {T, F}, {T}),
    (MentoringForm.TEACHER_STUDENT, {T, F}, {S}),
    (MentoringForm.STUDENT_STUDENT, {S}, {S}),
    (MentoringForm.EMPLOYER_STUDENT, {F, T}, {S}),
    (MentoringForm.REVERSE, {T, S}, {T}),
    (MentoringForm.GROUP, {T, S, F}, {T, S, F}),
]


@pytest.mark.parametrize(("form", "mentor_roles", "mentee_roles"), ROLE_RULES)
def test_each_form_admits_its_roles_only(
    form: MentoringForm, mentor_roles: set[ParticipantRole], mentee_roles: set[ParticipantRole]
) -> None:
    assert {r.value for r, _, _ in ROLE_RULES} == {f.value for f in MentoringForm}
    for mentor_role, mentee_role in itertools.product(ParticipantRole, repeat=2):
        ok = compatible(form, mentor(role=mentor_role), mentee(role=mentee_role))
        assert ok == (mentor_role in mentor_roles and mentee_role in mentee_roles), (mentor_role, mentee_role)


def test_reverse_mentoring_needs_the_younger_colleague_to_teach() -> None:
    form = MentoringForm.REVERSE
    senior = mentee(band=ExperienceBand.OVER_20)
    assert compatible(form, mentor(band=ExperienceBand.UNDER_3), senior)
    assert not compatible(form, mentor(band=ExperienceBand.OVER_20), senior)  # same band
    assert not compatible(form, mentor(band=ExperienceBand.OVER_20), mentee(band=ExperienceBand.UNDER_3))
    assert compatible(form, mentor(band=None), senior)  # unknown: the curator decides
    assert compatible(form, mentor(role=S), senior)
    # a young specialist is in the first band even without one recorded: nobody is younger
    assert not compatible(form, mentor(band=ExperienceBand.UNDER_3), mentee(young=True))


def test_nobody_mentors_themselves() -> None:
    person = uuid.uuid4()
    form = MentoringForm.GROUP
    assert not compatible(form, mentor(id=person), mentee(id=person))
    assert candidate(mentor(id=person), mentee(id=person), form) is None
    result = assign([mentee(id=person)], [mentor(id=person)], form)
    assert result.pairs == () and result.unmatched[0].reason == "no_compatible_mentor"


def test_remaining_capacity_counts_active_pairs_and_hours() -> None:
    assert remaining_capacity(mentor(max_mentees=3)) == 3
    assert remaining_capacity(mentor(max_mentees=3, current=1)) == 2
    assert remaining_capacity(mentor(max_mentees=2, current=3)) == 0
    assert remaining_capacity(mentor(max_mentees=3, hours=0)) == 0


def test_profiles_and_policies_refuse_nonsense() -> None:
    with pytest.raises(ValueError):
        mentor(current=-1)
    with pytest.raises(ValueError, match="deficit_weight"):
        MatchingPolicy(deficit_weight=-1.0)
    with pytest.raises(ValueError):
        MatchingPolicy(subject_weight=float("nan"))
    twice = mentee()
    with pytest.raises(ValueError, match="twice"):
        assign([twice, twice], [mentor()], TT)


# --- the score of one pair ------------------------------------------------------------------------


def test_candidate_is_none_when_the_pair_may_not_be_formed() -> None:
    wanted = mentee(deficits=[D.ICT])
    assert candidate(mentor(competencies=[D.ICT], role=S), wanted, TT) is None  # role
    assert candidate(mentor(competencies=[D.ICT], hours=0), wanted, TT) is None  # no hours
    assert candidate(mentor(competencies=[D.ICT], max_mentees=1, current=1), wanted, TT) is None  # full
    assert candidate(mentor(competencies=[D.METHODOLOGICAL]), wanted, TT) is None  # no deficit covered
    assert candidate(mentor(competencies=[D.ICT]), wanted, TT) is not None
    assert candidate(mentor(competencies=[]), mentee(deficits=[]), TT) is not None  # nothing asked


def test_the_score_is_explained_term_by_term() -> None:
    m = mentor(
        school="s2",
        subjects=["math", "physics"],
        competencies=[D.METHODOLOGICAL, D.ICT, D.LEGAL_NORMATIVE],
        band=ExperienceBand.FROM_10_TO_20,
        qualification=QualificationCategory.HIGHEST,
        max_mentees=3,
        current=1,
    )
    e = mentee(
        school="s1",
        subjects=["math"],
        deficits=[D.METHODOLOGICAL, D.ICT, D.HEALTH_PRESERVATION],
        band=ExperienceBand.UNDER_3,
    )
    found = candidate(m, e, TT, partners=frozenset({"s2"}))
    assert found is not None
    terms = {t.key: t for t in found.terms}
    assert list(terms) == ["deficits", "subject", "school", "experience", "qualification", "capacity"]
    assert {k: t.points for k, t in terms.items()} == {
        "deficits": 20.0,
        "subject": 4.0,
        "school": 1.5,
        "experience": 2.0,
        "qualification": 2.0,
        "capacity": 1.0,
    }
    assert found.score == sum(t.points for t in found.terms) == 30.5
    assert found.remaining_capacity == 2
    deficits = terms["deficits"].explanation
    assert deficits.startswith("Покрывает 2 из 3 дефицитов")
    assert label(D.METHODOLOGICAL) in deficits and label(D.ICT) in deficits
    assert deficits.endswith(f"не покрывает: {label(D.HEALTH_PRESERVATION)}")
    assert "math" in terms["subject"].explanation
    assert "на 2 ступени" in terms["experience"].explanation
    assert label(QualificationCategory.HIGHEST) in terms["qualification"].explanation


def test_rank_orders_best_first_and_ties_by_mentor_id() -> None:
    e = mentee(deficits=[D.ICT, D.METHODOLOGICAL], subjects=["math"])
    both = mentor(competencies=[D.ICT, D.METHODOLOGICAL], max_mentees=1)
    twins = [mentor(competencies=[D.ICT], max_mentees=1) for _ in range(3)]
    near = mentor(competencies=[D.ICT], max_mentees=1, subjects=["math"])
    useless = mentor(competencies=[D.LEGAL_NORMATIVE], max_mentees=4)
    ranked = rank(e, [*twins, useless, near, both], TT)
    assert [c.mentor_id for c in ranked] == [both.id, near.id, *sorted(t.id for t in twins)]
    assert [c.score for c in ranked] == sorted((c.score for c in ranked), reverse=True)
    for c in ranked:
        assert c.score == pytest.approx(sum(t.points for t in c.terms))
        assert label(D.ICT) in c.terms[0].explanation
    assert label(D.METHODOLOGICAL) in ranked[0].terms[0].explanation.split(";")[0]
    assert len(rank(e, [*twins, useless, near, both], TT, limit=2)) == 2


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("form", list(MentoringForm))
def test_the_vectorised_matrix_equals_candidate(seed: int, form: MentoringForm) -> None:
    mentees, mentors, partners, policy = random_case(seed, 30, 25)
    matrix = score_matrix(mentees, mentors, form, policy, partners)
    assert matrix.scores.shape == matrix.allowed.shape == (30, 25)
    expected = np.zeros((30, 25))
    for i, e in enumerate(mentees):
        for j, m in enumerate(mentors):
            found = candidate(m, e, form, policy, partners)
            assert matrix.allowed[i, j] == (found is not None), (i, j)
            expected[i, j] = 0.0 if found is None else found.score
    np.testing.assert_array_equal(matrix.scores, expected)


def test_the_matrix_is_computed_in_blocks_without_changing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from programs.domain import matching

    mentees, mentors, partners, policy = random_case(1, 40, 30)
    whole = score_matrix(mentees, mentors, TT, policy, partners)
    monkeypatch.setattr(matching, "BLOCK_CELLS", 7)
    blocked = score_matrix(mentees, mentors, TT, policy, partners)
    np.testing.assert_array_equal(whole.scores, blocked.scores)
    np.testing.assert_array_equal(whole.allowed, blocked.allowed)
    np.testing.assert_array_equal(whole.any_covering, blocked.any_covering)


# --- the assignment -------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(8))
def test_the_assignment_never_exceeds_free_places(seed: int) -> None:
    rng = random.Random(seed)
    form = rng.choice([TT, MentoringForm.GROUP, MentoringForm.TEACHER_STUDENT, MentoringForm.REVERSE])
    mentees, mentors, partners, policy = random_case(seed, rng.randint(20, 60), rng.randint(5, 25))
    result = assign(mentees, mentors, form, policy, partners)
    check_feasible(result, mentees, mentors)
    by_id = {q.id: q for q in mentors}
    for mentee_id, chosen in result.pairs:
        again = candidate(
            by_id[chosen.mentor_id], next(e for e in mentees if e.id == mentee_id), form, policy, partners
        )
        assert again == chosen  # only pairs candidate() allows, with its score and explanation


def brute_force(
    mentees: Sequence[MenteeProfile],
    mentors: Sequence[MentorProfile],
    form: MentoringForm,
    policy: MatchingPolicy,
) -> float:
    best = 0.0
    options = [None, *range(len(mentors))]
    for choice in itertools.product(options, repeat=len(mentees)):
        load = Counter(j for j in choice if j is not None)
        if any(load[j] > remaining_capacity(mentors[j]) for j in load):
            continue
        total = 0.0
        for e, j in zip(mentees, choice, strict=True):
            if j is None:
                continue
            found = candidate(mentors[j], e, form, policy)
            if found is None:
                break
            total += found.score
        else:
            best = max(best, total)
    return best


@pytest.mark.parametrize("seed", range(12))
def test_the_assignment_is_optimal_on_small_cases(seed: int) -> None:
    rng = random.Random(1000 + seed)
    n_mentees = 5 if seed % 3 else 3  # more mentees than places, and fewer
    mentors = [
        mentor(
            school=rng.choice(SCHOOLS),
            subjects=rng.sample(SUBJECTS, rng.randint(0, 2)),
            competencies=rng.sample(list(DeficitArea)[:4], rng.randint(1, 3)),
            band=rng.choice(list(ExperienceBand)),
            qualification=rng.choice(list(QualificationCategory)),
            max_mentees=rng.randint(1, 2),
        )
        for _ in range(3)
    ]
    mentees = [
        mentee(
            school=rng.choice(SCHOOLS),
            subjects=rng.sample(SUBJECTS, rng.randint(0, 2)),
            deficits=rng.sample(list(DeficitArea)[:4], rng.randint(1, 3)),
            band=rng.choice(list(ExperienceBand)),
        )
        for _ in range(n_mentees)
    ]
    policy = MatchingPolicy() if seed % 2 else random_policy(rng)
    result = assign(mentees, mentors, TT, policy)
    check_feasible(result, mentees, mentors)
    assert result.total_score == pytest.approx(brute_force(mentees, mentors, TT, policy))


def test_the_programme_optimum_beats_greedy_choice() -> None:
    """Greedy would give the strong mentor to the first mentee and leave the second one without."""
    strong = mentor(competencies=[D.ICT, D.METHODOLOGICAL], max_mentees=1)
    weak = mentor(competencies=[D.METHODOLOGICAL], max_mentees=1)
    first = mentee(deficits=[D.ICT, D.METHODOLOGICAL])
    second = mentee(deficits=[D.ICT])
    result = assign([first, second], [strong, weak], TT)
    assert {m: c.mentor_id for m, c in result.pairs} == {first.id: weak.id, second.id: strong.id}
    assert result.unmatched == ()


def test_forbidden_pairs_never_appear_even_when_they_would_score_best() -> None:
    def ideal(**changes: Any) -> MentorProfile:
        return mentor(competencies=list(DeficitArea), subjects=["math"], max_mentees=4, **changes)

    wrong_role, no_hours, full = ideal(role=S), ideal(hours=0), ideal(current=4)
    modest = mentor(competencies=[D.ICT], max_mentees=1)
    mentees = [mentee(deficits=list(DeficitArea), subjects=["math"]) for _ in range(3)]
    result = assign(mentees, [wrong_role, no_hours, full, modest], TT)
    assert [c.mentor_id for _, c in result.pairs] == [modest.id]
    assert [u.reason for u in result.unmatched] == ["capacity_exhausted"] * 2


def test_unmatched_mentees_are_told_why() -> None:
    student = mentee(role=S, deficits=[D.ICT])
    uncovered = mentee(deficits=[D.HEALTH_PRESERVATION, D.DIGITALISATION])
    winner = mentee(deficits=[D.ICT], subjects=["math"])
    loser = mentee(deficits=[D.ICT])
    busy = mentee(deficits=[D.LEGAL_NORMATIVE])
    mentors = [
        mentor(competencies=[D.ICT], subjects=["math"], max_mentees=1),
        mentor(competencies=[D.LEGAL_NORMATIVE], max_mentees=2, current=2),
    ]
    result = assign([student, uncovered, winner, loser, busy], mentors, TT)
    assert [m for m, _ in result.pairs] == [winner.id]
    why = {u.mentee_id: u for u in result.unmatched}
    assert why[student.id].reason == "no_compatible_mentor"
    assert label(TT) in why[student.id].explanation
    assert why[uncovered.id].reason == "no_deficit_covered"
    assert label(D.HEALTH_PRESERVATION) in why[uncovered.id].explanation
    assert label(D.DIGITALISATION) in why[uncovered.id].explanation
    assert why[loser.id].reason == "capacity_exhausted"
    assert "более высокой оценкой" in why[loser.id].explanation
    assert why[busy.id].reason == "capacity_exhausted"  # its only mentor was full before the run
    assert "не осталось свободных мест" in why[busy.id].explanation
    assert [u.mentee_id for u in result.unmatched] == [student.id, uncovered.id, loser.id, busy.id]


def test_empty_bases_give_an_empty_assignment() -> None:
    assert assign([], [mentor()], TT) == Assignment((), (), 0.0)
    lonely = mentee()
    result = assign([lonely], [], TT)
    assert result.pairs == () and result.unmatched[0].reason == "no_compatible_mentor"
