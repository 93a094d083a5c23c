"""Forecasts on synthetic series with known seasonality, the backtest's choice, duty deployment,
and the aggregates behind them equal on DuckDB and Spark."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from fastapi.testclient import TestClient
from tests.analytics.conftest import SOURCE

from chengguan.analytics import forecast as fc
from chengguan.analytics.duty import Shift, deploy, largest_remainder
from chengguan.analytics.engines import DuckDBEngine
from chengguan.analytics.metrics import Filters, Subject
from chengguan.analytics.spark import SparkEngine, local_session
from chengguan.analytics.volume import Grain, Split, enforcement, volume
from chengguan.config import Settings
from chengguan.errors import Invalid

START = dt.date(2024, 1, 1)
WEEKLY = np.array([1.0, 0.9, 0.9, 0.95, 1.1, 1.5, 1.4])
HOLIDAYS = {dt.date(y, m, d) for y in (2024, 2025) for m, d in ((1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3))}


def kinds_for(days: list[dt.date]) -> dict[dt.date, str]:
    return {d: "holiday" if d in HOLIDAYS else "weekend" if d.weekday() >= 5 else "workday" for d in days}


def expected(days: list[dt.date]) -> np.ndarray:
    """40 a day × weekday factor × a yearly wave (±30 %), halved on holidays."""
    year = np.array([1 + 0.3 * np.sin(2 * np.pi * d.timetuple().tm_yday / 365.25) for d in days])
    holiday = np.array([0.5 if d in HOLIDAYS else 1.0 for d in days])
    return 40 * WEEKLY[[d.weekday() for d in days]] * year * holiday


def test_the_regression_recovers_known_seasonality_and_beats_seasonal_naive() -> None:
    days = fc.days_from(START, 730 + 28)
    lam = expected(days)
    profile = np.linspace(1, 3, 24) / np.linspace(1, 3, 24).sum()
    hourly = np.random.default_rng(7).poisson(np.outer(lam[:730], profile))
    got = fc.forecast(hourly, START, kinds_for(days), horizon=28)
    scores = {s.model: s for s in got.scores}
    assert got.model == "poisson_regression"
    assert scores["poisson_regression"].smape < 0.8 * scores["seasonal_naive"].smape
    assert np.abs(got.daily / lam[730:] - 1).max() < 0.15  # within 15 % of the true mean every day
    assert got.hourly is not None and np.allclose(got.hourly.sum(axis=1), got.daily)
    assert np.allclose(got.hourly[0] / got.hourly[0].sum(), profile, atol=0.02)  # the hour profile is learnt


def test_a_pure_weekly_pattern_is_forecast_exactly_and_errors_are_known() -> None:
    days = fc.days_from(START, 70)
    y = np.tile([10.0, 12, 14, 16, 18, 30, 20], 10)
    plain = {d: "weekend" if d.weekday() >= 5 else "workday" for d in fc.days_from(START, 80)}
    assert np.array_equal(fc.seasonal_naive(y, days, fc.days_from(days[-1] + dt.timedelta(days=1), 9), plain), y[:9])
    assert np.allclose(fc.poisson_regression(y, days, fc.days_from(START + dt.timedelta(days=70), 7), plain), y[:7])
    assert fc.smape(np.array([0.0, 10, 10]), np.array([0.0, 10, 30])) == pytest.approx(100 / 3)
    assert fc.mape(np.array([0.0, 10]), np.array([5.0, 15])) == 50.0
    assert fc.origins(70, 4, 7) == [42, 49, 56, 63] and fc.origins(35, 4, 7) == [28]


def test_short_histories_fall_back_to_seasonal_naive_and_bad_horizons_are_refused() -> None:
    hourly = np.ones((20, 24))
    got = fc.forecast(hourly, START, {}, horizon=3)
    assert got.model == "seasonal_naive" and np.allclose(got.daily, 24)
    with pytest.raises(Invalid):
        fc.forecast(hourly, START, {}, horizon=0)
    with pytest.raises(Invalid):
        fc.forecast(np.ones((5, 24)), START, {}, horizon=3)


def test_largest_remainder_keeps_the_total_and_the_minimum() -> None:
    assert largest_remainder(10, [50, 30, 20], minimum=1) == [5, 3, 2]  # 7 spare: 3.5, 2.1, 1.4 → 3, 2, 1 + one to .5
    assert largest_remainder(7, [0, 0, 0], minimum=1) == [3, 2, 2]  # no forecast: equal, earlier first
    assert largest_remainder(3, [1, 100, 1], minimum=1) == [1, 1, 1]
    with pytest.raises(Invalid):
        largest_remainder(2, [1, 1, 1], minimum=1)
    assert Shift("night", 22, 6).hours() == [22, 23, 0, 1, 2, 3, 4, 5]


def test_deploy_follows_the_peak() -> None:
    by_hour = np.zeros((1, 24))
    by_hour[0, 8:16] = 1.0  # all the day's volume in the day shift
    shifts = [Shift("day", 8, 16), Shift("evening", 16, 22), Shift("night", 22, 8)]
    got = deploy({"7": by_hour}, [START], {"7": 12, "8": 6}, shifts, minimum=1)
    assert [(p.area, p.shift, p.officers) for p in got] == [
        ("7", "day", 10),
        ("7", "evening", 1),
        ("7", "night", 1),
        ("8", "day", 2),
        ("8", "evening", 2),
        ("8", "night", 2),
    ]
    with pytest.raises(Invalid):
        deploy({}, [START], {"7": 3}, [Shift("a", 0, 12), Shift("b", 6, 18)], minimum=0)


@pytest.fixture(scope="module")
def spark_engine(synced: Settings):
    spark = local_session()
    yield SparkEngine(synced.lake_path, spark)
    spark.stop()


def test_the_aggregates_are_equal_on_duckdb_and_spark(synced: Settings, spark_engine) -> None:
    duck = DuckDBEngine(synced.lake_path)
    period = Filters(start=dt.date(2025, 6, 1), end=dt.date(2025, 9, 1), source=SOURCE)
    for subject in Subject:
        for split in (Split(), Split("street", "major"), Split("district", "category")):
            for grain in Grain:
                expect = volume(duck, subject, period, split, grain)
                assert expect and volume(spark_engine, subject, period, split, grain) == expect
    assert enforcement(spark_engine, period, "street") == enforcement(duck, period, "street")
    duck.close()


def test_forecast_and_duty_through_the_api(app, synced: Settings, client: TestClient, as_user) -> None:
    original = app.state.settings
    app.state.settings = synced
    try:
        params = {"today": "2026-03-01", "horizon": 7, "source": SOURCE, "grain": "hour"}
        res = client.get("/api/analytics/forecast", params=params, headers=as_user("admin_city"))
        assert res.status_code == 200, res.text
        body = res.json()
        assert len(body["rows"]) == 7 * 24 and body["meta"]["series"]["all/all"]["model"] in fc.MODELS
        body_in = {
            "start": "2026-03-01",
            "days": 2,
            "area_by": "district",
            "officers": {"1": 9},
            "shifts": [{"name": "day", "start": 8, "end": 20}, {"name": "night", "start": 20, "end": 8}],
            "minimum": 2,
        }
        duty = client.post(
            "/api/analytics/duty", json=body_in, params={"source": SOURCE}, headers=as_user("admin_city")
        )
        assert duty.status_code == 200, duty.text
        rows = duty.json()["rows"]
        assert len(rows) == 4 and all(r[4] >= 2 for r in rows)
        assert sum(r[4] for r in rows if r[1] == "2026-03-01") == 9
    finally:
        app.state.settings = original
