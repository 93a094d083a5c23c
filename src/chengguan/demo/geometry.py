"""The demo city's geography: a believable Beijing, built deterministically from a seed.

Real: the 16 district polygons (Aliyun DataV, published in GCJ-02 and converted here to WGS-84
with ``chengguan.kit.coords``), the district seats, and the names and 12-digit codes of the 16
districts and 339 streets/towns (街道/乡镇/地区). Synthetic: everything below a district. Each
district is split into its streets/towns by a Voronoi partition whose seeds are spread by
k-means over points sampled inside it, denser towards the district seat; the pieces nearest the
seat become the 街道, the outer ones the 乡镇, so towns are large and streets small. Each street
is split the same way (uniformly) into communities (社区/村) and each community into unit grid
cells (单元网格), more and smaller ones in the centre. Every level exactly tiles its parent.

Area classes (立案处置时限 A/B/C): A is the historic core (东城、西城) and the 街道 within
``CORE_RADIUS_KM`` of 天安门 (about the Third Ring Road), B the other 街道 and the urbanised
地区, C the 乡/镇.

The partition works in a local equirectangular plane (longitude scaled by cos 40°) so the pieces
look round on a map, and snaps to a 1e-11 grid there (~1 µm) so neighbours share identical vertices.
"""

from __future__ import annotations

import csv
import json
import math
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.cluster.vq import kmeans2
from scipy.spatial.distance import cdist
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

from chengguan.geo.models import AreaClass
from chengguan.kit.coords import CRS, convert_geometry, convert_point
from chengguan.orgs.models import OrgKind

CITY_CODE = "110000000000"
CITY_NAME = "北京市"
CORE_DISTRICTS = frozenset({"110101000000", "110102000000"})  # 东城、西城
TIANANMEN = (116.3912, 39.9073)  # WGS-84
CORE_RADIUS_KM = 7.0

# Per street: how many communities; per community: how many cells (inclusive ranges, by area class).
COMMUNITIES_PER_STREET = {AreaClass.A: (5, 8), AreaClass.B: (5, 8), AreaClass.C: (4, 7)}
CELLS_PER_COMMUNITY = {AreaClass.A: (7, 11), AreaClass.B: (4, 7), AreaClass.C: (2, 4)}
VILLAGE_SERIAL_START = 200  # 村民委员会 codes start at 200 in the statistical code scheme
URBAN_SCALE = 0.35  # seed density halves at this share of the district's radius from its seat…
CITY_SCALE_KM = 6.0  # …and at this distance from 天安门, whichever is denser

GRID = 1e-11  # snapping grid of the partition, projected degrees (~1 µm)
SAMPLES_PER_SEED = 40
KM_PER_DEGREE = 111.32
_SCALE = np.array([math.cos(math.radians(40.0)), 1.0])
_DATA = resources.files("chengguan.demo") / "data"
_CN_DIGITS = "零一二三四五六七八九"

Weight = Callable[[NDArray[np.float64]], NDArray[np.float64]]


@dataclass(frozen=True)
class Area:
    """The city, a district, a street/town or a community, with its WGS-84 polygon."""

    code: str
    name: str
    parent_code: str | None
    kind: OrgKind
    geometry: BaseGeometry
    name_en: str | None = None
    area_class: AreaClass | None = None  # below the district level


@dataclass(frozen=True)
class Cell:
    """A unit grid cell (单元网格): community code + 3-digit serial."""

    code: str
    name: str
    parent_code: str
    area_class: AreaClass
    geometry: BaseGeometry


@dataclass(frozen=True)
class DemoGeometry:
    city: Area
    districts: list[Area]
    streets: list[Area]
    communities: list[Area]
    cells: list[Cell]


@dataclass(frozen=True)
class _Division:
    """A row of the statistical code list (a district or a street/town)."""

    code: str
    name: str
    short: str
    pinyin: str


@dataclass(frozen=True)
class _Street:
    """A street/town while its communities are made."""

    area: Area
    area_class: AreaClass
    short: str  # the code list's short name: 海淀街道 and 海淀镇 stay apart
    piece: _Piece


@dataclass(frozen=True)
class _Piece:
    """A synthesised area in the projected plane, before it is named."""

    geometry: BaseGeometry
    anchor: tuple[float, float]  # a point inside it, for ordering and distances


def build_city_geometry(seed: int = 2026) -> DemoGeometry:
    """The whole demo city, deterministic for a given ``seed``; pure (no database)."""
    districts_raw = _load_districts()
    divisions = _load_divisions()
    districts: list[Area] = []
    streets: list[Area] = []
    communities: list[Area] = []
    cells: list[Cell] = []
    for code, seat, region in districts_raw:
        district = divisions[code]
        districts.append(
            Area(code, district.name, CITY_CODE, OrgKind.DISTRICT, _unproject(region), f"{district.pinyin} District")
        )
        for street in _streets_of(code, seat, region, _children(divisions, code), seed):
            streets.append(street.area)
            for community, piece in _communities_of(street, seed):
                communities.append(community)
                cells.extend(_cells_of(community, street.area_class, piece, seed))
    city_geometry = shapely.union_all([d.geometry for d in districts])
    city = Area(CITY_CODE, CITY_NAME, None, OrgKind.CITY, city_geometry, "Beijing")
    return DemoGeometry(city, districts, streets, communities, cells)


# -- source data ------------------------------------------------------------------------------------


def _load_districts() -> list[tuple[str, tuple[float, float], BaseGeometry]]:
    """(code, projected seat, projected polygon) of the 16 districts, converted GCJ-02 → WGS-84."""
    doc = json.loads((_DATA / "beijing_districts_110100_full.geojson").read_text(encoding="utf-8"))
    out = []
    for feature in doc["features"]:
        props = feature["properties"]
        wgs = convert_geometry(shape(feature["geometry"]), CRS.GCJ02, CRS.WGS84)
        region = _areal(_polygons(shapely.set_precision(_project(wgs), GRID)))
        lon, lat = props["center"]
        seat = _project_point(convert_point(lon, lat, CRS.GCJ02, CRS.WGS84))
        out.append((f"{props['adcode']}000000", seat, region))
    return out


def _load_divisions() -> dict[str, _Division]:
    text = (_DATA / "beijing_admin_codes_level4_from_areacity.csv").read_text(encoding="utf-8")
    divisions = {}
    for row in csv.DictReader(text.splitlines()):
        if row["deep"] not in {"2", "3"}:
            continue
        pinyin = row["pinyin"].split()
        if row["ext_name"].endswith("地区"):  # the list's short name keeps 地区 (di qu)
            pinyin = pinyin[:-2]
        divisions[row["ext_id"]] = _Division(row["ext_id"], row["ext_name"], row["name"], "".join(pinyin).title())
    return divisions


def _children(divisions: dict[str, _Division], district_code: str) -> list[_Division]:
    prefix = district_code[:6]
    return [d for code, d in divisions.items() if code.startswith(prefix) and code != district_code]


# -- the three synthetic levels ----------------------------------------------------------------------


def _streets_of(
    district_code: str, seat: tuple[float, float], region: BaseGeometry, divisions: list[_Division], seed: int
) -> Iterable[_Street]:
    """The district's streets/towns: 街道 on the pieces nearest the seat, 乡镇 further out."""
    rng = _rng(seed, district_code)
    streets = [d for d in divisions if _street_kind(d) is OrgKind.STREET]
    towns = [d for d in divisions if _street_kind(d) is OrgKind.TOWN]
    density = _urban_density(seat, math.sqrt(region.area / math.pi))
    pieces = _split(region, len(divisions), rng, density if towns else None)
    pieces.sort(key=lambda p: -float(density(np.array([p.anchor]))[0]))
    for group, group_pieces in ((streets, pieces[: len(streets)]), (towns, pieces[len(streets) :])):
        for division, piece in zip(group, _reading_order(group_pieces), strict=True):
            area_class = _area_class(district_code, division, piece)
            area = Area(
                division.code,
                division.name,
                district_code,
                _street_kind(division),
                _unproject(piece.geometry),
                f"{division.pinyin} {_english_suffix(division.name)}",
                area_class,
            )
            yield _Street(area, area_class, division.short, piece)


def _communities_of(street: _Street, seed: int) -> Iterable[tuple[Area, _Piece]]:
    """社区 in a 街道; in a 乡镇 the pieces nearest its centre are 社区 and the rest 村."""
    rng = _rng(seed, street.area.code)
    pieces = _split(street.piece.geometry, _count(COMMUNITIES_PER_STREET[street.area_class], rng), rng)
    pieces.sort(key=lambda p: _distance(p.anchor, street.piece.anchor))
    n_urban = _urban_communities(street.area, len(pieces))
    urban, villages = _reading_order(pieces[:n_urban]), _reading_order(pieces[n_urban:])
    for i, p in enumerate(urban, start=1):
        yield _community(street, i, f"{street.short}第{_chinese_number(i)}社区", p), p
    for i, p in enumerate(villages, start=VILLAGE_SERIAL_START):
        yield _community(street, i, f"{street.short}{_chinese_number(i - VILLAGE_SERIAL_START + 1)}村", p), p


def _urban_communities(street: Area, total: int) -> int:
    """How many of a street's communities are 社区 rather than 村: all in a 街道, half in an
    urbanised 地区, the one at the centre of a 乡/镇."""
    if street.kind is OrgKind.STREET:
        return total
    return total // 2 if street.name.endswith("地区") else 1


def _community(street: _Street, serial: int, name: str, piece: _Piece) -> Area:
    code = f"{street.area.code[:9]}{serial:03d}"
    geometry = _unproject(piece.geometry)
    return Area(code, name, street.area.code, OrgKind.COMMUNITY, geometry, None, street.area_class)


def _cells_of(community: Area, area_class: AreaClass, piece: _Piece, seed: int) -> list[Cell]:
    rng = _rng(seed, community.code)
    pieces = _reading_order(_split(piece.geometry, _count(CELLS_PER_COMMUNITY[area_class], rng), rng))
    return [
        Cell(
            f"{community.code}{i:03d}",
            f"{community.name}{i:02d}号网格",
            community.code,
            area_class,
            _unproject(p.geometry),
        )
        for i, p in enumerate(pieces, start=1)
    ]


def _count(bounds: tuple[int, int], rng: np.random.Generator) -> int:
    low, high = bounds
    return int(rng.integers(low, high + 1))


def _street_kind(division: _Division) -> OrgKind:
    return OrgKind.STREET if division.name.endswith("街道") else OrgKind.TOWN


def _area_class(district_code: str, division: _Division, piece: _Piece) -> AreaClass:
    if district_code in CORE_DISTRICTS:
        return AreaClass.A
    if _street_kind(division) is OrgKind.STREET:
        near = _distance(piece.anchor, _project_point(TIANANMEN)) * KM_PER_DEGREE < CORE_RADIUS_KM
        return AreaClass.A if near else AreaClass.B
    return AreaClass.B if division.name.endswith("地区") else AreaClass.C


def _english_suffix(name: str) -> str:
    for suffix, english in (("街道", "Subdistrict"), ("地区", "Area"), ("镇", "Town"), ("乡", "Township")):
        if name.endswith(suffix):
            return english
    raise ValueError(f"unexpected street/town name {name!r}")


def _chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十 (1 to 99)."""
    tens, units = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else f"{_CN_DIGITS[tens]}十")
    return head + (_CN_DIGITS[units] if units else "")


# -- partitioning --------------------------------------------------------------------------------------


def _split(region: BaseGeometry, n: int, rng: np.random.Generator, weight: Weight | None = None) -> list[_Piece]:
    """``region`` cut into ``n`` pieces that tile it exactly (up to the snapping grid)."""
    if n == 1:
        return [_piece(region)]
    seeds = _seeds(region, n, rng, weight)
    voronoi = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=region, ordered=True)
    clipped = shapely.intersection(shapely.get_parts(voronoi), region, grid_size=GRID)
    return [_piece(g) for g in _absorb_fragments([_polygons(g) for g in clipped])]


def _seeds(region: BaseGeometry, n: int, rng: np.random.Generator, weight: Weight | None) -> NDArray[np.float64]:
    """``n`` well-spread points inside ``region``: k-means centres of points sampled in it, each
    moved to the nearest unused sample (a centre of a concave region may lie outside it)."""
    samples = _sample(region, n * SAMPLES_PER_SEED, rng, weight)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # an empty cluster is harmless: we snap to samples
        centres, _labels = kmeans2(samples, n, minit="++", rng=rng)
    distances = cdist(centres, samples)
    chosen: list[int] = []
    for row in distances:
        row[chosen] = np.inf
        chosen.append(int(np.argmin(row)))
    return samples[chosen]


def _sample(region: BaseGeometry, count: int, rng: np.random.Generator, weight: Weight | None) -> NDArray[np.float64]:
    """``count`` random points inside ``region``, thinned by ``weight`` (a density in 0..1)."""
    shapely.prepare(region)
    minx, miny, maxx, maxy = region.bounds
    batches: list[NDArray[np.float64]] = []
    found = 0
    while found < count:
        points = rng.uniform((minx, miny), (maxx, maxy), size=(2 * count, 2))
        keep = shapely.contains_xy(region, points[:, 0], points[:, 1])
        if weight is not None:
            keep &= rng.random(len(points)) < weight(points)
        batches.append(points[keep])
        found += int(keep.sum())
    return np.concatenate(batches)[:count]


def _urban_density(seat: tuple[float, float], radius: float) -> Weight:
    """How urban a place is (0..1]: near the district seat or near the city centre."""
    centre = _project_point(TIANANMEN)
    city_scale = CITY_SCALE_KM / KM_PER_DEGREE

    def density(points: NDArray[np.float64]) -> NDArray[np.float64]:
        to_seat = np.hypot(points[:, 0] - seat[0], points[:, 1] - seat[1]) / (URBAN_SCALE * radius)
        to_centre = np.hypot(points[:, 0] - centre[0], points[:, 1] - centre[1]) / city_scale
        return 1.0 / (1.0 + np.minimum(to_seat, to_centre) ** 2)

    return density


def _absorb_fragments(pieces: list[list[Polygon]]) -> list[BaseGeometry]:
    """Clipping a convex Voronoi cell to a ragged boundary can leave detached fragments; give each
    to the neighbour it shares the longest border with. Every move merges two parts into one, so
    the loop ends; a fragment with no neighbour (an exclave) stays where it is."""
    while (move := _next_move(pieces)) is not None:
        i, f, j, k, merged = move
        pieces[i].pop(f)
        pieces[j][k] = merged
    return [_areal(parts) for parts in pieces]


def _next_move(pieces: list[list[Polygon]]) -> tuple[int, int, int, int, Polygon] | None:
    fragments = sorted(
        (part.area, i, f) for i, parts in enumerate(pieces) for f, part in enumerate(parts) if f != _largest(parts)
    )
    for _area, i, f in fragments:
        fragment = pieces[i][f]
        for border, j, k in sorted(_borders(pieces, i, fragment), reverse=True):
            merged = shapely.union(pieces[j][k], fragment, grid_size=GRID)
            if border > 0 and isinstance(merged, Polygon):
                return i, f, j, k, merged
    return None


def _borders(pieces: list[list[Polygon]], owner: int, fragment: Polygon) -> list[tuple[float, int, int]]:
    """(shared border length, piece, part) for every part of another piece touching ``fragment``."""
    return [
        (shapely.intersection(fragment.boundary, part.boundary, grid_size=GRID).length, j, k)
        for j, parts in enumerate(pieces)
        if j != owner
        for k, part in enumerate(parts)
        if shapely.intersects(fragment, part)
    ]


def _largest(parts: Sequence[Polygon]) -> int:
    return max(range(len(parts)), key=lambda k: parts[k].area)


def _polygons(geom: BaseGeometry) -> list[Polygon]:
    return [p for p in shapely.get_parts(geom) if isinstance(p, Polygon) and p.area > 0]


def _areal(parts: Sequence[Polygon]) -> BaseGeometry:
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


def _piece(geom: BaseGeometry) -> _Piece:
    centroid = geom.centroid
    point = centroid if geom.contains(centroid) else geom.point_on_surface()
    return _Piece(geom, (point.x, point.y))


def _reading_order(pieces: Iterable[_Piece]) -> list[_Piece]:
    """North to south, then west to east, so serials read like a map."""
    return sorted(pieces, key=lambda p: (-p.anchor[1], p.anchor[0]))


# -- small helpers ------------------------------------------------------------------------------------


def _rng(seed: int, code: str) -> np.random.Generator:
    """One independent stream per area, so changing one area's rules leaves the others alone."""
    return np.random.default_rng([seed, int(code)])


def _distance(a: tuple[float, float], b: tuple[float, float]) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


def _project(geom: Any) -> Any:
    return shapely.transform(geom, lambda c: c * _SCALE)


def _unproject(geom: Any) -> Any:
    return shapely.transform(geom, lambda c: c / _SCALE)


def _project_point(point: tuple[float, float]) -> tuple[float, float]:
    return point[0] * float(_SCALE[0]), point[1]
