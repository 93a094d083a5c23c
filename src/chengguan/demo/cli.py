"""`chengguan demo`: build the demo city (Beijing) into the configured database, with a year of
report history."""

from __future__ import annotations

import time

import typer

from chengguan.config import get_settings
from chengguan.console import cli_actor, cli_session, reports_errors
from chengguan.db import create_engine, make_sessionmaker
from chengguan.demo import history
from chengguan.demo.build import CITY_ADMIN, DemoResult, build_demo
from chengguan.intake.channels import CHANNELS

app = typer.Typer()  # help: the callback's docstring
DOCS_URL = "http://127.0.0.1:8000/docs"
PROGRESS_STEPS = 10  # progress lines while the history loads


@app.callback(invoke_without_command=True)
@reports_errors
def demo(
    seed: int = typer.Option(2026, help="seed of the synthetic streets, communities, grid cells and history"),
    history_reports: int = typer.Option(
        history.DEFAULT_REPORTS,
        "--history",
        min=0,
        help="reports in the year of history (0: none); loaded into a database that has no reports yet",
    ),
) -> None:
    """Build the demo city (Beijing) and a year of reports; running it again changes nothing.

    16 districts, 339 streets/towns, ~2,000 communities and ~10,000 grid cells, the working
    units, the shipped reference data, the responsibility list, and one demo user per role per
    district, all with the demo password (setting CHENGGUAN_DEMO_PASSWORD). Then a year of
    reports (2025-11-22 … 2026-11-21) through the intake pipeline, as a history import."""
    settings = get_settings()
    started = time.perf_counter()
    with cli_session("demo") as session:
        result = build_demo(session, settings, seed)
    _report(result, time.perf_counter() - started)
    if history_reports:
        _load_history(history.HistorySpec(reports=history_reports, seed=seed))
    typer.echo(f"done in {time.perf_counter() - started:.0f} s / 完成")
    typer.echo(
        f"log in as {CITY_ADMIN} or e.g. haidian.clerk, haidian.dispatcher, haidian.officer "
        f"with the demo password {settings.demo_password!r} (setting CHENGGUAN_DEMO_PASSWORD)"
    )
    typer.echo(f"then `chengguan serve` and open {DOCS_URL}")


def _report(result: DemoResult, seconds: float) -> None:
    if result.created:
        typer.echo(f"demo city built in {seconds:.0f} s / 示范城市已建成")
    else:
        typer.echo("the demo city is already in this database; nothing changed / 示范城市已存在，未做修改")
    width = max(len(label) for label in result.counts)
    for label, count in result.counts.items():
        typer.echo(f"  {label:<{width}}  {count:>6}")
    if result.api_keys:
        typer.echo("API keys of the video-AI system accounts (shown once / 仅显示一次):")
        for username, key in result.api_keys.items():
            typer.echo(f"  {username:<24} {key}")


def _load_history(spec: history.HistorySpec) -> None:
    with cli_session("demo") as session:
        if history.has_reports(session):
            typer.echo("the database already holds reports; no history added / 已有上报记录，未生成历史数据")
            return
    typer.echo(f"loading a year of history: {spec.reports:,} reports through the intake pipeline / 正在载入历史数据")
    step = max(spec.reports // PROGRESS_STEPS, 1)
    begun = time.perf_counter()
    next_line = step

    def progress(done: history.HistoryResult) -> None:
        nonlocal next_line
        handled = done.reports + done.repeated + len(done.refused)
        if handled >= next_line:
            next_line = handled + step
            typer.echo(f"  {handled:>9,} reports  {time.perf_counter() - begun:6.0f} s")

    engine = create_engine(get_settings().db_url)
    try:
        result = history.load_history(make_sessionmaker(engine), cli_actor("demo"), spec, progress)
    finally:
        engine.dispose()
    _report_history(result)


def _report_history(result: history.HistoryResult) -> None:
    rate = result.reports / result.seconds if result.seconds else 0.0
    typer.echo(
        f"history loaded in {result.seconds:.0f} s ({rate:,.0f} reports/s; making them {result.generating:.1f} s) "
        f"/ 历史数据已载入"
    )
    total = max(result.reports, 1)
    typer.echo(
        f"  reports {result.reports:,} · events {result.events:,} · merged {result.merged / total:.1%}"
        f" · waiting for a clerk {result.pending / total:.1%} · skipped (already there) {result.repeated:,}"
        f" · refused {len(result.refused):,}"
    )
    for line in result.refused[:5]:
        typer.echo(f"  refused: {line}", err=True)
    for code, count in result.by_channel.most_common():
        typer.echo(f"  {code:<15} {count:>9,}  {count / total:6.1%}  {CHANNELS[code].name_zh}")
