from __future__ import annotations

import csv
import json
import math
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from importlib import resources

import numpy as np
import shapely
from shapely import STRtree
from shapely.geometry import Polygon, shape

from chengguan.demo.geometry import CITY_CODE, Area, Cell, DemoGeometry, build_city_geometry
from chengguan.geo.models import AreaClass
from chengguan.kit.coords import CRS, convert_geometry
from chengguan.orgs.models import OrgKind

DATA = resources.files("chengguan.demo") / "data"
# square metres per square degree at Beijing's latitude: enough to state tolerances in m²
M2_PER_DEG2 = 111_320.0**2 * math.cos(math.radians(40.0))
TILING_TOLERANCE_M2 = 0.1  # float noise on regions of 0.007–500 km²
OVERLAP_TOLERANCE_M2 = 0.01


def csv_rows(deep: str) -> dict[str, str]:
    text = (DATA / "beijing_admin_codes_level4_from_areacity.csv").read_text(encoding="utf-8")
    return {r["ext_id"]: r["ext_name"] for r in csv.DictReader(text.splitlines()) if r["deep"] == deep}


def children_of(children: Sequence[Area | Cell]) -> dict[str, list[Area | Cell]]:
    grouped: dict[str, list[Area | Cell]] = defaultdict(list)
    for child in children:
        grouped[child.parent_code].append(child)
    return grouped


def assert_tiles(parents: Sequence[Area], children: Sequence[Area | Cell]) -> None:
    """Every parent is exactly the union of its children, and no two children overlap."""
    grouped = children_of(children)
    assert set(grouped) == {p.code for p in parents}
    for parent in parents:
        kids = [k.geometry for k in grouped[parent.code]]
        area_gap = abs(sum(k.area for k in kids) - parent.geometry.area) * M2_PER_DEG2
        assert area_gap < TILING_TOLERANCE_M2, parent.code
        mismatch = shapely.union_all(kids).symmetric_difference(parent.geometry).area * M2_PER_DEG2
        assert mismatch < TILING_TOLERANCE_M2, parent.code
    geoms = np.array([c.geometry for c in children])
    left, right = STRtree(geoms).query(geoms, predicate="intersects")
    pairs = left < right
    overlaps = shapely.area(shapely.intersection(geoms[left[pairs]], geoms[right[pairs]])) * M2_PER_DEG2
    assert overlaps.max() < OVERLAP_TOLERANCE_M2


def test_the_16_real_districts(demo_geometry: DemoGeometry) -> None:
    assert {d.code: d.name for d in demo_geometry.districts} == csv_rows("2")
    assert {d.parent_code for d in demo_geometry.districts} == {CITY_CODE}
    haidian = next(d for d in demo_geometry.districts if d.name == "海淀区")
    assert haidian.name_en == "Haidian District" and haidian.kind is OrgKind.DISTRICT


def test_districts_are_the_datav_polygons_converted_to_wgs84(demo_geometry: DemoGeometry) -> None:
    doc = json.loads((DATA / "beijing_districts_110100_full.geojson").read_text(encoding="utf-8"))
    published = {f"{f['properties']['adcode']}000000": shape(f["geometry"]) for f in doc["features"]}
    for district in demo_geometry.districts:
        gcj = published[district.code]
        # the WGS-84 polygon lies a few hundred metres south-west of the GCJ-02 one …
        shift = np.subtract(district.geometry.centroid.coords[0], gcj.centroid.coords[0])
        assert -0.008 < shift[0] < -0.004 and -0.003 < shift[1] < 0, district.name
        # … and converting it back gives the published polygon (up to the 1e-11 snapping grid)
        back = convert_geometry(district.geometry, CRS.WGS84, CRS.GCJ02)
        assert back.symmetric_difference(gcj).area * M2_PER_DEG2 < 1.0


def test_exactly_the_339_streets_and_towns_of_the_code_list(demo_geometry: DemoGeometry) -> None:
    streets = {s.code: s.name for s in demo_geometry.streets}
    assert len(demo_geometry.streets) == 339
    assert streets == csv_rows("3")
    for street in demo_geometry.streets:
        assert street.parent_code == f"{street.code[:6]}000000"
        assert street.kind is (OrgKind.STREET if street.name.endswith("街道") else OrgKind.TOWN)


def test_districts_are_tiled_by_their_streets(demo_geometry: DemoGeometry) -> None:
    assert_tiles(demo_geometry.districts, demo_geometry.streets)


def test_streets_are_tiled_by_their_communities(demo_geometry: DemoGeometry) -> None:
    assert_tiles(demo_geometry.streets, demo_geometry.communities)


def test_communities_are_tiled_by_their_cells(demo_geometry: DemoGeometry) -> None:
    assert_tiles(demo_geometry.communities, demo_geometry.cells)


def test_about_ten_thousand_valid_single_polygon_cells(demo_geometry: DemoGeometry) -> None:
    cells = demo_geometry.cells
    assert 9_000 <= len(cells) <= 11_000
    geoms = np.array([c.geometry for c in cells])
    assert shapely.is_valid(geoms).all()
    assert all(isinstance(g, Polygon) for g in geoms)
    everything = [*demo_geometry.districts, *demo_geometry.streets, *demo_geometry.communities]
    assert all(a.geometry.is_valid and not a.geometry.is_empty for a in everything)


def test_community_codes_follow_the_street_code(demo_geometry: DemoGeometry) -> None:
    streets = {s.code: s for s in demo_geometry.streets}
    codes = [c.code for c in demo_geometry.communities]
    assert len(set(codes)) == len(codes)
    for community in demo_geometry.communities:
        street = streets[community.parent_code]
        assert re.fullmatch(r"\d{12}", community.code) and community.code[:9] == street.code[:9]
        serial = int(community.code[9:])
        if community.name.endswith("村"):
            assert street.kind is OrgKind.TOWN and serial >= 200, community
        else:
            assert community.name.endswith("社区") and 1 <= serial < 200, community
    kinds = Counter(c.name[-1] for c in demo_geometry.communities)
    assert kinds["区"] > 1000 and kinds["村"] > 300


def test_every_town_has_a_centre_community_and_villages(demo_geometry: DemoGeometry) -> None:
    by_street = children_of(demo_geometry.communities)
    for town in (s for s in demo_geometry.streets if s.kind is OrgKind.TOWN):
        names = [c.name for c in by_street[town.code]]
        assert any(n.endswith("社区") for n in names) and any(n.endswith("村") for n in names), town.name


def test_cell_codes_are_the_community_code_plus_a_serial(demo_geometry: DemoGeometry) -> None:
    codes = [c.code for c in demo_geometry.cells]
    assert len(set(codes)) == len(codes)
    for community_code, cells in children_of(demo_geometry.cells).items():
        serials = sorted(int(c.code[12:]) for c in cells)
        assert all(re.fullmatch(r"\d{15}", c.code) and c.code[:12] == community_code for c in cells)
        assert serials == list(range(1, len(cells) + 1))


def test_area_classes_and_cell_sizes(demo_geometry: DemoGeometry) -> None:
    streets = {s.code: s for s in demo_geometry.streets}
    communities = {c.code: c for c in demo_geometry.communities}
    for cell in demo_geometry.cells:
        community = communities[cell.parent_code]
        assert cell.area_class == community.area_class == streets[community.parent_code].area_class
    for street in demo_geometry.streets:
        if street.code[:6] in {"110101", "110102"}:  # 东城、西城: the historic core
            assert street.area_class is AreaClass.A
        elif street.kind is OrgKind.TOWN:
            assert street.area_class is (AreaClass.B if street.name.endswith("地区") else AreaClass.C)
    sizes = {k: statistics.median(c.geometry.area for c in demo_geometry.cells if c.area_class is k) for k in AreaClass}
    # denser, smaller cells in the centre; large ones in the mountains
    assert sizes[AreaClass.A] * 3 < sizes[AreaClass.B] and sizes[AreaClass.B] * 3 < sizes[AreaClass.C]
    assert Counter(c.area_class for c in demo_geometry.cells)[AreaClass.A] > 1000


def test_streets_sit_nearer_the_district_seat_than_towns(demo_geometry: DemoGeometry) -> None:
    haidian_streets = [s for s in demo_geometry.streets if s.code.startswith("110108")]
    smallest = sorted(haidian_streets, key=lambda s: s.geometry.area)
    assert all(s.kind is OrgKind.STREET for s in smallest[:10])
    assert sum(s.kind is OrgKind.TOWN for s in smallest[-7:]) >= 5


def test_the_same_seed_builds_the_same_city(demo_geometry: DemoGeometry) -> None:
    again = build_city_geometry(2026)
    assert [c.code for c in again.cells] == [c.code for c in demo_geometry.cells]
    assert all(
        a.geometry.equals_exact(b.geometry, tolerance=0) for a, b in zip(again.cells, demo_geometry.cells, strict=True)
    )
    other = build_city_geometry(7)
    assert [s.code for s in other.streets] == [s.code for s in demo_geometry.streets]
    moved = sum(not a.geometry.equals(b.geometry) for a, b in zip(other.streets, demo_geometry.streets, strict=True))
    assert moved > 300


def test_the_city_is_the_union_of_its_districts(demo_geometry: DemoGeometry) -> None:
    city = demo_geometry.city
    assert city.code == CITY_CODE and city.kind is OrgKind.CITY and city.parent_code is None
    total = sum(d.geometry.area for d in demo_geometry.districts)
    # DataV's districts do not quite meet edge to edge: a little overlap and gap is theirs
    assert abs(city.geometry.area - total) / total < 1e-3
    km2 = city.geometry.area * M2_PER_DEG2 / 1e6
    assert 16_000 < km2 < 16_800  # Beijing: 16,410 km²
