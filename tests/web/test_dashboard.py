"""The analysis dashboard without a browser: who may open it, and each card's data route answers
what the analysis itself answers for the user's own area (the metrics as /api/analytics, the
warnings, forecast, duty and report-vs-enforcement as ``analytics.support``), plus the report
downloads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from chengguan.analytics import forecast, report_store, support
from chengguan.analytics.metrics import Filters, Period, Subject
from chengguan.analytics.metrics import Result as Answer
from chengguan.analytics.volume import Grain, Split
from chengguan.audit import platform_actor
from chengguan.config import Settings
from chengguan.db import unit_of_work
from chengguan.orgs.models import org_table
from chengguan.web.dashboard import CARDS, SHIFTS
from tests.analytics.conftest import SOURCE, Synthetic
from tests.factories import SampleCity

PERIOD = {"source": SOURCE, "start": "2025-06-01", "end": "2025-06-30"}
SLICE = Filters(start=dt.date(2025, 6, 1), end=dt.date(2025, 7, 1), source=SOURCE)  # PERIOD, end exclusive
LAST = dt.date(2025, 6, 30)


@pytest.fixture
def lake_browser(app, synced: Settings, browser) -> Iterator:
    """Logged-in clients of the app reading the synced test lake."""
    original = app.state.settings
    app.state.settings = synced
    yield browser
    app.state.settings = original


def rows(res) -> list[list]:
    assert res.status_code == 200, res.text
    return res.json()["rows"]


def as_json(result: Answer) -> list[list]:
    """An analysis's rows as the data routes send them (dates as ISO text)."""
    return [[v.isoformat() if isinstance(v, dt.date) else v for v in r] for r in result.rows]


def path_of(app, org_id: int) -> str:
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        path = session.scalar(select(org_table.c.path).where(org_table.c.id == org_id))
    assert path is not None
    return path


def analysed(app, settings: Settings, city: SampleCity, call, *arguments) -> Answer:
    """``call`` (an ``analytics.support`` function) over 甲区, analyst_a's own area."""
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        return call(session, settings, (path_of(app, city.org["A"]), None), *arguments)


def test_the_page_and_who_may_open_it(lake_browser) -> None:
    page = lake_browser("analyst_a").get("/dashboard", params={"start": "2025-06-01", "end": "2025-06-30"})
    assert page.status_code == 200 and "分析研判" in page.text
    assert [c.key for c in CARDS] == [
        "warnings", "forecast", "heatmap", "hot_types", "compare", "hotspots", "streets", "day_kinds", "versus",
        "duty", "reports",
    ]  # fmt: skip
    for card in CARDS:
        assert f'id="card-{card.key}"' in page.text
    assert "data-later" not in page.text
    assert 'action="/dashboard/reports/generate"' in page.text and 'value="2025-06-30"' in page.text
    assert lake_browser("clerk_a").get("/dashboard").status_code == 403
    assert lake_browser("clerk_a").get("/dashboard/data/warnings").status_code == 403
    assert '"/dashboard"' not in lake_browser("clerk_a").get("/").text  # not in the clerk's navigation


def test_street_ranking_is_the_users_own_area_with_names(
    lake_browser,
    as_user,
    city: SampleCity,
    client: TestClient,
) -> None:
    params = {**PERIOD, "by": "street", "limit": "10"}
    mine = lake_browser("analyst_a").get("/dashboard/data/top", params=params)
    ranked = rows(mine)
    assert ranked and {r[0] for r in ranked} <= {city.org["A1"], city.org["A2"]}
    assert mine.json()["names"] == {
        str(r[0]): {city.org["A1"]: "东街道", city.org["A2"]: "西街道"}[r[0]] for r in ranked
    }
    # the same figures as the API (whose end is exclusive)
    api = client.get(
        "/api/analytics/top/street",
        params={**params, "end": "2025-07-01"},
        headers=as_user("analyst_a"),
    )
    assert rows(api) == ranked
    city_wide = {r[0] for r in rows(lake_browser("admin_city").get("/dashboard/data/top", params=params))}
    assert city.org["B1"] in city_wide


def test_every_metric_card_answers(lake_browser) -> None:
    analyst = lake_browser("analyst_a")
    assert sum(r[2] for r in rows(analyst.get("/dashboard/data/heatmap", params=PERIOD))) > 0
    assert rows(analyst.get("/dashboard/data/hot_types", params={**PERIOD, "limit": "5"}))
    assert rows(analyst.get("/dashboard/data/day_kinds", params=PERIOD))
    hot = rows(analyst.get("/dashboard/data/hotspots", params=PERIOD))
    assert hot and all(r[0].startswith("990101") for r in hot)  # 甲区's cells only
    compare = rows(
        analyst.get("/dashboard/data/compare", params={"source": SOURCE, "period": "month", "at": "2025-06-15"})
    )
    assert len(compare) == 1 and compare[0][1] > 0
    assert analyst.get("/dashboard/data/top", params={**PERIOD, "limit": "many"}).status_code == 422
    assert analyst.get("/dashboard/data/compare", params={"period": "fortnight", "at": "2025-06-15"}).status_code == 422
    assert analyst.get("/dashboard/data/no_such_metric", params=PERIOD).status_code == 404


def test_the_warning_board_is_the_warning_analysis_of_the_users_area(
    lake_browser,
    app,
    synced: Settings,
    city: SampleCity,
    synthetic: Synthetic,
) -> None:
    res = lake_browser("analyst_a").get("/dashboard/data/warnings", params=PERIOD)
    split = Split("street", "major")
    expected = analysed(app, synced, city, support.warnings, Subject.REPORTS, SLICE, split, LAST)
    assert rows(res) == as_json(expected) and expected.rows
    assert {r[0] for r in rows(res)} <= {str(city.org["A1"]), str(city.org["A2"])}
    assert set(res.json()["names"].values()) <= {"东街道", "西街道"}
    # the observed counts are the day's reports of each street × 大类
    frame = synthetic.frame[synthetic.frame["source"] == SOURCE]
    on_day = frame[frame["received_at"].dt.tz_convert("Asia/Shanghai").dt.date == LAST]
    in_a = on_day[on_day["cell_code"].str.startswith("990101")]
    assert sum(r[2] for r in rows(res)) == len(in_a)
    city_wide = lake_browser("admin_city").get("/dashboard/data/warnings", params=PERIOD)
    assert str(city.org["B1"]) in {r[0] for r in rows(city_wide)}
    bad = lake_browser("analyst_a").get("/dashboard/data/warnings", params={**PERIOD, "area_by": "planet"})
    assert bad.status_code == 422


def test_forecast_against_actual_is_the_forecast_with_its_backtest(
    lake_browser,
    app,
    synced: Settings,
    city: SampleCity,
) -> None:
    res = lake_browser("analyst_a").get("/dashboard/data/forecast", params=PERIOD)
    today = LAST + dt.timedelta(days=1)
    expected = analysed(app, synced, city, support.forecasts, Subject.REPORTS, SLICE, Split(), today, 14, Grain.DAY)
    body = res.json()
    assert rows(res) == as_json(expected)
    assert [r[2] for r in body["rows"]] == [(today + dt.timedelta(days=i)).isoformat() for i in range(14)]
    series = body["meta"]["series"]["all/all"]
    assert series == expected.meta["series"]["all/all"]
    assert series["model"] in {s["model"] for s in series["backtest"]}
    assert "seasonal_naive" in {s["model"] for s in series["backtest"]}
    # the actual history: every day of the period, those without a report at 0, adding up to the heatmap's total
    actual = body["meta"]["actual"]
    assert [day for day, _ in actual] == [f"2025-06-{d:02d}" for d in range(1, 31)]
    heat = rows(lake_browser("analyst_a").get("/dashboard/data/heatmap", params=PERIOD))
    assert sum(n for _, n in actual) == sum(r[2] for r in heat)


def test_duty_shares_each_streets_officers_among_the_shifts(
    lake_browser,
    app,
    synced: Settings,
    city: SampleCity,
) -> None:
    res = lake_browser("analyst_a").get("/dashboard/data/duty", params={**PERIOD, "officers": "9"})
    streets = {str(city.org["A1"]): 9, str(city.org["A2"]): 9}
    expected = analysed(
        app,
        synced,
        city,
        support.deployment,
        Subject.REPORTS,
        SLICE,
        "street",
        LAST + dt.timedelta(days=1),
        1,
        streets,
        SHIFTS,
        1,
    )
    assert rows(res) == as_json(expected)
    per_street: dict[str, int] = {}
    for area, _, shift, _, officers in rows(res):
        assert officers >= 1 and shift in {s.name for s in SHIFTS}
        per_street[area] = per_street.get(area, 0) + officers
    assert per_street == streets  # every street of 甲区, all its officers, no other street
    too_few = lake_browser("analyst_a").get("/dashboard/data/duty", params={**PERIOD, "officers": "2"})
    assert too_few.status_code == 422


def test_report_against_enforcement_is_the_comparison_of_the_users_area(
    lake_browser,
    app,
    synced: Settings,
    city: SampleCity,
) -> None:
    res = lake_browser("analyst_a").get("/dashboard/data/versus", params=PERIOD)
    expected = analysed(app, synced, city, support.report_vs_enforcement, SLICE, "street")
    assert rows(res) == as_json(expected) and expected.rows
    assert {r[0] for r in rows(res)} <= {str(city.org["A1"]), str(city.org["A2"]), "none"}


@pytest.fixture
def report_browser(app, synced: Settings, browser, tmp_path: Path) -> Iterator:
    """Clients of the app reading the test lake and keeping reports in a folder of their own."""
    original = app.state.settings
    app.state.settings = synced.model_copy(update={"data_dir": tmp_path})
    yield browser
    app.state.settings = original


def test_reports_are_listed_generated_and_downloaded_within_the_users_area(
    report_browser, app, city: SampleCity
) -> None:
    settings: Settings = app.state.settings
    for org in ("A", "B"):
        with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
            made = report_store.generate(session, settings, "/", city.org[org], Period.MONTH, dt.date(2025, 6, 1))
        report_store.store(settings, made)
    analyst = report_browser("analyst_a")
    listed = analyst.get("/dashboard/reports")
    assert listed.status_code == 200, listed.text
    assert [(r["area_id"], r["period"], r["start"]) for r in listed.json()] == [(city.org["A"], "month", "2025-06-01")]
    key = listed.json()[0]["key"]
    for fmt, media in report_store.MEDIA_TYPES.items():
        got = analyst.get(f"/dashboard/reports/{key}", params={"format": fmt})
        assert got.status_code == 200 and got.headers["content-type"] == media
        assert got.headers["content-disposition"].startswith("attachment;")
    assert analyst.get(f"/dashboard/reports/{key}").content.lower().startswith(b"<!doctype html>")
    assert analyst.get(f"/dashboard/reports/{key}", params={"format": "pdf"}).content.startswith(b"%PDF")
    b_key = f"month-2025-06-01-{city.org['B']}"
    assert analyst.get(f"/dashboard/reports/{b_key}").status_code == 404  # 乙区's report: not found for 甲区
    assert report_browser("admin_city").get(f"/dashboard/reports/{b_key}").status_code == 200
    made_now = analyst.get("/dashboard/reports/generate", params={"period": "week", "at": "2025-06-18"})
    assert made_now.status_code == 200 and "甲区" in made_now.text
    xlsx = analyst.get("/dashboard/reports/generate", params={"period": "week", "at": "2025-06-18", "format": "xlsx"})
    assert xlsx.content.startswith(b"PK")  # a zip: the workbook
    assert analyst.get("/dashboard/reports/generate", params={"at": "2025-06-18", "format": "doc"}).status_code == 422


def test_a_city_with_more_streets_than_a_request_may_forecast_is_deployed_by_district(
    lake_browser, city: SampleCity, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(forecast, "MAX_SERIES", 2)  # the test city's 3 streets are then too many
    got = rows(lake_browser("admin_city").get("/dashboard/data/duty", params={**PERIOD, "officers": "6"}))
    assert {r[0] for r in got} == {str(city.org["A"]), str(city.org["B"])}
    assert sum(r[4] for r in got) == 12
