"""`chengguan model`: the text classifier."""

import typer

app = typer.Typer(help="model", no_args_is_help=True)
