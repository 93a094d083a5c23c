"""The demo city's gazetteer file and the matcher on it, without a database: the 16 districts
(real polygons), the 339 streets/towns (real names), and the roads and POIs of
``demo/data/beijing_gazetteer.csv``."""

from __future__ import annotations

import csv
import json
import math
from collections import Counter
from importlib import resources

import pytest
import shapely
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from chengguan.demo.gazetteer import read_demo_entries
from chengguan.geo.gazetteer import AddressMatch, GazetteerIndex, Place
from chengguan.geo.gazetteer_schemas import EntryIn
from chengguan.geo.gazetteer_service import EntryFile
from chengguan.geo.models import EntryKind, area_point
from chengguan.kit.coords import CRS, convert_geometry, convert_point

DATA = resources.files("chengguan.demo") / "data"
CITY = "110000000000"
CODES = {
    "东城区": "110101000000",
    "西城区": "110102000000",
    "朝阳区": "110105000000",
    "海淀区": "110108000000",
    "石景山区": "110107000000",
    "丰台区": "110106000000",
}


@pytest.fixture(scope="module")
def divisions() -> dict[str, tuple[str, str]]:
    """Code → (name, depth) of the districts (2) and streets/towns (3)."""
    text = (DATA / "beijing_admin_codes_level4_from_areacity.csv").read_text(encoding="utf-8")
    return {r["ext_id"]: (r["ext_name"], r["deep"]) for r in csv.DictReader(text.splitlines()) if r["deep"] in "23"}


@pytest.fixture(scope="module")
def districts() -> dict[str, BaseGeometry]:
    """Code → WGS-84 polygon of the 16 districts."""
    doc = json.loads((DATA / "beijing_districts_110100_full.geojson").read_text(encoding="utf-8"))
    return {
        f"{f['properties']['adcode']}000000": convert_geometry(shape(f["geometry"]), CRS.GCJ02, CRS.WGS84)
        for f in doc["features"]
    }


@pytest.fixture(scope="module")
def demo_file() -> EntryFile:
    return read_demo_entries()


def wgs84(entry: EntryIn) -> tuple[tuple[float, float], BaseGeometry | None]:
    """The entry's point and line in WGS-84, worked out here independently of the importer."""
    line = convert_geometry(shapely.from_wkt(entry.line), entry.crs, CRS.WGS84) if isinstance(entry.line, str) else None
    if entry.lon is not None and entry.lat is not None:
        return convert_point(entry.lon, entry.lat, entry.crs, CRS.WGS84), line
    assert line is not None, entry.name
    middle = line.interpolate(0.5, normalized=True)
    return (middle.x, middle.y), line


@pytest.fixture(scope="module")
def index(
    divisions: dict[str, tuple[str, str]], districts: dict[str, BaseGeometry], demo_file: EntryFile
) -> GazetteerIndex:
    """Ids are the codes as numbers; a street sits at its district's point, which is all name
    matching needs (the demo's street polygons are synthetic)."""
    places: list[Place] = []
    for code, (name, depth) in divisions.items():
        district = f"{code[:6]}000000"
        lon, lat = area_point(districts[district])
        if depth == "2":
            places.append(
                Place(int(code), EntryKind.DISTRICT, name, lon, lat, f"/{CITY}/{code}/", district_id=int(code))
            )
        else:
            path = f"/{CITY}/{district}/{code}/"
            places.append(Place(int(code), EntryKind.STREET, name, lon, lat, path, (), int(district), int(code)))
    for i, entry in enumerate(demo_file.entries, start=1):
        (lon, lat), line = wgs84(entry)
        path = f"/{CITY}/{entry.org_code}/"
        kind = EntryKind(entry.kind)
        places.append(Place(i, kind, entry.name, lon, lat, path, tuple(entry.aliases), int(entry.org_code), line=line))
    return GazetteerIndex(places)


def resolve(index: GazetteerIndex, text: str) -> AddressMatch:
    match = index.resolve(text)
    assert match is not None, text
    return match


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    dx = (a[0] - b[0]) * math.cos(math.radians(a[1]))
    return math.hypot(dx, a[1] - b[1]) * 111_320


# -- the data file --------------------------------------------------------------------------------


def test_the_file_reads_cleanly_and_covers_every_district(demo_file: EntryFile, districts) -> None:
    assert len(demo_file.errors) == 0
    assert 150 <= len(demo_file.entries) <= 300
    per_district = Counter(e.org_code for e in demo_file.entries)
    assert set(per_district) == set(districts)
    kinds = Counter(e.kind for e in demo_file.entries)
    assert kinds["road"] >= 60 and kinds["poi"] >= 150
    assert all(e.crs is CRS.GCJ02 for e in demo_file.entries)


def test_every_entry_lies_inside_its_district(demo_file: EntryFile, districts: dict[str, BaseGeometry]) -> None:
    for entry in demo_file.entries:
        (lon, lat), line = wgs84(entry)
        polygon = districts[entry.org_code]
        assert polygon.covers(Point(lon, lat)), entry.name
        assert line is None or polygon.covers(line), entry.name


def test_names_are_unique_within_a_district(demo_file: EntryFile) -> None:
    keys = Counter((e.name, e.org_code) for e in demo_file.entries)
    assert [k for k, n in keys.items() if n > 1] == []


# -- addresses ------------------------------------------------------------------------------------


def test_a_road_with_a_house_number(index: GazetteerIndex) -> None:
    match = resolve(index, "北京市海淀区中关村大街27号")
    assert match.level is EntryKind.ROAD and match.names == ("海淀区", "中关村大街")
    assert match.district_id == int(CODES["海淀区"])
    assert match.confidence >= 0.8


def test_a_poi_named_with_its_district(index: GazetteerIndex) -> None:
    match = resolve(index, "朝阳区三里屯太古里南区门口")
    assert match.level is EntryKind.POI and match.names == ("朝阳区", "三里屯太古里")
    assert metres((match.lon, match.lat), convert_point(116.4546, 39.9337, CRS.GCJ02, CRS.WGS84)) < 1


def test_a_junction_of_two_roads(index: GazetteerIndex) -> None:
    match = resolve(index, "东城区东华门街道王府井大街与金鱼胡同交叉口")
    assert match.level is EntryKind.ROAD
    assert match.names == ("东城区", "东华门街道", "王府井大街", "金鱼胡同")
    assert match.street_id == 110101001000  # the street the text names
    assert "junction" in match.reason and match.confidence >= 0.9
    # the west end of 金鱼胡同 on 王府井大街, as drawn in the file (GCJ-02)
    assert metres((match.lon, match.lat), convert_point(116.4113, 39.9150, CRS.GCJ02, CRS.WGS84)) < 60


def test_a_name_that_is_a_road_and_a_street(index: GazetteerIndex) -> None:
    # 金融街 is an alias of the road 金融大街 and the short name of 金融街街道: the road is narrower
    match = resolve(index, "西城区金融街")
    assert match.level is EntryKind.ROAD and match.names == ("西城区", "金融大街")
    street = resolve(index, "西城区金融街街道办事处")
    assert street.level is EntryKind.STREET and street.names == ("西城区", "金融街街道")


def test_a_poi_without_a_district(index: GazetteerIndex) -> None:
    match = resolve(index, "望京SOHO附近")
    assert match.level is EntryKind.POI and match.names == ("望京SOHO",)
    assert match.district_id == int(CODES["朝阳区"])
    assert resolve(index, "望京 ｓｏｈｏ 附近").entry_id == match.entry_id  # full-width, spaced, lower case


def test_typos_are_forgiven_but_not_a_different_place(index: GazetteerIndex) -> None:
    typo = resolve(index, "海淀区中关村大衔8号")
    assert typo.names == ("海淀区", "中关村大街") and "typo" in typo.reason
    assert typo.confidence < resolve(index, "海淀区中关村大街8号").confidence
    # 西四北大街 is not in the file: one character from 东四北大街 and 西单北大街, but a different street
    other = resolve(index, "西城区西四北大街")
    assert other.level is EntryKind.DISTRICT and other.names == ("西城区",)
    # nor is 中关村东大街 a misspelt 中关村大街
    assert resolve(index, "中关村东大街").level is not EntryKind.ROAD


def test_short_names(index: GazetteerIndex) -> None:
    assert resolve(index, "海淀").names == ("海淀区",)  # not 海淀街道 or 海淀镇, which lie inside it
    match = resolve(index, "朝阳望京街3号")
    assert match.level is EntryKind.ROAD and match.names == ("朝阳区", "望京街")
    # a two-character name at the head of a road name it is not: 北大 (北京大学) in 西四北大街
    assert resolve(index, "西城区西四北大街").names == ("西城区",)
    assert resolve(index, "国贸路口").names == ("中国国际贸易中心",)  # but 路口 is the junction there


def test_the_named_district_decides_between_places_of_the_same_name(index: GazetteerIndex) -> None:
    alone = resolve(index, "万达广场")
    assert "ambiguous" in alone.reason and alone.confidence < 0.5
    named = resolve(index, "石景山区万达广场一层")
    assert named.district_id == int(CODES["石景山区"]) and "ambiguous" not in named.reason
    assert named.confidence > alone.confidence
    both = resolve(index, "长安街")  # an alias of 东长安街 (东城) and of 西长安街 (西城)
    assert "ambiguous" in both.reason
    assert resolve(index, "西城区长安街").names == ("西城区", "西长安街")


def test_a_contradiction_lowers_confidence(index: GazetteerIndex) -> None:
    match = resolve(index, "朝阳区中关村大街")
    assert match.names == ("中关村大街",) and match.district_id == int(CODES["海淀区"])
    assert "contradicts" in match.reason and match.confidence < 0.5


def test_within_keeps_places_of_one_district(index: GazetteerIndex) -> None:
    within = f"/{CITY}/{CODES['丰台区']}/"
    match = index.resolve("万达广场", within=within)
    assert match is not None and match.district_id == int(CODES["丰台区"]) and "ambiguous" not in match.reason
    assert index.resolve("望京SOHO", within=within) is None


def test_no_place_no_match(index: GazetteerIndex) -> None:
    assert index.resolve("火星基地一号") is None
    assert index.resolve("") is None
    assert index.resolve_many(["火星", "望京SOHO", "火星"])[0] is None


def test_batch_equals_one_by_one(index: GazetteerIndex) -> None:
    texts = [
        "北京市海淀区中关村大街27号",
        "朝阳区三里屯太古里",
        "火星",
        "海淀区中关村大衔",
        "北京市海淀区中关村大街27号",
    ]
    assert index.resolve_many(texts) == [index.resolve(t) for t in texts]
