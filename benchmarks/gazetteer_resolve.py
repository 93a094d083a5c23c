"""Address → gazetteer place: accuracy and speed of `chengguan.geo.gazetteer.GazetteerIndex` on
the demo city, in memory and through the database (`geo.gazetteer_service` on SQLite).

The index holds what the demo database holds: the 16 districts, 339 streets/towns and 2,050
communities of `chengguan.demo.geometry.build_city_geometry(2026)` plus the 264 roads and POIs
of `demo/data/beijing_gazetteer.csv`. Addresses are generated from them (seeded): a road with a
house number, a junction of two roads, a POI with or without its district, a community with a
building number, a misspelt road (one character replaced, never one of DISTINCT_CHARS), and text
naming nothing. Accuracy is measured on the first 20,000: an address made from a place must
resolve to it (a misspelt road: to it, to nothing, or to something else, counted apart), text
naming nothing must resolve to nothing; any other wrong answer makes the script exit non-zero
before a time is reported.

The database path builds the demo city into a fresh SQLite file (`chengguan.demo.build_demo`),
then resolves through `gazetteer_service.resolve_many` in batches (one revision check per batch,
as the intake pipeline does) and `resolve_address` one at a time; the answers must equal the
in-memory index's. The in-memory index, timed in the same run, is the baseline.

    .venv/bin/python benchmarks/gazetteer_resolve.py [--addresses 200000] [--no-db]
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import shapely
from shapely.geometry import Point
from sqlalchemy.orm import Session

from chengguan import db, migrate
from chengguan.config import Settings
from chengguan.console import cli_actor
from chengguan.demo.build import build_demo
from chengguan.demo.gazetteer import read_demo_entries
from chengguan.demo.geometry import CITY_CODE, build_city_geometry
from chengguan.geo import gazetteer_service
from chengguan.geo.gazetteer import DISTINCT_CHARS, AddressMatch, GazetteerIndex, Place
from chengguan.geo.models import EntryKind, area_point
from chengguan.kit.coords import CRS, convert_geometry, convert_point

SUFFIXES = ("附近", "门口", "对面", "旁边", "")  # no 南侧: 天通苑南侧 reads as 天通苑南(街道)
CHECKED = 20_000
Make = Callable[[random.Random], tuple[str, str | None]]


class Address(NamedTuple):
    text: str
    expected: str | None  # the name of the place it was made from; None: it names nothing
    kind: str  # the generator


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


def generators(all_places: list[Place]) -> dict[str, tuple[float, Make]]:
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
        return f"{district_of[p.district_id]}{wrong}{rng.randint(1, 99)}号", p.name

    def nothing(rng: random.Random) -> tuple[str, str | None]:
        return f"某某小区{rng.randint(1, 99)}号楼{rng.randint(100, 999)}室", None

    return {
        "road + number": (0.30, road),
        "POI": (0.25, poi),
        "community + building": (0.15, community),
        "junction": (0.10, junction),
        "misspelt road": (0.10, typo),
        "names nothing": (0.10, nothing),
    }


def addresses(all_places: list[Place], n: int, seed: int = 7) -> list[Address]:
    rng = random.Random(seed)
    kinds = generators(all_places)
    names, weights = list(kinds), [w for w, _ in kinds.values()]
    out = []
    for _ in range(n):
        kind = rng.choices(names, weights)[0]
        out.append(Address(*kinds[kind][1](rng), kind))
    return out


def outcome(address: Address, match: AddressMatch | None) -> str:
    if match is None:
        return "right" if address.expected is None else "nothing"
    return "right" if address.expected in match.names else "elsewhere"


def metres_to(place: Place, lon: float, lat: float) -> float:
    """Ground distance from (lon, lat) to the place: its line for a road that has one, else its point."""
    if place.line is not None:
        nearest = place.line.interpolate(place.line.project(Point(lon, lat)))
        return _metres(lon, lat, nearest.x, nearest.y)
    return _metres(lon, lat, place.lon, place.lat)


def _metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    kx = math.cos(math.radians((lat1 + lat2) / 2))
    return 111_195.0 * math.hypot((lon2 - lon1) * kx, lat2 - lat1)


def check(index: GazetteerIndex, sample: list[Address]) -> None:
    """Per kind of address, how many resolve right, and how far off the others land; exit if any
    but a misspelt road is wrong."""
    named: dict[str, list[Place]] = {}
    for place in index.places:
        named.setdefault(place.name, []).append(place)
    tally: dict[str, Counter[str]] = {}
    off: dict[str, list[float]] = {}
    wrong = []
    for address in sample:
        match = index.resolve(address.text)
        result = outcome(address, match)
        tally.setdefault(address.kind, Counter())[result] += 1
        if match is not None and result == "elsewhere" and address.expected is not None:
            metres = min(metres_to(p, match.lon, match.lat) for p in named[address.expected])
            off.setdefault(address.kind, []).append(metres)
        if result != "right" and address.kind != "misspelt road":
            wrong.append((address, match and match.names))
    print(f"\naccuracy on the first {len(sample):,} addresses:\n")
    print("| address | n | right | to nothing | elsewhere | elsewhere: median m off |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for kind, counts in tally.items():
        n = sum(counts.values())
        shares = " | ".join(f"{counts[r] / n:.1%}" for r in ("right", "nothing", "elsewhere"))
        metres = f"{statistics.median(off[kind]):,.0f}" if kind in off else "–"
        print(f"| {kind} | {n:,} | {shares} | {metres} |")
    if wrong:
        for case in wrong[:20]:
            print("WRONG", case)
        raise SystemExit(f"{len(wrong)} of {len(sample)} addresses resolved wrongly")


def one_at_a_time(resolve: Callable[[str], object], sample: Sequence[Address]) -> dict[str, list[float]]:
    """Seconds of each call, by kind of address."""
    times: dict[str, list[float]] = {}
    for address in sample:
        t0 = time.perf_counter()
        resolve(address.text)
        times.setdefault(address.kind, []).append(time.perf_counter() - t0)
    return times


def describe(times: Sequence[float]) -> str:
    ordered = sorted(times)
    p99 = ordered[int(0.99 * len(ordered))]
    return (
        f"median {statistics.median(ordered) * 1e6:6.1f} µs, mean {statistics.fmean(ordered) * 1e6:6.1f}, "
        f"p99 {p99 * 1e6:6.1f} µs"
    )


def rate(resolve_all: Callable[[list[str]], object], texts: list[str], runs: int) -> float:
    """Median addresses/s over ``runs`` timed runs."""
    rates = []
    for _ in range(runs):
        t0 = time.perf_counter()
        resolve_all(texts)
        rates.append(len(texts) / (time.perf_counter() - t0))
    return statistics.median(rates)


def in_batches(resolve_many: Callable[[list[str]], object], size: int) -> Callable[[list[str]], None]:
    def run(texts: list[str]) -> None:
        for start in range(0, len(texts), size):
            resolve_many(texts[start : start + size])

    return run


def same_answers(a: AddressMatch | None, b: AddressMatch | None) -> bool:
    if a is None or b is None:
        return a is b
    return (a.names, a.level, round(a.lon, 9), round(a.lat, 9)) == (b.names, b.level, round(b.lon, 9), round(b.lat, 9))


def through_database(texts: list[Address], batch: int, runs: int) -> None:
    """The demo city in SQLite; the service's answers must equal those of an index built in memory
    from the same entries (which places roads and POIs in their street or community, as the
    in-memory places above do not), the baseline of the timings."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'chengguan.db'}"
        started = time.perf_counter()
        migrate.upgrade(url)
        engine = db.create_engine(url)
        factory = db.make_sessionmaker(engine)
        with db.unit_of_work(factory, actor=cli_actor("benchmark")) as session:
            build_demo(session, Settings(data_dir=Path(tmp)))
        print(f"\n## Through the database\n\ndemo city built into SQLite in {time.perf_counter() - started:.0f} s")
        with db.unit_of_work(factory, actor=cli_actor("benchmark")) as session:
            started = time.perf_counter()
            gazetteer_service.gazetteer_index(session)
            print(f"service's index (entries read, index built, cached): {time.perf_counter() - started:.2f} s")
            index = GazetteerIndex(gazetteer_service.load_places(session))
            check(index, texts[:CHECKED])
            sample = [a.text for a in texts[:CHECKED]]
            answers = zip(gazetteer_service.resolve_many(session, sample), index.resolve_many(sample), strict=True)
            differ = sum(not same_answers(x, y) for x, y in answers)
            print(f"\nservice answers differing from the in-memory index: {differ} of {len(sample):,}")
            if differ:
                sys.exit("the database path answers differently")
            measure(session, index, texts, batch, runs)
        engine.dispose()


def measure(session: Session, index: GazetteerIndex, texts: list[Address], batch: int, runs: int) -> None:
    distinct = list(dict.fromkeys(a.text for a in texts))
    print(f"\n{len(distinct):,} distinct addresses, resolve_many in batches of {batch:,}, median of {runs} runs:\n")
    print("| path | addresses/s | vs in-memory |\n| --- | ---: | ---: |")
    memory = rate(in_batches(index.resolve_many, batch), distinct, runs)
    database = rate(in_batches(lambda t: gazetteer_service.resolve_many(session, t), batch), distinct, runs)
    print(f"| GazetteerIndex.resolve_many (in memory) | {memory:,.0f} | 1.00× |")
    print(f"| gazetteer_service.resolve_many (SQLite) | {database:,.0f} | {database / memory:.2f}× |")
    sample = texts[:5_000]
    alone = [t for ts in one_at_a_time(index.resolve, sample).values() for t in ts]
    served = one_at_a_time(lambda t: gazetteer_service.resolve_address(session, t), sample)
    print(f"\none at a time, {len(sample):,} addresses: in memory {describe(alone)}")
    print(f"{'':31}SQLite    {describe([t for ts in served.values() for t in ts])}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--addresses", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=1_000, help="addresses per resolve_many call, database path")
    parser.add_argument("--no-db", action="store_true", help="skip the database path")
    args = parser.parse_args()
    print(f"# gazetteer_resolve {dt.date.today()}, load average {os.getloadavg()[0]:.2f}")
    all_places = places()
    started = time.perf_counter()
    index = GazetteerIndex(all_places)
    print(f"index: {len(index)} places built in {time.perf_counter() - started:.3f} s")
    texts = addresses(all_places, args.addresses)
    check(index, texts[:CHECKED])
    print(f"\n{len({a.text for a in texts}):,} distinct of {len(texts):,} addresses")
    print(f"\none at a time, first {CHECKED:,} (warm):\n")
    index.resolve_many([a.text for a in texts[:CHECKED]])
    by_kind = one_at_a_time(index.resolve, texts[:CHECKED])
    print(f"  {'all':22} {describe([t for ts in by_kind.values() for t in ts])}")
    for kind, times in by_kind.items():
        print(f"  {kind:22} {describe(times)}")
    batch = [a.text for a in texts]
    for label, texts_run in (("as generated", batch), ("all distinct", list(dict.fromkeys(batch)))):
        print(f"resolve_many, {label}: median {rate(index.resolve_many, texts_run, args.runs):,.0f} addresses/s")
    if not args.no_db:
        through_database(texts, args.batch, args.runs)
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
