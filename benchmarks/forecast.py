"""The volume forecast's accuracy: the model the rolling-origin backtest chooses against seasonal
naive (the same weekday last week), on the demo city's history and on real data.

    .venv/bin/python benchmarks/forecast.py                      # all three data sets
    .venv/bin/python benchmarks/forecast.py --demo-history 0     # the real data only

**Demo city** (``chengguan demo --history N`` into a temporary SQLite store, then ``chengguan
lake sync``): :func:`chengguan.analytics.forecast.from_lake` as the API runs it (4 folds of 7
days ending the day before the forecast), for the city whole and for each district.

**TipDM 2019** (``../shared/data/tipdm2020c``, the 12345-style messages of "A市"): the daily count of
2019, with the working calendar of 2019 as the State Council set it (国办发明电〔2018〕15号, with
the 劳动节 change of 国办发明电〔2019〕2号) given to the model as the lake gives it
(:func:`chengguan.analytics.lake.day_frame` over a :class:`WorkCalendar`). Backtests: the
product's 4 × 7 days and a longer 26 × 7 days (the second half of the year, both Golden Weeks'
neighbourhoods included), each also without the calendar (weekends only) to show what it adds.

**LA 311** (``../shared/data/la311``, 27–31 December 2017): five days are too few for any daily
model (the module needs a week), so only an hourly backtest: each of the last three whole days
forecast from the days before it, the same hour the day before (naive) against the module's
top-down split (the previous day's total over the training days' hour profile), and the profile
alone (the true daily total over the profile) to separate the hour shape from the level.

Correctness first: each backtest must score every model on the same points; the script exits
non-zero otherwise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from chengguan.analytics import forecast as fc
from chengguan.analytics.engines import open_engine
from chengguan.analytics.lake import day_frame
from chengguan.analytics.metrics import Filters, Subject
from chengguan.analytics.volume import Split
from chengguan.kit.workcal import WorkCalendar

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TIPDM = DATA / "tipdm2020c" / "hot_messages_full_附件3_4326.csv"
LA311 = DATA / "la311" / "la311_2017_subset.csv"
CHENGGUAN = [sys.executable, "-m", "chengguan"]
DEMO_TODAY = dt.date(2026, 11, 22)  # the day after the demo's year of history

# 2019: 国办发明电〔2018〕15号 (元旦 12-30…1-1, 春节 2-4…2-10, 清明 4-5, 端午 6-7, 中秋 9-13,
# 国庆 10-1…10-7) and 国办发明电〔2019〕2号 (劳动节 5-1…5-4, with 4-28 and 5-5 worked instead).
HOLIDAYS_2019 = (
    ["2019-01-01"]
    + [f"2019-02-{d:02d}" for d in range(4, 11)]
    + ["2019-04-05", "2019-05-01", "2019-05-02", "2019-05-03", "2019-05-04", "2019-06-07", "2019-09-13"]
    + [f"2019-10-{d:02d}" for d in range(1, 8)]
)
MAKEUP_2019 = ["2019-02-02", "2019-02-03", "2019-04-28", "2019-05-05", "2019-09-29", "2019-10-12"]


def calendar_2019() -> dict[dt.date, str]:
    """The kind of each day of 2019 (workday, makeup, weekend, holiday), as the lake's dim_days holds it."""
    cal = WorkCalendar(
        holidays=frozenset(dt.date.fromisoformat(d) for d in HOLIDAYS_2019),
        workdays=frozenset(dt.date.fromisoformat(d) for d in MAKEUP_2019),
    )
    frame = day_frame(cal, dt.date(2019, 1, 1), dt.date(2019, 12, 31))
    return dict(zip(frame.column("day").to_pylist(), frame.column("kind").to_pylist(), strict=True))


def row(label: str, scores: Sequence[fc.Score], chosen: str, seconds: float | None = None) -> list[str]:
    by = {s.model: s for s in scores}
    if len({s.points for s in scores}) != 1:
        raise SystemExit(f"{label}: the models were not scored on the same points")
    ours, naive = by[chosen], by[fc.BASELINE]
    ratio = ours.smape / naive.smape if naive.smape else float("nan")
    cells = [
        label,
        chosen,
        f"{ours.smape:.1f}",
        _pct(ours.mape),
        f"{naive.smape:.1f}",
        _pct(naive.mape),
        f"{ratio:.2f}",
        str(ours.points),
        " ".join(f"{s.model}={s.smape:.1f}" for s in scores),
    ]
    return cells + ([f"{seconds:.2f}"] if seconds is not None else [])


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def table(heading: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    print("| " + " | ".join(heading) + " |")
    print("|" + "|".join(" --- " for _ in heading) + "|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print()


HEADING = ["series", "chosen", "sMAPE %", "MAPE %", "naive sMAPE %", "naive MAPE %", "ratio", "points", "all models"]


# -- (a) the demo city --------------------------------------------------------------------------


def demo_city(reports: int, runs: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="cg-forecast-"))
    env = {
        **os.environ,
        "CHENGGUAN_DATA_DIR": str(work),
        "CHENGGUAN_DATABASE_URL": f"sqlite:///{work / 'd.db'}",
        "CHENGGUAN_LAKE_SETTLE_S": "0",
    }
    started = time.perf_counter()
    for command in (["db", "upgrade"], ["demo", "--history", str(reports)], ["lake", "sync"]):
        subprocess.run([*CHENGGUAN, *command], env=env, check=True, capture_output=True)
    print(f"demo city with {reports:,} reports built and synced in {time.perf_counter() - started:.0f} s ({work})\n")
    engine = open_engine("duckdb", work / "lake")
    try:
        for split, name in ((Split(), "city"), (Split(area_by="district"), "districts")):
            timings, found = [], {}
            for _ in range(runs):
                began = time.perf_counter()
                found = fc.from_lake(engine, Subject.REPORTS, Filters(), split, DEMO_TODAY, 14)
                timings.append(time.perf_counter() - began)
            median = statistics.median(timings)
            print(f"demo {name}: {len(found)} series, median {median:.2f} s ({median / max(len(found), 1):.2f} s each)")
            rows = [row(f"{a}/{c}", f.scores, f.model) for (a, c), f in sorted(found.items())]
            table(HEADING, rows)
            hourly = [
                row(f"{a}/{c} hourly", f.hourly_scores, f"{f.model}+profile") for (a, c), f in sorted(found.items())
            ]
            table(HEADING, hourly[:3])
            _summary(name, found)
    finally:
        engine.close()


def _summary(name: str, found: dict[tuple[str, str], fc.Forecast]) -> None:
    ratios = []
    for f in found.values():
        by = {s.model: s.smape for s in f.scores}
        ratios.append(by[f.model] / by[fc.BASELINE])
    models = sorted({f.model for f in found.values()})
    print(f"{name}: median ratio chosen/naive {statistics.median(ratios):.2f}; chosen models: {models}\n")


# -- (b) TipDM 2019 -----------------------------------------------------------------------------


def tipdm(runs: int) -> None:
    frame = pd.read_csv(TIPDM, usecols=["留言时间"])
    stamps = pd.to_datetime(frame["留言时间"], format="mixed")
    days = fc.days_from(dt.date(2019, 1, 1), 365)
    counts = stamps[stamps.dt.year == 2019].dt.date.value_counts()
    y = np.array([counts.get(d, 0) for d in days], dtype=float)
    print(f"TipDM 2019: {int(y.sum()):,} messages, {np.mean(y):.1f} a day, {int((y == 0).sum())} days without one\n")
    kinds = calendar_2019()
    plain = {d: "weekend" if d.weekday() >= 5 else "workday" for d in days}
    rows = []
    for folds in (4, 26):
        for label, calendar in (("calendar", kinds), ("weekends only", plain)):
            timings, scores = [], []
            for _ in range(runs):
                began = time.perf_counter()
                scores, _ = fc.backtest(y, days, calendar, folds, fc.WEEK)
                timings.append(time.perf_counter() - began)
            chosen = fc.choose(scores)
            rows.append(row(f"{folds}×7 days, {label}", scores, chosen, statistics.median(timings)))
    table([*HEADING, "median s"], rows)


# -- (c) LA 311 hourly --------------------------------------------------------------------------


def la311() -> None:
    frame = pd.read_csv(LA311, usecols=["CreatedDate"])
    stamps = pd.to_datetime(frame["CreatedDate"], format="%m/%d/%Y %I:%M:%S %p")
    first = dt.date(2017, 12, 28)  # the 27th starts at 13:36: not a whole day
    days = fc.days_from(first, 4)
    whole = stamps[stamps.dt.date >= first]
    hourly = np.zeros((len(days), fc.HOURS))
    for (d, h), n in whole.groupby([whole.dt.date, whole.dt.hour]).size().items():
        hourly[(d - first).days, h] = n
    kinds = {d: "weekend" if d.weekday() >= 5 else "workday" for d in days}
    print(
        f"LA 311: {int(hourly.sum()):,} requests over {len(days)} whole days {days[0]}…{days[-1]}: "
        f"{', '.join(str(int(v)) for v in hourly.sum(axis=1))} a day\n"
    )
    truth, naive, top_down, profile_only = [], [], [], []
    for c in range(1, len(days)):
        profiles = fc.hour_profiles(hourly[:c], days[:c], kinds)
        target = [days[c]]
        truth.append(hourly[c])
        naive.append(hourly[c - 1])
        top_down.append(fc.spread_hours(np.array([hourly[c - 1].sum()]), target, profiles, kinds)[0])
        profile_only.append(fc.spread_hours(np.array([hourly[c].sum()]), target, profiles, kinds)[0])
    actual = np.concatenate(truth)
    rows = []
    for name, predicted in (
        ("same hour the day before", naive),
        ("previous day's total × hour profile", top_down),
        ("true day's total × hour profile", profile_only),
    ):
        p = np.concatenate(predicted)
        mape = fc.mape(actual, p)
        rows.append([name, f"{fc.smape(actual, p):.1f}", _pct(mape), str(len(actual))])
    table(["hourly forecast (3 folds of 24 h)", "sMAPE %", "MAPE %", "points"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--demo-history", type=int, default=100_000, help="reports in the demo's year (0: skip)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each backtest (median reported)")
    args = parser.parse_args()
    print(
        f"{platform.node()} {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f}, {dt.datetime.now():%Y-%m-%d %H:%M}\n"
    )
    tipdm(args.runs)
    la311()
    if args.demo_history:
        demo_city(args.demo_history, args.runs)


if __name__ == "__main__":
    main()
