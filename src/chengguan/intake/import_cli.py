"""`chengguan import`: historical reports in bulk."""

import typer

app = typer.Typer(help="import", no_args_is_help=True)
