"""The region's plan, without I/O: the same seed gives the same year, and its shares are realistic."""

from __future__ import annotations

import re
from dataclasses import replace

from mentornet_simulator import PRESETS, Preset, make_plan
from mentornet_simulator.plan import Act, RegionConfig, academic_year

CONFIG = replace(PRESETS[Preset.MEDIUM], year=2025)


def test_the_same_seed_gives_the_same_plan_and_another_seed_another() -> None:
    assert make_plan(CONFIG, 7) == make_plan(CONFIG, 7)
    assert make_plan(CONFIG, 7).schools != make_plan(CONFIG, 8).schools


def test_the_region_has_the_configured_size_and_realistic_shares() -> None:
    plan = make_plan(CONFIG, 3)
    figures = plan.figures()
    assert (figures.schools, figures.teachers, figures.students) == (110, 4_500, 50_000)
    assert len(plan.municipalities) == 8 and {s.municipality for s in plan.schools} == {
        code for code, _ in plan.municipalities
    }
    assert 0.10 <= figures.mentors / figures.teachers <= 0.14
    young = sum(m.young_specialist for s in plan.schools for m in s.mentees)
    assert 0.08 <= young / figures.teachers <= 0.12
    assert 0.75 <= figures.pairs_formed / figures.mentees <= 0.9
    assert 0.02 <= figures.pairs_dissolved / figures.pairs_formed <= 0.1
    assert 0.75 <= figures.items_completed / figures.items_planned <= 0.95
    sizes = sorted(s.teachers for s in plan.schools)
    assert sizes[-1] > 3 * sizes[len(sizes) // 2] > 0  # a few big town schools, many small ones


def test_no_mentor_takes_more_mentees_than_declared() -> None:
    for school in make_plan(CONFIG, 5).schools:
        for index, mentor in enumerate(school.mentors):
            assert sum(p.mentor == index for p in school.pairs) <= mentor.max_mentees


def test_each_school_acts_in_date_order_and_never_on_a_pair_that_is_not_running() -> None:
    for school in make_plan(CONFIG, 11).schools:
        days = [s.on for s in school.steps]
        assert days == sorted(days)
        assert school.steps[0].act is Act.IMPORT and school.steps[-1].act is Act.COMPLETE_PROGRAMME
        imported = {s.args[0] for s in school.steps if s.act is Act.IMPORT}
        assert imported == {"mentor"} | ({"mentee"} if school.mentees else set())  # never an empty file
        formed: set[object] = set()
        ended: set[object] = set()
        meetings: set[tuple[object, object]] = set()
        for step in school.steps:
            if step.act is Act.FORM_PAIR:
                formed.add(step.args[0])
            elif step.act in (Act.ROADMAP, Act.MEETING, Act.FEEDBACK, Act.COMPLETE_ITEM, Act.DISSOLVE):
                assert step.args[0] in formed and step.args[0] not in ended
                if step.act is Act.MEETING:
                    meetings.add((step.args[0], step.args[1]))
                if step.act is Act.FEEDBACK:
                    assert (step.args[0], step.args[1]) in meetings
                if step.act is Act.DISSOLVE:
                    ended.add(step.args[0])


def test_people_have_russian_names() -> None:
    school = make_plan(replace(PRESETS[Preset.TINY], year=2025), 1).schools[0]
    people = [m.person for m in school.mentors] + [m.person for m in school.mentees]
    cyrillic = re.compile(r"^[А-ЯЁ][а-яё-]+$")
    for p in people:
        assert cyrillic.match(p.last_name) and cyrillic.match(p.first_name) and cyrillic.match(p.middle_name)
    assert len({(p.last_name, p.first_name) for p in people}) > len(people) // 2


def test_the_large_preset_is_the_issue_s_region() -> None:
    large = PRESETS[Preset.LARGE]
    assert (large.schools, large.municipalities, large.teachers, large.students) == (
        1_100,
        40,
        45_000,
        500_000,
    )
    assert RegionConfig() == large


def test_the_academic_year_starts_in_september() -> None:
    from datetime import date

    assert academic_year(date(2026, 11, 26)) == 2026 and academic_year(date(2027, 3, 1)) == 2026
