"""CLI of the dispatch domain."""

import typer

app = typer.Typer(help="dispatch", no_args_is_help=True)
