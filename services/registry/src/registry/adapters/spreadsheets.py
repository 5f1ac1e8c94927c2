"""A school's spreadsheet as rows of text cells: CSV (UTF-8, or the cp1251 Excel in Russian saves,
with its ';') or the first sheet of an XLSX workbook."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from openpyxl import load_workbook


class ImportFileError(ValueError):
    """The file as a whole cannot be read (format, headers)."""


def spreadsheet_rows(filename: str, content: bytes) -> Iterator[list[str]]:
    name = filename.lower()
    if name.endswith(".xlsx"):
        try:
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as error:
            raise ImportFileError(f"не удалось прочитать файл XLSX: {error}") from None
        sheet = book.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield ["" if v is None else str(v).strip() for v in row]
        return
    if not name.endswith(".csv"):
        raise ImportFileError("поддерживаются файлы CSV и XLSX")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("cp1251")  # what Excel in Russian saves by default
    header = text.split("\n", 1)[0]
    delimiter = max(";,\t", key=header.count)  # Excel in Russian writes ';', others ','
    for row in csv.reader(io.StringIO(text), delimiter=delimiter):
        yield [cell.strip() for cell in row]
