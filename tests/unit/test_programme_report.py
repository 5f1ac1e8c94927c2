"""The programme's XLSX report renders whatever text a school stored, control characters included."""

from __future__ import annotations

import io
from datetime import date
from uuid import uuid4

from openpyxl import load_workbook

from programs.adapters.report_xlsx import render_xlsx


def _data(title: str, reflection: str) -> dict[str, object]:
    pair_id = uuid4()
    return {
        "programme": {
            "title": title,
            "school": "s0001",
            "form": "teacher_teacher",
            "duration": "long_term",
            "mode": "mixed",
            "curator": None,
            "starts_on": date(2026, 9, 1),
            "ends_on": date(2027, 5, 31),
            "stage": "preparation",
            "stages": [],
            "documents": [],
        },
        "pairs": [
            {
                "id": pair_id,
                "mentor_ids": [str(uuid4())],
                "mentee_ids": [str(uuid4())],
                "status": "active",
                "formed_on": date(2026, 9, 15),
                "reflection_mentor": reflection,
            }
        ],
        "items": [{"pair_id": pair_id, "completed_on": None, "due_on": date(2026, 10, 1)}],
        "meetings": [],
        "feedback": [],
        "today": date(2026, 12, 5),
    }


def test_control_characters_are_dropped_not_fatal() -> None:
    body = render_xlsx(_data("Программа\x00\x07 «Старт»", "Рефлексия\x1b[31m"))
    book = load_workbook(io.BytesIO(body))
    summary = {row[0]: row[1] for row in book["Программа"].iter_rows(values_only=True)}
    assert summary["Программа"] == "Программа «Старт»"
    pairs = list(book["Пары"].iter_rows(values_only=True))
    assert pairs[1][12] == "Рефлексия[31m"
    assert pairs[1][10] == 1  # the overdue item is still counted
