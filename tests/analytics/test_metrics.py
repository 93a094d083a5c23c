"""The metrics on DuckDB against an independent pandas computation of the seeded history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from tests.analytics.conftest import SOURCE, TZ, Synthetic
from tests.factories import shipped_calendar

from chengguan.analytics import hotspots, metrics
from chengguan.analytics.engines import DuckDBEngine, open_engine
from chengguan.analytics.metrics import Filters, Period, Subject
from chengguan.config import Settings
from chengguan.errors import Invalid, NotFound

MINE = Filters(source=SOURCE)


@pytest.fixture(scope="module")
def duck(synced: Settings) -> Iterator[DuckDBEngine]:
    engine = DuckDBEngine(synced.lake_path)
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def local(synthetic: Synthetic) -> pd.DataFrame:
    """The seeded reports of the main channel, with local day/hour/weekday computed by pandas."""
    frame = synthetic.frame[synthetic.frame["source"] == SOURCE].copy()
    at = frame["received_at"].dt.tz_convert(TZ)
    frame["day"], frame["hour"], frame["weekday"] = at.dt.date, at.dt.hour, at.dt.day_of_week + 1
    return frame


def test_counts_by_hour_category_and_cell_equal_pandas(duck: DuckDBEngine, local: pd.DataFrame) -> None:
    for by, column in (("hour", "hour"), ("category", "category_key"), ("major", "major_key"), ("cell", "cell_code")):
        got = dict(metrics.run(duck, "counts", filters=MINE, by=by).rows)
        assert got == local[column].value_counts().to_dict(), by


def test_heatmap_and_a_category_and_time_slice(duck: DuckDBEngine, local: pd.DataFrame) -> None:
    got = {(w, h): n for w, h, n in metrics.run(duck, "heatmap", filters=MINE).rows}
    assert got == local.groupby(["weekday", "hour"]).size().to_dict()
    major = local["major_key"].iloc[0]
    start, end = dt.date(2025, 6, 1), dt.date(2025, 9, 1)
    sliced = Filters(start=start, end=end, category=major, source=SOURCE)
    expected = local[(local["major_key"] == major) & (local["day"] >= start) & (local["day"] < end)]
    assert dict(metrics.run(duck, "counts", filters=sliced, by="day").rows) == expected["day"].value_counts().to_dict()


def test_area_subtree_filter(duck: DuckDBEngine, local: pd.DataFrame, synthetic: Synthetic) -> None:
    cells = dict(metrics.run(duck, "counts", filters=MINE, by="cell").rows)
    district = next(iter(cells))[:6]  # the district's code prefix: 990101 (甲区)
    area = Filters(area_path=f"{synthetic.area_path}{district}000000/", source=SOURCE)
    got = dict(metrics.run(duck, "counts", filters=area, by="cell").rows)
    assert got == {c: n for c, n in cells.items() if c.startswith(district)} and got


def test_day_kinds_are_means_per_working_and_rest_day(duck: DuckDBEngine, local: pd.DataFrame) -> None:
    start, end = dt.date(2025, 9, 1), dt.date(2025, 11, 1)  # 国庆/中秋 off Oct 1–8, 调休 Sep 28 and Oct 11
    rows = metrics.run(duck, "day_kinds", filters=Filters(start=start, end=end, source=SOURCE)).rows
    calendar = shipped_calendar()
    days = [start + dt.timedelta(days=i) for i in range((end - start).days)]
    working = {d for d in days if calendar.is_working_day(d)}
    in_range = local[(local["day"] >= start) & (local["day"] < end)]
    at_work = int(in_range["day"].isin(working).sum())
    expected = {True: (len(working), at_work), False: (len(days) - len(working), len(in_range) - at_work)}
    assert {w: (d, n) for w, d, n, _ in rows} == expected
    assert all(per_day == pytest.approx(n / d) for _, d, n, per_day in rows)
    assert dt.date(2025, 10, 2) not in working and dt.date(2025, 9, 28) in working


def test_hot_types_share_and_change(duck: DuckDBEngine, local: pd.DataFrame) -> None:
    start, end = dt.date(2025, 7, 1), dt.date(2025, 8, 1)
    result = metrics.run(duck, "hot_types", filters=Filters(start=start, end=end, source=SOURCE), limit=3)
    now = local[(local["day"] >= start) & (local["day"] < end)]["category_key"].value_counts()
    before = local[(local["day"] >= dt.date(2025, 5, 31)) & (local["day"] < start)]["category_key"].value_counts()
    expected = sorted(now.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    assert [(k, n) for k, n, *_ in result.rows] == expected
    for key, n, share, previous, change in result.rows:
        assert share == pytest.approx(n / now.sum())
        assert previous == before.get(key, 0)
        assert change == pytest.approx((n - previous) / previous)


def test_compare_month_on_month_and_year_on_year(duck: DuckDBEngine, local: pd.DataFrame) -> None:
    result = metrics.run(duck, "compare", filters=MINE, period=Period.MONTH, at=dt.date(2026, 2, 14), by="major")
    month = pd.to_datetime(local["day"]).dt.strftime("%Y-%m")
    for key, n, previous, mom, last_year, yoy in result.rows:
        of = local["major_key"] == key
        assert (n, previous, last_year) == (
            ((month == "2026-02") & of).sum(),
            ((month == "2026-01") & of).sum(),
            ((month == "2025-02") & of).sum(),
        )
        assert mom == pytest.approx((n - previous) / previous) and yoy == pytest.approx((n - last_year) / last_year)
    assert result.meta["last_year"] == (dt.date(2025, 2, 1), dt.date(2025, 3, 1))


@pytest.mark.parametrize(
    ("period", "at", "now", "previous", "last_year"),
    [
        (Period.DAY, dt.date(2024, 2, 29), (dt.date(2024, 2, 29),) * 2, dt.date(2024, 2, 28), dt.date(2023, 2, 28)),
        (Period.WEEK, dt.date(2026, 1, 1), (dt.date(2025, 12, 29),) * 2, dt.date(2025, 12, 22), dt.date(2024, 12, 30)),
        (Period.MONTH, dt.date(2026, 3, 31), (dt.date(2026, 3, 1),) * 2, dt.date(2026, 2, 1), dt.date(2025, 3, 1)),
        (Period.QUARTER, dt.date(2026, 5, 5), (dt.date(2026, 4, 1),) * 2, dt.date(2026, 1, 1), dt.date(2025, 4, 1)),
        (Period.YEAR, dt.date(2026, 5, 5), (dt.date(2026, 1, 1),) * 2, dt.date(2025, 1, 1), dt.date(2025, 1, 1)),
    ],
)
def test_period_arithmetic(period: Period, at: dt.date, now: tuple, previous: dt.date, last_year: dt.date) -> None:
    start, end = metrics.period_bounds(period, at)
    assert start == now[0] and end > start
    assert metrics.previous_bounds(period, start)[0] == previous
    assert metrics.last_year_bounds(period, start, end)[0] == last_year


def brute_gi_star(x: np.ndarray, points: np.ndarray, band: float) -> np.ndarray:
    """Getis & Ord's formula written out cell by cell, as in the paper."""
    n = len(x)
    mean, s = x.mean(), np.sqrt((x**2).sum() / n - x.mean() ** 2)
    out = []
    for i in range(n):
        w = np.array([1.0 if np.hypot(*(points[i] - points[j])) <= band else 0.0 for j in range(n)])
        out.append((w @ x - mean * w.sum()) / (s * np.sqrt((n * (w**2).sum() - w.sum() ** 2) / (n - 1))))
    return np.array(out)


def test_gi_star_equals_the_formula_and_finds_the_planted_hotspot(duck: DuckDBEngine, synthetic: Synthetic) -> None:
    rng = np.random.default_rng(7)
    x, points = rng.poisson(5, 40).astype(float), rng.uniform(0, 5000, (40, 2))
    gi = hotspots.gi_star(x, points, 1500.0)
    assert np.allclose(gi.z, brute_gi_star(x, points, 1500.0))

    result = metrics.run(duck, "hotspots", filters=Filters(area_path=synthetic.area_path, source=SOURCE))
    hot = {cell for cell, _, z, p, level in result.rows if level >= 2}
    planted = {c for c in synthetic.cells if c.startswith("990101001001")}  # 东街道一社区
    assert hot and hot <= planted
    assert all(p < 0.05 for cell, _, _, p, _ in result.rows if cell in hot)
    assert result.meta["band_m"] > 0


def test_cube_is_ranked_and_consistent_with_counts(duck: DuckDBEngine, local: pd.DataFrame) -> None:
    rows = metrics.run(duck, "cube", filters=MINE, type_by="major", place_by="cell", time_by="hour", limit=20).rows
    expected = local.groupby(["major_key", "cell_code", "hour"]).size()
    assert [n for *_, n in rows] == sorted(expected, reverse=True)[:20]
    assert all(expected[(t, p, h)] == n for t, p, h, n in rows)


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        (Filters(source="x' OR '1'='1"), "source"),
        (Filters(category="C01; DROP"), "category"),
        (Filters(area_path="/990000000000"), "area"),
        (Filters(start=dt.date(2025, 2, 1), end=dt.date(2025, 1, 1)), "start"),
    ],
)
def test_unsafe_or_impossible_filters_are_refused(duck: DuckDBEngine, filters: Filters, field: str) -> None:
    with pytest.raises(Invalid) as caught:
        metrics.run(duck, "counts", filters=filters, by="hour")
    assert caught.value.field == field


def test_unknown_metric_dimension_and_engine(duck: DuckDBEngine, synced: Settings, tmp_path) -> None:
    with pytest.raises(NotFound):
        metrics.run(duck, "nope")
    with pytest.raises(Invalid):
        metrics.run(duck, "counts", by="colour")
    with pytest.raises(Invalid):
        open_engine("oracle", synced.lake_path)
    with pytest.raises(NotFound) as caught:
        metrics.run(DuckDBEngine(tmp_path), "counts", subject=Subject.EVENTS, by="hour")  # an empty lake
    assert caught.value.field == "lake"
