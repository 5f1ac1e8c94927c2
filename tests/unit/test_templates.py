"""Roadmap templates: the «Учитель-учитель» roadmap of the seed document, complete and consistent."""

from __future__ import annotations

import re

import pytest

from mentornet_events.vocabulary import DeficitArea, MentoringForm, Rhythm
from programs.domain.templates import (
    ACADEMIC_YEAR_START,
    END_OF_FIRST_QUARTER,
    TEMPLATES,
    RoadmapTemplate,
    TemplateItem,
    template,
)

KEY = "teacher_teacher_young_specialist"

# The table of seed 001_3fd3d82351450b00 has rows № 1–13.
SEED_TABLE_ROWS = 13

# Row 13 is the last row of the document, which breaks off inside its criteria cell: the source gives
# that row no «Отметка о выполнении», hence neither a rhythm nor a due date. Every other row has one.
ROWS_WITHOUT_TIMING = {13}

TEXT_FIELDS = ("activity", "kind", "risks", "prevention", "expected_results", "criteria")


@pytest.fixture
def roadmap() -> RoadmapTemplate:
    return template(KEY)


def test_the_roadmap_is_registered_under_its_key(roadmap: RoadmapTemplate) -> None:
    assert TEMPLATES[KEY] is roadmap
    assert roadmap.key == KEY
    assert roadmap.form is MentoringForm.TEACHER_TEACHER
    assert roadmap.title == "Дорожная карта по работе наставника с наставляемым «Учитель-учитель»"
    assert roadmap.goal.startswith(
        "создание условий для работы и профессионального роста молодого специалиста"
    )


def test_every_row_of_the_seed_table_is_an_item(roadmap: RoadmapTemplate) -> None:
    assert len(roadmap.items) == SEED_TABLE_ROWS


def test_every_item_has_an_activity_and_a_direction(roadmap: RoadmapTemplate) -> None:
    for item in roadmap.items:
        assert item.activity.strip()
        assert item.kind.strip()
        assert isinstance(item.direction, DeficitArea)


def test_texts_are_whitespace_normalised(roadmap: RoadmapTemplate) -> None:
    for item in roadmap.items:
        for name in TEXT_FIELDS:
            text: str = getattr(item, name)
            for line in text.split("\n") if text else ():
                assert line, f"blank line in {name}: {text!r}"
                assert line == line.strip(), f"untrimmed line in {name}: {line!r}"
                assert not re.search(r"\s{2,}|[^\S ]", line), f"unnormalised whitespace in {name}: {line!r}"


def test_timing_is_a_rhythm_or_a_due_offset(roadmap: RoadmapTemplate) -> None:
    for number, item in enumerate(roadmap.items, start=1):
        timings = (item.rhythm is not None) + (item.due_offset_days is not None)
        assert timings == (0 if number in ROWS_WITHOUT_TIMING else 1), number
        if item.due_offset_days is not None:
            assert item.due_offset_days >= 0


def test_dates_count_from_the_start_of_the_academic_year(roadmap: RoadmapTemplate) -> None:
    first, second, third = roadmap.items[:3]
    # 28.08.2022 and 29.08.2022 precede the 1 September start: preparation, due on day 0.
    assert first.due_offset_days == 0
    assert second.due_offset_days == 0
    # «В течение 1 четверти»: due at the end of the first quarter.
    assert third.due_offset_days == (END_OF_FIRST_QUARTER - ACADEMIC_YEAR_START).days == 57


def test_rhythms_follow_the_completion_marks(roadmap: RoadmapTemplate) -> None:
    rhythms = [item.rhythm for item in roadmap.items]
    assert rhythms[3:12] == [
        Rhythm.DURING_YEAR,  # 4: «В течение года (по мере возникновения вопросов)»
        Rhythm.DURING_YEAR,  # 5: the same
        Rhythm.DURING_YEAR,  # 6: «В течение года»
        Rhythm.ON_SCHEDULE,  # 7: «В течение года (по графику проведения ШМО, педагогических советов)»
        Rhythm.QUARTERLY,  # 8: «Раз в четверть»
        Rhythm.HALF_YEARLY,  # 9: «Раз в полугодие»
        Rhythm.ON_SCHEDULE,  # 10: «В течение года по графику.»
        Rhythm.ON_SCHEDULE,  # 11: «По графику»
        Rhythm.ON_SCHEDULE,  # 12: «По графику»
    ]


def test_spot_check_of_the_source_text(roadmap: RoadmapTemplate) -> None:
    first = roadmap.items[0]
    assert first.activity.startswith("Организация наставнической деятельности «Педагог-педагог» Цель:")
    assert "\nЗнакомство с основными обязанностями" in first.activity
    assert first.risks.startswith("1) Нехватка кадров.")
    assert roadmap.items[7].activity.startswith("Периодически сообщать куратору")
    assert roadmap.items[7].rhythm is Rhythm.QUARTERLY
    last = roadmap.items[-1]
    assert last.activity.startswith("Принимать участие в оценке качества реализованной")
    assert last.risks == last.prevention == ""


def test_an_unknown_key_is_a_lookup_error_in_russian() -> None:
    with pytest.raises(LookupError) as raised:
        template("unknown")
    message = str(raised.value)
    assert re.search(r"[а-яА-ЯёЁ]", message)
    assert "«unknown»" in message
    assert "известные шаблоны" in message
    assert KEY in message


def test_an_item_cannot_both_recur_and_fall_due() -> None:
    with pytest.raises(ValueError):
        TemplateItem(
            activity="Посещение уроков",
            kind="",
            direction=DeficitArea.METHODOLOGICAL,
            risks="",
            prevention="",
            expected_results="",
            criteria="",
            rhythm=Rhythm.QUARTERLY,
            due_offset_days=3,
        )
