"""`chengguan grid import|locate|list|geocode|gazetteer-import|gazetteer-refresh`."""

from __future__ import annotations

from pathlib import Path

import typer

from chengguan.console import cli_session, reports_errors
from chengguan.geo import gazetteer_service, importer, service
from chengguan.geo.models import AreaClass
from chengguan.kit.coords import CRS, convert_point
from chengguan.orgs import service as orgs_service

app = typer.Typer(help="Unit grid cells / 单元网格", no_args_is_help=True)


@app.command("import")
@reports_errors
def import_file(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help=".geojson/.json, .csv or .xlsx"),
) -> None:
    """Import cells from a file, all or nothing: bad rows are listed with their line numbers
    (exit code 2) and nothing is written."""
    parsed = importer.read_cells(file.read_bytes(), file.name)
    with cli_session("grid.import") as session:
        report = service.import_cells(session, parsed.cells, parsed.labels, refused=parsed.errors)
    classes = ", ".join(f"{k}: {v}" for k, v in report.by_area_class.items())
    typer.echo(
        f"imported {report.created} cells in {report.communities} communities, "
        f"{report.area_m2 / 1e6:.3f} km² ({classes}); grid revision {report.grid_revision}"
    )


@app.command("locate")
@reports_errors
def locate(
    lon: float = typer.Argument(..., min=-180, max=180),
    lat: float = typer.Argument(..., min=-90, max=90),
    crs: CRS = typer.Option(CRS.WGS84, help="coordinate system of LON LAT"),
) -> None:
    """The cell, community, street and district at a point (exit code 1 outside every cell)."""
    lon, lat = convert_point(lon, lat, crs, CRS.WGS84)
    with cli_session("grid.locate") as session:
        where = service.locate(session, lon, lat)
        if where is None:
            typer.echo(f"{lon:.7f},{lat:.7f}: outside every grid cell / 不在任何单元网格内")
            raise typer.Exit(1)
        chain = [o for o in (where.district, where.street, where.community) if o is not None]
        typer.echo(f"{where.cell.code} {where.cell.name} (class {where.cell.area_class})")
        typer.echo(" > ".join(f"{o.name} {o.code}" for o in chain))
        for duty in where.duties:
            typer.echo(f"  {duty.kind}: {duty.code} {duty.name}")


@app.command("list")
@reports_errors
def list_cells(
    org: str | None = typer.Option(None, help="organisation code: cells in its subtree"),
    area_class: AreaClass | None = typer.Option(None, "--area-class", help="A, B or C"),
    limit: int = typer.Option(100, min=1, max=10_000),
) -> None:
    """Cells by code: code, area class, area, name, active."""
    with cli_session("grid.list") as session:
        org_id = orgs_service.get_by_code(session, org).id if org else None
        rows, total = service.list_cells(session, org_id=org_id, area_class=area_class, limit=limit)
        for cell in rows:
            state = "" if cell.active else "  (inactive)"
            typer.echo(f"{cell.code}  {cell.area_class}  {cell.area_m2:>10.0f} m²  {cell.name}{state}")
    typer.echo(f"{len(rows)} of {total} cells")


@app.command("geocode")
@reports_errors
def geocode(
    address: str = typer.Argument(..., help="e.g. 北京市海淀区中关村大街27号"),
    within: str | None = typer.Option(None, help="organisation code: only places inside (or above) it"),
) -> None:
    """The place an address names, its WGS-84 point and the cell there (exit code 1 when the
    address names no place the gazetteer knows)."""
    with cli_session("grid.geocode") as session:
        within_id = orgs_service.get_by_code(session, within).id if within else None
        match = gazetteer_service.resolve_address(session, address, within_org_id=within_id)
        if match is None:
            typer.echo(f"{address}: no place found / 未能匹配地址")
            raise typer.Exit(1)
        typer.echo(f"{match.lon:.7f},{match.lat:.7f}  {match.level}  {' > '.join(match.names)}")
        typer.echo(f"confidence {match.confidence:.2f}: {match.reason}")
        where = service.locate(session, match.lon, match.lat)
        if where is not None:
            chain = [o for o in (where.district, where.street, where.community) if o is not None]
            typer.echo(f"cell {where.cell.code} {where.cell.name}: {' > '.join(o.name for o in chain)}")


@app.command("gazetteer-import")
@reports_errors
def gazetteer_import(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help=".csv or .xlsx"),
    crs: CRS = typer.Option(CRS.WGS84, help="coordinate system of rows without a crs column"),
    replace: bool = typer.Option(False, "--replace", help="remove every road and POI first"),
) -> None:
    """Import roads and POIs (columns name, kind, org_code, aliases, lon, lat, crs, line), all or
    nothing: bad rows are listed with their line numbers (exit code 2) and nothing is written."""
    parsed = gazetteer_service.read_entries(file.read_bytes(), file.name, crs)
    with cli_session("grid.gazetteer-import") as session:
        report = gazetteer_service.import_entries(session, parsed, replace=replace)
    kinds = ", ".join(f"{k}: {v}" for k, v in report.by_kind.items())
    typer.echo(f"imported {report.created} entries ({kinds}); replaced {report.replaced}")


@app.command("gazetteer-refresh")
@reports_errors
def gazetteer_refresh() -> None:
    """Rebuild the district/street/community entries of the gazetteer from the organisations."""
    with cli_session("grid.gazetteer-refresh") as session:
        report = gazetteer_service.refresh_area_entries(session)
    typer.echo(
        f"{report.entries} area entries: {report.created} created, {report.updated} updated, {report.removed} removed"
    )
