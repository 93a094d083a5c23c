"""Shared by every CLI sub-app: the unit of work with a platform actor, and errors as a
message plus an exit code instead of a traceback."""

from __future__ import annotations

import functools
import getpass
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

import typer
from sqlalchemy.orm import Session

from chengguan.audit import Actor, platform_actor
from chengguan.config import get_settings
from chengguan.db import create_engine, make_sessionmaker, unit_of_work
from chengguan.errors import ChengguanError

P = ParamSpec("P")
R = TypeVar("R")

EXIT_INPUT = 2  # the input was refused (bad file, bad row, bad value)


@contextmanager
def cli_session(command: str) -> Iterator[Session]:
    """One transaction for one command, audited as ``cli:<command>`` by the OS user."""
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.db_url)
    try:
        with unit_of_work(make_sessionmaker(engine), actor=cli_actor(command)) as s:
            yield s
    finally:
        engine.dispose()


def cli_actor(command: str) -> Actor:
    """The platform actor of a command, ``cli:<command>:<OS user>``, for commands that run
    several transactions of their own (bulk imports commit batch by batch)."""
    return platform_actor(f"cli:{command}:{_os_user()}")


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def reports_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn a refused input into one clear line on stderr and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except ChengguanError as exc:
            where = f" [{exc.field}]" if exc.field else ""
            typer.secho(f"error{where}: {exc.message}", err=True, fg=typer.colors.RED)
            for extra in exc.errors[1:]:
                typer.secho(f"  {extra.field}: {extra.message}", err=True)
            raise typer.Exit(EXIT_INPUT) from exc

    return wrapper
