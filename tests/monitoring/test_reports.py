"""The yearly analytic report (XLSX, PDF) over the scripted year: hand-checkable figures, scope."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from pypdf import PdfReader

from mentornet_auth import Role
from monitoring.domain.indicators import BY_KEY, indicator
from tests.monitoring.conftest import Observatory
from tests.monitoring.scenario import academic_year

YEAR = "period=2026/2027"


async def _download(observatory: Observatory, url: str, headers: dict[str, str] | None = None) -> Any:
    answer = await observatory.client.get(url, headers=headers or observatory.region_operator)
    assert answer.status_code == 200, f"{url}: {answer.status_code} {answer.text}"
    return answer


def _summary(sheet: Worksheet) -> dict[str, Any]:
    return {row[0]: row[1] for row in sheet.iter_rows(min_col=1, max_col=2, values_only=True) if row[0]}


def _pdf_text(body: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


async def test_the_regions_yearly_report_as_xlsx(observatory: Observatory) -> None:
    await observatory.publish(academic_year().envelopes)
    await observatory.settled()
    answer = await _download(observatory, f"/reports/yearly.xlsx?level=region&{YEAR}")
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    disposition = answer.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="yearly-report-region-38-2026-2027.xlsx"')
    book = load_workbook(io.BytesIO(answer.content))
    assert book.sheetnames == ["Сводка", "Муниципалитеты", "Организации", "Дефициты", "Риски"]

    summary = _summary(book["Сводка"])  # see check_year in test_monitoring.py
    assert summary["Уровень"] == "Регион" and summary["Код"] == "38" and summary["Период"] == "2026/2027"
    assert summary["Название"] == "Иркутская область"  # the region's name from its settings
    assert summary["Начало периода"].date().isoformat() == "2026-09-01"
    assert summary["Сформирован"].date().isoformat() == "2027-06-01"
    assert any(str(k).startswith("Учтены события потока") for k in summary)
    assert (summary["Подключено организаций"], summary["Педагогов"], summary["Обучающихся"]) == (3, 23, 150)
    assert (summary["Педагогов в наставничестве"], summary["Обучающихся в наставничестве"]) == (7, 1)
    assert summary["Охват наставничеством"] == round(8 / 173, 4)
    assert summary["Целевой показатель охвата"] == 0.7
    assert summary["Участников в форме «учитель – учитель»"] == 6
    by_key = {key: summary[indicator(key).label] for key in BY_KEY if indicator(key).label in summary}
    assert (by_key["pairs.formed"], by_key["pairs.active"]) == (5, 3)
    assert (by_key["pairs.completed"], by_key["pairs.dissolved"]) == (1, 1)
    assert summary["Расформированы: психологическая несовместимость"] == 1
    assert by_key["bases.mentees_waiting"] == 2 and by_key["feedback.mean_scores.reaction"] == 4.67
    assert set(BY_KEY) == set(by_key)  # every indicator of the catalogue is in the summary
    assert summary["Низкий охват"].startswith("Охват наставничеством 4,6\u00a0% — ниже цели 70,0\u00a0%")
    assert summary["Формализм (нет обратной связи)"] and summary["Просрочки дорожных карт"]
    assert len(book["Сводка"]._charts) == 2

    municipalities = book["Муниципалитеты"]
    header = [c.value for c in municipalities[1]]
    rows = {
        r[0]: dict(zip(header, r, strict=True)) for r in municipalities.iter_rows(min_row=2, values_only=True)
    }
    assert set(rows) == {"m1", "m2", "Итого по региону"}
    assert rows["m1"]["Организаций"] == 2 and rows["m1"]["Пар сформировано"] == 5
    assert rows["m2"]["Педагогов"] == 8 and rows["m2"][indicator("bases.mentees_waiting").short] == 1
    assert "ни один не в паре" in rows["m2"]["Флаги риска"]
    assert rows["Итого по региону"]["Педагогов"] == 23
    assert len(municipalities._charts) == 1

    schools = book["Организации"]
    codes = [(r[0], r[1], r[2]) for r in schools.iter_rows(min_row=2, max_col=3, values_only=True)]
    assert codes == [
        ("s1", "m1", "МБОУ «Школа s1»"),  # the school's public name beside its code
        ("s2", "m1", "МБОУ «Школа s2»"),
        ("s3", "m2", "МБОУ «Школа s3»"),
        ("Итого по региону", None, None),
    ]

    deficits = {r[0]: r[1:5] for r in book["Дефициты"].iter_rows(min_row=2, max_row=10, values_only=True)}
    assert deficits["ИКТ-компетенции"] == (3, 1, 2, round(1 / 3, 4))
    assert deficits["нормативно-правовая"] == (1, 0, 1, 0)
    assert len(book["Дефициты"]._charts) == 1
    risks = {r[:3] for r in book["Риски"].iter_rows(min_row=2, values_only=True)}
    assert ("Регион", "38", "Низкий охват") in risks
    assert ("Муниципалитет", "m2", "Наставляемые без пар") in risks
    assert ("Организация", "s3", "Наставляемые без пар") in risks


async def test_the_reports_as_pdf_in_russian(observatory: Observatory) -> None:
    await observatory.publish(academic_year().envelopes)
    await observatory.settled()
    answer = await _download(observatory, f"/reports/yearly.pdf?level=region&{YEAR}")
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"].endswith(".pdf")
    assert answer.content.startswith(b"%PDF")
    text = _pdf_text(answer.content)
    assert "Годовой аналитический отчёт" in text and "Охват наставничеством" in text
    assert "2026/2027 учебный год" in text and "Флаги риска" in text
    assert "ниже цели 70" in text and "психологическая несовместимость" in text
    assert "ИКТ-компетенции" in text and "m2" in text

    curator = observatory.headers(Role.SCHOOL_CURATOR, municipality="m1", school="s1")
    school = await _download(observatory, f"/reports/yearly.pdf?level=school&code=s1&{YEAR}", curator)
    text = _pdf_text(school.content)
    assert "Организация s1" in text and "Охват наставничеством" in text
    m1 = observatory.headers(Role.MUNICIPAL_OPERATOR, municipality="m1")
    municipality = await _download(observatory, f"/reports/yearly.pdf?level=municipality&code=m1&{YEAR}", m1)
    assert "Муниципалитет m1" in _pdf_text(municipality.content)
    workbook = await _download(observatory, f"/reports/yearly.xlsx?level=municipality&code=m1&{YEAR}", m1)
    book = load_workbook(io.BytesIO(workbook.content))
    assert book.sheetnames == ["Сводка", "Организации", "Дефициты", "Риски"]
    assert _summary(book["Сводка"])["Пар сформировано за период"] == 5


async def test_a_report_stays_within_the_readers_scope(observatory: Observatory) -> None:
    await observatory.publish(academic_year().envelopes)
    await observatory.settled()
    client = observatory.client

    async def status(url: str, headers: dict[str, str]) -> int:
        return (await client.get(url, headers=headers)).status_code

    m1 = observatory.headers(Role.MUNICIPAL_OPERATOR, municipality="m1")
    for kind in ("xlsx", "pdf"):
        assert await status(f"/reports/yearly.{kind}?level=municipality&code=m2", m1) == 403
        assert await status(f"/reports/yearly.{kind}?level=region", m1) == 403
        assert await status(f"/reports/yearly.{kind}?level=school&code=s3", m1) == 404
    curator = observatory.headers(Role.SCHOOL_CURATOR, municipality="m1", school="s1")
    assert await status("/reports/yearly.xlsx?level=school&code=s2", curator) == 404
    assert await status("/reports/yearly.pdf?level=school&code=s2", curator) == 404
    assert await status("/reports/yearly.xlsx?level=municipality&code=m1", curator) == 403
    federal = observatory.headers(Role.FEDERAL_CONSUMER)
    for query in ("level=region", "level=municipality&code=m1", "level=school&code=s1"):
        assert await status(f"/reports/yearly.pdf?{query}", federal) == 403
        assert await status(f"/reports/yearly.xlsx?{query}", federal) == 403
    region = observatory.region_operator
    assert await status("/reports/yearly.xlsx?level=school", region) == 422  # no code
    assert await status("/reports/yearly.xlsx?level=country", region) == 422
    assert await status("/reports/yearly.xlsx?level=region&period=2026", region) == 422
    assert await status("/reports/yearly.xlsx", region) == 422
    assert (await client.get("/reports/yearly.xlsx?level=region")).status_code == 401
