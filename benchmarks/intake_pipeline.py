"""The intake pipeline's bulk path into SQLite: normalise → place (point → cell → street →
district) → classify → dedup → dispatch (responsibility list + deadline) → write, in batches
committed one by one, against a bare indexed SQLite insert measured in the same run.

    .venv/bin/python benchmarks/intake_pipeline.py                       # builds a demo city in a temp dir
    .venv/bin/python benchmarks/intake_pipeline.py --data-dir /tmp/demo  # copies a built one's d.db

The reports are a realistic mix over the demo city: points near 3,000 random cells (so reports
repeat and merge), 20 % without a category (the classifier names one: a model trained here on
synthetic texts), 5 % in GCJ-02, times 20 s apart as a busy hotline's history. Every batch is a
fresh ``pipeline.process`` in its own transaction, as the importer and the demo history run it.

The baseline: the same number of rows inserted with one ``executemany`` into a table with the
events table's columns and indexes (what "a bare indexed SQLite insert" means here). The pipeline
writes two rows per new problem (event, report: the first automatic dispatch lives on the event
row), so half the baseline's rows/s is the ceiling of any pipeline that writes them. The baseline
runs twice: with SQLite's default page cache (2 MiB, the figure the issue quotes) and with the
platform's (``db.CACHE_KIB``), which the pipeline's connection has. One context
serves the whole run, as in the importer: a history run carries its dedup index across batches.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import resource
import shutil
import sqlite3
import statistics
import time
from pathlib import Path

from sqlalchemy import select

import chengguan.schema  # noqa: F401 - every table, for the foreign keys of the bulk inserts
from chengguan.audit import platform_actor
from chengguan.db import CACHE_KIB, create_engine, make_sessionmaker, unit_of_work
from chengguan.geo.models import GridCell
from chengguan.intake import pipeline
from chengguan.intake.bulk import BulkRun
from chengguan.intake.classifier import TextClassifier
from chengguan.intake.importer import BATCH_SIZE
from chengguan.intake.schemas import ReportIn
from chengguan.kit.coords import CRS, convert_point
from demo_city import city_copy  # benchmarks/demo_city.py

TEXTS = {
    "E0502": ["路口有人占道经营卖水果", "小区门口有人摆摊卖菜", "商贩在人行道上摆摊经营"],
    "E0401": ["店外堆放杂物占用人行道", "商铺出店经营占道", "门店把货架摆到了人行道上"],
    "E0101": ["夜间施工噪音扰民", "工地晚上还在施工很吵", "凌晨施工机械噪声太大"],
    "E0601": ["有人在路边露天烧烤油烟很大", "夜市露天烧烤烟雾扰民", "烧烤摊油烟熏人"],
}
BASELINE_DDL = """
CREATE TABLE bare (id INTEGER PRIMARY KEY, status TEXT, category_id INT, category_key TEXT, title TEXT,
  description TEXT, address TEXT, lon REAL, lat REAL, bucket INT, cell_id INT, area_class TEXT, org_id INT,
  street_id INT, district_id INT, unit_id INT, source TEXT, report_count INT, first_reported_at TEXT,
  last_reported_at TEXT, deadline_at TEXT, dispatched_at TEXT, dispatch_reason TEXT, closed_at TEXT,
  created_at TEXT, updated_at TEXT);
CREATE INDEX bare_1 ON bare (bucket, status, last_reported_at);
CREATE INDEX bare_2 ON bare (unit_id, status, deadline_at);
CREATE INDEX bare_3 ON bare (cell_id);
CREATE INDEX bare_4 ON bare (first_reported_at);
CREATE INDEX bare_5 ON bare (org_id);
"""


def make_reports(points: list[tuple[float, float]], n: int, start: dt.datetime, rng: random.Random) -> list[ReportIn]:
    out = []
    for i in range(n):
        key = rng.choice(list(TEXTS))
        x, y = rng.choice(points)
        x, y, crs = x + rng.uniform(-1e-3, 1e-3), y + rng.uniform(-1e-3, 1e-3), CRS.WGS84
        if rng.random() < 0.05:
            x, y = convert_point(x, y, CRS.WGS84, CRS.GCJ02)
            crs = CRS.GCJ02
        out.append(
            ReportIn(
                channel="hotline",
                external_id=f"bench-{start:%Y%m%d%H%M}-{i}",
                description=rng.choice(TEXTS[key]),
                category_key=None if rng.random() < 0.2 else key,
                lon=x,
                lat=y,
                crs=crs,
                submitted_at=start + dt.timedelta(seconds=20 * i),
            )
        )
    return out


def baseline(path: Path, rows: int, runs: int, cache_kib: int | None = None) -> float:
    """Median rows/s of a bare executemany into an events-shaped indexed table (fresh each run),
    with SQLite's default page cache or, given ``cache_kib``, the one the platform's connections use."""
    now = dt.datetime(2026, 1, 5, tzinfo=dt.UTC).isoformat()
    params = [
        ("dispatched", 5, "E0502", "路口有人占道经营卖水果", "路口有人占道经营卖水果", None, 116.3 + i * 1e-6, 39.9,
         3724123016 + i % 50_000, 1 + i % 9_000, "A", 100 + i % 2_000, 50, 10, 200 + i % 600, "hotline", 1,
         now, now, now, now,
         "网格 110105001001001 A类; 清单第37行; 事件先属地; 处置时限 2 working_hours (A类)", None, now, now)
        for i in range(rows)
    ]  # fmt: skip
    marks = ", ".join("?" * 25)
    rates = []
    for _ in range(runs):
        con = sqlite3.connect(path)
        con.executescript(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; DROP TABLE IF EXISTS bare;"
            + (f"PRAGMA cache_size=-{cache_kib};" if cache_kib else "")
            + BASELINE_DDL
        )
        t = time.perf_counter()
        for chunk in range(0, rows, 5_000):
            con.executemany(f"INSERT INTO bare VALUES (NULL, {marks})", params[chunk : chunk + 5_000])
            con.commit()
        rates.append(rows / (time.perf_counter() - t))
        con.execute("DROP TABLE bare")
        con.close()
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, help="a directory holding a built demo (d.db), copied")
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=BATCH_SIZE, help="default: the importer's")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    work = city_copy(args.data_dir, "chengguan-pipeline-bench-")
    rng = random.Random(args.seed)
    texts = [t for ts in TEXTS.values() for t in ts]
    labels = [k for k, ts in TEXTS.items() for _ in ts]
    classifier = TextClassifier.train(texts * 20, labels * 20, folds=2, seed=args.seed)
    engine = create_engine(f"sqlite:///{work / 'base.db'}")
    with make_sessionmaker(engine)() as session:
        cells = session.scalars(select(GridCell.geometry).execution_options(skip_scope=True)).all()
    engine.dispose()
    points = [(p.x, p.y) for p in (g.representative_point() for g in rng.sample(list(cells), 3_000))]
    start = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    reports = make_reports(points, args.reports, start, rng)

    # Both ways of writing, run by run in turn: batches written in this process as decided, and
    # by the bulk run's writer process while the next is decided (what the importer runs).
    modes = {"one process": False, "writer process": True}
    rates: dict[str, list[float]] = {m: [] for m in modes}
    cpu: dict[str, list[float]] = {m: [] for m in modes}  # per 1,000 reports, this process and the writer's
    shares = []
    for run in range(args.runs):
        for mode, separate in modes.items():
            db = work / f"run{run}.db"
            shutil.copy(work / "base.db", db)
            engine = create_engine(f"sqlite:///{db}")
            factory = make_sessionmaker(engine)
            with unit_of_work(factory, actor=platform_actor("bench")) as session:
                ctx = pipeline.context(session, classifier=classifier, historical=True)
            counts = [0, 0]  # created, merged

            def tally(result: pipeline.Result, counts: list[int] = counts) -> None:
                counts[0] += sum(not it.merged and not it.pending for it in result.items)
                counts[1] += sum(it.merged for it in result.items)

            t, c, children = time.perf_counter(), time.process_time(), _children_cpu()
            with BulkRun(factory, platform_actor("bench"), ctx, separate=separate) as bulk:
                for chunk in range(0, len(reports), args.batch):
                    bulk.submit(reports[chunk : chunk + args.batch], tally)
            rates[mode].append(len(reports) / (time.perf_counter() - t))
            spent = time.process_time() - c + _children_cpu() - children
            cpu[mode].append(spent / len(reports) * 1e6)
            shares.append((counts[0], counts[1], len(reports) - sum(counts)))
            engine.dispose()
            db.unlink()
    bare = baseline(work / "bare.db", args.reports, args.runs)
    bare_cached = baseline(work / "bare.db", args.reports, args.runs, CACHE_KIB)
    if len(set(shares)) != 1:
        raise SystemExit(f"the runs decided differently: {shares}")
    created, merged, other = shares[0]
    print(
        f"{dt.date.today()}  {os.cpu_count()} CPUs  {args.reports:,} reports, batches of {args.batch:,}, "
        f"{args.runs} runs"
    )
    print(f"  outcome: {created:,} new events, {merged:,} merged, {other:,} pending or refused (every run)")
    for mode in modes:
        runs_rate = ", ".join(f"{r:,.0f}" for r in rates[mode])
        runs_cpu = ", ".join(f"{x:.1f}" for x in cpu[mode])
        print(f"  {mode:<15} {statistics.median(rates[mode]):>9,.0f} reports/s  ({runs_rate})")
        print(
            f"  {'':<15} {statistics.median(cpu[mode]):>9,.1f} CPU ms per 1,000 reports, both processes  ({runs_cpu})"
        )
    best = statistics.median(rates["writer process"])
    print(f"  writer process / one process   {best / statistics.median(rates['one process']):.2f}")
    print(f"  bare insert       {bare:>9,.0f} rows/s")
    print(f"  bare, app cache   {bare_cached:>9,.0f} rows/s  (cache_size -{CACHE_KIB} KiB, as the platform's)")
    print(f"  writer process / bare   {best / bare:.2f}  (two rows a new problem: ceiling ≈ 0.5)")
    print(f"  writer process / bare with the app's cache   {best / bare_cached:.2f}")
    shutil.rmtree(work)


def _children_cpu() -> float:
    """CPU seconds of this process's children that have ended (the writer processes)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
