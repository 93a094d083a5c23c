from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import Polygon

from chengguan.kit.coords import (
    CRS,
    bd09_to_gcj02,
    bd09_to_wgs84,
    convert,
    convert_geometry,
    convert_point,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    in_china,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

# (lon, lat) WGS-84 → GCJ-02 pairs from the test suite of googollee/eviltransform
# (python/test.py @ 3416646a: Shanghai, Shenzhen, Beijing).
EVILTRANSFORM_PAIRS = [
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
]
# The example of wandergis/coordtransform (test/app.js), also the expected values of hutool's
# CoordinateUtilTest: the point (116.404, 39.915) pushed through each one-step conversion.
COORDTRANSFORM_POINT = (116.404, 39.915)
COORDTRANSFORM_WGS_TO_GCJ = (116.41024449916938, 39.91640428150164)
COORDTRANSFORM_GCJ_TO_BD = (116.41036949371029, 39.92133699351021)
COORDTRANSFORM_BD_TO_GCJ_ONE_STEP = (116.39762729119315, 39.90865673957631)
COORDTRANSFORM_GCJ_TO_WGS_ONE_STEP = (116.39775550083061, 39.91359571849836)

ROUND_TRIP = 1e-7  # the brief: conversions invert each other to better than 1e-7°
CONVERSIONS = [(CRS.WGS84, CRS.GCJ02), (CRS.GCJ02, CRS.BD09), (CRS.WGS84, CRS.BD09)]


def china_points(n: int = 20_000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    return rng.uniform(73.0, 135.0, n), rng.uniform(18.0, 53.5, n)


@pytest.mark.parametrize(("wgs", "gcj"), EVILTRANSFORM_PAIRS)
def test_wgs84_to_gcj02_matches_published_pairs(wgs, gcj) -> None:
    assert convert_point(*wgs, CRS.WGS84, CRS.GCJ02) == pytest.approx(gcj, abs=1e-12)


@pytest.mark.parametrize(("wgs", "gcj"), EVILTRANSFORM_PAIRS)
def test_gcj02_to_wgs84_recovers_the_published_input(wgs, gcj) -> None:
    # the published GCJ-02 values carry ~15 digits, so the exact inverse lands on the input
    assert convert_point(*gcj, CRS.GCJ02, CRS.WGS84) == pytest.approx(wgs, abs=1e-9)


def test_forward_conversions_match_coordtransform() -> None:
    assert convert_point(*COORDTRANSFORM_POINT, CRS.WGS84, CRS.GCJ02) == pytest.approx(
        COORDTRANSFORM_WGS_TO_GCJ, abs=1e-12
    )
    assert convert_point(*COORDTRANSFORM_POINT, CRS.GCJ02, CRS.BD09) == pytest.approx(
        COORDTRANSFORM_GCJ_TO_BD, abs=1e-12
    )


@pytest.mark.parametrize(
    ("src", "dst", "one_step", "one_step_error"),
    [
        (CRS.GCJ02, CRS.WGS84, COORDTRANSFORM_GCJ_TO_WGS_ONE_STEP, 1e-5),
        (CRS.BD09, CRS.GCJ02, COORDTRANSFORM_BD_TO_GCJ_ONE_STEP, 3e-6),
    ],
)
def test_inverses_are_exact_where_the_one_step_formula_is_not(src, dst, one_step, one_step_error) -> None:
    exact = convert_point(*COORDTRANSFORM_POINT, src, dst)
    # the published one-step value is close, but its forward image misses the input …
    assert exact == pytest.approx(one_step, abs=one_step_error)
    assert convert_point(*one_step, dst, src) != pytest.approx(COORDTRANSFORM_POINT, abs=ROUND_TRIP)
    # … ours maps back onto it
    assert convert_point(*exact, dst, src) == pytest.approx(COORDTRANSFORM_POINT, abs=1e-11)


@pytest.mark.parametrize(("a", "b"), CONVERSIONS)
def test_round_trips_are_better_than_1e_7_degrees(a, b) -> None:
    lon, lat = china_points()
    there = convert(lon, lat, a, b)
    back_lon, back_lat = convert(*there, b, a)
    assert np.max(np.abs(back_lon - lon)) < ROUND_TRIP
    assert np.max(np.abs(back_lat - lat)) < ROUND_TRIP
    # and the other way round: the inverse first
    inv = convert(lon, lat, b, a)
    again_lon, again_lat = convert(*inv, a, b)
    assert max(np.max(np.abs(again_lon - lon)), np.max(np.abs(again_lat - lat))) < ROUND_TRIP


def test_the_offsets_are_the_known_few_hundred_metres_in_beijing() -> None:
    lon, lat = convert_point(116.39, 39.91, CRS.WGS84, CRS.GCJ02)
    metres_east = (lon - 116.39) * 111_320 * np.cos(np.radians(39.91))
    metres_north = (lat - 39.91) * 110_574
    assert 500 < metres_east < 600 and 100 < metres_north < 200


@pytest.mark.parametrize(
    "point",
    [(-0.1276, 51.5072), (-74.006, 40.7128), (151.2093, -33.8688), (139.0, 35.0), (72.0, 30.0), (100.0, 0.5)],
)
def test_points_outside_the_china_rectangle_pass_through(point) -> None:
    assert not in_china(*point)
    for src in CRS:
        for dst in CRS:
            assert convert_point(*point, src, dst) == point


def test_mixed_arrays_convert_only_the_points_inside() -> None:
    lon = np.array([116.404, -0.1276, 121.47])
    lat = np.array([39.915, 51.5072, 31.23])
    out_lon, out_lat = wgs84_to_gcj02(lon, lat)
    assert (out_lon[1], out_lat[1]) == (lon[1], lat[1])
    assert out_lon[0] != lon[0] and out_lon[2] != lon[2]


@pytest.mark.parametrize(
    "fn", [wgs84_to_gcj02, gcj02_to_wgs84, gcj02_to_bd09, bd09_to_gcj02, wgs84_to_bd09, bd09_to_wgs84]
)
def test_arrays_and_scalars_agree(fn) -> None:
    lon, lat = china_points(200)
    array_lon, array_lat = fn(lon, lat)
    for i in range(len(lon)):
        one_lon, one_lat = fn(float(lon[i]), float(lat[i]))
        assert float(one_lon) == array_lon[i] and float(one_lat) == array_lat[i]


def test_inputs_are_not_modified_and_outputs_are_fresh() -> None:
    lon, lat = china_points(10)
    before = lon.copy(), lat.copy()
    out_lon, _ = convert(lon, lat, CRS.WGS84, CRS.WGS84)
    out_lon[:] = 0
    gcj02_to_wgs84(lon, lat)
    assert np.array_equal(lon, before[0]) and np.array_equal(lat, before[1])


def test_geometries_convert_vertex_by_vertex() -> None:
    square = Polygon([(116.3, 39.9), (116.4, 39.9), (116.4, 40.0), (116.3, 40.0)])
    gcj = convert_geometry(square, CRS.WGS84, CRS.GCJ02)
    assert gcj.is_valid and len(gcj.exterior.coords) == len(square.exterior.coords)
    first = gcj.exterior.coords[0]
    assert first == pytest.approx(convert_point(116.3, 39.9, CRS.WGS84, CRS.GCJ02), abs=1e-15)
    back = convert_geometry(gcj, CRS.GCJ02, CRS.WGS84)
    assert back.equals_exact(square, tolerance=1e-11)
    assert convert_geometry(square, CRS.BD09, CRS.BD09) is square
