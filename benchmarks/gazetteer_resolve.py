"""Address → gazetteer place: speed of `chengguan.geo.gazetteer.GazetteerIndex` on the demo city.

The index holds what the demo database holds: the 16 districts, 339 streets/towns and 2,050
communities of `chengguan.demo.geometry.build_city_geometry(2026)` plus the 264 roads and POIs
of `demo/data/beijing_gazetteer.csv`. Addresses are generated from them (seeded): a road with a
house number, a junction of two roads, a POI with or without its district, a community with a
building number, a misspelt road, and text naming nothing. Every generated address is checked
to resolve to the place it was made from (or to nothing) before any time is reported.

    .venv/bin/python benchmarks/gazetteer_resolve.py [--addresses 200000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable

import shapely

from chengguan.demo.gazetteer import read_demo_entries
from chengguan.demo.geometry import CITY_CODE, build_city_geometry
from chengguan.geo.gazetteer import DISTINCT_CHARS, AddressMatch, GazetteerIndex, Place
from chengguan.geo.models import EntryKind, area_point
from chengguan.kit.coords import CRS, convert_geometry, convert_point

SUFFIXES = ("附近", "门口", "对面", "旁边", "")  # no 南侧: 天通苑南侧 reads as 天通苑南(街道)
Make = Callable[[random.Random], tuple[str, str | None]]


def places() -> list[Place]:
    city = build_city_geometry(2026)
    out: list[Place] = []
    ids: dict[str, int] = {}
    paths: dict[str, str] = {CITY_CODE: f"/{CITY_CODE}/"}
    for kind, areas in ((EntryKind.DISTRICT, city.districts), (EntryKind.STREET, city.streets)):
        for area in areas:
            ids[area.code] = len(out) + 1
            paths[area.code] = f"{paths[area.parent_code or CITY_CODE]}{area.code}/"
            out.append(_area(kind, area.name, area.geometry, paths[area.code], ids, area.code))
    for area in city.communities:
        ids[area.code] = len(out) + 1
        paths[area.code] = f"{paths[area.parent_code or CITY_CODE]}{area.code}/"
        out.append(_area(EntryKind.COMMUNITY, area.name, area.geometry, paths[area.code], ids, area.code))
    for entry in read_demo_entries().entries:
        line = convert_geometry(shapely.from_wkt(entry.line), entry.crs, CRS.WGS84) if entry.line else None
        if entry.lon is not None and entry.lat is not None:
            lon, lat = convert_point(entry.lon, entry.lat, entry.crs, CRS.WGS84)
        else:
            middle = line.interpolate(0.5, normalized=True)
            lon, lat = middle.x, middle.y
        district = ids[entry.org_code]
        kind = EntryKind(entry.kind)
        out.append(
            Place(
                len(out) + 1,
                kind,
                entry.name,
                lon,
                lat,
                paths[entry.org_code],
                tuple(entry.aliases),
                district,
                line=line,
            )
        )
    return out


def _area(kind: EntryKind, name: str, geometry, path: str, ids: dict[str, int], code: str) -> Place:
    lon, lat = area_point(geometry)
    chain = [ids.get(c) for c in path.strip("/").split("/")[1:]]
    chain += [None] * (3 - len(chain))
    return Place(ids[code], kind, name, lon, lat, path, (), chain[0], chain[1], chain[2])


def generators(all_places: list[Place]) -> list[tuple[float, Make]]:
    by_kind: dict[EntryKind, list[Place]] = {k: [p for p in all_places if p.kind is k] for k in EntryKind}
    district_of = {p.district_id: p.name for p in by_kind[EntryKind.DISTRICT]}
    roads_with_lines = [p for p in by_kind[EntryKind.ROAD] if p.line is not None]

    def road(rng: random.Random) -> tuple[str, str | None]:
        p = rng.choice(by_kind[EntryKind.ROAD])
        return f"北京市{district_of[p.district_id]}{p.name}{rng.randint(1, 300)}号", p.name

    def poi(rng: random.Random) -> tuple[str, str | None]:
        p = rng.choice(by_kind[EntryKind.POI])
        district = district_of[p.district_id] if rng.random() < 0.6 else ""
        return f"{district}{p.name}{rng.choice(SUFFIXES)}", p.name

    def community(rng: random.Random) -> tuple[str, str | None]:
        p = rng.choice(by_kind[EntryKind.COMMUNITY])
        return f"{district_of[p.district_id]}{p.name}{rng.randint(1, 40)}号楼{rng.randint(1, 6)}单元", p.name

    def junction(rng: random.Random) -> tuple[str, str | None]:
        p = rng.choice(roads_with_lines)
        return f"{district_of[p.district_id]}{p.name}与某某路交叉口", p.name

    def typo(rng: random.Random) -> tuple[str, str | None]:
        p = rng.choice([r for r in by_kind[EntryKind.ROAD] if len(r.name) >= 5])
        spots = [i for i, c in enumerate(p.name) if c not in DISTINCT_CHARS]
        i = rng.choice(spots)
        wrong = p.name[:i] + "衔" + p.name[i + 1 :]
        return f"{district_of[p.district_id]}{wrong}{rng.randint(1, 99)}号", None  # a typo may land elsewhere

    def nothing(rng: random.Random) -> tuple[str, str | None]:
        return f"某某小区{rng.randint(1, 99)}号楼{rng.randint(100, 999)}室", None

    return [(0.30, road), (0.25, poi), (0.15, community), (0.10, junction), (0.10, typo), (0.10, nothing)]


def addresses(all_places: list[Place], n: int, seed: int = 7) -> list[tuple[str, str | None]]:
    rng = random.Random(seed)
    weights, makers = zip(*generators(all_places), strict=True)
    return [rng.choices(makers, weights)[0](rng) for _ in range(n)]


def check(index: GazetteerIndex, sample: list[tuple[str, str | None]]) -> None:
    wrong = []
    for text, expected in sample:
        match: AddressMatch | None = index.resolve(text)
        if expected is not None and (match is None or expected not in match.names):
            wrong.append((text, expected, match and match.names))
        if text.startswith("某某") and match is not None:
            wrong.append((text, None, match.names))
    if wrong:
        for case in wrong[:20]:
            print("WRONG", case)
        raise SystemExit(f"{len(wrong)} of {len(sample)} addresses resolved wrongly")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--addresses", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    all_places = places()
    started = time.perf_counter()
    index = GazetteerIndex(all_places)
    print(f"index: {len(index)} places built in {time.perf_counter() - started:.3f} s")
    texts = addresses(all_places, args.addresses)
    check(index, texts[:20_000])
    print(f"checked 20,000 addresses; {len(set(t for t, _ in texts)):,} distinct of {len(texts):,}")
    single = []
    for text, _ in texts[:20_000]:
        t0 = time.perf_counter()
        index.resolve(text)
        single.append(time.perf_counter() - t0)
    single.sort()
    p99 = single[int(0.99 * len(single))]
    mean = statistics.fmean(single)
    print(
        f"one at a time: median {statistics.median(single) * 1e6:.1f} µs, mean {mean * 1e6:.1f}, p99 {p99 * 1e6:.1f} µs"
    )
    batch = [t for t, _ in texts]
    for label, texts_run in (("as generated", batch), ("all distinct", list(dict.fromkeys(batch)))):
        rates = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            index.resolve_many(texts_run)
            rates.append(len(texts_run) / (time.perf_counter() - t0))
        print(f"resolve_many, {label}: median {statistics.median(rates):,.0f} addresses/s ({len(texts_run):,} per run)")


if __name__ == "__main__":
    main()
