"""Grid import from GeoJSON, CSV and XLSX: all or nothing, every bad row named by line/feature."""

from __future__ import annotations

import csv
import io
import json

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from shapely.geometry import box, mapping
from sqlalchemy import func, select

from chengguan.audit import AuditEntry, platform_actor
from chengguan.db import unit_of_work
from chengguan.geo.models import GridCell
from tests.factories import SampleGrid, quadrants

EMPTY_BOX = (116.2, 40.0, 116.4, 40.1)  # 南镇二社区, no cells yet


def upload(client: TestClient, headers: dict[str, str], name: str, data: bytes):
    return client.post("/api/grids/import", files={"file": (name, data)}, headers=headers)


def geojson(features: list[dict]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def feature(code: str, geom, area_class: str = "B", **extra) -> dict:
    props = {"code": code, "name": f"网格{code[-3:]}", "area_class": area_class, **extra}
    return {"type": "Feature", "properties": props, "geometry": mapping(geom)}


def table(rows: list[dict[str, str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode()


def cells_under(app, prefix: str) -> int:
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        return session.scalar(select(func.count()).where(GridCell.code.startswith(prefix))) or 0


def imports_audited(app) -> int:
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        return session.scalar(select(func.count()).where(AuditEntry.action == "grid_cells.import")) or 0


def test_geojson_import_writes_cells_and_one_audit_entry(app, client, as_user, empty_community: str) -> None:
    headers = as_user("admin_b")
    audited = imports_audited(app)
    features = [
        feature(f"{empty_community}{i:03d}", q, "ABCC"[i - 1], community_code=empty_community)
        for i, q in enumerate(quadrants(*EMPTY_BOX), start=1)
    ]
    features[0]["properties"]["code"] = int(features[0]["properties"]["code"])  # a code typed as a number
    res = upload(client, headers, "cells.geojson", geojson(features))
    assert res.status_code == 201, res.text
    report = res.json()
    assert report["created"] == 4 and report["communities"] == 1
    assert report["by_area_class"] == {"A": 1, "B": 1, "C": 2}
    assert abs(report["area_m2"] / 1e6 - 189.497) < 0.001  # km², 0.2° × 0.1° at 40°N on WGS-84
    assert imports_audited(app) == audited + 1
    located = client.get("/api/grids/locate", params={"lon": 116.35, "lat": 40.08}, headers=headers).json()
    assert located["cell_code"] == f"{empty_community}004"


def test_csv_with_wkt_and_xlsx_with_geojson(app, client, as_user, empty_community: str) -> None:
    headers = as_user("admin_city")
    west, east, _, _ = quadrants(*EMPTY_BOX)
    csv_rows = [{"code": f"{empty_community}001", "name": "西", "area_class": "C", "wkt": west.wkt}]
    assert upload(client, headers, "cells.csv", table(csv_rows)).status_code == 201
    book = Workbook()
    sheet = book.active
    sheet.append(["code", "name", "area_class", "geojson"])
    sheet.append([int(f"{empty_community}002"), "东", "A", json.dumps(mapping(east))])
    buf = io.BytesIO()
    book.save(buf)
    res = upload(client, headers, "cells.xlsx", buf.getvalue())
    assert res.status_code == 201, res.text
    assert cells_under(app, empty_community) == 2


def test_every_bad_row_is_reported_and_nothing_is_written(
    app, client, as_user, grid: SampleGrid, empty_community: str
) -> None:
    sw, se, nw, ne = quadrants(*EMPTY_BOX)
    c = empty_community

    def row(code: str, wkt: str, area_class: str = "B") -> dict[str, str]:
        return {"code": code, "name": "网格", "area_class": area_class, "wkt": wkt}

    bowtie = "POLYGON ((116.3 40.05, 116.4 40.1, 116.4 40.05, 116.3 40.1, 116.3 40.05))"
    rows = [
        row(f"{c}001", sw.wkt),  # line 2: fine
        row(f"{c}002", se.wkt, area_class="X"),  # 3
        row(f"{c}003", bowtie),  # 4: self-intersecting
        row(f"{c}001", nw.wkt),  # 5: same code as line 2
        row("990102001077001", ne.wkt),  # 6: no such community
        row(grid.code("B1c1", 1), box(116.2, 39.9, 116.201, 39.901).wkt),  # 7: code taken (and overlapping)
        row(f"{c}008", box(116.25, 40.02, 116.28, 40.04).wkt),  # 8: overlaps line 2
        row(f"{c}009", box(116.35, 40.05, 116.45, 40.1).wkt),  # 9: half outside its community
        row(f"{c}010", "POLYGON ((116.3 40"),  # 10: malformed WKT
        row(f"{c}011", box(120.0, 30.0, 120.1, 30.1).wkt),  # 11: outside every district
        row("", ne.wkt),  # 12: no code
    ]
    res = upload(client, as_user("admin_city"), "cells.csv", table(rows))
    assert res.status_code == 422, res.text
    fields = [e["field"] for e in res.json()["errors"]]
    for expected in [
        "line 3: area_class",
        "line 4: geometry",
        "line 5: code",
        "line 6: code",
        "line 7: code",
        "line 8: geometry",
        "line 9: geometry",
        "line 10: geometry",
        "line 11: geometry",
        "line 12: code",
    ]:
        assert expected in fields, (expected, fields)
    assert not any(f.startswith("line 2:") for f in fields)
    messages = {e["field"]: e["message"] for e in res.json()["errors"]}
    assert "line 2" in messages["line 5: code"] and "line 2" in messages["line 8: geometry"]
    assert "outside every district" in messages["line 11: geometry"]
    assert "outside its community" in messages["line 9: geometry"]
    assert cells_under(app, c) == 0


def test_geojson_problems_name_the_feature(app, client, as_user, grid: SampleGrid, empty_community: str) -> None:
    sw, se, _, _ = quadrants(*EMPTY_BOX)
    features = [
        feature(f"{empty_community}001", box(116.19, 40.0, 116.3, 40.05)),  # reaches into 西街道
        {"type": "Feature", "properties": None, "geometry": mapping(se)},
        {"type": "Feature", "properties": {"code": f"{empty_community}003", "name": "x", "area_class": "A"}},
        feature(f"{empty_community}004", sw, community_code="990102001001"),
    ]
    res = upload(client, as_user("admin_city"), "cells.json", geojson(features))
    assert res.status_code == 422
    fields = sorted(e["field"] for e in res.json()["errors"])
    assert fields == [
        "feature 1: geometry",
        "feature 2: properties",
        "feature 3: geometry",
        "feature 4: community_code",
    ]
    assert cells_under(app, empty_community) == 0


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("cells.geojson", b'{"type": "Feature"}', "FeatureCollection"),
        ("cells.geojson", b"\xff\xfe not json", "not JSON"),
        ("cells.csv", b"code,name\n1,2\n", "missing column(s) area_class"),
        ("cells.csv", b"code,name,area_class\n990102001002001,x,A\n", "'wkt' or 'geojson'"),
    ],
)
def test_unreadable_files_are_refused(client, as_user, grid: SampleGrid, name: str, data: bytes, message: str) -> None:
    res = upload(client, as_user("admin_city"), name, data)
    assert res.status_code == 422
    assert message in res.json()["detail"] and res.json()["errors"][0]["field"] == "file"


def test_upload_type_and_size_limits(app, client, as_user, grid: SampleGrid, monkeypatch) -> None:
    headers = as_user("admin_city")
    res = upload(client, headers, "cells.shp", b"\x00" * 10)
    assert res.status_code == 415 and res.json()["errors"][0]["field"] == "file"
    monkeypatch.setattr(app.state.settings, "max_upload_mb", 1)
    res = upload(client, headers, "cells.csv", b"x" * (1024 * 1024 + 1))
    assert res.status_code == 413 and res.json()["errors"][0]["field"] == "file"
    assert upload(client, as_user("analyst_a"), "cells.csv", b"x").status_code == 403
