"""Streaming readers of import files: CSV, Excel (.xlsx) and JSON, one record at a time with the
line a person finds it at — CSV: the physical line where the record starts (a quoted field may
span lines); XLSX: the sheet row; JSON: the array index + 1. Nothing reads a whole file into
memory: a history export may be several gigabytes.

A file that cannot be read at all (unknown type, no header, broken encoding, broken JSON) raises
:class:`~chengguan.errors.Invalid` naming the line; a single bad record (a CSV row with more
cells than the header) comes back as a :class:`Record` with ``problem`` set, so it goes to the
reject file and the import goes on.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from chengguan.errors import Invalid

SNIFF_BYTES = 1 << 20  # the encoding is decided on the first MB
JSON_CHUNK = 1 << 20
# Keys under which an object wraps the array of GeoReport v2 service requests.
JSON_ARRAY_KEYS = ("service_requests", "requests")

csv.field_size_limit(1 << 24)  # free-text complaints can be long; the default 128 KiB is not enough


@dataclass(frozen=True)
class Record:
    """One record: a table row's cells (as many as the header has columns), or a JSON object."""

    line: int
    values: list[Any] | dict[str, Any]
    problem: str | None = None  # the record itself is malformed (reported with its line)


class Source:
    """An open import file: its ``header`` (None for JSON, whose records carry their own keys),
    its records, and how far reading has got (for a progress bar)."""

    header: list[str] | None
    total: int  # in the unit of :meth:`position`: bytes, or rows for XLSX
    strings = False  # every cell is text (CSV)

    def records(self) -> Iterator[Record]:
        raise NotImplementedError

    def position(self) -> int:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


def open_source(path: Path) -> Source:
    name = path.name.lower()
    if name.endswith(".csv"):
        return CsvSource(path)
    if name.endswith((".xlsx", ".xlsm")):
        return XlsxSource(path)
    if name.endswith(".json"):
        return JsonSource(path)
    raise Invalid(f"unsupported file type {path.name!r}; send .csv, .xlsx or .json", field="file")


# -- CSV -------------------------------------------------------------------------------------------


def sniff_encoding(head: bytes) -> str:
    """UTF-8 (with or without BOM) or else GB18030, decided on the file's first bytes (a
    multi-byte character cut at the end of them does not count against UTF-8)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    for encoding in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
            return encoding
        except UnicodeDecodeError:
            continue
    raise Invalid("line 1: the file is neither UTF-8 nor GB18030 text / 文件编码无法识别", field="file")


class CsvSource(Source):
    strings = True

    def __init__(self, path: Path) -> None:
        self.total = path.stat().st_size
        self._raw = path.open("rb")
        self.encoding = sniff_encoding(self._raw.read(SNIFF_BYTES))
        self._raw.seek(0)
        self._text = io.TextIOWrapper(self._raw, encoding=self.encoding, newline="")
        self._reader = csv.reader(self._text)
        first = self._next_cells()
        if first is None:
            raise Invalid("line 1: the file is empty", field="file")
        self.header = [h.strip() for h in first]

    def _next_cells(self) -> list[str] | None:
        try:
            return next(self._reader, None)
        except UnicodeDecodeError as exc:
            line = self._reader.line_num + 1
            raise Invalid(f"line {line}: not {self.encoding} text / 编码错误", field=f"line {line}") from exc
        except csv.Error as exc:
            line = self._reader.line_num
            raise Invalid(f"line {line}: {exc}", field=f"line {line}") from exc

    def records(self) -> Iterator[Record]:
        header = self.header
        assert header is not None
        width = len(header)
        end = self._reader.line_num
        while (cells := self._next_cells()) is not None:
            start, end = end + 1, self._reader.line_num
            if not any(cells):
                continue  # a blank line, or a row of empty cells as spreadsheets export them
            if len(cells) == width:
                yield Record(start, cells)
            elif len(cells) < width:  # trailing empty cells left out
                yield Record(start, [*cells, *[""] * (width - len(cells))])
            else:  # kept whole for the reject file
                yield Record(start, cells, f"{len(cells)} cells but {width} columns / 单元格数多于列数")

    def position(self) -> int:
        return self._raw.tell()

    def close(self) -> None:
        self._text.close()


# -- XLSX ------------------------------------------------------------------------------------------


class XlsxSource(Source):
    """The first sheet, streamed (openpyxl read-only); the first row is the header."""

    def __init__(self, path: Path) -> None:
        try:
            self._book = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
            raise Invalid(f"not a readable .xlsx workbook: {type(exc).__name__}", field="file") from exc
        sheet = self._book.worksheets[0]
        self.total = sheet.max_row or 0
        self._row = 0
        self._rows = sheet.iter_rows(values_only=True)
        first = next(self._rows, None)
        if first is None:
            raise Invalid("line 1: the sheet is empty", field="file")
        self._row = 1
        self.header = [str(v).strip() if v is not None else "" for v in first]

    def records(self) -> Iterator[Record]:
        header = self.header
        assert header is not None
        width = len(header)
        for values in self._rows:
            self._row += 1
            if all(v is None or v == "" for v in values):
                continue
            cells = [_cell(v) for v in values]
            if len(cells) > width and any(c != "" for c in cells[width:]):
                problem = f"{len(cells)} cells but {width} columns / 单元格数多于列数"
                yield Record(self._row, cells, problem)
            else:
                yield Record(self._row, [*cells[:width], *[""] * (width - len(cells))])

    def position(self) -> int:
        return self._row

    def close(self) -> None:
        self._book.close()


def _cell(value: object) -> Any:
    """Excel's own types are kept (a date cell is a datetime); a whole number typed as a
    number comes back as a float and is given back as an int (ids and codes)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# -- JSON ------------------------------------------------------------------------------------------


class JsonSource(Source):
    """An array of objects, or an object holding one under ``service_requests``/``requests``
    (GeoReport v2 responses), decoded one element at a time."""

    header = None

    def __init__(self, path: Path) -> None:
        self.total = path.stat().st_size
        self._raw = path.open("rb")
        encoding = sniff_encoding(self._raw.read(SNIFF_BYTES))
        self._raw.seek(0)
        self._file = io.TextIOWrapper(self._raw, encoding=encoding)
        self._buf = ""
        self._pos = 0
        self._eof = False
        self._decoder = json.JSONDecoder()
        self._index = 0
        self._open_array()

    def records(self) -> Iterator[Record]:
        while True:
            char = self._peek()
            if char == "]":
                self._pos += 1
                return
            value = self._value(f"element {self._index + 1}")
            self._index += 1
            if isinstance(value, dict):
                yield Record(self._index, value)
            else:
                yield Record(self._index, {"value": value}, f"not an object but {type(value).__name__}")
            char = self._peek()
            if char == ",":
                self._pos += 1
            elif char != "]":
                self._fail(f"expected ',' or ']' after element {self._index}")

    def _open_array(self) -> None:
        char = self._peek()
        if char == "[":
            self._pos += 1
            return
        if char != "{":
            self._fail("expected an array of requests")
        self._pos += 1
        while self._peek() == '"':
            key = self._value("a key")
            if self._peek() != ":":
                self._fail(f"expected ':' after {key!r}")
            self._pos += 1
            if key in JSON_ARRAY_KEYS and self._peek() == "[":
                self._pos += 1
                return
            self._value(f"the value of {key!r}")
            if self._peek() == ",":
                self._pos += 1
        self._fail(f"no array of requests under {' or '.join(JSON_ARRAY_KEYS)}")

    def _peek(self) -> str:
        """The next non-blank character (reading more as needed); '' at the end of the file."""
        while True:
            while self._pos < len(self._buf) and self._buf[self._pos] in " \t\r\n":
                self._pos += 1
            if self._pos < len(self._buf):
                return self._buf[self._pos]
            if not self._more():
                return ""

    def _more(self) -> bool:
        if self._eof:
            return False
        chunk = self._file.read(JSON_CHUNK)
        self._buf = self._buf[self._pos :] + chunk
        self._pos = 0
        self._eof = not chunk
        return bool(chunk)

    def _value(self, what: str) -> Any:
        self._peek()  # raw_decode takes no leading blanks
        while True:
            try:
                value, end = self._decoder.raw_decode(self._buf, self._pos)
            except json.JSONDecodeError as exc:
                if self._more():
                    continue  # the value runs past what has been read so far
                self._fail(f"{what}: {exc.msg}")
            if end == len(self._buf) and not self._eof and self._more():
                continue  # a number may go on in the next chunk
            self._pos = end
            return value

    def _fail(self, message: str) -> Any:
        line = self._index + 1
        raise Invalid(f"element {line}: broken JSON: {message} / JSON 格式错误", field=f"line {line}")

    def position(self) -> int:
        return self._raw.tell()

    def close(self) -> None:
        self._file.close()
