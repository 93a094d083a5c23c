"""The demo city's year of history (``chengguan.demo.history``): how fast the generator makes
reports, against the intake pipeline that consumes them (the baseline, same run), and how long
the whole ``chengguan demo`` takes on a fresh SQLite store.

    .venv/bin/python benchmarks/demo_history.py                     # 500,000 reports, 3 runs
    .venv/bin/python benchmarks/demo_history.py --full-demo 3       # also `chengguan demo` 3 times

The city is built once with ``chengguan demo --history 0`` in a temporary directory. "generate"
makes the full history (every batch validated into ``ReportIn``, as the pipeline receives it) and
drops it; "pipeline" feeds the first ``--pipeline`` of those reports to ``pipeline.process`` in
the loader's batches and units of work, on a fresh copy of the city each run. Correctness first:
the generator must make exactly ``--reports`` reports in time order, and the pipeline must
refuse none of them; the script exits non-zero otherwise.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.orm import Session

from chengguan.audit import platform_actor
from chengguan.db import create_engine, make_sessionmaker, unit_of_work
from chengguan.demo import history
from chengguan.intake import pipeline

CHENGGUAN = [sys.executable, "-m", "chengguan"]


def env_for(directory: Path) -> dict[str, str]:
    return {
        **os.environ,
        "CHENGGUAN_DATA_DIR": str(directory),
        "CHENGGUAN_DATABASE_URL": f"sqlite:///{directory / 'chengguan.db'}",
    }


def run_demo(directory: Path, *options: str) -> tuple[float, str]:
    """``chengguan db upgrade`` then ``chengguan demo``: wall-clock seconds and the demo's output."""
    env = env_for(directory)
    started = time.perf_counter()
    subprocess.run([*CHENGGUAN, "db", "upgrade"], env=env, check=True, capture_output=True)
    done = subprocess.run([*CHENGGUAN, "demo", *options], env=env, check=True, capture_output=True, text=True)
    return time.perf_counter() - started, done.stdout


def peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextmanager
def units(url: str) -> Iterator[Session]:
    engine = create_engine(url)
    try:
        with unit_of_work(make_sessionmaker(engine), actor=platform_actor("benchmark:demo_history")) as session:
            yield session
    finally:
        engine.dispose()


def time_generation(city: history.City, spec: history.HistorySpec) -> float:
    started = time.perf_counter()
    made, last = 0, None
    for batch in history.generate(city, spec):
        made += len(batch)
        if last is not None and batch[0].submitted_at is not None and batch[0].submitted_at < last:
            sys.exit("reports out of time order")
        last = batch[-1].submitted_at
    seconds = time.perf_counter() - started
    if made != spec.reports:
        sys.exit(f"made {made} reports, asked for {spec.reports}")
    return seconds


def time_pipeline(city: history.City, spec: history.HistorySpec, city_db: Path, work: Path, limit: int) -> float:
    """Seconds for the pipeline to take the first ``limit`` reports, batch by batch (generation excluded)."""
    shutil.copy(city_db, work / "pipeline.db")
    url = f"sqlite:///{work / 'pipeline.db'}"
    taken, seconds = 0, 0.0
    for batch in history.generate(city, spec):
        batch = batch[: limit - taken]
        started = time.perf_counter()
        with units(url) as session:
            ctx = pipeline.context(session, classifier=None, historical=True)
            result = pipeline.process(session, batch, ctx)
        seconds += time.perf_counter() - started
        if result.refused:
            sys.exit(f"the pipeline refused {len(result.refused)} reports: {result.refused[0]}")
        taken += len(batch)
        if taken >= limit:
            break
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=history.DEFAULT_REPORTS)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pipeline", type=int, default=50_000, help="reports fed to the pipeline per run")
    parser.add_argument("--full-demo", type=int, default=0, help="times to run the whole `chengguan demo`")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    spec = history.HistorySpec(reports=args.reports, seed=args.seed)
    with tempfile.TemporaryDirectory(prefix="demo-history-") as tmp:
        work = Path(tmp)
        (work / "city").mkdir()
        built, _ = run_demo(work / "city", "--history", "0")
        city_db = work / "city" / "chengguan.db"
        print(f"city: db upgrade + chengguan demo --history 0 in {built:.1f} s")
        started = time.perf_counter()
        with units(f"sqlite:///{city_db}") as session:
            city = history.read_city(session)
        print(f"read_city {time.perf_counter() - started:.2f} s; peak RSS {peak_rss_mib():.0f} MiB")
        generation, feeding = [], []
        for run in range(args.runs):
            generation.append(time_generation(city, spec))
            rss = peak_rss_mib()
            feeding.append(time_pipeline(city, spec, city_db, work, min(args.pipeline, args.reports)))
            print(
                f"run {run + 1}: generate {args.reports:,} in {generation[-1]:.2f} s "
                f"({args.reports / generation[-1]:,.0f}/s, peak RSS {rss:.0f} MiB); "
                f"pipeline {args.pipeline:,} in {feeding[-1]:.2f} s ({args.pipeline / feeding[-1]:,.0f}/s)"
            )
        gen_rate = args.reports / statistics.median(generation)
        pipe_rate = args.pipeline / statistics.median(feeding)
        print(f"median: generator {gen_rate:,.0f} reports/s, pipeline {pipe_rate:,.0f} reports/s")
        print(f"generator / pipeline: {gen_rate / pipe_rate:.1f}x")
        print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        totals: list[float] = []
        for run in range(args.full_demo):
            directory = work / f"full{run}"
            directory.mkdir()
            seconds, out = run_demo(directory, "--seed", str(args.seed))
            totals.append(seconds)
            loaded = re.search(r"history loaded in (\d+) s \(([\d,]+) reports/s; making them ([\d.]+) s\)", out)
            city_s = re.search(r"demo city built in (\d+) s", out)
            print(
                f"full demo run {run + 1}: {seconds:.0f} s (city {city_s.group(1) if city_s else '?'} s, "
                f"history {loaded.group(1) if loaded else '?'} s at {loaded.group(2) if loaded else '?'}/s, "
                f"making them {loaded.group(3) if loaded else '?'} s)"
            )
            shutil.rmtree(directory)
        if totals:
            print(
                f"full chengguan demo (db upgrade + demo), median of {len(totals)}: {statistics.median(totals):.0f} s"
            )
            print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
