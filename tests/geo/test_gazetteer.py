"""The gazetteer on the test city: entries that follow the organisations, roads and POIs
imported from a file, address resolution, the API and its access rules.

The test city's own districts, streets and communities are in the gazetteer by themselves (they
were created through the organisation service). The roads and POIs below carry the names of the
issue's Beijing examples, placed in the test city:

    甲区 (116.0–116.2)                          乙区 (116.2–116.4)
    东街道 116.0–116.1 │ 西街道 116.1–116.2      南镇 116.2–116.4
    王府井大街 N–S at 116.04 (39.91–39.99)      三里屯太古里 (116.33, 39.96)  → 南镇 B1一社区
    金鱼胡同 E–W at 39.93 (116.03–116.08)       望京SOHO (116.35, 40.05)      → B1二社区, no cells
    中关村大街 N–S at 116.15 (39.92–40.08)      万达广场 (116.38, 39.92)
    金融街 (116.12, 40.07), 万达广场 (116.02, 40.02)
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from chengguan.audit import platform_actor
from chengguan.db import unit_of_work
from chengguan.geo import gazetteer_service
from chengguan.geo import service as geo_service
from chengguan.geo.gazetteer_schemas import EntryPatch
from chengguan.geo.models import EntryKind, GazetteerEntry
from chengguan.geo.schemas import CellIn
from chengguan.kit.coords import CRS, convert_point
from chengguan.orgs import service as orgs_service
from chengguan.orgs.models import OrgKind
from chengguan.orgs.schemas import OrgIn, OrgPatch
from tests.factories import SampleCity, SampleGrid

HEADER = "name,kind,aliases,lon,lat,crs,org_code,line\n"
ROWS = (
    '中关村大街,road,,,,wgs84,990101000000,"LINESTRING (116.15 39.92, 116.15 40.08)"\n'
    '王府井大街,road,王府井步行街,,,wgs84,990101001000,"LINESTRING (116.04 39.91, 116.04 39.99)"\n'
    '金鱼胡同,道路,,,,wgs84,990101001000,"LINESTRING (116.03 39.93, 116.08 39.93)"\n'
    "三里屯太古里,poi,太古里|三里屯,116.33,39.96,wgs84,990102000000,\n"
    "望京SOHO,兴趣点,,116.35,40.05,,990102000000,\n"
    "金融街,poi,,116.12,40.07,wgs84,990101000000,\n"
    "万达广场,poi,,116.02,40.02,wgs84,990101000000,\n"
    "万达广场,poi,,116.38,39.92,wgs84,990102000000,\n"
)


def csv_bytes(rows: str) -> bytes:
    return (HEADER + rows).encode()


def session_of(app) -> Session:
    session = app.state.sessionmaker()
    session.info["actor"] = platform_actor("tests")
    return session


@pytest.fixture(scope="module")
def gazetteer(app, city: SampleCity, grid: SampleGrid) -> Iterator[dict[str, int]]:
    """The roads and POIs above, imported once for the module: name → entry id (the 乙区 万达广场
    as "万达广场乙")."""
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        report = gazetteer_service.import_entries(session, gazetteer_service.read_entries(csv_bytes(ROWS), "t.csv"))
        assert report.created == 8 and report.by_kind == {"poi": 5, "road": 3}
        entries = session.scalars(select(GazetteerEntry).where(GazetteerEntry.kind.in_(["road", "poi"]))).all()
        ids = {
            e.name + ("乙" if e.org_id in (city.org["B1c1"],) and e.name == "万达广场" else ""): e.id for e in entries
        }
    yield ids
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        session.execute(delete(GazetteerEntry).where(GazetteerEntry.id.in_(ids.values())))


def resolve(app, text: str, within_org_id: int | None = None):
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        return gazetteer_service.resolve_address(session, text, within_org_id=within_org_id)


def count_entries(app) -> int:
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        return session.scalar(select(func.count()).select_from(GazetteerEntry)) or 0


# -- entries that mirror the organisations --------------------------------------------------------


def test_areas_are_in_the_gazetteer_by_themselves(app, city: SampleCity) -> None:
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        rows, _total = gazetteer_service.search_entries(session, org_id=city.org["A"], kind=EntryKind.STREET)
        assert {("东街道", city.org["A1"]), ("西街道", city.org["A2"])} <= {(e.name, e.org_id) for e in rows}
        rows, _total = gazetteer_service.search_entries(session, q="甲区", kind=EntryKind.DISTRICT)
        district = rows[0]
        assert (district.lon, district.lat) == pytest.approx((116.1, 40.0))  # the centre of its box
        assert district.derived and district.org_id == city.org["A"]
        report = gazetteer_service.refresh_area_entries(session)
        assert (report.created, report.updated, report.removed) == (0, 0, 0)


def test_entries_follow_organisations_and_the_index_follows_both(app, city: SampleCity) -> None:
    factory = app.state.sessionmaker
    with unit_of_work(factory, actor=platform_actor("tests")) as session:
        before = gazetteer_service.gazetteer_index(session)
        assert gazetteer_service.gazetteer_index(session) is before  # cached
        box = {"type": "Polygon", "coordinates": [[[116.3, 40.06], [116.32, 40.06], [116.32, 40.08], [116.3, 40.06]]]}
        org = orgs_service.create(
            session,
            OrgIn(code="990102001077", name="试点社区", kind=OrgKind.COMMUNITY, parent_id=city.org["B1"], geometry=box),
        )
        org_id = org.id
    match = resolve(app, "乙区南镇试点社区3号楼")
    assert match is not None and match.level is EntryKind.COMMUNITY
    assert (match.district_id, match.street_id, match.community_id) == (city.org["B"], city.org["B1"], org_id)
    assert match.names == ("乙区", "南镇", "试点社区")
    with unit_of_work(factory, actor=platform_actor("tests")) as session:
        assert gazetteer_service.gazetteer_index(session) is not before
        orgs_service.update_org(session, orgs_service.get(session, org_id), OrgPatch(name="示范社区"))
    assert resolve(app, "试点社区") is None
    assert resolve(app, "示范社区").community_id == org_id
    with unit_of_work(factory, actor=platform_actor("tests")) as session:
        orgs_service.delete(session, orgs_service.get(session, org_id))
    assert resolve(app, "示范社区") is None


def test_refresh_rebuilds_what_is_missing_or_stale(app, city: SampleCity) -> None:
    session = session_of(app)
    try:
        entry = gazetteer_service.search_entries(session, q="西街道", kind=EntryKind.STREET)[0][0]
        session.execute(delete(GazetteerEntry).where(GazetteerEntry.id == entry.id))
        session.execute(update(GazetteerEntry).where(GazetteerEntry.name == "东街道").values(name="旧名", lon=0.0))
        report = gazetteer_service.refresh_area_entries(session)
        assert (report.created, report.updated, report.removed) == (1, 1, 0)
        assert gazetteer_service.resolve_address(session, "甲区西街道").street_id == city.org["A2"]
        assert gazetteer_service.resolve_address(session, "东街道").street_id == city.org["A1"]
    finally:
        session.rollback()
        session.close()


# -- addresses ------------------------------------------------------------------------------------


def test_the_issue_examples(app, city: SampleCity, gazetteer: dict[str, int]) -> None:
    road = resolve(app, "测试市甲区中关村大街27号")
    assert road.level is EntryKind.ROAD and road.names == ("甲区", "中关村大街")
    # a road lies in the most specific area that covers its whole line: here the street
    assert (road.district_id, road.street_id, road.community_id) == (city.org["A"], city.org["A2"], None)

    poi = resolve(app, "乙区三里屯太古里南区门口")
    assert poi.level is EntryKind.POI and poi.names == ("乙区", "三里屯太古里")
    assert (poi.lon, poi.lat) == (116.33, 39.96)
    assert (poi.district_id, poi.street_id, poi.community_id) == (city.org["B"], city.org["B1"], city.org["B1c1"])

    junction = resolve(app, "甲区东街道王府井大街与金鱼胡同交叉口")
    assert junction.names == ("甲区", "东街道", "王府井大街", "金鱼胡同")
    assert (junction.lon, junction.lat) == pytest.approx((116.04, 39.93))
    assert junction.street_id == city.org["A1"] and junction.confidence >= 0.9

    assert resolve(app, "甲区金融街").entry_id == gazetteer["金融街"]
    nearby = resolve(app, "望京SOHO附近")
    assert nearby.names == ("望京SOHO",) and nearby.district_id == city.org["B"]
    assert nearby.community_id == city.org["B1c2"]


def test_typos_missing_districts_and_contradictions(app, city: SampleCity, gazetteer: dict[str, int]) -> None:
    typo = resolve(app, "甲区中关村大衔5号")
    assert typo.entry_id == gazetteer["中关村大街"] and "typo" in typo.reason
    assert resolve(app, "中关村大街5号").district_id == city.org["A"]
    wrong = resolve(app, "乙区中关村大街")
    assert wrong.entry_id == gazetteer["中关村大街"] and "contradicts" in wrong.reason and wrong.confidence < 0.5
    assert resolve(app, "某某小区3号楼") is None


def test_ambiguous_names_and_the_district_that_decides(app, city: SampleCity, gazetteer: dict[str, int]) -> None:
    alone = resolve(app, "万达广场")
    assert "ambiguous" in alone.reason and alone.confidence < 0.5
    named = resolve(app, "乙区万达广场")
    assert named.entry_id == gazetteer["万达广场乙"] and named.confidence > 0.9
    within = resolve(app, "万达广场", within_org_id=city.org["A"])
    assert within.entry_id == gazetteer["万达广场"] and "ambiguous" not in within.reason
    assert resolve(app, "三里屯太古里", within_org_id=city.org["A1"]) is None


def test_a_batch_resolves_like_one_by_one(app, gazetteer: dict[str, int]) -> None:
    texts = ["乙区三里屯太古里", "甲区中关村大衔", "某某小区", "乙区三里屯太古里"]
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        batch = gazetteer_service.resolve_many(session, texts)
        assert batch == [gazetteer_service.resolve_address(session, t) for t in texts]


def test_poi_communities_agree_with_the_grid(client: TestClient, as_user, city: SampleCity, gazetteer) -> None:
    """Point → cell → community → street → district ends where the gazetteer placed the POI."""
    headers = as_user("admin_city")
    for address in ("乙区三里屯太古里", "甲区金融街", "乙区万达广场", "甲区万达广场"):
        body = client.get("/api/geo/geocode", params={"address": address}, headers=headers).json()
        assert body["community"]["id"] == body["location"]["community"]["id"], address
        assert body["district"]["id"] == body["location"]["district"]["id"]


# -- the API --------------------------------------------------------------------------------------


def test_geocode_returns_the_point_its_organisations_and_the_cell(
    client: TestClient, as_user, city: SampleCity, grid: SampleGrid, gazetteer
) -> None:
    res = client.get(
        "/api/geo/geocode", params={"address": "甲区东街道王府井大街与金鱼胡同交叉口"}, headers=as_user("clerk_a")
    )
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["level"] == "road" and body["names"] == ["甲区", "东街道", "王府井大街", "金鱼胡同"]
    assert body["district"]["name"] == "甲区" and body["street"]["name"] == "东街道"
    assert body["community"]["id"] == city.org["A1c1"]  # the community that covers both roads
    assert body["location"]["cell_code"] == grid.code("A1c1", 1)
    assert body["entry_id"] == gazetteer["王府井大街"] and "junction" in body["reason"]
    missing = client.get("/api/geo/geocode", params={"address": "火星"}, headers=as_user("clerk_a"))
    assert missing.status_code == 404 and missing.json()["errors"][0]["field"] == "address"


def test_geocode_outside_the_callers_jurisdiction(client: TestClient, as_user, city: SampleCity, gazetteer) -> None:
    """The gazetteer serves the whole city; the cell is shown only to who may see it."""
    res = client.get("/api/geo/geocode", params={"address": "乙区三里屯太古里"}, headers=as_user("officer_a1"))
    assert res.status_code == 200
    assert res.json()["district"]["name"] == "乙区" and res.json()["location"] is None
    within = client.get(
        "/api/geo/geocode",
        params={"address": "万达广场", "within_org_id": city.org["B"]},
        headers=as_user("officer_a1"),
    )
    assert within.status_code == 200 and within.json()["entry_id"] == gazetteer["万达广场乙"]
    unknown = client.get(
        "/api/geo/geocode", params={"address": "万达广场", "within_org_id": 999999}, headers=as_user("officer_a1")
    )
    assert unknown.status_code == 404 and unknown.json()["errors"][0]["field"] == "within_org_id"


def test_search_by_name_alias_kind_and_organisation(client: TestClient, as_user, city: SampleCity, gazetteer) -> None:
    headers = as_user("dispatcher_a")

    def names(**params) -> set[str]:  # a set: the order of Chinese names is the database's collation
        res = client.get("/api/geo/gazetteer", params=params, headers=headers)
        assert res.status_code == 200, res.text
        assert res.json()["total"] == len(res.json()["items"])
        return {e["name"] for e in res.json()["items"]}

    assert names(q="太古") == {"三里屯太古里"}
    assert names(q="步行街") == {"王府井大街"}  # by an alias
    assert names(q="soho") == {"望京SOHO"}
    assert names(kind="poi", org_id=city.org["B"]) == {"万达广场", "望京SOHO", "三里屯太古里"}  # any district's
    assert names(kind="road", org_id=city.org["A1"]) == {"王府井大街", "金鱼胡同"}
    entry = client.get(f"/api/geo/gazetteer/{gazetteer['王府井大街']}", headers=headers).json()
    assert entry["line"]["type"] == "LineString" and entry["aliases"] == ["王府井步行街"] and not entry["derived"]
    assert client.get("/api/geo/gazetteer/999999", headers=headers).status_code == 404


def test_create_move_and_delete_a_poi(client: TestClient, as_user, city: SampleCity, gazetteer) -> None:
    headers = as_user("admin_city")
    lon, lat = convert_point(116.11, 39.91, CRS.WGS84, CRS.GCJ02)
    body = {"kind": "poi", "name": "测试大厦", "aliases": ["测大"], "lon": lon, "lat": lat, "crs": "gcj02"}
    res = client.post("/api/geo/gazetteer", json={**body, "org_code": "990101000000"}, headers=headers)
    assert res.status_code == 201, res.text
    created = res.json()
    assert (created["lon"], created["lat"]) == pytest.approx((116.11, 39.91), abs=1e-9)
    assert created["org_id"] == city.org["A2c1"]  # placed in the community that covers it
    again = client.post("/api/geo/gazetteer", json={**body, "org_code": "990101000000"}, headers=headers)
    assert again.status_code == 409
    moved = client.patch(
        f"/api/geo/gazetteer/{created['id']}", json={"lon": 116.11, "lat": 40.09, "aliases": []}, headers=headers
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["org_id"] == city.org["A2c2"] and moved.json()["aliases"] == []
    far = client.patch(f"/api/geo/gazetteer/{created['id']}", json={"lon": 116.3, "lat": 40.09}, headers=headers)
    assert far.status_code == 422 and far.json()["errors"][0]["field"] == "lon"  # out of 甲区 without a new org_code
    assert resolve(client.app, "甲区测试大厦").entry_id == created["id"]
    assert client.delete(f"/api/geo/gazetteer/{created['id']}", headers=headers).status_code == 204
    assert client.get(f"/api/geo/gazetteer/{created['id']}", headers=headers).status_code == 404
    assert resolve(client.app, "甲区测试大厦").level is EntryKind.DISTRICT


def test_a_redrawn_road_moves_to_the_middle_of_its_new_line(app, city: SampleCity, gazetteer) -> None:
    session = session_of(app)
    try:
        road = gazetteer_service.get_entry(session, gazetteer["中关村大街"])
        patch = EntryPatch(line="LINESTRING (116.11 39.91, 116.11 39.95)")
        gazetteer_service.update_entry(session, road, patch)
        assert (road.lon, road.lat) == pytest.approx((116.11, 39.93))
        assert road.org_id == city.org["A2c1"]  # the new line lies in one community
        assert gazetteer_service.resolve_address(session, "中关村大街").community_id == city.org["A2c1"]
    finally:
        session.rollback()
        session.close()


def test_bad_entries_are_refused_naming_the_field(client: TestClient, as_user, gazetteer) -> None:
    headers = as_user("admin_city")
    base = {"kind": "poi", "name": "坏地名", "lon": 116.05, "lat": 39.95, "org_code": "990101001000"}
    line = "LINESTRING (116.01 39.91, 116.02 39.92)"
    cases = [
        ({**base, "org_code": "nope"}, "org_code"),
        ({**base, "org_code": "990101-ZX"}, "org_code"),  # a command centre has no territory
        ({**base, "lon": 116.3}, "lon"),  # outside 东街道
        ({**base, "lat": None}, "lat"),
        ({**base, "line": line}, "line"),  # a POI has no line
        ({**base, "kind": "road", "lon": None, "lat": None, "line": "POINT (1 2)"}, "line"),
        ({**base, "kind": "district"}, "kind"),  # areas come from the organisations
        ({**base, "aliases": ["a|b"]}, "aliases"),
    ]
    for body, field in cases:
        res = client.post("/api/geo/gazetteer", json=body, headers=headers)
        assert res.status_code == 422, (body, res.text)
        assert field in [e["field"] for e in res.json()["errors"]], (field, res.text)


def test_an_entry_that_mirrors_an_organisation_takes_aliases_only(
    client: TestClient, as_user, city: SampleCity, gazetteer
) -> None:
    headers = as_user("admin_city")
    district = client.get("/api/geo/gazetteer", params={"q": "甲区", "kind": "district"}, headers=headers).json()
    entry_id = district["items"][0]["id"]
    res = client.patch(f"/api/geo/gazetteer/{entry_id}", json={"aliases": ["甲片区"]}, headers=headers)
    assert res.status_code == 200 and res.json()["aliases"] == ["甲片区"]
    assert resolve(client.app, "甲片区中关村大街").names == ("甲区", "中关村大街")
    renamed = client.patch(f"/api/geo/gazetteer/{entry_id}", json={"name": "改名"}, headers=headers)
    assert renamed.status_code == 422 and renamed.json()["errors"][0]["field"] == "name"
    assert client.delete(f"/api/geo/gazetteer/{entry_id}", headers=headers).status_code == 409
    assert client.patch(f"/api/geo/gazetteer/{entry_id}", json={"aliases": []}, headers=headers).status_code == 200


def test_access_to_the_gazetteer(client: TestClient, as_user, gazetteer) -> None:
    body = {"kind": "poi", "name": "权限测试", "lon": 116.05, "lat": 39.95, "org_code": "990101001000"}
    assert client.get("/api/geo/geocode", params={"address": "甲区"}).status_code == 401
    assert client.get("/api/geo/geocode", params={"address": "甲区"}, headers=as_user("citizen_a")).status_code == 403
    assert client.get("/api/geo/gazetteer", headers=as_user("analyst_a")).status_code == 200
    assert client.post("/api/geo/gazetteer", json=body, headers=as_user("dispatcher_a")).status_code == 403
    # a district's administrator may draw its cells, not the city's gazetteer
    assert client.post("/api/geo/gazetteer", json=body, headers=as_user("admin_a")).status_code == 403
    upload = {"file": ("g.csv", csv_bytes(""))}
    assert client.post("/api/geo/gazetteer/import", files=upload, headers=as_user("admin_a")).status_code == 403
    assert client.post("/api/geo/gazetteer/refresh", headers=as_user("admin_b")).status_code == 403
    res = client.post("/api/geo/gazetteer/refresh", headers=as_user("admin_city"))
    assert res.status_code == 200 and res.json()["created"] == 0


# -- importing ------------------------------------------------------------------------------------


def test_every_bad_row_is_reported_and_nothing_is_written(app, client: TestClient, as_user, gazetteer) -> None:
    before = count_entries(app)
    rows = (
        "好地名,poi,,116.05,39.95,wgs84,990101001000,\n"  # line 2: fine on its own
        "怪地名,shop,,116.05,39.95,wgs84,990101001000,\n"  # line 3
        "远地名,poi,,116.05,39.95,wgs84,990199000000,\n"  # line 4
        "出界,poi,,116.35,39.95,wgs84,990101001000,\n"  # line 5
        "缺纬度,poi,,116.05,,wgs84,990101001000,\n"  # line 6
        '有线,poi,,116.05,39.95,wgs84,990101001000,"LINESTRING (116.01 39.91, 116.02 39.92)"\n'  # line 7
        "好地名,poi,,116.06,39.96,wgs84,990101001000,\n"  # line 8: twice in 一社区
        "三里屯太古里,poi,,116.33,39.96,wgs84,990102000000,\n"  # line 9: exists
        "坐标系,poi,,116.05,39.95,mars,990101001000,\n"  # line 10
    )
    res = client.post(
        "/api/geo/gazetteer/import", files={"file": ("g.csv", csv_bytes(rows))}, headers=as_user("admin_city")
    )
    assert res.status_code == 422, res.text
    fields = [e["field"] for e in res.json()["errors"]]
    assert fields == [
        "line 3: kind",
        "line 4: org_code",
        "line 5: lon",
        "line 6: lat",
        "line 7: line",
        "line 8: name",
        "line 9: name",
        "line 10: crs",
    ]
    assert "nothing was imported" in res.json()["detail"]
    assert count_entries(app) == before
    wrong_type = client.post(
        "/api/geo/gazetteer/import", files={"file": ("g.txt", b"x")}, headers=as_user("admin_city")
    )
    assert wrong_type.status_code == 415
    no_columns = client.post(
        "/api/geo/gazetteer/import", files={"file": ("g.csv", b"name,lon\n")}, headers=as_user("admin_city")
    )
    assert no_columns.status_code == 422 and "kind" in no_columns.json()["detail"]


def test_xlsx_import_with_a_default_crs(app, client: TestClient, as_user, city: SampleCity, gazetteer) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["name", "kind", "org_code", "lon", "lat", "aliases"])
    lon, lat = convert_point(116.31, 40.02, CRS.WGS84, CRS.BD09)
    sheet.append(["百度坐标点", "poi", 990102000000, lon, lat, "百度点、BD点"])
    buf = io.BytesIO()
    book.save(buf)
    res = client.post(
        "/api/geo/gazetteer/import",
        params={"crs": "bd09"},
        files={"file": ("g.xlsx", buf.getvalue())},
        headers=as_user("admin_city"),
    )
    assert res.status_code == 201, res.text
    assert res.json()["created"] == 1 and res.json()["replaced"] == 0
    match = resolve(app, "BD点")
    assert (match.lon, match.lat) == pytest.approx((116.31, 40.02), abs=1e-9)
    assert match.community_id == city.org["B1c2"]
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        session.execute(delete(GazetteerEntry).where(GazetteerEntry.id == match.entry_id))


def test_replace_swaps_every_road_and_poi(app, gazetteer) -> None:
    session = session_of(app)
    try:
        file = gazetteer_service.read_entries(csv_bytes("新地名,poi,,116.05,39.95,wgs84,990101001000,\n"), "g.csv")
        report = gazetteer_service.import_entries(session, file, replace=True)
        assert report.replaced >= 8 and report.created == 1
        assert gazetteer_service.resolve_address(session, "三里屯太古里") is None
        assert gazetteer_service.resolve_address(session, "新地名").level is EntryKind.POI
        assert gazetteer_service.resolve_address(session, "甲区").level is EntryKind.DISTRICT  # areas stay
    finally:
        session.rollback()
        session.close()
    assert resolve(app, "三里屯太古里").entry_id == gazetteer["三里屯太古里"]


def test_cells_are_not_needed_to_place_an_entry(app, city: SampleCity, empty_community: str, gazetteer) -> None:
    """A POI in a community without cells still gets its community (from the polygons); once
    the community has cells, the point's cell lies in that same community."""
    match = resolve(app, "望京SOHO")
    assert match.community_id == city.org["B1c2"]
    box = {
        "type": "Polygon",
        "coordinates": [[[116.2, 40.0], [116.4, 40.0], [116.4, 40.1], [116.2, 40.1], [116.2, 40.0]]],
    }
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        geo_service.create_cell(
            session, CellIn(code=f"{empty_community}001", name="整块", area_class="C", geometry=box)
        )
        where = geo_service.locate(session, match.lon, match.lat)
        assert where is not None and where.community.id == match.community_id
