"""Misspelt roads against short aliases and against each other, on a hand-made index (no
database): the cases the gazetteer benchmark found resolving to the wrong place."""

from __future__ import annotations

import pytest

from chengguan.geo.gazetteer import AddressMatch, GazetteerIndex, Place
from chengguan.geo.models import EntryKind

CITY = "/110000000000/"
DONGCHENG = f"{CITY}110101000000/"
XICHENG = f"{CITY}110102000000/"
HAIDIAN = f"{CITY}110108000000/"


@pytest.fixture(scope="module")
def index() -> GazetteerIndex:
    return GazetteerIndex(
        [
            Place(1, EntryKind.DISTRICT, "东城区", 116.41, 39.93, DONGCHENG, district_id=1),
            Place(2, EntryKind.DISTRICT, "西城区", 116.36, 39.91, XICHENG, district_id=2),
            Place(3, EntryKind.DISTRICT, "海淀区", 116.30, 39.96, HAIDIAN, district_id=3),
            Place(4, EntryKind.POI, "北京大学", 116.304, 39.991, HAIDIAN, ("北大",), district_id=3),
            Place(5, EntryKind.ROAD, "东单北大街", 116.417, 39.915, DONGCHENG, district_id=1),
            Place(6, EntryKind.ROAD, "中关村北大街", 116.312, 40.008, HAIDIAN, district_id=3),
            Place(7, EntryKind.ROAD, "广渠门内大街", 116.424, 39.892, DONGCHENG, district_id=1),
            Place(8, EntryKind.ROAD, "广安门内大街", 116.358, 39.889, XICHENG, district_id=2),
        ]
    )


def resolve(index: GazetteerIndex, text: str) -> AddressMatch:
    match = index.resolve(text)
    assert match is not None, text
    return match


def test_a_misspelt_road_beats_a_two_character_alias_inside_it(index: GazetteerIndex) -> None:
    # 东单北大衔: its 北大 would be 北京大学 (in another district); 衔 for 街 hides that it heads a road
    match = resolve(index, "东城区东单北大衔16号")
    assert match.names == ("东城区", "东单北大街") and "typo" in match.reason
    assert resolve(index, "海淀区中关村北大衔9号").names == ("海淀区", "中关村北大街")
    # the alias still names 北京大学 when nothing reads the text better
    assert resolve(index, "海淀区北大东门").names == ("海淀区", "北京大学")


def test_two_roads_one_typo_away_are_told_apart_by_the_district(index: GazetteerIndex) -> None:
    # 广衔门内大街 is one character from 广安门内大街 (西城) and from 广渠门内大街 (东城)
    west = resolve(index, "西城区广衔门内大街55号")
    assert west.names == ("西城区", "广安门内大街") and "contradicts" not in west.reason
    east = resolve(index, "东城区广衔门内大街55号")
    assert east.names == ("东城区", "广渠门内大街")
    # the two readings are not two roads of a junction
    assert "junction" not in west.reason and "junction" not in east.reason
