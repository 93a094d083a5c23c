"""`chengguan taxonomy import|load|list|export`."""

from __future__ import annotations

from pathlib import Path

import typer

from chengguan.console import cli_session, reports_errors
from chengguan.taxonomy import service
from chengguan.taxonomy.models import CategoryKind, CategoryLevel

app = typer.Typer(help="部件/事件 taxonomy / 部件事件分类与立结案标准", no_args_is_help=True)


@app.command("import")
@reports_errors
def import_file(file: Path = typer.Argument(..., exists=True, dir_okay=False, help=".csv or .xlsx template")) -> None:
    """Create or update categories from a template file; nothing is written if any row is wrong."""
    with cli_session("taxonomy import") as session:
        result = service.import_file(session, file.read_bytes(), file.name)
    typer.echo(f"imported {file.name}: {result.created} created, {result.updated} updated")


@app.command("load")
@reports_errors
def load() -> None:
    """Load the shipped standard taxonomy (idempotent; needs the legal causes loaded first)."""
    with cli_session("taxonomy load") as session:
        count = service.load_seed(session)
    typer.echo(f"standard taxonomy loaded: {count} categories")


@app.command("list")
def list_categories(
    kind: CategoryKind | None = None,
    level: CategoryLevel | None = None,
    q: str | None = typer.Option(None, help="name, keyword, code or key"),
    limit: int = 1000,
) -> None:
    """List categories with their A/B/C time limits."""
    with cli_session("taxonomy list") as session:
        rows, total = service.list_categories(session, kind=kind, level=level, q=q, limit=limit)
        for c in rows:
            limits = " ".join(f"{t.area_class}:{t.label}" for t in c.time_limits)
            indent = "  " if c.parent_id else ""
            typer.echo(f"{indent}{c.key:<6} {c.name:<12} {limits}{'' if c.active else '  (inactive)'}")
    typer.echo(f"{total} categor{'y' if total == 1 else 'ies'}")


@app.command("export")
def export(output: Path | None = typer.Option(None, "--output", "-o", help="default: standard output")) -> None:
    """Write every category in the import template format (CSV, UTF-8 with BOM)."""
    with cli_session("taxonomy export") as session:
        data = service.export_csv(session)
    if output is None:
        typer.echo(data.decode("utf-8-sig"), nl=False)
    else:
        output.write_bytes(data)
        typer.echo(f"wrote {output}")
