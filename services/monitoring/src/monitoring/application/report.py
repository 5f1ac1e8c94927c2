"""The yearly analytic report of a school, a municipality or the region: XLSX and PDF in Russian.

Pure functions of the answers of the Monitoring use cases (``Monitoring.yearly_report`` gathers
them): the level's own figures and its breakdown. The workbook carries native openpyxl charts over
its own cells; the PDF is a reportlab (platypus) document whose charts are reportlab's vector
graphics, set in DejaVu Sans (shipped with matplotlib) because the standard PDF fonts have no
Cyrillic. Nothing here names a person: the figures are counts and shares.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.chart import BarChart, LineChart, PieChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.piecharts import Pie
from reportlab.graphics.shapes import Drawing, String
from reportlab.graphics.shapes import Line as Stroke
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.fonts import addMapping
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import CondPageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from mentornet_events import format_ru
from mentornet_events.labels_ru import label
from mentornet_events.vocabulary import DeficitArea, DissolutionReason, EvaluationLevel, MentoringForm
from monitoring.domain.indicators import Unit, indicator
from monitoring.domain.periods import Period
from monitoring.domain.risks import COVERAGE_TARGET

Level = Literal["school", "municipality", "region"]

LEVEL_RU: dict[str, str] = {"school": "Организация", "municipality": "Муниципалитет", "region": "Регион"}
TOTAL_RU: dict[str, str] = {
    "school": "Итого по организации",
    "municipality": "Итого по муниципалитету",
    "region": "Итого по региону",
}
RISK_RU: dict[str, str] = {
    "low_coverage": "Низкий охват",
    "mentor_overload": "Перегрузка наставников",
    "formalism": "Формализм (нет обратной связи)",
    "overdue": "Просрочки дорожных карт",
    "no_pairs": "Наставляемые без пар",
}
MONTHS_RU = (
    "январь",
    "февраль",
    "март",
    "апрель",
    "май",
    "июнь",
    "июль",
    "август",
    "сентябрь",
    "октябрь",
    "ноябрь",
    "декабрь",
)
QUARTERS_RU = ("I", "II", "III", "IV")
PAIR_STATES = (
    ("pairs.active", "работают"),
    ("pairs.completed", "завершили работу"),
    ("pairs.dissolved", "расформированы"),
)
HYPHENATED = {"Муниципалитет": "Муници\u00adпалитет", "Организация": "Органи\u00adзация"}
#: more units than this in a PDF chart and it shows the ones with the lowest coverage
PDF_CHART_UNITS = 40


@dataclass(frozen=True, slots=True)
class YearlyReport:
    """What a report is drawn from: the answers of the Monitoring use cases for one scope."""

    level: Level
    code: str
    period_key: str
    period_start: date
    period_end: date
    as_of: dict[str, int]  # stream -> last sequence the figures reflect
    figures: dict[str, Any]  # the level's own indicators (monitoring.application.indicators)
    #: the level below, per code: the region's municipalities, a municipality's schools, a school itself
    breakdown: dict[str, dict[str, Any]]
    #: the region's schools (its second breakdown); empty for the other levels
    schools: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: school code -> municipality code, for the region's school sheet
    municipality_of: dict[str, str] = field(default_factory=dict)
    generated_on: date | None = None
    #: the region's name (its settings), shown instead of its code
    region_name: str = ""
    #: "municipality" / "school" -> code -> public name
    names: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def period(self) -> Period:
        return Period(self.period_key, self.period_start, self.period_end, self.generated_on)

    @property
    def day(self) -> date:
        """The day the stocks (pairs working, the bases) are taken on."""
        return self.period.day


# -- what both formats show ---------------------------------------------------------------------

Fmt = Literal["int", "share", "number", "text"]


@dataclass(frozen=True, slots=True)
class Line:
    caption: str
    value: Any
    fmt: Fmt = "int"
    key: str = ""


@dataclass(frozen=True, slots=True)
class Column:
    caption: str
    get: Callable[[dict[str, Any]], Any]
    fmt: Fmt = "int"
    pdf: str = ""  # the caption in the PDF's (narrower) table; none: not there
    width: int = 12


@dataclass(frozen=True, slots=True)
class Breakdown:
    title: str  # sheet title
    unit: str  # what a row is
    kind: str  # municipality | school: whose names the rows carry
    rows: dict[str, dict[str, Any]]
    with_municipality: bool = False


def _ru(enum: type[StrEnum], value: str) -> str:
    try:
        return label(enum(value))
    except ValueError:
        return value


def period_caption(period: Period) -> str:
    """``2026/2027 учебный год``, ``октябрь 2026``, ``IV квартал 2026``."""
    key = period.key
    if "/" in key:
        text = f"{key} учебный год"
    elif "-Q" in key:
        year, quarter = key.split("-Q")
        text = f"{QUARTERS_RU[int(quarter) - 1]} квартал {year}"
    else:
        year, month = key.split("-")
        text = f"{MONTHS_RU[int(month) - 1]} {year}"
    return f"{text} ({period.start:%d.%m.%Y} – {period.end:%d.%m.%Y})"


def title(report: YearlyReport) -> str:
    if "/" in report.period_key:
        return "Годовой аналитический отчёт о наставничестве"
    return "Аналитический отчёт о наставничестве за период"


def scope_caption(report: YearlyReport) -> str:
    if report.level == "region" and report.region_name:
        return report.region_name
    kind = "school" if report.level == "school" else "municipality"
    return f"{LEVEL_RU[report.level]} {name_of(report, kind, report.code)}"


def as_of_caption(as_of: dict[str, int]) -> str:
    if not as_of:
        return "событий ещё не учтено"
    return ", ".join(f"{stream} № {sequence}" for stream, sequence in sorted(as_of.items()))


def _covered(area: dict[str, int]) -> float | None:
    return round(area["covered"] / area["mentees"], 4) if area["mentees"] else None


FMT: dict[Unit, Fmt] = {"count": "int", "share": "share", "number": "number"}


def _line(key: str, f: dict[str, Any]) -> Line:
    """A summary line of the one definition of ``key`` (monitoring.domain.indicators)."""
    i = indicator(key)
    return Line(i.label, i.value(f), FMT[i.unit], key)


def key_indicators(f: dict[str, Any], day: date | None = None) -> list[tuple[str, list[Line]]]:
    """The level's indicators in sections, with Russian captions (the summary of both formats)."""
    cov, pairs = f["coverage"], f["pairs"]
    on = f" на {format_ru.day(day)}" if day else ""
    coverage = [
        _line(k, f)
        for k in (
            "coverage.teachers",
            "coverage.students",
            "coverage.share",
            "coverage.target",
            "coverage.teachers_share",
            "coverage.students_share",
        )
    ]
    coverage += [
        Line(f"Участников в форме «{_ru(MentoringForm, form)}»", n)
        for form, n in sorted(cov["by_form"].items())
    ]
    pair_lines = [_line(k, f) for k in ("pairs.formed", "pairs.active", "pairs.completed", "pairs.dissolved")]
    pair_lines += [
        Line(f"Расформированы: {_ru(DissolutionReason, reason)}", n)
        for reason, n in sorted(pairs["dissolved_by_reason"].items())
    ]
    pair_lines += [
        _line(k, f)
        for k in ("pairs.mentors_with_mentees", "pairs.mentees_per_mentor", "pairs.mentors_overloaded")
    ]
    section = [
        ("Организации и численность", ("schools", "headcounts.teachers", "headcounts.students")),
        ("Охват наставничеством", ()),
        (
            f"Базы наставников и наставляемых{on}",
            ("bases.mentors", "bases.mentees", "bases.mentors_in_pair", "bases.mentees_in_pair",
             "bases.mentees_waiting"),
        ),
        ("Наставнические пары", ()),
        (
            "Дорожные карты",
            ("roadmaps.planned", "roadmaps.completed", "roadmaps.completed_to_date", "roadmaps.overdue",
             "roadmaps.completion_rate", "roadmaps.days_to_first_meeting"),
        ),
        (
            "Обратная связь",
            ("feedback.forms", *(f"feedback.mean_scores.{level.value}" for level in EvaluationLevel),
             "feedback.meetings", "feedback.meetings_without_feedback",
             "feedback.meetings_without_feedback_share"),
        ),
        (
            "Результаты",
            ("outcomes.young_specialists_cohort", "outcomes.young_specialists_retained",
             "outcomes.want_to_become_mentors"),
        ),
    ]  # fmt: skip
    given = {"Охват наставничеством": coverage, "Наставнические пары": pair_lines}
    return [(title_, given.get(title_) or [_line(k, f) for k in keys]) for title_, keys in section]


def _risks_text(f: dict[str, Any]) -> str:
    return "; ".join(r["rule"] for r in f["risks"])


def _column(key: str, width: int = 12, pdf: str | None = None) -> Column:
    """A breakdown column of the one definition of ``key``; ``pdf``: the narrow PDF caption
    (empty: not in the PDF; None: the short label)."""
    i = indicator(key)
    return Column(i.short, i.value, FMT[i.unit], i.short if pdf is None else pdf, width)


COLUMNS: list[Column] = [
    _column("schools", 13, ""),
    _column("headcounts.teachers", pdf=""),
    _column("headcounts.students", 13, ""),
    _column("coverage.teachers", 15, ""),
    _column("coverage.students", 15, ""),
    _column("coverage.share"),
    _column("coverage.target", 8, ""),
    _column("bases.mentors", 13, "Настав\u00adников"),
    _column("bases.mentees", 14, "Настав\u00adляемых"),
    _column("bases.mentees_waiting"),
    _column("pairs.formed", 13, "Пар сформ."),
    _column("pairs.active", pdf="Пар работ."),
    _column("pairs.completed", pdf=""),
    _column("pairs.dissolved", 15, ""),
    _column("pairs.mentors_overloaded", 14, ""),
    _column("roadmaps.planned", pdf=""),
    _column("roadmaps.completion_rate", pdf="Выпол\u00adнение карт"),
    _column("roadmaps.overdue", 13, ""),
    _column("feedback.forms", 10, ""),
    *(_column(f"feedback.mean_scores.{level.value}", 14, "") for level in EvaluationLevel),
    _column("feedback.meetings_without_feedback_share"),
    Column("Флагов риска", lambda f: len(f["risks"]), pdf="Флагов риска", width=10),
    Column("Флаги риска", _risks_text, "text", width=70),
]


def breakdowns(report: YearlyReport) -> list[Breakdown]:
    if report.level == "region":
        return [
            Breakdown("Муниципалитеты", "Муниципалитет", "municipality", report.breakdown),
            Breakdown("Организации", "Организация", "school", report.schools, with_municipality=True),
        ]
    if report.level == "municipality":
        return [Breakdown("Организации", "Организация", "school", report.breakdown)]
    return [Breakdown("Организация", "Организация", "school", report.breakdown)]


def _ordered(report: YearlyReport, part: Breakdown) -> list[str]:
    """Codes of a breakdown; the region's schools grouped by their municipality."""
    if part.with_municipality:
        return sorted(part.rows, key=lambda c: (report.municipality_of.get(c, ""), c))
    return sorted(part.rows)


def _unit(code: str) -> str:
    return code or "—"


def name_of(report: YearlyReport, kind: str, code: str) -> str:
    """A municipality's or a school's public name; its code while the name is not known yet
    (without the control characters XLSX cannot hold: a stored name never breaks a report)."""
    return str(ILLEGAL_CHARACTERS_RE.sub("", report.names.get(kind, {}).get(code) or _unit(code)))


# -- XLSX -----------------------------------------------------------------------------------------

BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
SECTION = PatternFill("solid", fgColor="DDEBF7")
NUMBER_FORMATS: dict[str, str] = {"share": "0.0%", "number": "0.00", "int": "0"}


def _put(sheet: Worksheet, row: int, column: int, value: Any, fmt: Fmt = "text") -> None:
    cell = sheet.cell(row=row, column=column, value=value)
    if fmt in NUMBER_FORMATS and isinstance(value, int | float):
        cell.number_format = NUMBER_FORMATS[fmt]


def _header(sheet: Worksheet, row: int, captions: Iterable[str]) -> None:
    for i, caption in enumerate(captions, start=1):
        cell = sheet.cell(row=row, column=i, value=caption)
        cell.font = BOLD
        cell.alignment = Alignment(wrap_text=True, vertical="top")


def _show_axes(chart: BarChart | LineChart) -> None:
    # openpyxl 3.1 leaves ``delete`` unset, which recent Excel reads as "hide the axis"
    chart.x_axis.delete = False
    chart.y_axis.delete = False


def _summary_sheet(book: Workbook, report: YearlyReport) -> None:
    sheet = book.active
    assert sheet is not None
    sheet.title = "Сводка"
    sheet.column_dimensions["A"].width = 52
    sheet.column_dimensions["B"].width = 28
    sheet["A1"] = title(report)
    sheet["A1"].font = TITLE
    head: list[tuple[str, Any]] = [
        ("Уровень", LEVEL_RU[report.level]),
        ("Название", scope_caption(report)),
        ("Код", report.code),
        ("Период", report.period_key),
        ("Начало периода", report.period_start),
        ("Конец периода", report.period_end),
        ("Сформирован", report.generated_on),
    ]
    head += [(f"Учтены события потока {s}, по №", n) for s, n in sorted(report.as_of.items())]
    row = 3
    for caption, value in head:
        sheet.cell(row=row, column=1, value=caption)
        cell = sheet.cell(row=row, column=2, value=value)
        if isinstance(value, date):
            cell.number_format = "DD.MM.YYYY"
        cell.alignment = Alignment(horizontal="left")
        row += 1
    rows: dict[str, int] = {}
    for section, lines in key_indicators(report.figures, report.day):
        row += 1
        for column in (1, 2):
            sheet.cell(row=row, column=column).fill = SECTION
        sheet.cell(row=row, column=1, value=section).font = BOLD
        row += 1
        for line in lines:
            sheet.cell(row=row, column=1, value=line.caption)
            _put(sheet, row, 2, line.value, line.fmt)
            if line.key:
                rows[line.key] = row
            row += 1
    row += 1
    sheet.cell(row=row, column=1, value="Флаги риска").font = BOLD
    sheet.cell(row=row, column=1).fill = SECTION
    sheet.cell(row=row, column=2).fill = SECTION
    row += 1
    for risk in report.figures["risks"] or [{"code": "", "rule": "не выявлены"}]:
        sheet.cell(row=row, column=1, value=RISK_RU.get(risk["code"], risk["code"]))
        sheet.cell(row=row, column=2, value=risk["rule"]).alignment = Alignment(wrap_text=True)
        row += 1

    # pairs that worked in the period: working at its end, completed or dissolved in it
    first, last = rows[PAIR_STATES[0][0]], rows[PAIR_STATES[-1][0]]
    pie = PieChart()
    pie.title = "Пары, работавшие в периоде"
    pie.add_data(Reference(sheet, min_col=2, min_row=first, max_row=last))
    pie.set_categories(Reference(sheet, min_col=1, min_row=first, max_row=last))
    pie.dataLabels = DataLabelList()
    pie.dataLabels.showVal = True
    pie.height, pie.width = 8, 13
    sheet.add_chart(pie, "D3")

    bar = BarChart()
    bar.type = "col"
    bar.title = "Охват наставничеством и цель"
    share_row, target_row = rows["coverage.share"], rows["coverage.target"]
    bar.add_data(Reference(sheet, min_col=2, min_row=share_row, max_row=target_row))
    bar.set_categories(Reference(sheet, min_col=1, min_row=share_row, max_row=target_row))
    bar.y_axis.scaling.min, bar.y_axis.scaling.max = 0, 1
    bar.y_axis.numFmt = "0%"
    bar.legend = None
    bar.varyColors = True
    bar.height, bar.width = 8, 13
    _show_axes(bar)
    sheet.add_chart(bar, "D21")


def _breakdown_sheet(book: Workbook, report: YearlyReport, part: Breakdown) -> None:
    sheet = book.create_sheet(part.title)
    lead = [part.unit] + (["Муниципалитет"] if part.with_municipality else []) + ["Название"]
    _header(sheet, 1, lead + [c.caption for c in COLUMNS])
    sheet.freeze_panes = sheet.cell(row=2, column=len(lead) + 1)
    codes = _ordered(report, part)
    row = 2
    for code in codes:
        values = [_unit(code)] + ([report.municipality_of.get(code, "")] if part.with_municipality else [])
        values.append(name_of(report, part.kind, code))
        for i, value in enumerate(values, start=1):
            sheet.cell(row=row, column=i, value=value)
        for i, column in enumerate(COLUMNS, start=len(lead) + 1):
            _put(sheet, row, i, column.get(part.rows[code]), column.fmt)
        row += 1
    last_unit = row - 1
    sheet.cell(row=row, column=1, value=TOTAL_RU[report.level]).font = BOLD
    for i, column in enumerate(COLUMNS, start=len(lead) + 1):
        _put(sheet, row, i, column.get(report.figures), column.fmt)
        sheet.cell(row=row, column=i).font = BOLD
    widths = [16] * (len(lead) - 1) + [40] + [c.width for c in COLUMNS]
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.row_dimensions[1].height = 45
    if last_unit < 2:
        return

    # coverage per unit against the target: bars and a flat line
    share_col = (
        len(lead)
        + 1
        + next(i for i, c in enumerate(COLUMNS) if c.caption == indicator("coverage.share").short)
    )
    categories = Reference(sheet, min_col=1, min_row=2, max_row=last_unit)
    bar = BarChart()
    bar.type = "col"
    bar.title = f"Охват наставничеством: {part.title.lower()}"
    bar.add_data(Reference(sheet, min_col=share_col, min_row=1, max_row=last_unit), titles_from_data=True)
    bar.set_categories(categories)
    target = LineChart()
    target.add_data(
        Reference(sheet, min_col=share_col + 1, min_row=1, max_row=last_unit), titles_from_data=True
    )
    target.set_categories(categories)
    bar.y_axis.scaling.min, bar.y_axis.scaling.max = 0, 1
    bar.y_axis.numFmt = "0%"
    bar.y_axis.title = "доля педагогов и обучающихся"
    bar.height, bar.width = 9, max(16, min(40, 2 + 1.2 * (last_unit - 1)))
    _show_axes(bar)
    _show_axes(target)
    bar += target
    sheet.add_chart(bar, f"A{row + 3}")


def _deficits_sheet(book: Workbook, report: YearlyReport) -> None:
    sheet = book.create_sheet("Дефициты")
    _header(
        sheet,
        1,
        ["Направление", "Наставляемых с дефицитом", "Закрыт наставником пары", "Не закрыт", "Доля закрытых"],
    )
    deficits = report.figures["bases"]["deficits"]
    row = 2
    for area in DeficitArea:
        figures = deficits.get(area.value, {"mentees": 0, "covered": 0})
        sheet.cell(row=row, column=1, value=label(area))
        _put(sheet, row, 2, figures["mentees"], "int")
        _put(sheet, row, 3, figures["covered"], "int")
        _put(sheet, row, 4, figures["mentees"] - figures["covered"], "int")
        _put(sheet, row, 5, _covered(figures), "share")
        row += 1
    last_area = row - 1
    for column, width in zip("ABCDE", (38, 16, 16, 12, 12), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.row_dimensions[1].height = 32

    chart = BarChart()
    chart.type = "bar"
    chart.title = "Дефициты наставляемых: всего и закрытые наставником"
    chart.add_data(
        Reference(sheet, min_col=2, max_col=3, min_row=1, max_row=last_area), titles_from_data=True
    )
    chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=last_area))
    chart.x_axis.scaling.orientation = "maxMin"  # areas top to bottom, as in the table
    chart.y_axis.crosses = "max"  # and the counts below them
    chart.height, chart.width = 12, 22
    _show_axes(chart)
    sheet.add_chart(chart, "G2")

    row += 2
    finest = breakdowns(report)[-1]  # the region: its schools
    sheet.cell(row=row, column=1, value=f"{finest.title}: наставляемые с дефицитами").font = BOLD
    row += 1
    _header(sheet, row, [finest.unit, "Направление", "Наставляемых с дефицитом", "Закрыт", "Доля закрытых"])
    row += 1
    for code in _ordered(report, finest):
        for area in DeficitArea:
            figures = finest.rows[code]["bases"]["deficits"].get(area.value)
            if not figures or not figures["mentees"]:
                continue
            sheet.cell(row=row, column=1, value=_unit(code))
            sheet.cell(row=row, column=2, value=label(area))
            _put(sheet, row, 3, figures["mentees"], "int")
            _put(sheet, row, 4, figures["covered"], "int")
            _put(sheet, row, 5, _covered(figures), "share")
            row += 1


def _risks_sheet(book: Workbook, report: YearlyReport) -> None:
    sheet = book.create_sheet("Риски")
    _header(sheet, 1, ["Уровень", "Код", "Риск", "Правило и значение"])
    rows: list[tuple[str, str, dict[str, Any]]] = [(LEVEL_RU[report.level], report.code, report.figures)]
    if report.level != "school":  # a school's breakdown is itself, already above
        for part in breakdowns(report):
            rows += [(part.unit, code, part.rows[code]) for code in _ordered(report, part)]
    row = 2
    for level, code, figures in rows:
        for risk in figures["risks"]:
            sheet.cell(row=row, column=1, value=level)
            sheet.cell(row=row, column=2, value=_unit(code))
            sheet.cell(row=row, column=3, value=RISK_RU.get(risk["code"], risk["code"]))
            sheet.cell(row=row, column=4, value=risk["rule"])
            row += 1
    if row == 2:
        sheet.cell(row=2, column=1, value="Флаги риска не выявлены")
    for column, width in zip("ABCD", (16, 12, 32, 80), strict=True):
        sheet.column_dimensions[column].width = width


def render_xlsx(report: YearlyReport) -> bytes:
    book = Workbook()
    _summary_sheet(book, report)
    for part in breakdowns(report):
        _breakdown_sheet(book, report, part)
    _deficits_sheet(book, report)
    _risks_sheet(book, report)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# -- PDF --------------------------------------------------------------------------------------------

FONT, FONT_BOLD = "DejaVuSans", "DejaVuSans-Bold"
_fonts_lock = threading.Lock()


def _register_fonts() -> None:
    """DejaVu Sans from matplotlib's data: a well-kept source of a TTF with Cyrillic."""
    import matplotlib  # here, not at the top: only its data path is needed, and only for a PDF

    with _fonts_lock:
        if FONT in pdfmetrics.getRegisteredFontNames():
            return
        folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
        pdfmetrics.registerFont(TTFont(FONT, str(folder / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont(FONT_BOLD, str(folder / "DejaVuSans-Bold.ttf")))
        for bold, italic, name in ((0, 0, FONT), (1, 0, FONT_BOLD), (0, 1, FONT), (1, 1, FONT_BOLD)):
            addMapping(FONT, bold, italic, name)


def text(value: Any, fmt: Fmt = "int") -> str:
    """A figure as people read it in Russian: ``4,6 %``, ``1,50``, ``—`` for no data."""
    if value is None or value == "":
        return "—"
    if fmt == "share":
        return format_ru.percent(value)
    if fmt == "number":
        return format_ru.number(value)
    return format_ru.number(value) if isinstance(value, int | float) else str(value)


def render_pdf(report: YearlyReport) -> bytes:
    _register_fonts()
    base = ParagraphStyle("base", fontName=FONT, fontSize=9, leading=11.5, alignment=TA_LEFT)
    small = ParagraphStyle("small", parent=base, fontSize=7, leading=8.5)
    # soft hyphens (U+00AD) in narrow headers break where they stand
    small_bold = ParagraphStyle("small_bold", parent=small, fontName=FONT_BOLD, embeddedHyphenation=1)
    h1 = ParagraphStyle("h1", parent=base, fontName=FONT_BOLD, fontSize=16, leading=20, spaceAfter=4)
    h2 = ParagraphStyle("h2", parent=base, fontName=FONT_BOLD, fontSize=12, leading=15, spaceBefore=10)
    caption = ParagraphStyle("caption", parent=base, fontSize=8, leading=10, textColor=colors.grey)
    header_fill = colors.HexColor("#DDEBF7")
    grid = colors.HexColor("#A6A6A6")
    width = A4[0] - 36 * mm
    f = report.figures

    def p(value: str, style: ParagraphStyle = base) -> Paragraph:
        return Paragraph(escape(value), style)

    def table(
        rows: list[list[Any]], widths: list[float], head_rows: int = 1, bold_last: bool = False
    ) -> Table:
        t = Table(rows, colWidths=widths, repeatRows=head_rows)
        style: list[tuple[Any, ...]] = [
            ("FONT", (0, 0), (-1, -1), FONT, 8),
            ("FONT", (0, 0), (-1, head_rows - 1), FONT_BOLD, 8),
            ("BACKGROUND", (0, 0), (-1, head_rows - 1), header_fill),
            ("GRID", (0, 0), (-1, -1), 0.4, grid),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ]
        if bold_last:
            style.append(("FONT", (0, -1), (-1, -1), FONT_BOLD, 8))
        t.setStyle(TableStyle(style))
        return t

    story: list[Any] = [
        p(title(report), h1),
        p(f"{scope_caption(report)} · {period_caption(report.period)}", h2),
        Spacer(1, 4),
        p(
            "Сформирован "
            + (format_ru.day(report.generated_on) if report.generated_on else "")
            + f" по учтённым событиям: {as_of_caption(report.as_of)}.",
            caption,
        ),
        p(
            f"{indicator('coverage.share').definition} Целевой показатель — "
            f"{text(COVERAGE_TARGET, 'share')}. Базы и работающие пары — на {format_ru.day(report.day)}. "
            "Персональные данные в отчёт не входят.",
            caption,
        ),
    ]

    # key indicators
    story.append(p("Ключевые показатели", h2))
    rows: list[list[Any]] = [["Показатель", "Значение"]]
    sections: list[int] = []
    for section, lines in key_indicators(f, report.day):
        sections.append(len(rows))
        rows.append([p(section, small_bold), ""])
        rows += [[p(line.caption, small), text(line.value, line.fmt)] for line in lines]
    indicators = table(rows, [width * 0.72, width * 0.28])
    indicators.setStyle(
        TableStyle(
            [
                style
                for r in sections
                for style in (("SPAN", (0, r), (1, r)), ("BACKGROUND", (0, r), (1, r), header_fill))
            ]
            + [("ALIGN", (1, 1), (1, -1), "RIGHT")]
        )
    )
    story.append(indicators)

    # coverage against the target
    story.append(CondPageBreak(90 * mm))
    story.append(p(f"Охват наставничеством и цель {COVERAGE_TARGET * 100:.0f} %", h2))
    if report.level == "school":
        cov = f["coverage"]
        bars = [
            ("педагоги", cov.get("teachers_share")),
            ("обучающиеся", cov.get("students_share")),
            ("всего", cov["share"]),
        ]
        note = ""
    else:
        unit = breakdowns(report)[0]
        known = [(code, figures["coverage"]["share"]) for code, figures in unit.rows.items()]
        known = [(code, share) for code, share in known if share is not None]
        note = f"{unit.title}: {len(known)} с известной численностью."
        if len(known) > PDF_CHART_UNITS:
            known = sorted(known, key=lambda item: item[1])[:PDF_CHART_UNITS]
            note += f" Показаны {PDF_CHART_UNITS} с наименьшим охватом."
        bars = [(_unit(code), share) for code, share in sorted(known)]
        bars.append((TOTAL_RU[report.level].lower(), f["coverage"]["share"]))
    plotted = [(name, share) for name, share in bars if share is not None]
    if plotted:
        story.append(_coverage_chart(plotted, width))
        if note:
            story.append(p(note, caption))
    else:
        story.append(p("Численность педагогов и обучающихся не известна: охват не рассчитан.", caption))

    # pairs
    story.append(CondPageBreak(70 * mm))
    story.append(p("Пары, работавшие в периоде", h2))
    states = [(name, f["pairs"][key.split(".")[1]]) for key, name in PAIR_STATES]
    if sum(n for _, n in states):
        story.append(_pairs_chart(states, width))
    else:
        story.append(p("Пар в периоде не было.", caption))
    reasons = f["pairs"]["dissolved_by_reason"]
    if reasons:
        story.append(
            p(
                "Причины расформирования: "
                + "; ".join(f"{_ru(DissolutionReason, r)} — {n}" for r, n in sorted(reasons.items()))
                + ".",
                caption,
            )
        )

    # breakdown tables
    for part in breakdowns(report):
        if report.level == "school":
            break
        story.append(CondPageBreak(60 * mm))
        story.append(p(f"Показатели: {part.title.lower()}", h2))
        columns = [c for c in COLUMNS if c.pdf]
        lead = [HYPHENATED.get(part.unit, part.unit)] + (["Муниц."] if part.with_municipality else [])
        head = [p(c, small_bold) for c in lead + [c.pdf for c in columns]]
        body = []
        for code in _ordered(report, part):
            figures = part.rows[code]
            lead_values = [name_of(report, part.kind, code)] + (
                [report.municipality_of.get(code, "")] if part.with_municipality else []
            )
            body.append([p(v, small) for v in lead_values] + [text(c.get(figures), c.fmt) for c in columns])
        total = [p(TOTAL_RU[report.level], small_bold)] + [""] * (len(lead) - 1)
        body.append(total + [text(c.get(f), c.fmt) for c in columns])
        lead_widths = [26 * mm] if len(lead) == 1 else [22 * mm, 14 * mm]
        rest = (width - sum(lead_widths)) / len(columns)
        t = table([head, *body], lead_widths + [rest] * len(columns), bold_last=True)
        t.setStyle(TableStyle([("ALIGN", (len(lead), 1), (-1, -1), "RIGHT")]))
        story.append(t)

    # deficits
    story.append(CondPageBreak(110 * mm))
    story.append(p("Профессиональные дефициты наставляемых", h2))
    deficits = f["bases"]["deficits"]
    rows = [[p(c, small_bold) for c in ("Направление", "С дефицитом", "Закрыт наставником", "Доля закрытых")]]
    for area in DeficitArea:
        d = deficits.get(area.value, {"mentees": 0, "covered": 0})
        rows.append([p(label(area), small), str(d["mentees"]), str(d["covered"]), text(_covered(d), "share")])
    t = table(rows, [width * 0.52, width * 0.16, width * 0.16, width * 0.16])
    t.setStyle(TableStyle([("ALIGN", (1, 1), (-1, -1), "RIGHT")]))
    story.append(t)
    if any(d["mentees"] for d in deficits.values()):
        story.append(Spacer(1, 6))
        story.append(_deficits_chart(deficits, width))
    story.append(
        p(
            "Дефицит закрыт, если у наставника работающей пары наставляемого есть компетенция "
            "по этому направлению.",
            caption,
        )
    )

    # risk flags with their rules
    story.append(CondPageBreak(40 * mm))
    story.append(p("Флаги риска", h2))
    flagged: list[tuple[str, str, dict[str, Any]]] = [(LEVEL_RU[report.level], report.code, f)]
    if report.level != "school":
        for part in breakdowns(report):
            flagged += [(part.unit, code, part.rows[code]) for code in _ordered(report, part)]
    rows = [[p(c, small_bold) for c in ("Где", "Риск", "Правило и значение")]]
    for where, code, figures in flagged:
        rows += [
            [
                p(f"{where} {_unit(code)}", small),
                p(RISK_RU.get(r["code"], r["code"]), small),
                p(r["rule"], small),
            ]
            for r in figures["risks"]
        ]
    if len(rows) == 1:
        story.append(p("Флаги риска не выявлены.", base))
    else:
        story.append(table(rows, [width * 0.22, width * 0.26, width * 0.52]))

    out = io.BytesIO()
    footer = f"MentorNet · {scope_caption(report)} · {report.period_key}"

    def page(canvas: Any, document: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7)
        canvas.setFillColor(colors.grey)
        canvas.drawString(18 * mm, 10 * mm, footer)
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, f"стр. {document.page}")
        canvas.restoreState()

    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=f"{title(report)}: {scope_caption(report)}, {report.period_key}",
        author="MentorNet",
        lang="ru",
    )
    document.build(story, onFirstPage=page, onLaterPages=page)
    return out.getvalue()


SERIES_COLOURS = ("#4472C4", "#70AD47", "#ED7D31", "#A5A5A5")


def _coverage_chart(bars: list[tuple[str, float]], width: float) -> Any:
    """Horizontal bars of coverage per unit, top to bottom, with the target as a dashed line."""

    bar_height = 14
    plot_height = max(60, bar_height * len(bars))
    drawing = Drawing(width, plot_height + 40)
    chart = HorizontalBarChart()
    chart.x, chart.y = 120, 25
    chart.width, chart.height = width - 170, plot_height
    ordered = list(reversed(bars))  # reportlab draws the first category at the bottom
    chart.data = [[share for _, share in ordered]]
    chart.categoryAxis.categoryNames = [name for name, _ in ordered]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.categoryAxis.labels.dx = -4
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, 1, 0.1
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.labelTextFormat = lambda v: f"{v * 100:.0f} %"
    chart.bars[0].fillColor = colors.HexColor(SERIES_COLOURS[0])
    chart.barLabels.fontName = FONT
    chart.barLabels.fontSize = 6.5
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
    chart.barLabelFormat = lambda v: text(v, "share")
    drawing.add(chart)
    x = chart.x + chart.width * COVERAGE_TARGET
    drawing.add(
        Stroke(
            x,
            chart.y - 2,
            x,
            chart.y + chart.height + 4,
            strokeColor=colors.HexColor("#C00000"),
            strokeWidth=1.2,
            strokeDashArray=[4, 2],
        )
    )
    drawing.add(
        String(
            x + 3,
            chart.y + chart.height + 6,
            f"цель {text(COVERAGE_TARGET, 'share')}",
            fontName=FONT,
            fontSize=7,
            fillColor=colors.HexColor("#C00000"),
        )
    )
    return drawing


def _pairs_chart(states: list[tuple[str, int]], width: float) -> Any:

    shown = [(name, n) for name, n in states if n]
    drawing = Drawing(width, 150)
    pie = Pie()
    pie.x, pie.y, pie.width, pie.height = width / 2 - 60, 15, 120, 120
    pie.data = [n for _, n in shown]
    pie.labels = [f"{name}: {n}" for name, n in shown]
    pie.sideLabels = True
    pie.slices.fontName = FONT
    pie.slices.fontSize = 8
    pie.slices.strokeColor = colors.white
    for i in range(len(shown)):
        pie.slices[i].fillColor = colors.HexColor(SERIES_COLOURS[i % len(SERIES_COLOURS)])
    drawing.add(pie)
    return drawing


def _deficits_chart(deficits: dict[str, dict[str, int]], width: float) -> Any:

    areas = [a for a in reversed(list(DeficitArea))]
    height = 22 * len(areas)
    drawing = Drawing(width, height + 50)
    chart = HorizontalBarChart()
    chart.x, chart.y = 165, 30
    chart.width, chart.height = width - 190, height
    empty = {"mentees": 0, "covered": 0}
    chart.data = [
        [deficits.get(a.value, empty)["mentees"] for a in areas],
        [deficits.get(a.value, empty)["covered"] for a in areas],
    ]
    chart.categoryAxis.categoryNames = [label(a) for a in areas]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.categoryAxis.labels.dx = -4
    top = max(max(series) for series in chart.data)
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = max(1, top)
    chart.valueAxis.valueStep = max(1, -(-top // 8))
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.labelTextFormat = "%d"
    names = ("наставляемых с дефицитом", "закрыт наставником пары")
    for i in range(2):
        chart.bars[i].fillColor = colors.HexColor(SERIES_COLOURS[i])
    chart.barLabels.fontName = FONT
    chart.barLabels.fontSize = 6
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 2
    chart.barLabelFormat = lambda v: str(int(v)) if v else ""
    drawing.add(chart)
    legend = Legend()
    legend.x, legend.y = chart.x, height + 45
    legend.fontName = FONT
    legend.fontSize = 7
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.deltax = 150
    legend.colorNamePairs = [(colors.HexColor(SERIES_COLOURS[i]), names[i]) for i in range(2)]
    drawing.add(legend)
    return drawing
