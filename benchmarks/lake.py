"""The analytics lake at the Zhejiang scale: 三高 queries, 同比/环比 and the cube on DuckDB, each beside
pandas in the same run, peak memory, and the lake sync of 1,000,000 new rows.

    .venv/bin/python benchmarks/lake.py --rows 40000000        # the issue's scale (≈ 4 min to generate)
    .venv/bin/python benchmarks/lake.py --rows 1000000 --sync-rows 100000   # a quick look

Records are generated with a seeded generator straight into the lake's layout (reports, one
Parquet file per month over two years) with the columns the metrics read; the skew is realistic
(hours peak mid-morning and evening, a few categories and cells dominate). Each query runs
``--repeat`` times; medians are printed. pandas loads the same columns once (timed apart) and
answers the same questions; DuckDB's answers are checked equal to pandas' before timing counts.
Peak memory: the process's max RSS after the DuckDB part, before pandas loads anything.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import insert

import chengguan.schema  # noqa: F401 - every table, for the foreign keys of the bulk insert
from chengguan import migrate
from chengguan.analytics import lake, metrics
from chengguan.analytics.engines import DuckDBEngine
from chengguan.analytics.metrics import Filters, Period
from chengguan.audit import platform_actor
from chengguan.config import Settings
from chengguan.db import create_engine, make_sessionmaker, unit_of_work
from chengguan.intake.models import Report
from chengguan.kit.workcal import WorkCalendar
from chengguan.orgs.models import Organisation

MONTHS = [f"{y}-{m:02d}" for y in (2024, 2025) for m in range(1, 13)]
N_CELLS, N_STREETS, N_CATEGORIES = 20_000, 200, 120
SOURCES = ["hotline", "app", "wechat", "patrol", "video", "iot"]
HOURS = np.array([1, 1, 1, 1, 1, 2, 3, 5, 8, 12, 12, 9, 7, 6, 6, 6, 7, 8, 10, 11, 9, 5, 3, 2], float)
AT = dt.date(2025, 11, 15)
DISTRICT = "/330000/330105/"  # one of the generator's 13 districts
QUARTER = (dt.date(2025, 9, 1), dt.date(2025, 12, 1))


def zipf(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    weights = 1 / np.arange(1, n + 1) ** 0.8
    return rng.choice(n, size=size, p=weights / weights.sum())


COLUMNS = [
    "id",
    "source",
    "day",
    "hour",
    "weekday",
    "area_path",
    "district_id",
    "street_id",
    "cell_id",
    "cell_code",
    "category_key",
    "major_key",
    "category_id",
]
# the lake's own types and nullability (required columns scan faster), for the columns generated
SCHEMA = pa.schema([lake.TABLES[0].schema.field(name) for name in COLUMNS])


def month_table(rng: np.random.Generator, month: str, rows: int, first_id: int) -> pa.Table:
    start = dt.date.fromisoformat(f"{month}-01")
    days = (pd.Timestamp(start) + pd.offsets.MonthEnd(1)).day
    day = np.datetime64(start) + rng.integers(0, days, rows).astype("timedelta64[D]")
    cell = zipf(rng, N_CELLS, rows)
    category = zipf(rng, N_CATEGORIES, rows)
    street = cell % N_STREETS
    return pa.table(
        {
            "id": np.arange(first_id, first_id + rows, dtype=np.int64),
            "source": pa.array(np.array(SOURCES)[rng.integers(0, len(SOURCES), rows)]),
            "day": pa.array(day, pa.date32()),
            "hour": rng.choice(24, size=rows, p=HOURS / HOURS.sum()).astype(np.int8),
            "weekday": (((day.astype("datetime64[D]").astype(np.int64) + 3) % 7) + 1).astype(np.int8),
            "area_path": pa.array([f"/330000/3301{s % 13:02d}/" for s in range(N_STREETS)])
            .take(pa.array(street))
            .dictionary_encode()
            .cast(pa.string()),
            "district_id": (street % 13).astype(np.int64),
            "street_id": street.astype(np.int64),
            "cell_id": cell.astype(np.int64) + 1,
            "cell_code": pa.array([f"33010{i:010d}" for i in range(N_CELLS)]).take(pa.array(cell)),
            "category_key": pa.array([f"E{i // 10:02d}{i % 10:02d}" for i in range(N_CATEGORIES)]).take(
                pa.array(category)
            ),
            "major_key": pa.array([f"E{i // 10:02d}" for i in range(N_CATEGORIES)]).take(pa.array(category)),
            "category_id": category.astype(np.int64) + 1,
        },
        schema=SCHEMA,
    )


def generate(root: Path, rows: int, seed: int = 20260301) -> None:
    rng = np.random.default_rng(seed)
    per_month = rows // len(MONTHS)
    staging = root / lake.STAGING
    staging.mkdir(parents=True)
    for i, month in enumerate(MONTHS):
        # through the sync's own merge, so that the files have the layout a synced lake has
        staged = staging / f"{month}.parquet"
        pq.write_table(month_table(rng, month, per_month, i * per_month), staged)
        lake.merge_month(root / "reports" / f"month={month}", staged, "id")
        staged.unlink()
    staging.rmdir()
    calendar = WorkCalendar()
    lake.write_table_file(root / "dim_days", lake.day_frame(calendar, dt.date(2023, 1, 1), dt.date(2025, 12, 31)))
    cells = pa.table(
        {
            "id": np.arange(1, N_CELLS + 1, dtype=np.int64),
            "code": [f"33010{i:010d}" for i in range(N_CELLS)],
            "area_path": [f"/330000/3301{(i % N_STREETS) % 13:02d}/" for i in range(N_CELLS)],
            "lon": 120.0 + (np.arange(N_CELLS) % 200) * 0.002,
            "lat": 30.0 + (np.arange(N_CELLS) // 200) * 0.002,
        }
    )
    lake.write_table_file(root / "dim_cells", cells)
    minors = [f"E{i // 10:02d}{i % 10:02d}" for i in range(N_CATEGORIES)]
    majors = sorted({k[:3] for k in minors})
    categories = pa.table(
        {
            "id": np.arange(1, len(minors) + len(majors) + 1, dtype=np.int64),  # a 小类's id is its index + 1
            "key": minors + majors,
            "name": minors + majors,
            "level": ["minor"] * len(minors) + ["major"] * len(majors),
            "major_key": [k[:3] for k in minors] + majors,
        }
    )
    lake.write_table_file(root / "dim_categories", categories)


def reusable(root: Path) -> bool:
    """A lake generated before (40 M rows take minutes) whose month files all have today's schema."""
    files = list((root / "reports").glob(f"month=*/{lake.DATA_FILE}"))
    return len(files) == len(MONTHS) and all(pq.read_schema(p).equals(SCHEMA) for p in files)


@dataclass(frozen=True)
class Timed:
    wall: float  # median seconds
    cpu: float  # median CPU seconds of the process (every thread): what a loaded machine inflates least
    answer: Any


def median_time(fn: Callable[[], Any], repeat: int) -> Timed:
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        started, cpu = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    return Timed(statistics.median(walls), statistics.median(cpus), result)


def duck_queries(engine: DuckDBEngine) -> dict[str, Callable[[], Any]]:
    out: dict[str, Callable[[], Any]] = {
        f"counts by {by}": (lambda by=by: dict(metrics.run(engine, "counts", by=by).rows))
        for by in ("hour", "weekday", "day", "category", "street", "cell", "source")
    }
    out["同比/环比 month by 大类"] = lambda: {
        k: (n, p, y) for k, n, p, _, y, _ in metrics.run(engine, "compare", period=Period.MONTH, at=AT, by="major").rows
    }
    out["cube 小类×cell×hour top 1000"] = lambda: metrics.run(engine, "cube", limit=1000).rows
    # the same cube on the slices a leader looks at, and at street level: the cost is the number of groups
    out["cube … one district"] = lambda: metrics.run(engine, "cube", filters=Filters(area_path=DISTRICT)).rows
    out["cube … one quarter"] = lambda: (
        metrics.run(engine, "cube", filters=Filters(start=QUARTER[0], end=QUARTER[1])).rows
    )
    out["cube 小类×street×hour top 1000"] = lambda: metrics.run(engine, "cube", place_by="street").rows
    out["hot types (month, top 10)"] = lambda: [
        r[:2]
        for r in metrics.run(
            engine, "hot_types", filters=Filters(start=dt.date(2025, 11, 1), end=dt.date(2025, 12, 1))
        ).rows
    ]
    return out


def pandas_queries(frame: pd.DataFrame) -> dict[str, Callable[[], Any]]:
    column = {
        "hour": "hour",
        "weekday": "weekday",
        "day": "day",
        "category": "category_key",
        "street": "street_id",
        "cell": "cell_code",
        "source": "source",
    }
    out: dict[str, Callable[[], Any]] = {
        f"counts by {by}": (lambda c=c: frame[c].value_counts().to_dict()) for by, c in column.items()
    }

    def compare() -> dict[Any, tuple[int, int, int]]:
        now = frame["day"].between(dt.date(2025, 11, 1), dt.date(2025, 11, 30))
        prev = frame["day"].between(dt.date(2025, 10, 1), dt.date(2025, 10, 31))
        last = frame["day"].between(dt.date(2024, 11, 1), dt.date(2024, 11, 30))
        parts = [frame.loc[m, "major_key"].value_counts() for m in (now, prev, last)]
        table = pd.concat(parts, axis=1).fillna(0).astype(int)
        return {k: tuple(int(v) for v in row) for k, row in table.iterrows()}

    def cube(part: pd.DataFrame, place: str = "cell_code") -> list[Any]:
        sizes = part.groupby(["category_key", place, "hour"], observed=True).size()
        return sizes.nlargest(1000).tolist()

    def hot_types() -> list[Any]:
        month = frame[frame["day"].between(dt.date(2025, 11, 1), dt.date(2025, 11, 30))]
        counts = month["category_key"].value_counts()
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:10]

    out["同比/环比 month by 大类"] = compare
    out["cube 小类×cell×hour top 1000"] = lambda: cube(frame)
    # DISTRICT's streets: the generator's area path of street s is district s % 13
    out["cube … one district"] = lambda: cube(frame[frame["street_id"] % 13 == int(DISTRICT[-3:-1])])
    out["cube … one quarter"] = lambda: cube(frame[(frame["day"] >= QUARTER[0]) & (frame["day"] < QUARTER[1])])
    out["cube 小类×street×hour top 1000"] = lambda: cube(frame, "street_id")
    out["hot types (month, top 10)"] = hot_types
    return out


def same(name: str, duck: Any, panda: Any) -> bool:
    if name.startswith("cube"):
        return [r[-1] for r in duck] == panda  # ties may order differently: compare the ranked counts
    if name.startswith("hot types"):
        return duck == [tuple(kv) for kv in panda]
    return duck == panda


def sync_benchmark(rows: int, work: Path) -> tuple[Timed, float]:
    """Lake sync of ``rows`` new reports from a SQLite store (wall and CPU s), and pandas read_sql + to_parquet."""
    shutil.rmtree(work, ignore_errors=True)  # a fresh store each run: a reused one would already hold rows
    work.mkdir(parents=True)
    url = f"sqlite:///{work / 'ops.db'}"
    migrate.upgrade(url)
    engine = create_engine(url)
    factory = make_sessionmaker(engine)
    rng = np.random.default_rng(1)
    with unit_of_work(factory, actor=platform_actor("bench")) as session:
        org = Organisation(code="330100000000", name="杭州市", kind="city", path="/330100000000/")
        session.add(org)
        session.flush()
        base = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
        stamp = dt.datetime(2025, 12, 1, tzinfo=dt.UTC)
        seconds = rng.integers(0, 330 * 86400, rows)
        for start in range(0, rows, 100_000):
            batch = [
                {
                    "channel": "hotline",
                    "external_id": str(i),
                    "status": "created",
                    "pending_reasons": [],
                    "title": "t",
                    "description": "",
                    "submitted_at": base + dt.timedelta(seconds=int(seconds[i])),
                    "received_at": base + dt.timedelta(seconds=int(seconds[i])),
                    "location_source": "coordinates",
                    "lon": 120.1,
                    "lat": 30.2,
                    "org_id": org.id,
                    "category_key": "E0101",
                    "updated_at": stamp,
                }
                for i in range(start, min(rows, start + 100_000))
            ]
            session.execute(insert(Report), batch)
    settings = Settings(env="dev", database_url=url, data_dir=work, lake_settle_s=0)
    with unit_of_work(factory, actor=platform_actor("bench")) as session:
        ours = median_time(lambda: lake.sync(session, settings), 1)
    assert ours.answer["reports"].rows == rows, ours.answer
    started = time.perf_counter()
    with engine.connect() as conn:
        frame = pd.read_sql("SELECT * FROM reports", conn)
    frame.drop(columns=["reporter_name", "reporter_phone", "title", "description"]).to_parquet(work / "pandas.parquet")
    theirs = time.perf_counter() - started
    engine.dispose()
    return ours, theirs


def load_average() -> str:
    """The machine's 1-, 5- and 15-minute load: the cores are shared, and the seconds mean little without it."""
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=40_000_000)
    parser.add_argument("--sync-rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=Path, default=None, help="directory for the lake (default: a temporary one)")
    parser.add_argument(
        "--reuse", action="store_true", help="query the lake already in --work if its files have this schema"
    )
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="lake-bench-"))
    root = work / "lake"
    if args.reuse and reusable(root):
        rows = sum(pq.ParquetFile(p).metadata.num_rows for p in (root / "reports").glob(f"month=*/{lake.DATA_FILE}"))
        print(f"reusing the {rows:,} rows at {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)
        started = time.perf_counter()
        generate(root, args.rows)
        print(f"generated {args.rows:,} rows in {time.perf_counter() - started:.0f} s at {root}")

    engine = DuckDBEngine(root)
    print(f"load average before the queries: {load_average()}")
    duck = {name: median_time(fn, args.repeat) for name, fn in duck_queries(engine).items()}
    print(f"load average after the DuckDB queries: {load_average()}")
    peak_duck = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    engine.close()

    started = time.perf_counter()
    columns = ["day", "hour", "weekday", "street_id", "cell_code", "category_key", "major_key", "source"]
    frame = pq.read_table(root / "reports", columns=columns).to_pandas()
    load = time.perf_counter() - started
    panda = {name: median_time(fn, args.repeat) for name, fn in pandas_queries(frame).items()}
    peak_all = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    del frame

    print(f"\n{'query':32} {'DuckDB s':>9} {'CPU s':>6} {'pandas s':>9} {'ratio':>6}  equal")
    wrong = []
    for name, d in duck.items():
        p = panda[name]
        ok = same(name, d.answer, p.answer)
        wrong += [] if ok else [name]
        print(f"{name:32} {d.wall:9.3f} {d.cpu:6.2f} {p.wall:9.3f} {p.wall / d.wall:6.1f}  {ok}")
    print(f"pandas load of the columns: {load:.1f} s")
    print(f"peak RSS: DuckDB part {peak_duck:,.0f} MB; with pandas {peak_all:,.0f} MB")

    ours, theirs = sync_benchmark(args.sync_rows, work / "sync")
    print(
        f"lake sync of {args.sync_rows:,} new rows: {ours.wall:.1f} s ({ours.cpu:.1f} CPU s); "
        f"pandas read_sql + to_parquet {theirs:.1f} s"
    )
    print(f"load average at the end: {load_average()}")
    if not args.work:
        shutil.rmtree(work)
    if wrong:
        raise SystemExit(f"DuckDB and pandas disagree on: {', '.join(wrong)}")


if __name__ == "__main__":
    main()
