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


def test_a_plan_cut_at_today_acts_only_on_the_past_and_counts_what_it_does() -> None:
    from datetime import date

    today = date(2025, 12, 7)
    whole = make_plan(CONFIG, 3)
    cut = make_plan(replace(CONFIG, until=today), 3)
    assert [s.code for s in cut.schools] == [s.code for s in whole.schools]
    steps = [step for school in cut.schools for step in school.steps]
    assert steps and max(s.on for s in steps) <= today
    assert {s.act for s in steps} >= {Act.FORM_PAIR, Act.MEETING, Act.COMPLETE_ITEM, Act.FEEDBACK}
    assert Act.COMPLETE_PROGRAMME not in {s.act for s in steps}  # the year is still running
    figures, full = cut.figures(), whole.figures()
    assert figures.pairs_formed == full.pairs_formed  # pairs form in September
    assert figures.pairs_completed == 0 and full.pairs_completed > 0
    assert 0 < figures.items_completed < full.items_completed
    assert 0 < figures.meetings < full.meetings
    assert figures.pairs_dissolved == sum(1 for s in steps if s.act is Act.DISSOLVE)
    for school in cut.schools:  # a form only for a meeting held, an item only of a pair formed
        held = {(s.args[0], s.args[1]) for s in school.steps if s.act is Act.MEETING}
        formed = {s.args[0] for s in school.steps if s.act is Act.FORM_PAIR}
        for step in school.steps:
            if step.act is Act.FEEDBACK:
                assert (step.args[0], step.args[1]) in held
            if step.act in (Act.COMPLETE_ITEM, Act.MEETING, Act.DISSOLVE):
                assert step.args[0] in formed


def test_a_school_lies_in_its_municipality_s_town() -> None:
    plan = make_plan(CONFIG, 2)
    towns = {code: name.removeprefix("Городской округ ") for code, name in plan.municipalities}
    assert len(set(towns.values())) == len(towns)
    for school in plan.schools:
        assert school.name.endswith(f"({towns[school.municipality]})"), (school.name, school.municipality)
    names = [s.name for s in plan.schools]
    assert len(set(names)) == len(names)
