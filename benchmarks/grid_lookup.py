"""Point → unit grid cell for 1,000,000 points: GridIndex vs geopandas sjoin vs a shapely STRtree.

    .venv/bin/python benchmarks/grid_lookup.py                 # the demo city's ~10,000 cells
    .venv/bin/python benchmarks/grid_lookup.py --cells voronoi # a synthetic Beijing-sized tessellation

Points are a realistic mix: 70 % around the centre (reports cluster where people are), 30 %
uniform over the city's bounding box. Every method is timed ``--runs`` times in the same
process and reported as the median; ratios are against geopandas ``sjoin`` from the same run.
Exactness is checked against brute force (candidates by bounding box, then shapely
``contains_xy`` / ``intersects_xy`` one pair at a time) on a sample of the points plus points
placed exactly on cell boundaries: vertices (shared by several cells) and edge midpoints.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

from chengguan.demo.geometry import TIANANMEN, build_city_geometry
from chengguan.geo.grid import GridIndex

BEIJING_BOX = (115.42, 39.44, 117.51, 41.06)


def demo_cells(seed: int) -> tuple[list[str], NDArray[np.object_]]:
    cells = build_city_geometry(seed).cells
    return [c.code for c in cells], np.array([c.geometry for c in cells], dtype=object)


def voronoi_cells(seed: int, n: int = 10_000) -> tuple[list[str], NDArray[np.object_]]:
    """A tessellation of Beijing's bounding box, 60 % of the seeds around the centre."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = BEIJING_BOX
    dense = int(n * 0.6)
    x = np.concatenate([rng.normal(TIANANMEN[0], 0.12, dense), rng.uniform(minx, maxx, n - dense)])
    y = np.concatenate([rng.normal(TIANANMEN[1], 0.09, dense), rng.uniform(miny, maxy, n - dense)])
    inside = (x > minx) & (x < maxx) & (y > miny) & (y < maxy)
    frame = shapely.box(*BEIJING_BOX)
    parts = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(np.column_stack([x, y])[inside]), extend_to=frame)
    )
    cells = shapely.intersection(parts, frame)
    return [f"{i:015d}" for i in range(len(cells))], cells


def query_points(cells: NDArray[np.object_], n: int, seed: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = shapely.total_bounds(cells)
    dense = int(n * 0.7)
    x = np.concatenate([rng.normal(TIANANMEN[0], 0.08, dense), rng.uniform(minx, maxx, n - dense)])
    y = np.concatenate([rng.normal(TIANANMEN[1], 0.06, dense), rng.uniform(miny, maxy, n - dense)])
    order = rng.permutation(n)
    return x[order], y[order]


def boundary_points(cells: NDArray[np.object_], n: int, seed: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Cell vertices and edge midpoints: the points where a lookup is hardest to get right."""
    rng = np.random.default_rng(seed)
    coords, ring = shapely.get_coordinates(shapely.boundary(cells), return_index=True)
    same = ring[1:] == ring[:-1]
    mids = ((coords[1:] + coords[:-1]) / 2)[same]
    pick_v = rng.choice(len(coords), n // 2, replace=False)
    pick_m = rng.choice(len(mids), n // 2, replace=False)
    both = np.concatenate([coords[pick_v], mids[pick_m]])
    return both[:, 0], both[:, 1]


def brute_force(
    cells: NDArray[np.object_], codes: list[str], x: NDArray[np.float64], y: NDArray[np.float64]
) -> NDArray[np.int64]:
    """Lowest code among the containing cells, else among the covering cells, else -1: every
    (point, cell) pair whose bounding boxes meet is tested with the exact predicates."""
    rank = np.argsort(np.argsort(np.asarray(codes)))
    point, cand = shapely.STRtree(cells).query(shapely.points(x, y), predicate="intersects")  # covering pairs
    contained = shapely.contains_xy(cells[cand], x[point], y[point])
    order = np.lexsort((rank[cand], ~contained, point))
    point, cand = point[order], cand[order]
    first = np.ones(point.size, dtype=bool)
    first[1:] = point[1:] != point[:-1]
    out = np.full(len(x), -1, dtype=np.int64)
    out[point[first]] = cand[first]
    return out


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def sjoin(cells_gdf: gpd.GeoDataFrame, x: NDArray[np.float64], y: NDArray[np.float64]) -> gpd.GeoDataFrame:
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y))
    return gpd.sjoin(points, cells_gdf, predicate="within", how="left")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", choices=("demo", "voronoi"), default="demo")
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=100_000, help="random points checked against brute force")
    parser.add_argument("--boundary", type=int, default=20_000, help="boundary points checked against brute force")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    codes, cells = demo_cells(args.seed) if args.cells == "demo" else voronoi_cells(args.seed)
    x, y = query_points(cells, args.points, args.seed)
    print(f"{dt.date.today()}  {len(cells):,} cells ({args.cells}), {args.points:,} points, median of {args.runs} runs")

    build_s, index = timed(lambda: GridIndex(np.arange(len(cells)), codes, cells), max(1, args.runs // 2))
    index_s, found = timed(lambda: index.locate(x, y), args.runs)
    cells_gdf = gpd.GeoDataFrame({"code": codes}, geometry=cells)
    cells_gdf.sindex  # built once, as GridIndex is  # noqa: B018
    sjoin_s, joined = timed(lambda: sjoin(cells_gdf, x, y), args.runs)
    tree = shapely.STRtree(cells)
    tree_s, pairs = timed(lambda: tree.query(shapely.points(x, y), predicate="intersects"), args.runs)

    rows = [
        ("GridIndex.locate", index_s),
        ("geopandas sjoin (within)", sjoin_s),
        ("shapely STRtree.query (intersects)", tree_s),
    ]
    print(f"\nGridIndex build {build_s:.2f} s, {index.nbytes / 2**20:.1f} MiB, raster {index.nx}×{index.ny}")
    print("\n| method | median s | points/s | vs sjoin |\n| --- | ---: | ---: | ---: |")
    for name, secs in rows:
        print(f"| {name} | {secs:.3f} | {args.points / secs / 1e6:.2f} M | {sjoin_s / secs:.1f}× |")

    outside = int((found < 0).sum())
    multi = int(joined.index.duplicated().sum())
    print(f"\noutside every cell: {outside:,}; sjoin rows with >1 cell: {multi:,}; STRtree pairs: {pairs.shape[1]:,}")
    check_exactness(index, cells, codes, x[: args.sample], y[: args.sample], "random sample")
    bx, by = boundary_points(cells, args.boundary, args.seed)
    check_exactness(index, cells, codes, bx, by, "points on boundaries")
    within = gpd.sjoin(gpd.GeoDataFrame(geometry=gpd.points_from_xy(bx, by)), cells_gdf, predicate="within", how="left")
    print(
        f"  sjoin(within) leaves {int(within['index_right'].isna().sum()):,} of {len(bx):,} boundary points unassigned"
    )


def check_exactness(
    index: GridIndex,
    cells: NDArray[np.object_],
    codes: list[str],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    label: str,
) -> None:
    truth = brute_force(cells, codes, x, y)
    wrong = int((index.locate(x, y) != truth).sum())
    print(f"exactness, {label}: {len(x):,} points, {wrong} differ from brute force")
    if wrong:
        raise SystemExit("GridIndex disagrees with brute force")


if __name__ == "__main__":
    main()
