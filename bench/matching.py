"""Matching a whole municipality at once: the programmes service's optimal assignment under load.

A deterministic random municipality (``--mentors`` mentors, ``--mentees`` mentees in ``--schools``
schools; 1–3 competencies per mentor and 1–3 deficits per mentee with some areas much rarer than
others, 1–2 subjects of 15, 1–4 places per mentor, some mentors already partly loaded or without
hours this month) is assigned by ``programs.domain.matching.assign`` for one form. The bench
times the vectorised score matrix and the solve (slot expansion, ``linear_sum_assignment``,
explanations of the chosen pairs) separately, then repeats the call under tracemalloc for the
peak of memory numpy allocates in it (the timed run stays free of tracemalloc's overhead) and
checks that both runs give the same assignment.
The floor: 2,000 mentors and 3,000 mentees in under 10 s and under 2 GiB peak (2 CPUs).

    .venv/bin/python bench/matching.py                          # writes bench/results/matching.md
    .venv/bin/python bench/matching.py --mentors 5000 --mentees 8000 --seed 7 --report /tmp/m.md
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import subprocess
import sys
import time
import tracemalloc
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import scipy
from rich.console import Console
from rich.table import Table

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
    score_matrix,
    solve,
)

ROOT = Path(__file__).resolve().parents[1]
FLOOR_S = 10.0
FLOOR_BYTES = 2 * 1024**3
SUBJECTS = (
    "math", "russian", "literature", "physics", "chemistry", "biology", "history", "social",
    "geography", "english", "informatics", "music", "art", "pe", "primary",
)  # fmt: skip
#: how often each area is a deficit (mentees) and a competency (mentors): digital ones are
#: frequent deficits and rarer strengths, which is what makes a municipality's matching hard
DEFICIT_WEIGHTS = {
    DeficitArea.SCIENTIFIC_THEORETICAL: (4, 6),
    DeficitArea.LEGAL_NORMATIVE: (6, 3),
    DeficitArea.SUBJECT_PROFESSIONAL: (8, 14),
    DeficitArea.PSYCHOLOGICAL_PEDAGOGICAL: (12, 10),
    DeficitArea.METHODOLOGICAL: (14, 16),
    DeficitArea.ICT: (14, 5),
    DeficitArea.DIGITALISATION: (10, 3),
    DeficitArea.EXTRACURRICULAR_UPBRINGING: (8, 8),
    DeficitArea.HEALTH_PRESERVATION: (3, 1),
}
BANDS = tuple(ExperienceBand)


@dataclass(frozen=True)
class Municipality:
    mentors: list[MentorProfile]
    mentees: list[MenteeProfile]
    partners: frozenset[str]


def _sample(rng: random.Random, weights: dict[DeficitArea, int], k: int) -> frozenset[DeficitArea]:
    chosen: set[DeficitArea] = set()
    areas, w = list(weights), list(weights.values())
    while len(chosen) < k:
        chosen.add(rng.choices(areas, w)[0])
    return frozenset(chosen)


def municipality(mentors: int, mentees: int, schools: int, partners: int, seed: int) -> Municipality:
    """The same municipality for the same arguments: ids come from the seeded generator too."""
    rng = random.Random(seed)
    codes = [f"38-{k:03d}" for k in range(schools)]
    school_weights = [rng.uniform(0.3, 3.0) for _ in codes]  # a few large schools, many small ones
    deficit_w = {a: w[0] for a, w in DEFICIT_WEIGHTS.items()}
    competency_w = {a: w[1] for a, w in DEFICIT_WEIGHTS.items()}

    def new_id() -> uuid.UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    def subjects() -> frozenset[str]:
        return frozenset(rng.sample(SUBJECTS, rng.choice((1, 1, 2))))

    mentor_list = []
    for _ in range(mentors):
        role = ParticipantRole.STAFF if rng.random() < 0.08 else ParticipantRole.TEACHER
        max_mentees = rng.choice((1, 1, 2, 2, 2, 3, 3, 4))
        loaded = rng.random() < 0.3
        mentor_list.append(
            MentorProfile(
                id=new_id(),
                school=rng.choices(codes, school_weights)[0],
                role=role,
                subjects=subjects() if role is ParticipantRole.TEACHER else frozenset(),
                competencies=_sample(rng, competency_w, rng.choice((1, 2, 2, 3))),
                experience_band=rng.choices(BANDS, (1, 4, 5, 4))[0],
                qualification=rng.choices(tuple(QualificationCategory), (2, 4, 3))[0],
                hours_per_month=0 if rng.random() < 0.05 else rng.choice((2, 4, 6, 8)),
                max_mentees=max_mentees,
                current_mentees=rng.randint(1, max_mentees) if loaded else 0,
            )
        )
    mentee_list = []
    for _ in range(mentees):
        student = rng.random() < 0.1  # students in the base wait for another form's programme
        young = not student and rng.random() < 0.4
        band = None if student else (BANDS[0] if young else rng.choices(BANDS, (2, 5, 3, 1))[0])
        mentee_list.append(
            MenteeProfile(
                id=new_id(),
                school=rng.choices(codes, school_weights)[0],
                role=ParticipantRole.STUDENT if student else ParticipantRole.TEACHER,
                subjects=subjects(),
                deficits=_sample(rng, deficit_w, rng.choice((1, 2, 2, 3))),
                experience_band=band,
                young_specialist=young,
                grade=rng.randint(5, 11) if student else None,
            )
        )
    return Municipality(mentor_list, mentee_list, frozenset(rng.sample(codes, min(partners, schools))))


@dataclass
class Run:
    matrix_s: float
    solve_s: float
    assignment: Assignment
    slots: int
    rows: int
    allowed_pairs: int

    @property
    def total_s(self) -> float:
        return self.matrix_s + self.solve_s


@dataclass
class Results:
    mentors: int
    mentees: int
    schools: int
    seed: int
    form: MentoringForm
    generate_s: float
    run: Run
    rss_before: int
    rss_peak: int
    traced_peak: int
    same_twice: bool
    environment: dict[str, str] = field(default_factory=dict)

    @property
    def floor_met(self) -> bool:
        return self.run.total_s < FLOOR_S and self.rss_peak < FLOOR_BYTES


def max_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kilobytes on Linux


def run_once(m: Municipality, form: MentoringForm, policy: MatchingPolicy) -> Run:
    start = time.perf_counter()
    matrix = score_matrix(m.mentees, m.mentors, form, policy, m.partners)
    built = time.perf_counter()
    assignment = solve(matrix)
    solved = time.perf_counter()
    slots = int(np.minimum(matrix.free, matrix.allowed.sum(axis=0)).sum())
    rows = int(matrix.allowed.any(axis=1).sum())
    return Run(built - start, solved - built, assignment, slots, rows, int(matrix.allowed.sum()))


def environment() -> dict[str, str]:
    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain"], capture_output=True, text=True, check=True
        ).stdout.strip()
        commit += " (uncommitted changes)" if dirty else ""
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {
        "commit": commit,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "host": f"{platform.platform()}, {os.cpu_count()} CPUs",
        "load average at start": f"{os.getloadavg()[0]:.1f}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
    }


def bench(args: argparse.Namespace, console: Console) -> Results:
    env = environment()
    form = MentoringForm(args.form)
    policy = MatchingPolicy()
    with console.status("generating the municipality…"):
        start = time.perf_counter()
        m = municipality(args.mentors, args.mentees, args.schools, args.partners, args.seed)
        generate_s = time.perf_counter() - start
    rss_before = max_rss_bytes()
    with console.status("assign (timed)…"):
        run = run_once(m, form, policy)
    rss_peak = max_rss_bytes()
    with console.status("assign again under tracemalloc…"):
        tracemalloc.start()
        again = run_once(m, form, policy)
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    same = again.assignment == run.assignment
    return Results(
        args.mentors, args.mentees, args.schools, args.seed, form, generate_s,
        run, rss_before, rss_peak, traced_peak, same, env,
    )  # fmt: skip


# --- reporting -----------------------------------------------------------------------------------


def mib(n: int) -> str:
    return f"{n / 1024**2:,.0f} MiB"


def rows_of(r: Results) -> list[tuple[str, str]]:
    a = r.run.assignment
    reasons = Counter(u.reason for u in a.unmatched)
    n_pairs = len(a.pairs)
    return [
        ("score matrix (vectorised)", f"{r.run.matrix_s:.2f} s"),
        ("solve (slots + linear_sum_assignment + explanations)", f"{r.run.solve_s:.2f} s"),
        ("total", f"{r.run.total_s:.2f} s"),
        ("allowed pairs", f"{r.run.allowed_pairs:,} of {r.mentees * r.mentors:,}"),
        ("assignment problem", f"{r.run.rows:,} mentees × {r.run.slots:,} mentor slots"),
        ("peak RSS of the process (ru_maxrss)", mib(r.rss_peak)),
        ("ru_maxrss before the call (imports, profiles)", mib(r.rss_before)),
        ("tracemalloc peak of the call", mib(r.traced_peak)),
        ("pairs formed", f"{n_pairs:,}"),
        ("total score (mean per pair)", f"{a.total_score:,.1f} ({a.total_score / max(1, n_pairs):.2f})"),
        *((f"unmatched: {reason}", f"{count:,}") for reason, count in sorted(reasons.items())),
        ("same assignment on the second run", "yes" if r.same_twice else "NO"),
    ]


def floor_line(r: Results) -> str:
    verdict = "met" if r.floor_met else "NOT met"
    return (
        f"**Floor (< {FLOOR_S:.0f} s and < 2 GiB peak): {verdict}, "
        f"{r.run.total_s:.2f} s and {mib(r.rss_peak)}**"
    )


def report(r: Results, argv: list[str]) -> str:
    lines = [
        "# Matching a municipality",
        "",
        f"`.venv/bin/python bench/matching.py{' ' + ' '.join(argv) if argv else ''}`: "
        f"{r.mentors:,} mentors and {r.mentees:,} mentees in {r.schools} schools (seed {r.seed}), "
        f"form «{label(r.form)}» (`{r.form.value}`), default policy; generating the profiles took "
        f"{r.generate_s:.2f} s (not counted). Times are wall clock of one `assign` "
        "(`score_matrix` then `solve`); the tracemalloc peak comes from a second, traced run.",
        "",
        "| Measure | Value |",
        "|---|---:|",
        *(f"| {k} | {v} |" for k, v in rows_of(r)),
        "",
        floor_line(r),
        "",
        "Environment: " + "; ".join(f"{k} {v}" for k, v in r.environment.items()) + ".",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mentors", type=int, default=2000)
    parser.add_argument("--mentees", type=int, default=3000)
    parser.add_argument("--schools", type=int, default=40)
    parser.add_argument("--partners", type=int, default=8, help="network partner schools of the programme")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--form", choices=[f.value for f in MentoringForm], default="teacher_teacher")
    parser.add_argument("--report", type=Path, default=ROOT / "bench" / "results" / "matching.md")
    args = parser.parse_args()
    console = Console()
    results = bench(args, console)
    table = Table(title=f"matching: {args.mentors:,} mentors × {args.mentees:,} mentees")
    table.add_column("Measure")
    table.add_column("Value", justify="right")
    for k, v in rows_of(results):
        table.add_row(k, v)
    console.print(table)
    console.print(floor_line(results).replace("**", ""))
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(report(results, sys.argv[1:]), encoding="utf-8")
    console.print(f"report written to {args.report}")


if __name__ == "__main__":
    main()
