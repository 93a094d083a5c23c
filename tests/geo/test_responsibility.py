"""Responsibility grids (责任网格): membership rules, geometry, duties at a point, scoping."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box, shape
from sqlalchemy import select

from chengguan.audit import platform_actor
from chengguan.db import unit_of_work
from chengguan.geo import service
from chengguan.geo.models import ResponsibilityGrid
from tests.factories import SampleCity, SampleGrid


@pytest.fixture
def clean_grids(app, grid: SampleGrid) -> Iterator[None]:
    yield
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        for found in session.scalars(select(ResponsibilityGrid).where(ResponsibilityGrid.code.startswith("T-"))):
            service.delete_responsibility(session, found)


def make(client: TestClient, headers, code: str, kind: str, org_id: int, owner: int, cells: list[str]):
    body = {"code": code, "name": code, "kind": kind, "org_id": org_id, "owner_org_id": owner, "cell_codes": cells}
    return client.post("/api/responsibility-grids", json=body, headers=headers)


def test_a_grid_is_the_union_of_its_cells(client, as_user, city: SampleCity, grid: SampleGrid, clean_grids) -> None:
    headers = as_user("admin_a")
    cells = [grid.code("A1c1", s) for s in (1, 2, 3, 4)]
    res = make(client, headers, "T-SAN-1", "sanitation", city.org["A1"], city.org["A1_squad"], cells)
    assert res.status_code == 201, res.text
    assert res.json()["cell_codes"] == cells
    assert abs(res.json()["area_m2"] - 94.885e6) < 0.01e6
    fc = client.get("/api/responsibility-grids/features", params={"kind": "sanitation"}, headers=headers).json()
    [feat] = [f for f in fc["features"] if f["id"] == "T-SAN-1"]
    assert shape(feat["geometry"]).equals(box(116.0, 39.9, 116.1, 40.0))
    assert feat["properties"]["owner_org_id"] == city.org["A1_squad"]


def test_a_cell_is_in_one_grid_per_kind(client, as_user, city: SampleCity, grid: SampleGrid, clean_grids) -> None:
    headers = as_user("admin_a")
    one, two = grid.code("A1c1", 1), grid.code("A1c1", 2)
    assert make(client, headers, "T-SAN-1", "sanitation", city.org["A1"], city.org["A_water"], [one]).status_code == 201
    clash = make(client, headers, "T-SAN-2", "sanitation", city.org["A1"], city.org["A_water"], [two, one])
    assert clash.status_code == 409 and clash.json()["errors"][0]["field"] == "cell_codes"
    assert "T-SAN-1" in clash.json()["detail"]
    other_kind = make(client, headers, "T-ENF-1", "enforcement", city.org["A1"], city.org["A1_squad"], [one])
    assert other_kind.status_code == 201
    again = make(client, headers, "T-SAN-1", "sanitation", city.org["A1"], city.org["A_water"], [])
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "code"
    # replacing the members moves the cell out, so the other grid may take it
    moved = client.patch("/api/responsibility-grids/T-SAN-1", json={"cell_codes": [two]}, headers=headers)
    assert moved.status_code == 200 and moved.json()["cell_codes"] == [two]
    assert make(client, headers, "T-SAN-2", "sanitation", city.org["A1"], city.org["A_water"], [one]).status_code == 201


def test_members_must_lie_in_the_grids_area(client, as_user, city: SampleCity, grid: SampleGrid, clean_grids) -> None:
    headers = as_user("admin_a")
    res = make(client, headers, "T-SAN-1", "sanitation", city.org["A1"], city.org["A_water"], [grid.code("A2c1", 1)])
    assert res.status_code == 422 and res.json()["errors"][0]["field"] == "cell_codes"
    res = make(client, headers, "T-SAN-1", "sanitation", city.org["A_water"], city.org["A_water"], [])
    assert res.status_code == 422 and res.json()["errors"][0]["field"] == "org_id"
    res = make(client, headers, "T-SAN-1", "sanitation", city.org["A1"], 999_999, [])
    assert res.status_code == 422 and res.json()["errors"][0]["field"] == "owner_org_id"
    res = make(client, as_user("admin_b"), "T-SAN-1", "sanitation", city.org["A1"], city.org["A_water"], [])
    assert res.status_code == 403


def test_duties_show_at_a_point_and_keep_cells_from_deletion(
    client, as_user, city: SampleCity, grid: SampleGrid, clean_grids
) -> None:
    headers = as_user("admin_a")
    cell = grid.code("A1c1", 1)
    make(client, headers, "T-SAN-1", "sanitation", city.org["A"], city.org["A_water"], [cell])
    make(client, headers, "T-ENF-1", "enforcement", city.org["A1"], city.org["A1_squad"], [cell])
    where = client.get("/api/grids/locate", params={"lon": 116.01, "lat": 39.91}, headers=as_user("officer_a1"))
    assert [(d["kind"], d["code"]) for d in where.json()["duties"]] == [
        ("enforcement", "T-ENF-1"),
        ("sanitation", "T-SAN-1"),
    ]
    res = client.delete(f"/api/grids/{cell}", headers=headers)
    assert res.status_code == 409 and "T-ENF-1" in res.json()["detail"]


def test_the_owning_unit_sees_its_grid_whole(
    client: TestClient, as_user, city: SampleCity, grid: SampleGrid, clean_grids
) -> None:
    # 西街道's cells kept by 东街道's squad: the squad's officers see the grid and its shape, not the cells
    cells = [grid.code("A2c1", 1), grid.code("A2c1", 2)]
    res = make(client, as_user("admin_a"), "T-ENF-W", "enforcement", city.org["A2"], city.org["A1_squad"], cells)
    assert res.status_code == 201
    east = as_user("officer_a1")
    assert client.get("/api/responsibility-grids/T-ENF-W", headers=east).json()["cell_codes"] == cells
    assert client.get(f"/api/grids/{cells[0]}", headers=east).status_code == 404
    fc = client.get("/api/responsibility-grids/features", headers=east).json()
    [feat] = [f for f in fc["features"] if f["id"] == "T-ENF-W"]
    assert shape(feat["geometry"]).equals(box(116.1, 39.9, 116.2, 39.95))
    assert client.get("/api/responsibility-grids/T-ENF-W", headers=as_user("officer_b1")).status_code == 404
    assert client.patch("/api/responsibility-grids/T-ENF-W", json={"name": "x"}, headers=east).status_code == 403
    renamed = client.patch("/api/responsibility-grids/T-ENF-W", json={"name": "西片"}, headers=as_user("admin_a"))
    assert renamed.status_code == 200 and renamed.json()["name"] == "西片"
    assert client.delete("/api/responsibility-grids/T-ENF-W", headers=as_user("admin_a")).status_code == 204
    assert client.get("/api/responsibility-grids/T-ENF-W", headers=east).status_code == 404
