"""`chengguan demo`."""

import typer

app = typer.Typer(help="demo", no_args_is_help=True)
