from __future__ import annotations

import csv
import io
from pathlib import Path

from fastapi.testclient import TestClient
from openpyxl import Workbook

from tests.dispatch.conftest import Categories
from tests.factories import SampleCity
from tests.taxonomy.conftest import upload

URL = "/api/responsibility/import"
COLUMNS = ["序号", "分类代码", "分类名称", "区域", "网格", "依据", "责任单位", "优先级", "备注", "启用"]


def list_csv(rows: list[dict[str, str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def list_xlsx(rows: list[dict[str, str]]) -> bytes:
    book = Workbook()
    book.active.append(COLUMNS)
    for row in rows:
        book.active.append([row.get(c, "") for c in COLUMNS])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def test_a_list_file_creates_rules_and_a_second_load_updates_them(
    client: TestClient, as_user, city: SampleCity, cats: Categories
) -> None:
    admin = as_user("admin_a")
    rows = [
        {"序号": "2001", "分类代码": cats.component, "区域": "990101000000", "依据": "属主", "责任单位": "990101-SW"},
        {
            "序号": "2002",
            "分类代码": cats.event.lower(),
            "区域": "990101001000",
            "依据": "属地",
            "责任单位": "990101001-ZFD",
        },
        {
            "序号": "2003",
            "分类代码": cats.event,
            "区域": "990101002000",
            "依据": "territory",
            "责任单位": "990101-ZX",
            "优先级": "2",
            "启用": "否",
        },
    ]
    res = upload(client, URL, "清单.csv", list_csv(rows), admin)
    assert res.status_code == 200, res.text
    assert res.json() == {"created": 3, "updated": 0}
    rows[0]["责任单位"] = "990101-ZX"
    res = upload(client, URL, "清单.xlsx", list_xlsx(rows), admin)
    assert res.json() == {"created": 0, "updated": 3}
    listed = client.get("/api/responsibility", params={"category": cats.component}, headers=admin).json()["items"]
    assert [(r["row_no"], r["unit_code"], r["basis"]) for r in listed] == [(2001, "990101-ZX", "owner")]
    inactive = client.get("/api/responsibility", params={"category": cats.event, "active": "false"}, headers=admin)
    assert [(r["row_no"], r["priority"]) for r in inactive.json()["items"]] == [(2003, 2)]
    resolved = client.get(
        "/api/responsibility/resolve", params={"category": cats.event, "org": city.org["A1c2"]}, headers=admin
    ).json()
    assert resolved["row_no"] == 2002 and resolved["reason"].endswith("清单第2002行; 事件先属地")


def test_a_bad_list_is_refused_whole_with_line_and_column(
    client: TestClient, as_user, cats: Categories, street_admin: str
) -> None:
    ok = {"序号": "2101", "分类代码": cats.event, "区域": "990101001000", "依据": "属地", "责任单位": "990101001-ZFD"}
    rows = [
        ok,
        {**ok, "序号": "2102", "分类代码": "E9999"},
        {**ok, "序号": "2103", "责任单位": "NOPE"},
        {**ok, "序号": "2104", "依据": "都行"},
        {**ok, "序号": "2105", "区域": "990101002000"},  # 西街道: not theirs to see
        {**ok, "序号": "2106", "区域": ""},  # city-wide: visible, not writable
        {**ok, "序号": "x"},
        ok,
        {**ok, "序号": "2109", "网格": "990101001001999"},
        {**ok, "序号": "2110", "区域": "990101-SW"},
    ]
    res = upload(client, URL, "bad.csv", list_csv(rows), as_user(street_admin))
    assert res.status_code == 422
    fields = [e["field"] for e in res.json()["errors"]]
    assert fields == [
        "line 3: 分类代码",
        "line 4: 责任单位",
        "line 5: 依据",
        "line 6: 区域",
        "line 7: 区域",
        "line 8: 序号",
        "line 9: 序号",
        "line 10: 网格",
        "line 11: 区域",
    ]
    assert "repeats line 2" in res.json()["errors"][6]["message"]
    listed = client.get("/api/responsibility", params={"category": cats.event}, headers=as_user(street_admin))
    assert listed.json()["total"] == 0


def test_the_list_import_refuses_wrong_types_and_writers(client: TestClient, as_user) -> None:
    assert upload(client, URL, "list.txt", b"x", as_user("admin_a")).status_code == 415
    assert upload(client, URL, "list.csv", list_csv([]), as_user("officer_a1")).status_code == 403
    res = upload(client, URL, "list.csv", b"a,b\n1,2\n", as_user("admin_a"))
    assert res.status_code == 422 and "missing column" in res.json()["detail"]


def test_cli_import_error_exits_2_with_the_line(fresh_cli, tmp_path: Path) -> None:
    run = fresh_cli
    bad = tmp_path / "list.csv"
    bad.write_bytes(list_csv([{"序号": "1", "分类代码": "E0502", "依据": "属地", "责任单位": "NOPE"}]))
    res = run("responsibility", "import", str(bad))
    assert res.exit_code == 2 and "line 2: 责任单位" in res.stderr
    res = run("responsibility", "resolve", "E0502")
    assert res.exit_code == 2 and "[org]" in res.stderr
