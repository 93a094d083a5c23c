"""CLI of the taxonomy domain."""

import typer

app = typer.Typer(help="taxonomy", no_args_is_help=True)
