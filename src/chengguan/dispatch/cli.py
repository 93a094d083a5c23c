"""`chengguan responsibility import|list|resolve`."""

from __future__ import annotations

from pathlib import Path

import typer

from chengguan.console import cli_session, reports_errors
from chengguan.dispatch import service
from chengguan.dispatch.resolver import resolve_owner
from chengguan.orgs import service as orgs_service

app = typer.Typer(help="Responsibility list / 权责清单", no_args_is_help=True)


@app.command("import")
@reports_errors
def import_file(file: Path = typer.Argument(..., exists=True, dir_okay=False, help=".csv or .xlsx list")) -> None:
    """Create or update rules from a list file (序号, 分类代码, 区域, 网格, 依据, 责任单位 …); all or nothing."""
    with cli_session("responsibility import") as session:
        result = service.import_file(session, file.read_bytes(), file.name)
    typer.echo(f"imported {file.name}: {result.created} created, {result.updated} updated")


@app.command("list")
@reports_errors
def list_rules(
    org: str | None = typer.Option(None, help="area organisation code"),
    category: str | None = typer.Option(None, help="category key, e.g. E0502"),
    limit: int = 1000,
) -> None:
    """List rules: row, category, area, basis and owning unit."""
    with cli_session("responsibility list") as session:
        org_id = orgs_service.get_by_code(session, org).id if org else None
        rows, total = service.list_rules(session, org_id=org_id, category=category, limit=limit)
        categories, orgs = service.labels(session, rows)
        for r in rows:
            place = orgs[r.org_id].name + (f" 网格{r.cell_code}" if r.cell_code else "")
            typer.echo(
                f"{r.row_no:>6}  {categories[r.category_id].key:<6} {place:<20} {r.basis:<9} "
                f"{orgs[r.unit_id].name}{'' if r.active else '  (inactive)'}"
            )
    typer.echo(f"{total} rule(s)")


@app.command("resolve")
@reports_errors
def resolve(
    category: str = typer.Argument(..., help="category key, e.g. C0101 or E0502"),
    org: str | None = typer.Option(None, help="area organisation code (community, street, district)"),
    cell: str | None = typer.Option(None, help="unit grid cell code"),
) -> None:
    """Who owns a category's problem at a place, and why."""
    with cli_session("responsibility resolve") as session:
        org_id = orgs_service.get_by_code(session, org).id if org else None
        place = service.place_of(session, org_id=org_id, cell_code=cell)
        res = resolve_owner(session, category, place.area_chain, place.cell_code, area_class=place.area_class)
    owner = f"{res.unit.name} ({res.unit.code})" if res.unit else "-"
    typer.echo(f"{'会商 consultation: ' if res.needs_consultation else ''}{owner}")
    typer.echo(f"reason: {res.reason}")
    if res.needs_consultation and res.candidates:
        typer.echo("candidates: " + ", ".join(f"{c.name} ({c.code})" for c in res.candidates))
