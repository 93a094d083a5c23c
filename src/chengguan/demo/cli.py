"""`chengguan demo`: build the demo city (Beijing) into the configured database."""

from __future__ import annotations

import time

import typer

from chengguan.config import get_settings
from chengguan.console import cli_session, reports_errors
from chengguan.demo.build import CITY_ADMIN, DemoResult, build_demo

app = typer.Typer()  # help: the callback's docstring
DOCS_URL = "http://127.0.0.1:8000/docs"


@app.callback(invoke_without_command=True)
@reports_errors
def demo(seed: int = typer.Option(2026, help="seed of the synthetic streets, communities and grid cells")) -> None:
    """Build the demo city (Beijing); running it again changes nothing.

    16 districts, 339 streets/towns, ~2,000 communities and ~10,000 grid cells, the working
    units, the shipped reference data, the responsibility list, and one demo user per role per
    district, all with the demo password (setting CHENGGUAN_DEMO_PASSWORD)."""
    settings = get_settings()
    started = time.perf_counter()
    with cli_session("demo") as session:
        result = build_demo(session, settings, seed)
    _report(result, settings.demo_password, time.perf_counter() - started)


def _report(result: DemoResult, password: str, seconds: float) -> None:
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
    typer.echo(
        f"log in as {CITY_ADMIN} or e.g. haidian.clerk, haidian.dispatcher, haidian.officer "
        f"with the demo password {password!r} (setting CHENGGUAN_DEMO_PASSWORD)"
    )
    typer.echo(f"then `chengguan serve` and open {DOCS_URL}")
