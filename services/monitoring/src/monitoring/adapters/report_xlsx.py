"""The analytic report as an XLSX workbook in Russian, with native openpyxl charts over its own cells.

What it shows (the lines, the columns, the breakdowns) is ``monitoring.application.report``'s.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, PieChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from mentornet_events.labels_ru import label
from mentornet_events.vocabulary import DeficitArea
from monitoring.adapters.report_format import (
    LEVEL_RU,
    PAIR_STATES,
    RISK_RU,
    TOTAL_RU,
    covered_share,
    name_of,
    ordered_codes,
    scope_caption,
    title,
    unit_code,
)
from monitoring.domain.indicators import indicator
from monitoring.domain.report import Breakdown, Fmt, ReportContents

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


def _summary_sheet(book: Workbook, contents: ReportContents) -> None:
    report = contents.report
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
    for section, lines in contents.sections:
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


def _breakdown_sheet(book: Workbook, contents: ReportContents, part: Breakdown) -> None:
    report, columns = contents.report, contents.columns
    sheet = book.create_sheet(part.title)
    lead = [part.unit] + (["Муниципалитет"] if part.with_municipality else []) + ["Название"]
    _header(sheet, 1, lead + [c.caption for c in columns])
    sheet.freeze_panes = sheet.cell(row=2, column=len(lead) + 1)
    codes = ordered_codes(report, part)
    row = 2
    for code in codes:
        values = [unit_code(code)] + (
            [report.municipality_of.get(code, "")] if part.with_municipality else []
        )
        values.append(name_of(report, part.kind, code))
        for i, value in enumerate(values, start=1):
            sheet.cell(row=row, column=i, value=value)
        for i, column in enumerate(columns, start=len(lead) + 1):
            _put(sheet, row, i, column.get(part.rows[code]), column.fmt)
        row += 1
    last_unit = row - 1
    sheet.cell(row=row, column=1, value=TOTAL_RU[report.level]).font = BOLD
    for i, column in enumerate(columns, start=len(lead) + 1):
        _put(sheet, row, i, column.get(report.figures), column.fmt)
        sheet.cell(row=row, column=i).font = BOLD
    widths = [16] * (len(lead) - 1) + [40] + [c.width for c in columns]
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.row_dimensions[1].height = 45
    if last_unit < 2:
        return

    # coverage per unit against the target: bars and a flat line
    share_col = (
        len(lead)
        + 1
        + next(i for i, c in enumerate(columns) if c.caption == indicator("coverage.share").short)
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


def _deficits_sheet(book: Workbook, contents: ReportContents) -> None:
    report = contents.report
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
        _put(sheet, row, 5, covered_share(figures), "share")
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
    finest = contents.breakdowns[-1]  # the region: its schools
    sheet.cell(row=row, column=1, value=f"{finest.title}: наставляемые с дефицитами").font = BOLD
    row += 1
    _header(sheet, row, [finest.unit, "Направление", "Наставляемых с дефицитом", "Закрыт", "Доля закрытых"])
    row += 1
    for code in ordered_codes(report, finest):
        for area in DeficitArea:
            figures = finest.rows[code]["bases"]["deficits"].get(area.value)
            if not figures or not figures["mentees"]:
                continue
            sheet.cell(row=row, column=1, value=unit_code(code))
            sheet.cell(row=row, column=2, value=label(area))
            _put(sheet, row, 3, figures["mentees"], "int")
            _put(sheet, row, 4, figures["covered"], "int")
            _put(sheet, row, 5, covered_share(figures), "share")
            row += 1


def _risks_sheet(book: Workbook, contents: ReportContents) -> None:
    report = contents.report
    sheet = book.create_sheet("Риски")
    _header(sheet, 1, ["Уровень", "Код", "Риск", "Правило и значение"])
    rows: list[tuple[str, str, dict[str, Any]]] = [(LEVEL_RU[report.level], report.code, report.figures)]
    if report.level != "school":  # a school's breakdown is itself, already above
        for part in contents.breakdowns:
            rows += [(part.unit, code, part.rows[code]) for code in ordered_codes(report, part)]
    row = 2
    for level, code, figures in rows:
        for risk in figures["risks"]:
            sheet.cell(row=row, column=1, value=level)
            sheet.cell(row=row, column=2, value=unit_code(code))
            sheet.cell(row=row, column=3, value=RISK_RU.get(risk["code"], risk["code"]))
            sheet.cell(row=row, column=4, value=risk["rule"])
            row += 1
    if row == 2:
        sheet.cell(row=2, column=1, value="Флаги риска не выявлены")
    for column, width in zip("ABCD", (16, 12, 32, 80), strict=True):
        sheet.column_dimensions[column].width = width


def render_xlsx(contents: ReportContents) -> bytes:
    """The workbook: the summary, a sheet per breakdown, the deficits and the risk flags."""
    book = Workbook()
    _summary_sheet(book, contents)
    for part in contents.breakdowns:
        _breakdown_sheet(book, contents, part)
    _deficits_sheet(book, contents)
    _risks_sheet(book, contents)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
