"""Rows of an uploaded CSV or Excel file, each with the line number a person sees in the file.

CSV is read as UTF-8 (with or without BOM) or, failing that, GB18030 — what Excel on a Chinese
Windows desktop writes. The first row is the header; blank rows are skipped but keep counting.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from openpyxl import load_workbook

from chengguan.errors import Invalid

CSV_ENCODINGS = ("utf-8-sig", "gb18030")


@dataclass(frozen=True)
class Row:
    line: int  # 1 is the header
    values: dict[str, str]

    def get(self, column: str) -> str:
        return self.values.get(column, "").strip()


def read_table(data: bytes, filename: str, required: tuple[str, ...] = ()) -> list[Row]:
    """Rows of a ``.csv`` or ``.xlsx`` file; refuses a file that lacks a ``required`` column."""
    name = filename.lower()
    if name.endswith(".csv"):
        header, rows = _csv_rows(data)
    elif name.endswith((".xlsx", ".xlsm")):
        header, rows = _xlsx_rows(data)
    else:
        raise Invalid(f"unsupported file type {filename!r}; send .csv or .xlsx", field="file")
    missing = [c for c in required if c not in header]
    if missing:
        raise Invalid(f"line 1: missing column(s) {', '.join(missing)}", field="file")
    return rows


def _decode(data: bytes) -> str:
    for encoding in CSV_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise Invalid("file is neither UTF-8 nor GB18030 text", field="file")


def _csv_rows(data: bytes) -> tuple[list[str], list[Row]]:
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise Invalid("line 1: the file is empty", field="file") from None
    except csv.Error as exc:
        raise Invalid(f"line 1: {exc}", field="file") from exc
    rows: list[Row] = []
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > len(header):
                raise Invalid(f"line {line}: {len(cells)} cells but {len(header)} columns", field=f"line {line}")
            rows.append(Row(line, dict(zip(header, cells, strict=False))))
    except csv.Error as exc:
        raise Invalid(f"line {reader.line_num}: {exc}", field=f"line {reader.line_num}") from exc
    return header, rows


def _xlsx_rows(data: bytes) -> tuple[list[str], list[Row]]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise Invalid(f"not a readable .xlsx workbook: {type(exc).__name__}", field="file") from exc
    sheet = book.worksheets[0]
    it = sheet.iter_rows(values_only=True)
    first = next(it, None)
    if first is None:
        raise Invalid("line 1: the sheet is empty", field="file")
    header = [_cell(v).strip() for v in first]
    rows = [
        Row(line, dict(zip(header, (_cell(v) for v in values), strict=False)))
        for line, values in enumerate(it, start=2)
        if any(_cell(v).strip() for v in values)
    ]
    book.close()
    return header, rows


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # codes typed as numbers in Excel come back as floats
    return str(value)
