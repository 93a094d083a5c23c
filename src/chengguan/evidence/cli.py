"""CLI of the evidence ledger."""

import typer

app = typer.Typer(help="evidence", no_args_is_help=True)
