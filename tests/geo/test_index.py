"""GridIndex against brute-force shapely: contains first, then covers, lowest code on ties."""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPoint, Polygon, box

from chengguan.geo.grid import GridIndex, areas_m2

BOX = box(116.0, 39.9, 116.1, 40.0)


def brute_force(geoms: list[Polygon], codes: list[str], x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """What a person would compute, one predicate at a time."""
    order = sorted(range(len(geoms)), key=lambda i: codes[i])
    out = np.full(len(x), -1)
    for p in range(len(x)):
        for predicate in (shapely.contains_xy, shapely.intersects_xy):
            hit = next((i for i in order if predicate(geoms[i], x[p], y[p])), None)
            if hit is not None:
                out[p] = hit
                break
    return out


def probe_points(index: GridIndex, geoms: list[Polygon], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Random points plus every vertex, edge midpoints and points on the raster's own lines."""
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    rx = rng.uniform(minx - 0.01, maxx + 0.01, 300)
    ry = rng.uniform(miny - 0.01, maxy + 0.01, 300)
    vertices = shapely.get_coordinates(shapely.boundary(geoms))
    mids = (vertices[1:] + vertices[:-1]) / 2
    k = rng.integers(0, max(index.nx, 1), 60)
    on_lines_x = index.x0 + k * index.dx
    on_lines_y = index.y0 + rng.integers(0, max(index.ny, 1), 60) * index.dy
    x = np.concatenate([rx, vertices[:, 0], mids[:, 0], on_lines_x, rng.uniform(minx, maxx, 60)])
    y = np.concatenate([ry, vertices[:, 1], mids[:, 1], rng.uniform(miny, maxy, 60), on_lines_y])
    return x, y


def voronoi(seeds: list[tuple[float, float]]) -> list[Polygon]:
    minx, miny, maxx, maxy = BOX.bounds
    pts = MultiPoint([(minx + sx * (maxx - minx), miny + sy * (maxy - miny)) for sx, sy in seeds])
    cells = shapely.intersection(shapely.get_parts(shapely.voronoi_polygons(pts, extend_to=BOX)), BOX)
    return [c for c in cells if not c.is_empty and c.area > 0]


# Seeds on a 1/1000 lattice: real cells are metres wide, and arbitrary floats make slivers
# narrower than a double's rounding, where no two exact predicates agree on a boundary point.
seeds_strategy = st.lists(
    st.tuples(st.integers(0, 1000), st.integers(0, 1000)).map(lambda t: (t[0] / 1000, t[1] / 1000)),
    min_size=2,
    max_size=40,
    unique=True,
)


@settings(max_examples=60, deadline=None)
@given(seeds=seeds_strategy, raster=st.integers(16, 20_000), seed=st.integers(0, 2**32 - 1))
def test_locate_matches_brute_force_on_voronoi_tessellations(
    seeds: list[tuple[float, float]], raster: int, seed: int
) -> None:
    geoms = voronoi(seeds)
    rng = np.random.default_rng(seed)
    codes = [f"{c:015d}" for c in rng.permutation(len(geoms))]  # code order differs from input order
    index = GridIndex(np.arange(len(geoms)) + 100, codes, geoms, raster_cells=raster)
    x, y = probe_points(index, geoms, rng)
    np.testing.assert_array_equal(index.locate(x, y), brute_force(geoms, codes, x, y))


boxes_strategy = st.lists(
    st.tuples(st.floats(0, 0.9), st.floats(0, 0.9), st.floats(0.01, 0.5), st.floats(0.01, 0.5)),
    min_size=1,
    max_size=12,
)


@settings(max_examples=40, deadline=None)
@given(boxes=boxes_strategy, raster=st.integers(16, 5_000), seed=st.integers(0, 2**32 - 1))
def test_overlapping_and_nested_cells_match_brute_force(
    boxes: list[tuple[float, float, float, float]], raster: int, seed: int
) -> None:
    geoms = [box(x, y, x + w, y + h) for x, y, w, h in boxes]
    rng = np.random.default_rng(seed)
    codes = [f"{c:03d}" for c in rng.permutation(len(geoms))]
    index = GridIndex(np.arange(len(geoms)), codes, geoms, raster_cells=raster)
    x, y = probe_points(index, geoms, rng)
    np.testing.assert_array_equal(index.locate(x, y), brute_force(geoms, codes, x, y))


def test_shared_edges_and_vertices_go_to_the_lowest_code() -> None:
    squares = [box(0, 0, 1, 1), box(1, 0, 2, 1), box(0, 1, 1, 2), box(1, 1, 2, 2)]
    codes = ["d", "b", "c", "a"]  # the NE square has the lowest code
    index = GridIndex([1, 2, 3, 4], codes, squares, raster_cells=64)
    assert index.locate_one(0.5, 0.5) == 0
    assert index.locate_one(1.0, 1.0) == 3  # shared by all four
    assert index.locate_one(1.0, 0.5) == 1  # SW|SE edge: "b" < "d"
    assert index.locate_one(0.5, 1.0) == 2  # SW|NW edge: "c" < "d"
    assert index.locate_one(0.0, 0.0) == 0  # outer corner, covered by one cell only
    assert index.locate_one(2.0, 2.0) == 3
    assert index.locate_one(2.0000001, 1.0) == -1
    assert index.locate_one(-1, 5) == -1


def test_holes_multipolygons_and_overlaps_are_exact() -> None:
    donut = box(0, 0, 4, 4).difference(box(1, 1, 3, 3))
    islands = shapely.MultiPolygon([box(1, 1, 2, 2), box(2.5, 2.5, 3, 3)])
    overlapping = box(3.5, 3.5, 5, 5)  # overlaps the donut's NE corner
    geoms = [donut, islands, overlapping]
    codes = ["200", "300", "100"]
    index = GridIndex([7, 8, 9], codes, geoms, raster_cells=100)
    assert index.locate_one(0.5, 0.5) == 0
    assert index.locate_one(1.5, 1.5) == 1
    assert index.locate_one(2.2, 2.2) == -1  # in the hole, not on an island
    assert index.locate_one(2.75, 2.75) == 1
    assert index.locate_one(3.75, 3.75) == 2  # contained by both: lowest code
    assert index.locate_one(4.5, 4.5) == 2
    x, y = probe_points(index, geoms, np.random.default_rng(1))
    np.testing.assert_array_equal(index.locate(x, y), brute_force(geoms, codes, x, y))


def test_arrays_of_any_shape_and_bad_coordinates() -> None:
    index = GridIndex([1], ["a"], [box(0, 0, 1, 1)])
    assert index.locate(np.array([[0.5, np.nan], [np.inf, 0.2]]), np.array([[0.5, 0.5], [0.5, 0.2]])).tolist() == [
        0,
        -1,
        -1,
        0,
    ]
    assert index.locate([], []).size == 0


def test_an_empty_index_finds_nothing() -> None:
    index = GridIndex([], [], [])
    assert len(index) == 0
    assert index.locate([116.0, 0.0], [39.9, 0.0]).tolist() == [-1, -1]


def test_areas_are_ellipsoidal() -> None:
    equator, beijing, earth = areas_m2([box(0, 0, 1, 1), box(116.0, 39.9, 116.1, 40.0), box(-180, -90, 180, 90)])
    assert abs(equator - 12_308_463_900) < 1e6  # 1° × 1° at the equator on WGS-84
    assert abs(beijing / 1e6 - 94.885) < 0.01  # km²
    assert abs(earth / 510_065_621_724_000 - 1) < 1e-6  # the WGS-84 ellipsoid's surface
