"""`chengguan worker`: run the background jobs (see :mod:`chengguan.worker`)."""

from __future__ import annotations

import typer

from chengguan import worker
from chengguan.config import get_settings
from chengguan.db import create_engine, make_sessionmaker

app = typer.Typer()  # help: the callback's docstring


@app.callback(invoke_without_command=True)
def worker_command(once: bool = typer.Option(False, "--once", help="run the due jobs once and exit")) -> None:
    """Background jobs: deadline sweeps, notifications (outbox), scheduled tree heads."""
    settings = get_settings()
    factory = make_sessionmaker(create_engine(settings.db_url))
    if once:
        for name, result in worker.run_due(factory, worker.jobs(settings)).items():
            typer.echo(f"{name}: {result}")
        return
    worker.run_forever(factory, settings)
