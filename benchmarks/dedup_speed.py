"""Duplicate detection speed against 1,000,000 open events: the bulk path (DedupIndex), single
queries, the database path (SQLite, indexed by bucket), memory, and brute force as the baseline.
The bulk path is also timed the way ``intake/pipeline.py`` calls it today (``decide`` over
``DedupIndex.candidates``, report by report).

    .venv/bin/python benchmarks/dedup_speed.py                    # 1M open events over 14 days
    .venv/bin/python benchmarks/dedup_speed.py --days 3           # worst case: all 1M inside the window

Open events sit in the demo city (``build_city_geometry``): a uniformly drawn unit grid cell (small
in the centre, large in the outer towns, so events cluster where people are) and a point near
its centre, plus 20 % around 5,000 hot spots (markets, stations: σ 40 m). Category and text come
from the synthetic generator's templates. First reports are spread over ``--days`` before "now",
each event's last report up to a day later. Reports arrive over the next hour: 30 % of them near
an open event of the same 小类 (± 25 m, other words), the rest anywhere, like the events.

The bulk ways run in batches of ``--batch`` reports with the cyclic garbage collector paused in
each batch, as ``pipeline.process`` runs (``kit.gcpause``); the times are wall clock and this
process's CPU time (the machine is shared: CPU time moves less with the other work on it).

Correctness first: for ``--check`` reports, the eligible candidates (same 大类, within radius and
window) found through the index and through SQLite equal those of a brute-force scan of all
events with numpy; the script exits non-zero otherwise. Brute force is also the speed baseline.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import itertools
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import shapely
from numpy.typing import NDArray

from chengguan.demo.geometry import build_city_geometry
from chengguan.intake.dedup import (
    M_PER_DEGREE,
    Action,
    Candidate,
    Decision,
    DedupConfig,
    DedupIndex,
    Query,
    bucket,
    decide,
    major_key,
    neighbour_buckets,
    normalise,
    score,
)
from chengguan.kit.gcpause import gc_paused
from dedup_synth import random_text

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
OPEN = ("accepted", "consultation", "dispatched")
FloatArray = NDArray[np.float64]


@dataclass
class Events:
    """The open events as columns (for brute force and for the SQLite load)."""

    lon: FloatArray
    lat: FloatArray
    first: FloatArray
    last: FloatArray
    keys: list[str]
    texts: list[str]  # raw, as reported

    def candidates(self, ids: range | NDArray[np.int64]) -> Iterator[Candidate]:
        for i in ids:
            yield Candidate(
                int(i),
                self.keys[i],
                float(self.lon[i]),
                float(self.lat[i]),
                dt.datetime.fromtimestamp(self.first[i], dt.UTC),
                dt.datetime.fromtimestamp(self.last[i], dt.UTC),
                normalise(self.texts[i]),
            )


def city_points(rng: np.random.Generator, n: int) -> tuple[FloatArray, FloatArray]:
    cells = np.array([c.geometry for c in build_city_geometry(2026).cells], dtype=object)
    centres = shapely.get_coordinates(shapely.point_on_surface(cells))
    size = np.sqrt(shapely.area(cells))  # degrees, roughly the cell's side
    hot = int(n * 0.2)
    pick = rng.integers(0, len(cells), n - hot)
    lon = centres[pick, 0] + rng.normal(0, 1, n - hot) * size[pick] / 4
    lat = centres[pick, 1] + rng.normal(0, 1, n - hot) * size[pick] / 4
    spots = centres[rng.integers(0, len(cells), 5_000)]
    at = rng.integers(0, len(spots), hot)
    sigma = 40 / M_PER_DEGREE
    lon = np.concatenate([lon, spots[at, 0] + rng.normal(0, sigma * 1.3, hot)])
    lat = np.concatenate([lat, spots[at, 1] + rng.normal(0, sigma, hot)])
    order = rng.permutation(n)
    return lon[order], lat[order]


def make_events(n: int, days: float, seed: int) -> Events:
    rng = np.random.default_rng(seed)
    lon, lat = city_points(rng, n)
    first = NOW.timestamp() - rng.uniform(0, days * 86_400, n)
    last = np.minimum(first + rng.exponential(6 * 3600, n), NOW.timestamp())
    texts = random.Random(seed)
    pairs = [random_text(texts) for _ in range(n)]
    return Events(lon, lat, first, last, [k for k, _ in pairs], [t for _, t in pairs])


def make_reports(events: Events, n: int, seed: int) -> list[tuple[str, float, float, dt.datetime, str]]:
    """(category, lon, lat, at, raw text) in time order over the hour after NOW."""
    rng = np.random.default_rng(seed + 1)
    words = random.Random(seed + 1)
    recent = np.flatnonzero(events.last >= NOW.timestamp() - 72 * 3600)
    lon, lat = city_points(rng, n)
    reports = []
    for i in range(n):
        at = NOW + dt.timedelta(seconds=3600 * i / n)
        if rng.random() < 0.3:
            e = int(rng.choice(recent))
            key, text = random_text(words, events.keys[e])
            x = events.lon[e] + rng.normal(0, 25 / M_PER_DEGREE / 0.77)
            y = events.lat[e] + rng.normal(0, 25 / M_PER_DEGREE)
            reports.append((key, float(x), float(y), at, text))
        else:
            key, text = random_text(words)
            reports.append((key, float(lon[i]), float(lat[i]), at, text))
    return reports


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# -- the three ways to find candidates --------------------------------------------------------------


def brute_force(events: Events, majors: NDArray[np.str_], query: Query, config: DedupConfig) -> set[int]:
    """Eligible events by scanning every one (numpy), with decide()'s own rules."""
    limits = config.limits_for(query.category_key)
    stamp, window = query.at.timestamp(), limits.window.total_seconds()
    kx = np.cos(np.radians((events.lat + query.lat) / 2))
    metres = M_PER_DEGREE * np.hypot((events.lon - query.lon) * kx, events.lat - query.lat)
    gap = np.maximum(np.maximum(events.first - stamp, stamp - events.last), 0)
    hit = (majors == major_key(query.category_key)) & (metres <= limits.radius_m) & (gap <= window)
    return set(np.flatnonzero(hit).tolist())


def sqlite_store(events: Events, config: DedupConfig, path: Path) -> sqlite3.Connection:
    """The events table as the pipeline keeps it: bucket column, index (bucket, status, last)."""
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE events (id INTEGER PRIMARY KEY, status TEXT, category_key TEXT, lon REAL, lat REAL,"
        " bucket INTEGER, first_reported_at TEXT, last_reported_at TEXT, description TEXT)"
    )
    rows = (
        (
            i,
            "dispatched",
            events.keys[i],
            float(events.lon[i]),
            float(events.lat[i]),
            bucket(float(events.lon[i]), float(events.lat[i]), config.bucket_m),
            _iso(events.first[i]),
            _iso(events.last[i]),
            events.texts[i],
        )
        for i in range(len(events.keys))
    )
    db.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.execute("CREATE INDEX ix_events_bucket_status_reported ON events (bucket, status, last_reported_at)")
    db.commit()
    return db


def _iso(stamp: float) -> str:
    return dt.datetime.fromtimestamp(stamp, dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def sqlite_candidates(db: sqlite3.Connection, query: Query, config: DedupConfig) -> list[Candidate]:
    """One indexed query per report: the neighbour buckets, open, last report inside the window."""
    limits = config.limits_for(query.category_key)
    keys = neighbour_buckets(query.lon, query.lat, limits.radius_m, config.bucket_m)
    earliest = _iso(query.at.timestamp() - limits.window.total_seconds())
    latest = _iso(query.at.timestamp() + limits.window.total_seconds())
    sql = (
        "SELECT id, category_key, lon, lat, first_reported_at, last_reported_at, description FROM events"
        f" WHERE bucket IN ({','.join('?' * len(keys))}) AND status IN (?, ?, ?)"
        " AND last_reported_at >= ? AND first_reported_at <= ? AND substr(category_key, 1, 3) = ?"
    )
    params = (*keys, *OPEN, earliest, latest, major_key(query.category_key))
    return [
        Candidate(i, key, x, y, _utc(first), _utc(last), normalise(text))
        for i, key, x, y, first, last, text in db.execute(sql, params)
    ]


def _utc(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)


# -- measurements -----------------------------------------------------------------------------------


def one_by_one(
    index: DedupIndex, queries: list[Query], new_ids: Iterator[int], *, via_candidates: bool = False
) -> list[Decision]:
    """The bulk step report by report: decide (with :meth:`DedupIndex.decide`, or with
    :func:`decide` over :meth:`DedupIndex.candidates`), then stretch the event or open a new one."""
    decisions = []
    for query in queries:
        decision = decide(query, index.candidates(query), index.config) if via_candidates else index.decide(query)
        decisions.append(decision)
        target = decision.target
        if target is not None:
            index.merge(target, query.at)
        elif decision.action is Action.NEW:
            index.add(
                Candidate(next(new_ids), query.category_key, query.lon, query.lat, query.at, query.at, query.text)
            )
    return decisions


def batched(decide_batch: Callable[[list[Query]], list[Decision]], queries: list[Query], size: int) -> list[Decision]:
    """Batch by batch, the cyclic garbage collector paused in each, as ``pipeline.process`` runs."""
    decisions = []
    for start in range(0, len(queries), size):
        with gc_paused():
            decisions += decide_batch(queries[start : start + size])
    return decisions


def timed_bulk(
    make_index: Callable[[], DedupIndex], run: Callable[[DedupIndex], list[Decision]], runs: int
) -> tuple[float, float, list[Decision]]:
    """Median seconds of ``run`` over ``runs`` fresh indexes (the index grows as reports open
    events): wall clock, and this process's CPU time (less moved by other work on the machine)."""
    wall, cpu, decisions = [], [], []
    for _ in range(runs):
        index = make_index()
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        decisions = run(index)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        del index
    return statistics.median(wall), statistics.median(cpu), decisions


def latencies(fn: Callable[[Query], object], queries: list[Query]) -> NDArray[np.float64]:
    out = np.empty(len(queries))
    for i, query in enumerate(queries):
        start = time.perf_counter_ns()
        fn(query)
        out[i] = time.perf_counter_ns() - start
    return out / 1000  # µs


def describe(us: NDArray[np.float64]) -> str:
    p50, p95, p99 = np.percentile(us, [50, 95, 99])
    return f"p50 {p50:8.1f} µs  p95 {p95:8.1f} µs  p99 {p99:8.1f} µs  mean {us.mean():8.1f} µs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--days", type=float, default=14.0, help="first reports of open events spread over this")
    parser.add_argument("--batch", type=int, default=10_000, help="reports per decide_many call")
    parser.add_argument("--check", type=int, default=1_000, help="reports checked against brute force")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    config = DedupConfig()
    print(f"{dt.date.today()}  {args.events:,} open events over {args.days:g} days, {args.reports:,} reports")
    print(f"load average {os.getloadavg()[0]:.2f}")

    started = time.perf_counter()
    events = make_events(args.events, args.days, args.seed)
    raw = make_reports(events, args.reports, args.seed)
    majors = np.array([major_key(k) for k in events.keys])
    print(f"data made in {time.perf_counter() - started:.1f} s")

    normalising = time.perf_counter()
    queries = [Query(key, x, y, at, normalise(text)) for key, x, y, at, text in raw]
    per_text = (time.perf_counter() - normalising) / len(raw) * 1e6
    print(f"normalise: {per_text:.1f} µs per report text")

    gc.collect()
    before = rss_mib()
    building = time.perf_counter()
    index = DedupIndex(config, events.candidates(range(args.events)))
    built = time.perf_counter() - building
    gc.collect()
    print(f"DedupIndex build: {built:.1f} s ({args.events / built:,.0f} events/s, normalising their texts included)")
    print(f"DedupIndex memory: {rss_mib() - before:.0f} MiB for {len(index):,} events (RSS growth, texts included)")
    found = [len(index.candidates(q)) for q in queries[: args.check * 10]]
    print(
        f"events per report after blocking (大类, buckets, window, ellipse): mean {statistics.mean(found):.1f}, "
        f"p95 {np.percentile(found, 95):.0f}, max {max(found)}"
    )

    with tempfile.TemporaryDirectory() as tmp:
        loading = time.perf_counter()
        db = sqlite_store(events, config, Path(tmp) / "events.db")
        print(f"SQLite: {args.events:,} events loaded and indexed in {time.perf_counter() - loading:.1f} s")
        check(events, majors, index, db, queries[: args.check], config)

        # single reports: what the API path pays per report
        sample = queries[: min(20_000, len(queries))]
        print("\nsingle report, candidates + decide:")
        through_db = latencies(lambda q: decide(q, sqlite_candidates(db, q, config), config), sample)
        print(f"  DedupIndex.decide       {describe(latencies(index.decide, sample))}")
        print(f"  SQLite bucket query     {describe(through_db)}")
        brute = latencies(lambda q: brute_force(events, majors, q, config), queries[:200])
        print(f"  brute force (baseline)  {describe(brute)}  numpy over all events")
        db.close()
    del index

    print(f"\nbulk path, {len(queries):,} reports in time order, median of {args.runs} runs, each on a fresh index:")
    everything = range(args.events)
    recent = np.flatnonzero(events.last >= NOW.timestamp() - config.limits.window.total_seconds())
    ways: list[tuple[str, Callable[[], DedupIndex], Callable[[DedupIndex], list[Decision]]]] = [
        (
            f"decide_many, batches of {args.batch:,}",
            lambda: DedupIndex(config, events.candidates(everything)),
            lambda ix: batched(partial(ix.decide_many, new_ids=itertools.count(args.events)), queries, args.batch),
        ),
        (
            "DedupIndex.decide one by one",
            lambda: DedupIndex(config, events.candidates(everything)),
            lambda ix: batched(partial(one_by_one, ix, new_ids=itertools.count(args.events)), queries, args.batch),
        ),
        (
            "decide(q, index.candidates(q)) one by one",
            lambda: DedupIndex(config, events.candidates(everything)),
            lambda ix: batched(
                partial(one_by_one, ix, new_ids=itertools.count(args.events), via_candidates=True), queries, args.batch
            ),
        ),
        (
            f"decide_many, only the {len(recent):,} events within the window",
            lambda: DedupIndex(config, events.candidates(recent)),
            lambda ix: batched(partial(ix.decide_many, new_ids=itertools.count(args.events)), queries, args.batch),
        ),
    ]
    results = []
    print(f"  {'':52} {'reports/s':>9}  {'µs/report':>9}  {'CPU µs':>6}  vs brute force")
    for name, make_index, run in ways:
        seconds, cpu, decisions = timed_bulk(make_index, run, args.runs)
        results.append(decisions)
        per_report = seconds / len(queries) * 1e6
        print(
            f"  {name:52} {len(queries) / seconds:9,.0f}  {per_report:9.1f}  {cpu / len(queries) * 1e6:6.1f}  "
            f"{np.median(brute) / per_report:6,.0f}×"
        )
    actions = Counter(d.action.value for d in results[0])
    print(f"  (+ {per_text:.1f} µs per report normalising its text) decisions: {dict(actions)}")
    differ = [sum(_summary(a) != _summary(b) for a, b in zip(results[0], other, strict=True)) for other in results[1:]]
    print(f"  decisions differing from the first way: {differ}")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    if any(differ):
        sys.exit("the ways of deciding disagree")


def _summary(decision: Decision) -> tuple[object, ...]:
    return decision.action, tuple((s.candidate.event_id, round(s.value, 9)) for s in decision.scores)


def check(
    events: Events,
    majors: NDArray[np.str_],
    index: DedupIndex,
    db: sqlite3.Connection,
    queries: list[Query],
    config: DedupConfig,
) -> None:
    """Index and SQLite paths must find exactly the events brute force finds eligible, and decide alike."""
    wrong = 0
    eligible = 0
    for query in queries:
        truth = brute_force(events, majors, query, config)
        eligible += len(truth)
        wrong += {c.event_id for c in index.candidates(query) if score(query, c, config).eligible} != truth
        sql = sqlite_candidates(db, query, config)
        wrong += {c.event_id for c in sql if score(query, c, config).eligible} != truth
        expected = decide(query, events.candidates(sorted(truth)), config)
        for got in (index.decide(query), decide(query, sql, config)):
            wrong += _summary(got) != _summary(expected)
    print(f"checked {len(queries):,} reports against brute force: {eligible:,} eligible events, {wrong} differences")
    if wrong:
        sys.exit(f"{wrong} reports with candidates different from brute force")


if __name__ == "__main__":
    main()
