"""`chengguan calendar show|load|deadline`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from chengguan.calendar import service
from chengguan.console import cli_session, reports_errors
from chengguan.errors import Invalid
from chengguan.kit.workcal import Unit

app = typer.Typer(help="Working calendar: holidays, 调休, working hours, deadlines / 工作日历", no_args_is_help=True)

WEEKDAYS = "一二三四五六日"


@app.command("show")
@reports_errors
def show(year: int) -> None:
    """Holidays and make-up working days of YEAR, with the schedule's status."""
    with cli_session("calendar show") as session:
        view = service.year_view(session, year)
        periods = service.get_periods(session)
    if view.status is None:
        typer.secho(f"{year}: no schedule loaded — only weekends count / 未载入放假安排", fg=typer.colors.YELLOW)
    else:
        colour = typer.colors.YELLOW if view.status == "provisional" else None
        typer.secho(f"{year}: {view.status} {view.notice or ''}".rstrip(), fg=colour)
        if view.note:
            typer.echo(f"  {view.note}")
    for day in view.days:
        typer.echo(f"{day.day} 周{WEEKDAYS[day.day.weekday()]}  {day.kind:<8} {day.name}")
    typer.echo("working hours: " + ", ".join(f"{p.start:%H:%M}–{p.end:%H:%M}" for p in periods))


@app.command("load")
@reports_errors
def load(
    file: Path | None = typer.Argument(
        None, help="a .csv/.xlsx with columns date,kind,name,year_status[,notice,verified]; omitted: the shipped data"
    ),
) -> None:
    """Load the shipped schedules, or an administrator's file (it replaces every year it lists)."""
    with cli_session("calendar load") as session:
        if file is None:
            written = service.load_seed(session)
        else:
            written = service.import_schedule(session, _read(file), file.name)
    typer.echo(f"{written} row(s) written")


def _read(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except OSError as exc:
        raise Invalid(f"cannot read {file}: {exc.strerror}", field="file") from exc


@app.command("deadline")
@reports_errors
def deadline(
    start: dt.datetime = typer.Argument(..., formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z", "%Y-%m-%dT%H:%M"]),
    amount: float = typer.Argument(...),
    unit: Unit = typer.Argument(...),
) -> None:
    """When a limit of AMOUNT UNIT starting at START runs out (START without an offset is city time)."""
    with cli_session("calendar deadline") as session:
        if start.tzinfo is None:
            start = start.replace(tzinfo=service.get_calendar(session).zone)
        out = service.explain_deadline(session, start, amount, unit)
    typer.echo(f"deadline: {out.deadline.isoformat()}  (last day {out.last_day})")
    typer.echo(f"working days counted ({len(out.working_days)}): {', '.join(map(str, out.working_days))}")
    for year, status in out.years.items():
        if status != "official":
            typer.secho(f"warning: {year} schedule is {status or 'not loaded'} / 放假安排未正式确认", fg="yellow")
