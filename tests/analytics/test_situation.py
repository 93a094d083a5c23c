"""Three-colour warnings on seeded synthetic series with known answers, the thresholds as audited
data, and report vs enforcement on the synced test lake against pandas."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.analytics.conftest import PENALTIES, SOURCE, Synthetic

from chengguan.analytics.situation import Level, Rule, Thresholds, baseline_days, light, resolve
from chengguan.analytics.support import pressure
from chengguan.analytics.volume import Enforcement
from chengguan.audit import AuditEntry
from chengguan.config import Settings
from chengguan.db import unit_of_work

MONDAY = dt.date(2026, 3, 2)
WEEKLY = [20, 18, 18, 19, 22, 35, 30]  # Monday … Sunday


def series(weeks: int, wobble: int = 2) -> dict[dt.date, int]:
    """``weeks`` weeks of a weekly pattern before MONDAY, alternately ``wobble`` above and below."""
    start = MONDAY - dt.timedelta(weeks=weeks)
    days = [start + dt.timedelta(days=i) for i in range(7 * weeks)]
    return {d: WEEKLY[d.weekday()] + (wobble if (d - start).days // 7 % 2 else -wobble) for d in days}


def plain(days: dict[dt.date, int]) -> dict[dt.date, str]:
    return {d: "weekend" if d.weekday() >= 5 else "workday" for d in days}


@pytest.mark.parametrize(
    ("today", "level"), [(20, Level.GREEN), (28, Level.GREEN), (30, Level.YELLOW), (34, Level.RED), (10, Level.GREEN)]
)
def test_a_day_is_judged_against_the_same_weekday_of_the_previous_weeks(today: int, level: Level) -> None:
    counts = series(8) | {MONDAY: today}
    since = min(counts)
    got = light(counts, MONDAY, plain(counts), since, Thresholds())
    # Mondays were 18 and 22 in turn: mean 20, sd 2.138, but σ is never below √20 = 4.472
    assert got.baseline == 20.0 and got.spread == pytest.approx(20**0.5, abs=1e-6) and got.points == 8
    assert got.level is level
    assert got.z == pytest.approx((today - 20) / 20**0.5, abs=1e-6)


def test_few_reports_never_warn_and_a_short_history_is_grey() -> None:
    quiet = {MONDAY - dt.timedelta(weeks=k): 0 for k in range(1, 9)} | {MONDAY: 4}
    assert light(quiet, MONDAY, plain(quiet), min(quiet), Thresholds()).level is Level.GREEN  # z = 4, but < 5 reports
    assert light(quiet, MONDAY, plain(quiet), min(quiet), Thresholds(min_count=3)).level is Level.RED
    young = {MONDAY - dt.timedelta(days=k): 20 for k in (1, 2, 3)} | {MONDAY: 90}  # one working day before it
    assert light(young, MONDAY, plain(young), min(young), Thresholds()).level is Level.GREY


def test_a_holiday_weekday_is_compared_with_rest_days() -> None:
    counts = series(8)
    kinds = plain(counts) | {MONDAY: "holiday"}
    pool = baseline_days(MONDAY, kinds, min(counts), 8)
    assert pool and all(d.weekday() >= 5 for d in pool)  # no working Monday in a holiday's baseline
    counts[MONDAY] = 36  # an ordinary weekend's volume: green on a holiday, red on a working Monday
    assert light(counts, MONDAY, kinds, min(counts), Thresholds()).level is Level.GREEN
    assert light(counts, MONDAY, plain(counts), min(counts), Thresholds()).level is Level.RED


def test_the_most_specific_threshold_wins() -> None:
    city, street_all = Thresholds(2.5, 4.0), Thresholds(1.5, 2.5)
    street_cat = Thresholds(1.0, 2.0)
    rules = [Rule(None, None, city), Rule("/c/d/s/", None, street_all), Rule("/c/d/s/", "zd", street_cat)]
    assert resolve(rules, "/c/d/s/cell/", ["zd", "major"]) == street_cat
    assert resolve(rules, "/c/d/s/", ["other", "major"]) == street_all
    assert resolve(rules, "/c/d/t/", ["zd", "major"]) == city
    assert resolve([], "/c/", ["zd"]) == Thresholds()
    assert resolve([Rule(None, "major", city)], "/c/", ["zd", "major"]) == city  # a 大类 rule covers its 小类


@pytest.fixture
def lake_client(app, synced: Settings, client: TestClient) -> Iterator[TestClient]:
    original = app.state.settings
    app.state.settings = synced
    yield client
    app.state.settings = original


def test_thresholds_are_edited_by_an_administrator_and_audited(app, lake_client: TestClient, as_user) -> None:
    body = {"category_key": "situation-test", "yellow_z": 1.5, "red_z": 2.5, "min_count": 2, "baseline_weeks": 6}
    assert (
        lake_client.put("/api/analytics/warning-thresholds", json=body, headers=as_user("analyst_a")).status_code == 403
    )
    bad = lake_client.put(
        "/api/analytics/warning-thresholds", json=body | {"red_z": 1.0}, headers=as_user("admin_city")
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "yellow_z"
    made = lake_client.put("/api/analytics/warning-thresholds", json=body, headers=as_user("admin_city"))
    assert made.status_code == 200, made.text
    again = lake_client.put(
        "/api/analytics/warning-thresholds", json=body | {"min_count": 7}, headers=as_user("admin_city")
    ).json()
    assert again["id"] == made.json()["id"] and again["min_count"] == 7  # one row per area and category
    listed = lake_client.get("/api/analytics/warning-thresholds", headers=as_user("analyst_a")).json()
    assert [r["min_count"] for r in listed if r["category_key"] == "situation-test"] == [7]
    with unit_of_work(app.state.sessionmaker) as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.entity == "warning_thresholds")).all()
        assert len(entries) >= 2 and any(e.after and e.after.get("min_count") == 7 for e in entries)
    gone = lake_client.delete(f"/api/analytics/warning-thresholds/{again['id']}", headers=as_user("admin_city"))
    assert gone.status_code == 204
    assert (
        lake_client.delete(
            f"/api/analytics/warning-thresholds/{again['id']}", headers=as_user("admin_city")
        ).status_code
        == 404
    )


def test_warnings_from_the_lake_cover_every_category_with_recent_reports(
    lake_client: TestClient, as_user, synthetic: Synthetic
) -> None:
    day = dt.date(2026, 2, 20)
    res = lake_client.get(
        "/api/analytics/warnings",
        params={"day": day.isoformat(), "category_by": "category", "source": SOURCE},
        headers=as_user("admin_city"),
    )
    assert res.status_code == 200, res.text
    rows = [dict(zip(res.json()["columns"], r, strict=True)) for r in res.json()["rows"]]
    frame = synthetic.frame[synthetic.frame["source"] == SOURCE]
    local = frame["received_at"].dt.tz_convert("Asia/Shanghai").dt.date
    window = frame[(local > day - dt.timedelta(weeks=8)) & (local <= day)]
    assert {r["category"] for r in rows} == set(window["category_key"])
    today = frame[local == day]["category_key"].value_counts().to_dict()
    assert {r["category"]: r["observed"] for r in rows} == {c: today.get(c, 0) for c in set(window["category_key"])}
    assert all(r["level"] in {"green", "yellow", "red", "grey"} for r in rows)


def test_pressure_ranks_areas_where_complaints_outrun_action() -> None:
    got = pressure(
        {
            "a": Enforcement(reports=100, events=60, dispatched=60, closed=50, penalty_cases=0),
            "b": Enforcement(reports=100, events=80, dispatched=80, closed=80, penalty_cases=20),
            "c": Enforcement(reports=10, events=5, dispatched=2, closed=0, penalty_cases=0),
        }
    ).records()
    assert [r["area"] for r in got] == ["c", "a", "b"]  # no action at all first
    # whole slice: 210 reports per 150 actions = 1.4; a: 100/50 = 2 → 1.4286; b: 100/100 → 0.714
    assert got[1]["pressure"] == pytest.approx(2 / 1.4) and got[1]["outrun"]
    assert got[2]["pressure"] == pytest.approx(1 / 1.4) and not got[2]["outrun"] and got[0]["outrun"]


def test_report_vs_enforcement_from_the_lake_equals_pandas(
    lake_client: TestClient, as_user, synthetic: Synthetic
) -> None:
    res = lake_client.get(
        "/api/analytics/report-vs-enforcement",
        params={"area_by": "district", "source": SOURCE},
        headers=as_user("admin_city"),
    )
    assert res.status_code == 200, res.text
    rows = [dict(zip(res.json()["columns"], r, strict=True)) for r in res.json()["rows"]]
    assert sum(r["reports"] for r in rows) == (synthetic.frame["source"] == SOURCE).sum()
    assert sum(r["events"] for r in rows) == (synthetic.frame["source"].iloc[::2] == SOURCE).sum()
    # the seeded penalty cases have no channel: the source filter does not apply to them
    assert sum(r["penalty_cases"] for r in rows) == PENALTIES
    assert sum(r["closed"] for r in rows) == 0  # the seeded events carry no closing time
