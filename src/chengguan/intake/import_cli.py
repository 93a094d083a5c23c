"""`chengguan import --profile nyc311|la311|12345|open311 FILE` and `chengguan import template PATH`:
historical reports in bulk (see :mod:`chengguan.intake.importer`)."""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from openpyxl import Workbook
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from typer._click.core import Context as ClickContext  # typer vendors click: its groups take this
from typer.core import TyperGroup

from chengguan.config import get_settings
from chengguan.console import cli_actor, reports_errors
from chengguan.db import create_engine, make_sessionmaker
from chengguan.errors import Invalid
from chengguan.intake import model_store
from chengguan.intake.importer import BATCH_SIZE, ImportJob, Summary
from chengguan.intake.profiles import PROFILES, TEMPLATE_COLUMNS, TEMPLATE_HELP, profile

EXIT_REJECTS = 3  # finished, but some rows are in the reject file


class _FileOrCommand(TyperGroup):
    """`import [OPTIONS] FILE [OPTIONS]` runs the import (the group's own callback); `import
    template …` is a subcommand. Click would otherwise take the word ``template`` for FILE, and
    stop reading the import's options at FILE."""

    def parse_args(self, ctx: ClickContext, args: list[str]) -> list[str]:
        if args and args[0] in self.commands:
            super().parse_args(ctx, [])  # the group's options at their defaults
            ctx._protected_args, ctx.args = args[:1], args[1:]
            return ctx.args
        ctx.allow_interspersed_args = True
        return super().parse_args(ctx, args)


app = typer.Typer(cls=_FileOrCommand, no_args_is_help=False)  # help: the callback's docstring


@app.callback(invoke_without_command=True)
@reports_errors
def import_file(
    ctx: typer.Context,
    file: Path | None = typer.Argument(None, dir_okay=False, help=".csv, .xlsx or .json"),
    profile_name: str | None = typer.Option(
        None, "--profile", "-p", help=f"how to read the file: {', '.join(PROFILES)}", show_default=False
    ),
    source: str | None = typer.Option(None, help="prefix of the source's ids, e.g. boston311 (default: the profile)"),
    timezone: str | None = typer.Option(None, help="time zone of times without an offset (default: the profile's)"),
    batch_size: int = typer.Option(BATCH_SIZE, "--batch-size", min=1, help="rows per transaction"),
    rejects: Path | None = typer.Option(None, help="reject file (default: FILE.rejects.csv)"),
    checkpoint: Path | None = typer.Option(None, help="checkpoint file (default: FILE.checkpoint.json)"),
    resume: bool | None = typer.Option(
        None, "--resume/--restart", help="carry on from the checkpoint / start over (default: carry on if there is one)"
    ),
    classify: bool = typer.Option(True, "--classify/--no-classify", help="let the active model name unmapped 小类"),
) -> None:
    """Import historical reports (12345, 311, Open311) through the intake pipeline.

    Each batch is one transaction; refused rows go to the reject file with their line, field and
    reason; after a crash the same command carries on after the last committed batch. Exit code
    0: every row imported (or already there); 3: finished with rejects; 2: bad invocation or
    unreadable file."""
    if ctx.invoked_subcommand is not None:
        return
    if file is None or profile_name is None:
        raise Invalid("give --profile and FILE, e.g. chengguan import --profile nyc311 requests.csv", field="FILE")
    if not file.is_file():
        raise Invalid(f"{file}: no such file", field="FILE")
    settings = get_settings()
    engine = create_engine(settings.db_url)
    try:
        with _progress() as on_progress:
            summary = ImportJob(
                path=file,
                profile=profile(profile_name, timezone),
                factory=make_sessionmaker(engine),
                actor=cli_actor("import"),
                classifier=model_store.active_classifier(settings) if classify else None,
                auto_dispatch=settings.auto_dispatch,
                source=source,
                batch_size=batch_size,
                rejects=rejects,
                checkpoint=checkpoint,
                resume=resume,
                on_progress=on_progress,
            ).run()
    finally:
        engine.dispose()
    _print_summary(file, summary)
    if summary.counts.rejected:
        raise typer.Exit(EXIT_REJECTS)


@contextmanager
def _progress() -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr when it is a terminal; nothing otherwise (logs, pipes, CI)."""
    if not sys.stderr.isatty():
        yield None
        return
    with Progress(
        TextColumn("importing"),
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("import", total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _print_summary(file: Path, s: Summary) -> None:
    c = s.counts
    resumed = f" (resumed after line {s.resumed_after})" if s.resumed_after else ""
    typer.echo(f"{file} [{s.layout}]{resumed}")
    typer.echo(
        f"  read {c.read:,} · imported {c.imported:,} (new events {c.created:,}, merged {c.merged:,}, "
        f"pending {c.pending:,}) · repeated {c.repeated:,} · rejected {c.rejected:,}"
    )
    typer.echo(f"  {s.rows_this_run:,} rows in {s.seconds:.1f} s: {s.rows_per_second:,.0f} rows/s")
    if c.rejected:
        typer.echo(f"  rejects (line, field, reason, row): {s.rejects}")
    if c.out_of_order:
        typer.secho(
            f"  warning: {c.out_of_order:,} rows were reported before rows of an earlier batch: the file is not "
            "in time order, so some merges joined later events; sort it by time (oldest first) for history "
            "that merges as it happened / 文件未按时间排序",
            err=True,
            fg=typer.colors.YELLOW,
        )


@app.command("template")
@reports_errors
def template(path: Path = typer.Argument(..., dir_okay=False, help="a .xlsx or .csv to write")) -> None:
    """Write a blank 12345 import template (the columns of ``--profile 12345``)."""
    name = path.name.lower()
    if name.endswith(".xlsx"):
        book = Workbook(write_only=True)
        sheet = book.create_sheet("工单")
        sheet.append(list(TEMPLATE_COLUMNS))
        notes = book.create_sheet("说明")
        notes.append(["列 column", "说明 meaning"])
        for column in TEMPLATE_COLUMNS:
            notes.append([column, TEMPLATE_HELP[column]])
        book.save(path)
    elif name.endswith(".csv"):
        with path.open("w", encoding="utf-8-sig", newline="") as f:  # the BOM lets Excel read it as UTF-8
            csv.writer(f).writerow(TEMPLATE_COLUMNS)
    else:
        raise Invalid(f"{path.name}: write a .xlsx or .csv", field="PATH")
    typer.echo(f"wrote {path} ({len(TEMPLATE_COLUMNS)} columns)")
