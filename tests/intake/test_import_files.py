"""Reading import files: line numbers a person finds the record at, encodings, streaming JSON,
and the 12345 template from CSV (GB18030) and Excel into the import city."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from chengguan.audit import platform_actor
from chengguan.db import unit_of_work
from chengguan.errors import Invalid
from chengguan.intake import sources
from chengguan.intake.importer import ImportJob
from chengguan.intake.profiles import PROFILES, TEMPLATE_COLUMNS, load_category_map, profile
from chengguan.intake.sources import open_source
from chengguan.taxonomy.models import Category
from tests.intake.import_fixtures import (
    BOSTON,
    ImportStore,
    csv_records,
    write_csv,
)
from tests.intake.test_import import reports_by_id

MANHATTAN = ("-73.9855", "40.7580")  # Times Square


def test_every_category_map_names_a_shipped_category(import_city_store: ImportStore) -> None:
    with unit_of_work(import_city_store.factory, actor=platform_actor("tests")) as session:
        shipped = set(session.scalars(select(Category.key)))
    for name in PROFILES:
        keys = set(load_category_map(name).values())
        assert keys and keys <= shipped, (name, keys - shipped)


def test_csv_lines_are_physical_lines_of_the_record_start(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text('a,b\n1,"two\nlines"\n\n3,x\n,\n4\n5,y,extra\n', encoding="utf-8-sig")
    source = open_source(path)
    assert source.header == ["a", "b"]
    got = [(r.line, r.values, r.problem is not None) for r in source.records()]
    assert got == [
        (2, ["1", "two\nlines"], False),
        (5, ["3", "x"], False),
        (7, ["4", ""], False),  # a short row: the missing cells are empty
        (8, ["5", "y", "extra"], True),  # a long row is refused with its line, kept whole
    ]


def test_csv_encoding_is_sniffed(tmp_path: Path) -> None:
    path = tmp_path / "gb.csv"
    path.write_bytes("工单编号,诉求内容\n1,占道经营\n".encode("gb18030"))
    source = open_source(path)
    assert sources.sniff_encoding(path.read_bytes()) == "gb18030"
    assert source.header == ["工单编号", "诉求内容"]
    assert [r.values for r in source.records()] == [["1", "占道经营"]]
    garbage = tmp_path / "bad.csv"
    garbage.write_bytes(b"a,b\n\xff\xfe\xfa\xfb\x80\x81,1\n")
    with pytest.raises(Invalid, match="neither UTF-8 nor GB18030"):
        open_source(garbage)


def test_json_is_streamed_across_chunks_and_unwrapped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "JSON_CHUNK", 7)  # every value crosses chunk boundaries
    records = json.loads(BOSTON.read_text())
    assert [r.values for r in open_source(BOSTON).records()] == records
    wrapped = tmp_path / "wrapped.json"
    wrapped.write_text(json.dumps({"meta": {"n": 12345.5}, "service_requests": records[:3]}))
    got = list(open_source(wrapped).records())
    assert [r.line for r in got] == [1, 2, 3] and [r.values for r in got] == records[:3]
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(records[:2])[:-1] + ', {"service_request_id": ')
    with pytest.raises(Invalid, match="element 3: broken JSON"):
        list(open_source(broken).records())


def test_xlsx_lines_are_sheet_rows(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["工单编号", "受理时间"])
    sheet.append([1001, dt.datetime(2025, 3, 3, 9, 5)])
    sheet.append([None, None])
    sheet.append(["1002", "2025-03-03 10:00"])
    book.save(tmp_path / "t.xlsx")
    got = [(r.line, r.values) for r in open_source(tmp_path / "t.xlsx").records()]
    assert got == [(2, [1001, dt.datetime(2025, 3, 3, 9, 5)]), (4, ["1002", "2025-03-03 10:00"])]


def test_a_file_of_the_wrong_profile_is_refused_with_its_missing_columns() -> None:
    with pytest.raises(Invalid, match="line 1: not a la311 file: missing column"):
        profile("la311").layout_for(list(csv_records(BOSTON.parent / "nyc311_slice.csv")[0]))


ROWS_12345 = [
    # 工单编号, 受理时间, 诉求标题, 诉求内容, 诉求分类, 小类编码, 地址, 经度, 纬度, 坐标系, 办结时间, 来电人, 联系电话
    ["T1", "2025/3/3 9:05", "路口占道", "有人在路口摆摊卖水果\n占了半条人行道", "", "E0502", "", *MANHATTAN, "wgs84",
     "2025-03-04 10:00", "张三", "(010) 1234-5678"],
    ["T2", "2025-03-03 09:30:00", "", "小区门口乱停车", "乱停车", "", "", *MANHATTAN, "", "", "", ""],
    ["T3", "2025-03-03 09:40:00", "", "经度写错了", "", "E0502", "", "东经116度", MANHATTAN[1], "", "", "", ""],
    ["T4", "2025-03-03 09:50:00", "", "没有这个小类", "", "E9999", "", *MANHATTAN, "", "", "", ""],
    ["T5", "昨天上午", "", "时间写错了", "", "E0502", "", *MANHATTAN, "", "", "", ""],
    ["T6", "2025-03-03 10:10:00", "", "在北京", "", "E0502", "", "116.40", "39.90", "", "", "", ""],
]  # fmt: skip
EXPECTED_REJECTS = {  # 工单编号 → (field, start of the reason)
    "T3": ("经度", "not a number"),
    "T4": ("小类编码", "unknown 小类"),
    "T5": ("受理时间", "not a date and time"),
    "T6": ("经度, 纬度", "outside jurisdiction"),
}


def _run(store: ImportStore, path: Path) -> ImportJob:
    return ImportJob(path=path, profile=profile("12345"), factory=store.factory, actor=platform_actor("tests"))


def _check_12345(store: ImportStore, path: Path, lines: dict[str, int]) -> None:
    summary = _run(store, path).run()
    assert (summary.counts.read, summary.counts.imported, summary.counts.rejected) == (6, 2, 4)
    rejects = {r["工单编号"]: r for r in csv_records(summary.rejects)}
    assert {k: (r["field"], r["reason"][: len(EXPECTED_REJECTS[k][1])]) for k, r in rejects.items()} == EXPECTED_REJECTS
    assert {k: int(r["line"]) for k, r in rejects.items()} == {k: lines[k] for k in EXPECTED_REJECTS}
    stored = reports_by_id(store, "12345:")
    t1, t2 = stored["12345:T1"], stored["12345:T2"]
    assert t1.submitted_at == dt.datetime(2025, 3, 3, 1, 5, tzinfo=dt.UTC)  # 09:05 in Beijing
    assert (t1.category_key, t1.reporter_name, t1.reporter_phone) == ("E0502", "张三", "010 1234-5678")
    assert t1.description == "有人在路口摆摊卖水果\n占了半条人行道" and t1.title == "路口占道"
    assert t2.category_key == "E0505" and t2.attributes == {"source": "12345", "诉求分类": "乱停车"}


def test_12345_csv_in_gb18030(import_store: ImportStore, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "hotline.csv", list(TEMPLATE_COLUMNS), ROWS_12345, encoding="gb18030")
    # T1's text spans two physical lines, so every later record starts one line further down
    _check_12345(import_store, path, {"T3": 5, "T4": 6, "T5": 7, "T6": 8})


def test_12345_xlsx_with_excel_types(import_store: ImportStore, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(TEMPLATE_COLUMNS))
    for row in ROWS_12345:
        cells: list[object] = list(row)
        if row[0] == "T2":  # Excel's own types: a date cell and number cells
            cells[1], cells[7], cells[8] = dt.datetime(2025, 3, 3, 9, 30), float(MANHATTAN[0]), float(MANHATTAN[1])
        sheet.append(cells)
    book.save(tmp_path / "hotline.xlsx")
    _check_12345(import_store, tmp_path / "hotline.xlsx", {"T3": 4, "T4": 5, "T5": 6, "T6": 7})
