from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from chengguan.errors import Invalid
from chengguan.kit.tabular import read_table


def test_csv_rows_keep_file_line_numbers_across_blank_and_multiline_rows() -> None:
    data = b'code,name\n01,"two\nlines"\n\n02,x\n'
    rows = read_table(data, "t.csv", required=("code",))
    assert [(r.line, r.get("code")) for r in rows] == [(3, "01"), (5, "02")]
    assert rows[0].get("name") == "two\nlines"


def test_gb18030_csv_from_chinese_excel_is_decoded() -> None:
    rows = read_table("代码,名称\n01,公用设施\n".encode("gb18030"), "t.csv")
    assert rows[0].values == {"代码": "01", "名称": "公用设施"}


def test_missing_column_and_ragged_row_are_refused_with_line_numbers() -> None:
    with pytest.raises(Invalid, match="line 1: missing column"):
        read_table(b"name\nx\n", "t.csv", required=("code",))
    with pytest.raises(Invalid, match="line 3: 3 cells but 2 columns"):
        read_table(b"a,b\n1,2\n1,2,3\n", "t.csv")


def test_xlsx_numbers_come_back_as_codes() -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["code", "limit"])
    sheet.append([101, 4.5])
    sheet.append([None, None])
    sheet.append(["0102", 2.0])
    buf = io.BytesIO()
    book.save(buf)
    rows = read_table(buf.getvalue(), "t.xlsx")
    assert [(r.line, r.values) for r in rows] == [
        (2, {"code": "101", "limit": "4.5"}),
        (4, {"code": "0102", "limit": "2"}),
    ]


def test_unknown_extension_and_broken_workbook_are_refused() -> None:
    with pytest.raises(Invalid, match="unsupported file type"):
        read_table(b"x", "t.pdf")
    with pytest.raises(Invalid, match=r"not a readable \.xlsx"):
        read_table(b"not a zip", "t.xlsx")
