"""The `chengguan` command: one sub-app per domain, calling the same services as the API."""

from __future__ import annotations

import typer
import uvicorn

from chengguan import migrate, worker
from chengguan.analytics import cli as lake_cli
from chengguan.auth import cli as auth_cli
from chengguan.calendar import cli as calendar_cli
from chengguan.config import Settings, get_settings
from chengguan.db import create_engine, make_sessionmaker
from chengguan.demo import cli as demo_cli
from chengguan.dispatch import cli as dispatch_cli
from chengguan.dispatch import flow_cli
from chengguan.evidence import cli as evidence_cli
from chengguan.geo import cli as geo_cli
from chengguan.intake import import_cli, model_cli
from chengguan.legal import cli as legal_cli
from chengguan.taxonomy import cli as taxonomy_cli

app = typer.Typer(help="chengguan — 城市管理综合执法大数据平台", no_args_is_help=True)
db_app = typer.Typer(help="The operational database / 业务数据库", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(auth_cli.app, name="user")
app.add_typer(geo_cli.app, name="grid")
app.add_typer(legal_cli.app, name="legal")
app.add_typer(taxonomy_cli.app, name="taxonomy")
app.add_typer(dispatch_cli.app, name="responsibility")
app.add_typer(flow_cli.app, name="case")
app.add_typer(calendar_cli.app, name="calendar")
app.add_typer(evidence_cli.app, name="evidence")
app.add_typer(model_cli.app, name="model")
app.add_typer(lake_cli.app, name="lake")
# `chengguan import --profile nyc311 FILE` is a single command: the sub-app registers it as its callback.
app.add_typer(import_cli.app, name="import")
# `chengguan demo` is a single command: the demo sub-app registers it as its callback.
app.add_typer(demo_cli.app, name="demo")


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Create or migrate the database to the latest schema (SQLite by default)."""
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.db_url, revision)
    typer.echo(f"database at {migrate.head_revision() if revision == 'head' else revision}: {_redact(settings.db_url)}")


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


@app.command("serve")
def serve(
    host: str | None = typer.Option(None, help="default: CHENGGUAN_HOST"),
    port: int | None = typer.Option(None, help="default: CHENGGUAN_PORT"),
    workers: int | None = typer.Option(None, help="default: CHENGGUAN_WORKERS"),
    access_log: bool = typer.Option(
        True, help="log every request (off where a proxy in front keeps the access log: it costs per request)"
    ),
) -> None:
    """Serve the API and its docs (http://127.0.0.1:8000/docs)."""
    settings = get_settings()
    uvicorn.run(
        "chengguan.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        access_log=access_log,
    )


@app.command("worker")
def worker_command(once: bool = typer.Option(False, "--once", help="run the due jobs once and exit")) -> None:
    """Background jobs: deadline sweeps, notifications (outbox), scheduled tree heads."""
    settings = get_settings()
    factory = make_sessionmaker(create_engine(settings.db_url))
    if once:
        for name, result in worker.run_due(factory, worker.jobs(settings)).items():
            typer.echo(f"{name}: {result}")
        return
    worker.run_forever(factory, settings)


@app.command("settings")
def show_settings() -> None:
    """Every setting, its environment variable, current value and meaning."""
    settings = get_settings()
    for name, field in Settings.model_fields.items():
        value = getattr(settings, name)
        shown = "***" if name == "secret_key" else value
        typer.echo(f"CHENGGUAN_{name.upper()} = {shown}\n    {field.description}")


def main() -> None:
    app(prog_name="chengguan")
