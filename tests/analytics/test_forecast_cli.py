"""`chengguan lake warnings` and `chengguan lake forecast` print what the analyses answer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from tests.analytics.conftest import SOURCE
from typer.testing import CliRunner

from chengguan.analytics import forecast, reports, situation
from chengguan.analytics.engines import open_engine
from chengguan.analytics.metrics import Filters, Subject
from chengguan.analytics.volume import Split
from chengguan.cli import app as cli_app
from chengguan.config import Settings, get_settings

DAY = dt.date(2026, 2, 20)


@pytest.fixture
def lake_cli(cli_store: None, synced: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The CLI against the test store and the synced test lake."""
    monkeypatch.setenv("CHENGGUAN_LAKE_DIR", str(synced.lake_path))
    get_settings.cache_clear()
    yield synced
    get_settings.cache_clear()


def invoke(*args: str) -> list[str]:
    done = CliRunner().invoke(cli_app, ["lake", *args])
    assert done.exit_code == 0, done.output
    return done.output.splitlines()


def test_warnings_print_every_series_red_first(lake_cli: Settings) -> None:
    lines = invoke(
        "warnings", "--day", DAY.isoformat(), "--area-by", "street", "--category-by", "major", "--source", SOURCE
    )
    engine = open_engine("duckdb", lake_cli.lake_path)
    try:
        names = reports.Names.read(engine)
        expected = situation.warnings(
            engine, Subject.REPORTS, Filters(source=SOURCE), Split("street", "major"), DAY, []
        )
    finally:
        engine.close()
    assert expected and lines[-1] == f"{len(expected)} series on {DAY}"
    printed = [line.split(maxsplit=5) for line in lines[1:-1]]
    assert [(p[0], int(p[1])) for p in printed] == [(str(x.level), x.observed) for x in expected]
    street_names = {names.org_name(int(x.area)) for x in expected if x.area.isdigit()}
    assert {p[5].split(" / ")[0] for p in printed} == street_names
    assert {"东街道", "西街道", "南镇"} >= street_names


def test_forecast_prints_the_chosen_model_its_backtest_and_the_days(lake_cli: Settings, city) -> None:
    today = dt.date(2025, 7, 1)
    lines = invoke("forecast", "--today", today.isoformat(), "--horizon", "7", "--source", SOURCE)
    engine = open_engine("duckdb", lake_cli.lake_path)
    try:
        expected = forecast.from_lake(engine, Subject.REPORTS, Filters(source=SOURCE), Split(), today, 7)
    finally:
        engine.close()
    f = expected["all", "all"]
    assert lines[0] == f"all / all: {f.model}"
    backtest = [line.split()[1] for line in lines if line.startswith("  backtest")]
    assert backtest == [s.model for s in f.scores] and forecast.BASELINE in backtest
    days = [line.split() for line in lines if line.startswith("  2025-")]
    assert [(d[0], float(d[2])) for d in days] == [
        (str(d), round(float(v), 1)) for d, v in zip(f.days, f.daily, strict=True)
    ]


def test_bad_options_exit_with_the_field_at_fault(lake_cli: Settings) -> None:
    runner = CliRunner()
    planet = runner.invoke(cli_app, ["lake", "warnings", "--day", DAY.isoformat(), "--area-by", "planet"])
    assert planet.exit_code == 2 and "area_by" in planet.output
    nowhere = runner.invoke(cli_app, ["lake", "forecast", "--today", DAY.isoformat(), "--area", "/nowhere/"])
    assert nowhere.exit_code == 2 and "area" in nowhere.output
    far = runner.invoke(cli_app, ["lake", "forecast", "--today", DAY.isoformat(), "--horizon", "1000"])
    assert far.exit_code == 2 and "horizon" in far.output
