"""Cells through the API and the service: locate, validation, scoping, access, index rebuilds."""

from __future__ import annotations

from fastapi.testclient import TestClient
from shapely.geometry import box, mapping

from chengguan.audit import platform_actor
from chengguan.db import create_engine, make_sessionmaker, unit_of_work
from chengguan.geo import service
from chengguan.geo.schemas import CellIn, CellPatch
from chengguan.kit.coords import CRS, convert_point
from tests.factories import SampleCity, SampleGrid


def problem_fields(res) -> list[str]:
    assert res.headers["content-type"].startswith("application/problem+json"), res.text
    return [e["field"] for e in res.json()["errors"]]


# -- locate -------------------------------------------------------------------------------------


def test_locate_walks_cell_community_street_district(client: TestClient, as_user, grid: SampleGrid) -> None:
    res = client.get("/api/grids/locate", params={"lon": 116.02, "lat": 39.92}, headers=as_user("clerk_a"))
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["cell_code"] == grid.code("A1c1", 1)
    assert body["area_class"] == "A"
    assert body["community"]["code"] == grid.community["A1c1"]
    assert body["street"]["name"] == "东街道"
    assert body["district"]["name"] == "甲区"
    assert body["duties"] == []


def test_points_on_shared_edges_and_vertices_go_to_the_lowest_code(
    client: TestClient, as_user, grid: SampleGrid
) -> None:
    headers = as_user("admin_city")

    def at(lon: float, lat: float) -> str:
        res = client.get("/api/grids/locate", params={"lon": lon, "lat": lat}, headers=headers)
        assert res.status_code == 200, res.text
        return res.json()["cell_code"]

    assert at(116.05, 39.95) == grid.code("A1c1", 1)  # the vertex all four cells of 一社区 share
    assert at(116.1, 39.95) == grid.code("A1c1", 2)  # the edge between two streets: 东 < 西 by code
    assert at(116.1, 40.0) == grid.code("A1c1", 4)  # four communities of two streets meet here
    assert at(116.2, 39.91) == grid.code("A2c1", 2)  # the border between the districts
    assert at(116.15, 40.1) == grid.code("A2c2", 3)  # the city's outer edge, shared by 003 and 004


def test_outside_every_cell_is_404(client: TestClient, as_user, grid: SampleGrid) -> None:
    headers = as_user("admin_city")
    for lon, lat in [(116.3, 40.05), (117.0, 39.0)]:  # the empty community; outside the city
        res = client.get("/api/grids/locate", params={"lon": lon, "lat": lat}, headers=headers)
        assert res.status_code == 404
    assert client.get("/api/grids/locate", params={"lon": 200, "lat": 40}, headers=headers).status_code == 422


def test_locate_accepts_gcj02(client: TestClient, as_user, grid: SampleGrid) -> None:
    # the GCJ-02 offset around Beijing is some 500 m: just west of a cell edge in WGS-84 is east of it in GCJ-02
    lon, lat = convert_point(116.0499, 39.92, CRS.WGS84, CRS.GCJ02)
    assert lon > 116.05
    res = client.get("/api/grids/locate", params={"lon": lon, "lat": lat, "crs": "gcj02"}, headers=as_user("clerk_a"))
    assert res.status_code == 200
    assert res.json()["cell_code"] == grid.code("A1c1", 1)
    assert abs(res.json()["lon"] - 116.0499) < 1e-9


def test_a_street_sees_only_its_own_cells(client: TestClient, as_user, grid: SampleGrid) -> None:
    officer = as_user("officer_a1")
    assert client.get(f"/api/grids/{grid.code('A1c1', 1)}", headers=officer).status_code == 200
    assert client.get(f"/api/grids/{grid.code('A2c1', 1)}", headers=officer).status_code == 404
    assert client.get("/api/grids/locate", params={"lon": 116.15, "lat": 39.95}, headers=officer).status_code == 404
    listed = client.get("/api/grids", params={"limit": 1000}, headers=officer).json()
    assert {c["code"][:12] for c in listed["items"]} == {grid.community["A1c1"], grid.community["A1c2"]}
    assert listed["total"] == 8


def test_list_filters_by_org_class_and_bbox(client: TestClient, as_user, city: SampleCity, grid: SampleGrid) -> None:
    headers = as_user("admin_city")
    res = client.get("/api/grids", params={"org_id": city.org["A2"], "area_class": "A"}, headers=headers)
    assert [c["code"] for c in res.json()["items"]] == [grid.code("A2c1", 1), grid.code("A2c2", 1)]
    res = client.get("/api/grids", params={"bbox": "116.01,39.91,116.02,39.92"}, headers=headers)
    assert [c["code"] for c in res.json()["items"]] == [grid.code("A1c1", 1)]
    assert res.json()["items"][0]["geometry"]["type"] == "Polygon"
    assert abs(res.json()["items"][0]["area_m2"] - 94.885e6 / 4) < 0.2e6
    bad = client.get("/api/grids", params={"bbox": "1,2,3"}, headers=headers)
    assert bad.status_code == 422 and problem_fields(bad) == ["bbox"]


def test_features_are_geojson_and_capped(client: TestClient, as_user, grid: SampleGrid) -> None:
    headers = as_user("admin_city")
    res = client.get("/api/grids/features", params={"bbox": "116.0,39.9,116.1,40.1"}, headers=headers)
    body = res.json()
    assert body["type"] == "FeatureCollection"
    # bounding boxes touching the bbox edge count: 东街道's 8 cells plus 西街道's western 4
    assert len(body["features"]) == 12 and body["truncated"] is False
    first = body["features"][0]
    assert first["id"] == grid.code("A1c1", 1) and first["properties"]["area_class"] == "A"
    capped = client.get("/api/grids/features", params={"limit": 3}, headers=headers).json()
    assert len(capped["features"]) == 3 and capped["truncated"] is True


# -- writing cells ------------------------------------------------------------------------------


def cell_body(code: str, geom, area_class: str = "B") -> dict:
    return {"code": code, "name": "新网格", "area_class": area_class, "geometry": mapping(geom)}


def test_create_patch_delete_a_cell(client: TestClient, as_user, empty_community: str) -> None:
    headers = as_user("admin_b")
    code = f"{empty_community}001"
    res = client.post("/api/grids", json=cell_body(code, box(116.2, 40.0, 116.3, 40.1)), headers=headers)
    assert res.status_code == 201, res.text
    assert res.json()["area_class"] == "B"
    assert (
        client.get("/api/grids/locate", params={"lon": 116.25, "lat": 40.05}, headers=headers).json()["cell_code"]
        == code
    )
    patched = client.patch(f"/api/grids/{code}", json={"name": "改名", "area_class": "A"}, headers=headers)
    assert patched.status_code == 200 and patched.json()["name"] == "改名"
    reshaped = client.patch(
        f"/api/grids/{code}",
        json={"geometry": "POLYGON ((116.2 40, 116.4 40, 116.4 40.1, 116.2 40.1, 116.2 40))"},
        headers=headers,
    )
    assert reshaped.status_code == 200
    assert reshaped.json()["area_m2"] > 1.9 * res.json()["area_m2"]
    off = client.patch(f"/api/grids/{code}", json={"active": False}, headers=headers)
    assert off.status_code == 200 and off.json()["active"] is False
    assert client.get("/api/grids/locate", params={"lon": 116.25, "lat": 40.05}, headers=headers).status_code == 404
    assert client.delete(f"/api/grids/{code}", headers=headers).status_code == 204
    assert client.get(f"/api/grids/{code}", headers=headers).status_code == 404


def test_invalid_cells_are_refused_naming_the_field(
    client: TestClient, as_user, grid: SampleGrid, empty_community
) -> None:
    headers = as_user("admin_city")
    new = f"{empty_community}001"
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[116.2, 40.0], [116.3, 40.1], [116.3, 40.0], [116.2, 40.1], [116.2, 40.0]]],
    }
    cases = [
        (cell_body("12345", box(116.2, 40.0, 116.3, 40.1)), 422, "code"),
        (cell_body("990102001009001", box(116.2, 40.0, 116.3, 40.1)), 422, "code"),  # no such community
        (cell_body("990102001000001", box(116.2, 40.0, 116.3, 40.1)), 422, "code"),  # 南镇 is a town, not a community
        (cell_body(grid.code("A1c1", 1), box(116.2, 40.0, 116.3, 40.1)), 409, "code"),
        ({**cell_body(new, box(116.2, 40.0, 116.3, 40.1)), "geometry": bowtie}, 422, "geometry"),
        (cell_body(new, box(116.2, 40.0, 116.45, 40.1)), 422, "geometry"),  # out of its community
        (cell_body(new, box(116.25, 39.95, 116.3, 40.05)), 422, "geometry"),  # overlaps B1c1's cells
        (cell_body(new, box(116.2, 40.0, 116.3, 40.1), area_class="D"), 422, "area_class"),
        ({**cell_body(new, box(116.2, 40.0, 116.3, 40.1)), "community_code": "990102001001"}, 422, "community_code"),
    ]
    for body, status, field in cases:
        res = client.post("/api/grids", json=body, headers=headers)
        assert res.status_code == status, (body, res.text)
        assert field in problem_fields(res), res.text
    far = cell_body(new, box(118.0, 41.0, 118.1, 41.1))
    res = client.post("/api/grids", json=far, headers=headers)
    assert "outside every district" in res.json()["detail"]


def test_reshaping_into_a_neighbour_is_refused(client: TestClient, as_user, grid: SampleGrid) -> None:
    code = grid.code("A1c1", 1)
    res = client.patch(
        f"/api/grids/{code}", json={"geometry": mapping(box(116.0, 39.9, 116.06, 39.95))}, headers=as_user("admin_a")
    )
    assert res.status_code == 422 and problem_fields(res) == ["geometry"]
    assert grid.code("A1c1", 2) in res.json()["detail"]


def test_another_district_cannot_write_or_see_the_cells(client: TestClient, as_user, grid: SampleGrid) -> None:
    headers = as_user("admin_b")
    code = grid.code("A1c1", 1)
    assert client.patch(f"/api/grids/{code}", json={"name": "x"}, headers=headers).status_code == 404
    assert client.delete(f"/api/grids/{code}", headers=headers).status_code == 404
    # a cell for a community of 甲区: invisible to 乙区, so unknown
    res = client.post(
        "/api/grids", json=cell_body(f"{grid.community['A1c1']}099", box(116.0, 39.9, 116.001, 39.901)), headers=headers
    )
    assert res.status_code == 422 and problem_fields(res) == ["code"]


def test_access_needs_login_and_permissions(client: TestClient, as_user, grid: SampleGrid, empty_community) -> None:
    body = cell_body(f"{empty_community}001", box(116.2, 40.0, 116.3, 40.1))
    assert client.get("/api/grids").status_code == 401
    assert client.get("/api/grids/locate", params={"lon": 116.02, "lat": 39.92}).status_code == 401
    assert client.get("/api/grids", headers=as_user("citizen_a")).status_code == 403
    assert client.get("/api/grids", headers=as_user("dispatcher_a")).status_code == 200
    assert client.post("/api/grids", json=body, headers=as_user("dispatcher_a")).status_code == 403
    assert client.delete(f"/api/grids/{grid.code('A1c1', 1)}", headers=as_user("supervisor_a")).status_code == 403


# -- the cached index ---------------------------------------------------------------------------


def new_cell(code: str) -> CellIn:
    return CellIn(code=code, name="新", area_class="C", geometry=mapping(box(116.2, 40.0, 116.3, 40.1)))


def test_the_index_is_cached_and_rebuilt_after_a_change(app, grid: SampleGrid, empty_community: str) -> None:
    factory = app.state.sessionmaker
    with unit_of_work(factory, actor=platform_actor("tests")) as session:
        before = service.grid_index(session)
        assert service.grid_index(session) is before  # cached
        revision = service.grid_revision(session)
        assert service.locate(session, 116.25, 40.05) is None
    # a second engine on the same database: what another worker process does
    engine = create_engine(str(app.state.engine.url.render_as_string(hide_password=False)))
    try:
        with unit_of_work(make_sessionmaker(engine), actor=platform_actor("worker")) as other:
            service.create_cell(other, new_cell(f"{empty_community}001"))
    finally:
        engine.dispose()
    with unit_of_work(factory, actor=platform_actor("tests")) as session:
        assert service.grid_revision(session) == revision + 1
        after = service.grid_index(session)
        assert after is not before and len(after) == len(before) + 1
        found = service.locate(session, 116.25, 40.05)
        assert found is not None and found.cell.code == f"{empty_community}001"
        assert found.street is not None and found.street.name == "南镇"
        service.update_cell(session, found.cell, CellPatch(active=False))
        assert service.grid_index(session) is not after  # the session sees its own change at once
        assert service.locate(session, 116.25, 40.05) is None


def test_a_rolled_back_change_leaves_no_stale_index(app, grid: SampleGrid, empty_community: str) -> None:
    factory = app.state.sessionmaker
    session = factory()
    session.info["actor"] = platform_actor("tests")
    try:
        service.create_cell(session, new_cell(f"{empty_community}002"))
        assert service.locate(session, 116.25, 40.05) is not None
        session.rollback()
    finally:
        session.close()
    with unit_of_work(factory, actor=platform_actor("tests")) as fresh:
        assert service.locate(fresh, 116.25, 40.05) is None
