"""`chengguan lake sync|status|report|warnings|forecast`: the analytics lake, the analysis reports
made from it, and the three-colour warnings and volume forecasts printed as tables."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from chengguan.analytics import forecast, lake, report_store, reports, situation, thresholds
from chengguan.analytics.engines import Engine, open_engine
from chengguan.analytics.metrics import Filters, Period, Subject
from chengguan.analytics.reports import WEEKDAYS
from chengguan.analytics.volume import Split
from chengguan.config import get_settings
from chengguan.console import cli_session, reports_errors

app = typer.Typer(help="The analytics lake (Parquet) / 分析数据湖", no_args_is_help=True)


@app.command("sync")
@reports_errors
def sync(full: bool = typer.Option(False, "--full", help="rebuild the lake from nothing")) -> None:
    """Export what changed since the last sync; safe to interrupt and run again."""
    settings = get_settings()
    started = time.perf_counter()
    with cli_session("lake sync") as session:
        done = lake.sync(session, settings, full=full)
    for name, result in done.items():
        typer.echo(f"{name}: {result}")
    typer.echo(f"lake at {settings.lake_path} in {time.perf_counter() - started:.1f} s")


@app.command("status")
def status() -> None:
    """The manifest: schema version and each table's high-water mark."""
    root = get_settings().lake_path
    manifest = lake.Manifest.read(root)
    body = {"schema_version": manifest.schema_version, "cursors": manifest.cursors, "synced_at": manifest.synced_at}
    typer.echo(json.dumps({**body, "months": lake.months_present(root)}, indent=2, ensure_ascii=False))


@app.command("report")
@reports_errors
def report(
    at: dt.datetime = typer.Option(..., "--at", formats=["%Y-%m-%d"], help="a day inside the period"),
    area: str = typer.Option(..., "--area", help="the area's organisation path, e.g. /1/2/"),
    output: Path = typer.Option(..., "-o", "--output", help="the file to write"),
    period: Period = typer.Option(Period.WEEK, "--period", help="day, week (Monday–Sunday), month, quarter, year"),
    fmt: str = typer.Option("", "--format", help="html, pdf or xlsx (default: the output's suffix)"),
) -> None:
    """Write the analysis report (a street's: its 体检报告) of the period containing --at."""
    settings = get_settings()
    engine = open_engine("duckdb", settings.lake_path)
    try:
        built = reports.build(engine, period, at.date(), area, settings.tz)
    finally:
        engine.close()
    # a file read anywhere, offline: ECharts goes into the page
    output.write_bytes(report_store.render(built, fmt or output.suffix.lstrip("."), settings, inline_echarts=True))
    for sentence in built.findings:
        typer.echo(sentence)
    typer.echo(f"{built.title} → {output}")


# -- warnings and forecasts --------------------------------------------------------------------

AREA = typer.Option("", "--area", help="an organisation path, e.g. /1/2/ (default: the whole lake)")
AREA_BY = typer.Option(None, "--area-by", help="district or street (default: the area whole)")
CATEGORY_BY = typer.Option(None, "--category-by", help="major (大类) or category (小类) (default: all)")
SOURCE = typer.Option(None, "--source", help="a channel, e.g. hotline")
SUBJECT = typer.Option(Subject.REPORTS, "--subject", help="reports (every submission) or events (after merging)")


def _label(names: reports.Names, area: str, category: str) -> str:
    """An area × category key as a reader knows it: organisation and category names."""
    place = names.org_name(int(area)) if area.isdigit() else area
    return f"{place} / {names.categories.get(category, category)}"


@contextmanager
def _lake() -> Iterator[tuple[Engine, reports.Names]]:
    engine = open_engine("duckdb", get_settings().lake_path)
    try:
        yield engine, reports.Names.read(engine)
    finally:
        engine.close()


@app.command("warnings")
@reports_errors
def warnings(
    day: dt.datetime = typer.Option(..., "--day", formats=["%Y-%m-%d"], help="the day to judge"),
    area: str = AREA,
    area_by: str | None = AREA_BY,
    category_by: str | None = CATEGORY_BY,
    source: str | None = SOURCE,
    subject: Subject = SUBJECT,
) -> None:
    """三色预警: each area × category's volume on --day against its own seasonal baseline, red first."""
    split = Split(area_by, category_by)
    with cli_session("lake warnings") as session:
        rules = thresholds.rules(session)
    with _lake() as (engine, names):
        filters = Filters(area_path=names.area(area).path if area else None, source=source).check()
        lights = situation.warnings(engine, subject, filters, split, day.date(), rules)
    typer.echo(f"{'level':<7} {'observed':>8} {'baseline':>9} {'z':>7} {'days':>5}  area / category")
    for x in lights:
        baseline = "—" if x.baseline is None else f"{x.baseline:.1f}"
        z = "—" if x.z is None else f"{x.z:.2f}"
        typer.echo(
            f"{x.level:<7} {x.observed:>8} {baseline:>9} {z:>7} {x.points:>5}  {_label(names, x.area, x.category)}"
        )
    typer.echo(f"{len(lights)} series on {day.date()}")


@app.command("forecast")
@reports_errors
def forecast_volume(
    today: dt.datetime = typer.Option(..., "--today", formats=["%Y-%m-%d"], help="the first day forecast"),
    horizon: int = typer.Option(14, "--horizon", help=f"days ahead, 1–{forecast.MAX_HORIZON}"),
    area: str = AREA,
    area_by: str | None = AREA_BY,
    category_by: str | None = CATEGORY_BY,
    source: str | None = SOURCE,
    subject: Subject = SUBJECT,
) -> None:
    """Daily volume of each area × category from --today, on the history up to the day before; the
    model is the one the rolling backtest chose, its error printed beside seasonal naive's."""
    split = Split(area_by, category_by)
    with _lake() as (engine, names):
        filters = Filters(area_path=names.area(area).path if area else None, source=source).check()
        found = forecast.from_lake(engine, subject, filters, split, today.date(), horizon)
    for (a, c), f in sorted(found.items()):
        typer.echo(f"{_label(names, a, c)}: {f.model}")
        for score in f.scores:
            mape = "—" if score.mape is None else f"{score.mape:.1f}%"
            typer.echo(f"  backtest {score.model:<20} sMAPE {score.smape:6.1f}%  MAPE {mape:>7}  ({score.points} days)")
        for d, v in zip(f.days, f.daily, strict=True):
            typer.echo(f"  {d} 周{WEEKDAYS[d.weekday()]} {v:8.1f}")
    if not found:
        typer.echo("no series with a week of history before that day / 该日之前不足一周历史数据")
