"""CLI of the geo domain."""

import typer

app = typer.Typer(help="geo", no_args_is_help=True)
