"""The `chengguan` command: one sub-app per domain, calling the same services as the API.

Each domain's sub-app is imported only when its command runs (``LazyCommands``): some of them
pull in statsmodels, scikit-learn, DuckDB or the analytics lake, seconds of imports that
`chengguan db upgrade` or `chengguan user add` should not pay on every start."""

from __future__ import annotations

import importlib

import typer
import uvicorn
from typer._click.core import Command as ClickCommand  # typer vendors click: its groups take these
from typer._click.core import Context as ClickContext
from typer.core import TyperGroup

from chengguan import migrate
from chengguan.config import Settings, get_settings

# name → the module whose ``app`` (a Typer) is that command; in the order `--help` lists them
SUBCOMMANDS = {
    "user": "chengguan.auth.cli",
    "grid": "chengguan.geo.cli",
    "legal": "chengguan.legal.cli",
    "taxonomy": "chengguan.taxonomy.cli",
    "responsibility": "chengguan.dispatch.cli",
    "case": "chengguan.dispatch.flow_cli",
    "calendar": "chengguan.calendar.cli",
    "evidence": "chengguan.evidence.cli",
    "model": "chengguan.intake.model_cli",
    "lake": "chengguan.analytics.cli",
    # `chengguan import --profile nyc311 FILE` is a single command: the sub-app registers it as its callback.
    "import": "chengguan.intake.import_cli",
    # `chengguan demo` is a single command: the demo sub-app registers it as its callback.
    "demo": "chengguan.demo.cli",
    "worker": "chengguan.worker_cli",
}


class LazyCommands(TyperGroup):
    """The root group: its own commands (``db``, ``serve``, ``settings``) plus ``SUBCOMMANDS``,
    each imported when asked for."""

    def list_commands(self, ctx: ClickContext) -> list[str]:
        return [*super().list_commands(ctx), *SUBCOMMANDS]

    def get_command(self, ctx: ClickContext, cmd_name: str) -> ClickCommand | None:
        if cmd_name not in SUBCOMMANDS:
            return super().get_command(ctx, cmd_name)
        command = typer.main.get_group(importlib.import_module(SUBCOMMANDS[cmd_name]).app)
        command.name = cmd_name
        return command


app = typer.Typer(cls=LazyCommands, help="chengguan — 城市管理综合执法大数据平台", no_args_is_help=True)
db_app = typer.Typer(help="The operational database / 业务数据库", no_args_is_help=True)
app.add_typer(db_app, name="db")


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
        "chengguan.app:served_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        access_log=access_log,
    )


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
