from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from chengguan.audit import platform_actor
from chengguan.db import unit_of_work
from chengguan.legal import service as legal_service
from chengguan.taxonomy import service
from tests.taxonomy.conftest import minor_row, template_csv, template_xlsx, upload

URL = "/api/taxonomy/import"


def test_template_rows_create_then_update_categories(client: TestClient, as_user, seeded: int) -> None:
    admin = as_user("admin_city")
    rows = [
        {"类型": "事件", "大类代码": "88", "大类名称": "测试大类88", "英文名称": "Test major", "关键词": "测试"},
        minor_row("事件", "88", "8801", 立案条件="880101 成堆垃圾|面积超过1平方米", 关联案由="AY033、AY028"),
        minor_row("事件", "88", "8802", 处置时限A="2 working_hours", 启用="否"),
    ]
    res = upload(client, URL, "list.csv", template_csv(rows), admin)
    assert res.status_code == 200, res.text
    assert res.json() == {"created": 3, "updated": 0}
    detail = client.get("/api/taxonomy/categories/E8801", headers=admin).json()
    assert detail["filing_conditions"] == [
        {"code": "880101", "text": "成堆垃圾"},
        {"code": "880102", "text": "面积超过1平方米"},
    ]
    assert detail["cause_codes"] == ["AY028", "AY033"]
    assert detail["time_limits"]["C"]["label"] == "3自然日"
    assert client.get("/api/taxonomy/categories/E8802", headers=admin).json()["active"] is False
    rows[1]["小类名称"] = "改过的名字"
    res = upload(client, URL, "list.xlsx", template_xlsx(rows), admin)
    assert res.json() == {"created": 0, "updated": 3}
    assert client.get("/api/taxonomy/categories/E8801", headers=admin).json()["name"] == "改过的名字"


def test_a_bad_file_is_refused_whole_with_every_bad_row_and_column(client: TestClient, as_user, seeded: int) -> None:
    rows = [
        minor_row("部件", "89", "8901"),  # fine on its own
        minor_row("部件", "89", "8902", 处置时限B=""),
        minor_row("部件", "89", "8903", 处置时限C="3小时"),
        minor_row("部件", "89", "8901"),
        minor_row("事件", "97", "9701", 大类名称=""),
        minor_row("事件", "89", "8904", 关联案由="AY999"),
        minor_row("设施", "89", "8905"),
        minor_row("部件", "89", "9006"),
        minor_row("部件", "89", "8907", 权属职能="unicorns"),
        minor_row("部件", "89", "8908", 大类名称="别的名字"),
    ]
    res = upload(client, URL, "bad.csv", template_csv(rows), as_user("admin_city"))
    assert res.status_code == 422
    found = [(e["field"], e["message"]) for e in res.json()["errors"]]
    assert [f for f, _m in found] == [
        "line 3: 处置时限B",
        "line 4: 处置时限C",
        "line 5: 小类代码",
        "line 6: 大类名称",
        "line 7: 关联案由",
        "line 8: 类型",
        "line 9: 小类代码",
        "line 10: 权属职能",
        "line 11: 大类名称",
    ]
    assert "nothing was imported" in found[0][1] and "3小时" in found[1][1] and "line 2" in found[2][1]
    assert client.get("/api/taxonomy/categories/C8901", headers=as_user("admin_city")).status_code == 404


def test_uploads_are_refused_by_size_and_type(client: TestClient, as_user, seeded: int) -> None:
    admin = as_user("admin_city")
    res = upload(client, URL, "list.pdf", b"%PDF-1.4", admin)
    assert res.status_code == 415 and res.json()["errors"][0]["field"] == "file"
    big = b"x" * (20 * 2**20 + 1)
    assert upload(client, URL, "big.csv", big, admin).status_code == 413
    assert upload(client, URL, "list.csv", template_csv([]), admin).status_code == 422
    assert upload(client, URL, "list.csv", b"x,y\n1,2\n", admin).json()["errors"][0]["field"] == "file"
    assert upload(client, URL, "list.csv", template_csv([]), as_user("officer_a1")).status_code == 403


def test_export_then_import_is_a_round_trip(client: TestClient, as_user, seeded: int, fresh_engine) -> None:
    res = client.get("/api/taxonomy/export.csv", headers=as_user("clerk_a"))
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/csv")
    exported = res.content
    assert exported.startswith("\ufeff类型,大类代码".encode())
    again = upload(client, URL, "taxonomy.csv", exported, as_user("admin_city"))
    assert again.json()["created"] == 0
    assert client.get("/api/taxonomy/export.csv", headers=as_user("clerk_a")).content == exported
    _engine, factory = fresh_engine  # a blank database: the export alone rebuilds the taxonomy
    with unit_of_work(factory, actor=platform_actor("tests")) as session:
        legal_service.load_causes(session)
        result = service.import_file(session, exported, "taxonomy.csv")
        assert result.updated == 0
        assert service.export_csv(session) == exported


def test_cli_refuses_a_bad_file_with_exit_code_2_and_the_line(fresh_cli, tmp_path: Path) -> None:
    run = fresh_cli
    bad = tmp_path / "bad.csv"
    bad.write_bytes(template_csv([minor_row("部件", "01", "0101", 处置时限A="soon")]))
    res = run("taxonomy", "import", str(bad))
    assert res.exit_code == 2
    assert "line 2: 处置时限A" in res.stderr and "soon" in res.stderr
    good = tmp_path / "good.csv"
    good.write_bytes(template_csv([minor_row("部件", "01", "0101")]))
    assert run("taxonomy", "import", str(good)).stdout.startswith("imported good.csv: 2 created")
    listed = run("taxonomy", "list").stdout
    assert "C0101" in listed and "A:4工作时 B:1工作日 C:3自然日" in listed
