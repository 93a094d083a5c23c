"""CLI of the legal domain."""

import typer

app = typer.Typer(help="legal", no_args_is_help=True)
