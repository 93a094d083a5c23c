"""`chengguan import` end to end: a synthetic 12345-template CSV streamed, mapped, run through the
intake pipeline in the importer's batches (each its own transaction, checkpoint and reject file kept)
into a copy of the demo city's SQLite file — against parsing the same file alone (the baseline)
and parsing + mapping to validated reports, measured in the same run.

    .venv/bin/python benchmarks/import_bulk.py                       # builds a demo city in a temp dir
    .venv/bin/python benchmarks/import_bulk.py --data-dir /tmp/demo  # copies a built one's d.db

The file: --rows reports (default 200,000) at points near 3,000 random demo cells (so reports
repeat and merge), 20 s apart in time order; 80 % name a hotline category the 12345 map knows,
10 % a 小类 key, 10 % an unmapped category (no classifier here: they wait for a clerk); 30 % closed
within two days; half with a caller's name and phone. "Where the time goes" splits the end-to-end
run into the pipeline's batches (``BulkRun.submit``: deciding, and handing to the writer process,
waiting for it when it is behind) and the rest (read, map, sort, reject file, checkpoint).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import shutil
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select

import chengguan.schema  # noqa: F401 - every table, for the foreign keys of the bulk inserts
from chengguan.audit import platform_actor
from chengguan.db import create_engine, make_sessionmaker
from chengguan.geo.models import GridCell
from chengguan.intake import importer
from chengguan.intake.bulk import BulkRun
from chengguan.intake.importer import ImportJob
from chengguan.intake.profiles import TEMPLATE_COLUMNS, profile
from chengguan.intake.sources import open_source
from chengguan.kit.gcpause import gc_paused
from demo_city import city_copy  # benchmarks/demo_city.py

HOTLINE = {  # 诉求分类 (mapped by import_maps/12345.csv) → texts
    "占道经营": ["路口有人占道经营卖水果", "小区门口有人摆摊卖菜", "商贩在人行道上摆摊经营"],
    "店外经营": ["店外堆放杂物占用人行道", "商铺出店经营占道", "门店把货架摆到了人行道上"],
    "夜间施工": ["夜间施工噪音扰民", "工地晚上还在施工很吵", "凌晨施工机械噪声太大"],
    "露天烧烤": ["有人在路边露天烧烤油烟很大", "夜市露天烧烤烟雾扰民", "烧烤摊油烟熏人"],
    "乱停车": ["小区门口乱停车堵住消防通道", "路边车辆乱停放影响通行"],
}
KEYS = ["E0502", "E0505", "E0101", "E0201"]


def write_file(path: Path, points: list[tuple[float, float]], rows: int, rng: random.Random) -> None:
    start = dt.datetime(2025, 3, 3, 8, 0)
    categories = list(HOTLINE)
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(TEMPLATE_COLUMNS)
        for i in range(rows):
            at = start + dt.timedelta(seconds=20 * i)
            x, y = rng.choice(points)
            kind = rng.random()
            category = rng.choice(categories)
            text = rng.choice(HOTLINE[category])
            key = ""
            if kind < 0.1:
                key = rng.choice(KEYS)
            elif kind < 0.2:
                category = "其他"
            closed = at + dt.timedelta(hours=rng.uniform(1, 48)) if rng.random() < 0.3 else None
            caller = ("市民", f"1380000{i % 10_000:04d}") if i % 2 else ("", "")
            out.writerow([
                f"BJ{i:09d}", at.strftime("%Y-%m-%d %H:%M:%S"), "", text, category, key, "",
                f"{x + rng.uniform(-1e-3, 1e-3):.6f}", f"{y + rng.uniform(-1e-3, 1e-3):.6f}", "wgs84",
                closed.strftime("%Y-%m-%d %H:%M:%S") if closed else "", *caller,
            ])  # fmt: skip


def parse_only(path: Path) -> int:
    """Reading the records alone (the GC paused, as the importer reads)."""
    source = open_source(path)
    with gc_paused():
        n = sum(1 for _ in source.records())
    source.close()
    return n


def parse_and_map(path: Path) -> int:
    """What the importer does before the pipeline: read, map and sort, batch by batch."""
    hotline = profile("12345")
    source = open_source(path)
    mapper = hotline.mapper(hotline.layout_for(source.header), "12345", source.header, strings=source.strings)
    n = sum(len(batch.reports) for batch in importer.mapped_batches(source, mapper, importer.BATCH_SIZE))
    source.close()
    return n


def rate(fn: Any, path: Path, runs: int) -> tuple[float, list[float]]:
    rates = []
    for _ in range(runs):
        t = time.perf_counter()
        n = fn(path)
        rates.append(n / (time.perf_counter() - t))
    return statistics.median(rates), rates


def end_to_end(work: Path, path: Path, run: int) -> tuple[float, list[float], importer.Counts]:
    """rows/s of one import into a fresh copy of the demo store; the shares of its time spent
    reading + mapping (``mapped_batches``) and in the pipeline's batches (``BulkRun.submit``)."""
    db = work / f"run{run}.db"
    shutil.copy(work / "base.db", db)
    engine = create_engine(f"sqlite:///{db}")
    real_submit, real_batches, spent = BulkRun.submit, importer.mapped_batches, [0.0, 0.0]

    def timed_submit(*args: Any) -> Any:
        t = time.perf_counter()
        try:
            return real_submit(*args)
        finally:
            spent[1] += time.perf_counter() - t

    def timed_batches(*args: Any, **kw: Any) -> Iterator[importer.MappedBatch]:
        batches = real_batches(*args, **kw)
        while True:
            t = time.perf_counter()
            batch = next(batches, None)
            spent[0] += time.perf_counter() - t
            if batch is None:
                return
            yield batch

    BulkRun.submit, importer.mapped_batches = timed_submit, timed_batches  # type: ignore[method-assign]
    try:
        summary = ImportJob(
            path=path,
            profile=profile("12345"),
            factory=make_sessionmaker(engine),
            actor=platform_actor("bench"),
            rejects=work / f"run{run}.rejects.csv",
            checkpoint=work / f"run{run}.checkpoint.json",
        ).run()
    finally:
        BulkRun.submit, importer.mapped_batches = real_submit, real_batches  # type: ignore[method-assign]
        engine.dispose()
        db.unlink()
    return summary.rows_per_second, [s / summary.seconds for s in spent], summary.counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, help="a directory holding a built demo (d.db), copied")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3, help="end-to-end runs (parsing: 5)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    work = city_copy(args.data_dir, "chengguan-import-bench-")
    rng = random.Random(args.seed)
    engine = create_engine(f"sqlite:///{work / 'base.db'}")
    with make_sessionmaker(engine)() as session:
        cells = session.scalars(select(GridCell.geometry).execution_options(skip_scope=True)).all()
    engine.dispose()
    points = [(p.x, p.y) for p in (g.representative_point() for g in rng.sample(list(cells), 3_000))]
    path = work / "hotline.csv"
    write_file(path, points, args.rows, rng)

    parsed, parsed_runs = rate(parse_only, path, 5)
    mapped, mapped_runs = rate(parse_and_map, path, 5)
    results = [end_to_end(work, path, run) for run in range(args.runs)]
    e2e = statistics.median(r[0] for r in results)
    reading, writing = (statistics.median(r[1][i] for r in results) for i in (0, 1))
    counts = results[0][2]
    print(f"{dt.date.today()}  {os.cpu_count()} CPUs  {args.rows:,} rows ({path.stat().st_size / 1e6:.0f} MB)")
    print(
        f"  outcome: {counts.created:,} new events, {counts.merged:,} merged, {counts.pending:,} pending, "
        f"{counts.rejected:,} rejected"
    )
    print(f"  parse only        {parsed:>9,.0f} rows/s  (runs: {', '.join(f'{r:,.0f}' for r in parsed_runs)})")
    print(f"  parse + map       {mapped:>9,.0f} rows/s  (runs: {', '.join(f'{r:,.0f}' for r in mapped_runs)})")
    print(f"  end to end        {e2e:>9,.0f} rows/s  (runs: {', '.join(f'{r[0]:,.0f}' for r in results)})")
    print(f"  end to end / parse only  {e2e / parsed:.3f};  parse + map / parse only  {mapped / parsed:.2f}")
    print(
        f"  end-to-end time: read + map {reading:.1%}, pipeline batches (decided, handed to the writer) {writing:.1%}, "
        f"the rest (context, reject file, checkpoints) {1 - reading - writing:.1%}"
    )
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
