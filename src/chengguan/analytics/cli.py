"""`chengguan lake sync|status`: the analytics lake."""

from __future__ import annotations

import json
import time

import typer

from chengguan.analytics import lake
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
