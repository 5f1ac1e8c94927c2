"""The programme's yearly report for the school head: an XLSX workbook in Russian.

People appear by their pseudonymous ids: names live only in the registry, which a school's own
system can join them with.
"""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from mentornet_events.labels_ru import label
from mentornet_events.vocabulary import (
    DissolutionReason,
    DocumentKind,
    EvaluationLevel,
    MeetingMode,
    MentoringForm,
    ProgrammeDuration,
    ProgrammeStage,
)

STATUS_RU = {"active": "работает", "dissolved": "расформирована", "completed": "завершила работу"}
BOLD = Font(bold=True)


def _printable(value: Any) -> Any:
    """Drop control characters XLSX cannot hold: a stored text must never break the report."""
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def _sheet(
    book: Workbook, title: str, header: list[str], rows: list[list[Any]], first: bool = False
) -> Worksheet:
    sheet = book.active if first else book.create_sheet()
    assert sheet is not None
    sheet.title = title
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = BOLD
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in rows:
        sheet.append([_printable(v) for v in row])
    for column in sheet.columns:
        width = max(len(str(c.value or "")) for c in column)
        sheet.column_dimensions[column[0].column_letter].width = min(max(12, width + 2), 60)
    return sheet


def render_xlsx(data: dict[str, Any]) -> bytes:
    """``data``: the programme row, its pairs, roadmap items, meetings, feedback and completion texts."""
    p = data["programme"]
    book = Workbook()
    summary = [
        ["Программа", p["title"]],
        ["Организация", p["school"]],
        ["Форма наставничества", label(MentoringForm(p["form"]))],
        ["Продолжительность", label(ProgrammeDuration(p["duration"]))],
        ["Формат", label(MeetingMode(p["mode"]))],
        ["Куратор", p.get("curator") or ""],
        ["Сроки", f"{p['starts_on']:%d.%m.%Y} – {p['ends_on']:%d.%m.%Y}"],
        ["Текущий этап", label(ProgrammeStage(p["stage"]))],
    ]
    summary += [[f"Этап: {label(ProgrammeStage(s))}", d] for s, d in p["stages"]]
    summary += [
        [
            f"{label(DocumentKind(d['kind']))}",
            f"№ {d['number']} от {d['dated']} {d.get('title') or ''}".strip(),
        ]
        for d in p["documents"]
    ]
    pairs = data["pairs"]
    statuses = Counter(pair["status"] for pair in pairs)
    summary += [
        ["Пар сформировано", len(pairs)],
        ["Работают", statuses["active"]],
        ["Завершили работу", statuses["completed"]],
        ["Расформированы", statuses["dissolved"]],
    ]
    completion = data.get("completion") or {}
    summary += [
        ["Результаты в сравнении с целями", completion.get("results", "")],
        ["Рефлексия по программе", completion.get("reflection", "")],
        ["Лучшие наставники (номинации)", ", ".join(p.get("nominated_mentor_ids") or [])],
    ]
    _sheet(book, "Программа", ["Показатель", "Значение"], summary, first=True)

    items_by_pair: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for item in data["items"]:
        items_by_pair[item["pair_id"]].append(item)
    meetings_by_pair = Counter(m["pair_id"] for m in data["meetings"])
    today = data["today"]
    pair_rows = []
    for pair in pairs:
        items = items_by_pair[pair["id"]]
        done = sum(1 for i in items if i["completed_on"])
        overdue = sum(1 for i in items if not i["completed_on"] and i["due_on"] and i["due_on"] < today)
        reason = pair.get("dissolution_reason")
        pair_rows.append(
            [
                str(pair["id"]),
                ", ".join(pair["mentor_ids"]),
                ", ".join(pair["mentee_ids"]),
                STATUS_RU.get(pair["status"], pair["status"]),
                pair["formed_on"],
                pair.get("ended_on"),
                label(DissolutionReason(reason)) if reason else "",
                meetings_by_pair[pair["id"]],
                len(items),
                done,
                overdue,
                f"{done / len(items):.0%}" if items else "",
                pair.get("reflection_mentor", ""),
                pair.get("reflection_mentee", ""),
                pair.get("reflection_curator", ""),
            ]
        )
    _sheet(
        book,
        "Пары",
        [
            "Пара",
            "Наставник(и)",
            "Наставляемые",
            "Состояние",
            "Сформирована",
            "Окончание",
            "Причина расформирования",
            "Встреч",
            "Пунктов карты",
            "Выполнено",
            "Просрочено",
            "Выполнение",
            "Рефлексия наставника",
            "Рефлексия наставляемого",
            "Заключение куратора",
        ],
        pair_rows,
    )
    scores: dict[tuple[str, str], list[int]] = defaultdict(list)
    for f in data["feedback"]:
        for level, score in f["scores"].items():
            scores[(f["respondent_role"], level)].append(int(score))
    feedback_rows = [
        [
            label(level),
            *(
                round(sum(v) / len(v), 2) if (v := scores.get((role, level.value))) else ""
                for role in ("mentee", "mentor")
            ),
        ]
        for level in EvaluationLevel
    ]
    _sheet(
        book,
        "Обратная связь",
        ["Уровень оценки", "Наставляемые (ср. балл)", "Наставники (ср. балл)"],
        feedback_rows,
    )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
