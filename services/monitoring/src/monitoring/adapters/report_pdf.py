"""The analytic report as a PDF in Russian: a reportlab (platypus) document with vector charts.

Set in DejaVu Sans (shipped with matplotlib) because the standard PDF fonts have no Cyrillic.
What it shows (the lines, the columns, the breakdowns) is ``monitoring.application.report``'s.
"""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

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
from mentornet_events.vocabulary import DeficitArea, DissolutionReason
from monitoring.adapters.report_format import (
    LEVEL_RU,
    PAIR_STATES,
    RISK_RU,
    TOTAL_RU,
    as_of_caption,
    covered_share,
    name_of,
    ordered_codes,
    period_caption,
    scope_caption,
    text,
    title,
    unit_code,
)
from monitoring.domain.indicators import indicator
from monitoring.domain.report import ReportContents, label_of
from monitoring.domain.risks import COVERAGE_TARGET

HYPHENATED = {"Муниципалитет": "Муници\u00adпалитет", "Организация": "Органи\u00adзация"}
#: more units than this in a PDF chart and it shows the ones with the lowest coverage
PDF_CHART_UNITS = 40

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


def render_pdf(contents: ReportContents) -> bytes:
    """The document: key indicators, coverage, pairs, the breakdowns, deficits and risk flags."""
    report = contents.report
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
    for section, lines in contents.sections:
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
        unit = contents.breakdowns[0]
        known = [(code, figures["coverage"]["share"]) for code, figures in unit.rows.items()]
        known = [(code, share) for code, share in known if share is not None]
        note = f"{unit.title}: {len(known)} с известной численностью."
        if len(known) > PDF_CHART_UNITS:
            known = sorted(known, key=lambda item: item[1])[:PDF_CHART_UNITS]
            note += f" Показаны {PDF_CHART_UNITS} с наименьшим охватом."
        bars = [(unit_code(code), share) for code, share in sorted(known)]
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
                + "; ".join(f"{label_of(DissolutionReason, r)} — {n}" for r, n in sorted(reasons.items()))
                + ".",
                caption,
            )
        )

    # breakdown tables
    for part in contents.breakdowns:
        if report.level == "school":
            break
        story.append(CondPageBreak(60 * mm))
        story.append(p(f"Показатели: {part.title.lower()}", h2))
        columns = [c for c in contents.columns if c.pdf]
        lead = [HYPHENATED.get(part.unit, part.unit)] + (["Муниц."] if part.with_municipality else [])
        head = [p(c, small_bold) for c in lead + [c.pdf for c in columns]]
        body = []
        for code in ordered_codes(report, part):
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
        rows.append(
            [p(label(area), small), str(d["mentees"]), str(d["covered"]), text(covered_share(d), "share")]
        )
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
        for part in contents.breakdowns:
            flagged += [(part.unit, code, part.rows[code]) for code in ordered_codes(report, part)]
    rows = [[p(c, small_bold) for c in ("Где", "Риск", "Правило и значение")]]
    for where, code, figures in flagged:
        rows += [
            [
                p(f"{where} {unit_code(code)}", small),
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
