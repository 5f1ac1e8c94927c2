"""Bulk import of a school's bases: a dry run reports every bad row; an import applies all or none."""

from __future__ import annotations

import io

from openpyxl import Workbook

from tests.registry.conftest import SCHOOLS, Network

HEADER = (
    "Фамилия;Имя;Отчество;Email;Предметы;Стаж;Категория;Компетенции;Часов в месяц;Макс. наставляемых;Согласие"
)
GOOD = [
    "Иванова;Мария;Петровна;ivanova@example.org;математика;15;высшая;методическая, ИКТ-компетенции;8;2;да",
    "Смирнов;Олег;;smirnov@example.org;физика;22;первая;предметно-профессиональная;6;1;да",
]
BAD = [
    "Кузнецова;Анна;;anna@example.org;химия;пять;высшая;методическая;4;1;да",  # line 4: experience
    "Попов;Иван;;ivan@example.org;история;10;первая;астрология;4;1;да",  # line 5: competency
    "Соколова;Елена;;elena@example.org;биология;3;без категории;ИКТ-компетенции;4;1;нет",  # line 6: consent
]


def csv_bytes(rows: list[str], encoding: str = "utf-8") -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode(encoding)


async def _import(
    network: Network, content: bytes, filename: str, dry_run: bool
) -> tuple[int, dict[str, object]]:
    code = SCHOOLS["A"][0]
    answer = await network.api.client.post(
        f"/schools/{code}/import/mentor",
        params={"dry_run": str(dry_run).lower()},
        files={"file": (filename, content)},
        headers=network.curator["A"],
    )
    return answer.status_code, answer.json()


async def _mentors(network: Network) -> list[dict[str, object]]:
    result: list[dict[str, object]] = await network.api.ok(
        "GET", f"/schools/{SCHOOLS['A'][0]}/participants?base=mentor", network.curator["A"]
    )
    return result


async def test_bad_rows_import_nothing_and_every_one_is_listed(network: Network) -> None:
    for dry_run in (True, False):
        status, report = await _import(network, csv_bytes(GOOD + BAD), "база.csv", dry_run)
        assert status == 422
        errors = report["errors"]
        assert isinstance(errors, list)
        assert [e["line"] for e in errors] == [4, 5, 6]
        assert "«Стаж»" in errors[0]["reason"] and "целое число" in errors[0]["reason"]
        assert "«Компетенции»" in errors[1]["reason"] and "астрология" in errors[1]["reason"]
        assert "согласия" in errors[2]["reason"]
        assert report["rows"] == 5 and report["imported"] == 0
    assert await _mentors(network) == []


async def test_dry_run_then_import_of_a_clean_file(network: Network) -> None:
    status, report = await _import(network, csv_bytes(GOOD, "cp1251"), "база.csv", True)
    assert (status, report["errors"], report["imported"]) == (200, [], 0)
    assert await _mentors(network) == []
    status, report = await _import(network, csv_bytes(GOOD, "cp1251"), "база.csv", False)
    assert (status, report["imported"]) == (201, 2)
    mentors = await _mentors(network)
    assert sorted(m["attributes"]["experience_band"] for m in mentors) == ["10_to_20", "over_20"]  # type: ignore[index]
    competencies = {tuple(m["attributes"]["competencies"]) for m in mentors}  # type: ignore[index]
    assert competencies == {("methodological", "ict"), ("subject_professional",)}


async def test_xlsx_is_read_like_csv(network: Network) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for line in [HEADER, GOOD[0], BAD[0]]:
        sheet.append(line.split(";"))
    buffer = io.BytesIO()
    book.save(buffer)
    status, report = await _import(network, buffer.getvalue(), "mentors.xlsx", True)
    assert status == 422 and [e["line"] for e in report["errors"]] == [3]  # type: ignore[union-attr]


async def test_a_file_without_required_columns_is_refused_as_a_whole(network: Network) -> None:
    status, report = await _import(network, "Фамилия;Имя\nИванова;Мария\n".encode(), "база.csv", True)
    assert status == 422
    assert "компетенции" in str(report["detail"]) and "согласие" in str(report["detail"])


async def test_import_into_another_school_is_refused(network: Network) -> None:
    answer = await network.api.client.post(
        f"/schools/{SCHOOLS['B'][0]}/import/mentor",
        files={"file": ("база.csv", csv_bytes(GOOD))},
        headers=network.curator["A"],
    )
    assert answer.status_code in (403, 404)
    listing = await network.api.ok("GET", f"/schools/{SCHOOLS['B'][0]}/participants", network.curator["B"])
    assert listing == []
