from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from chengguan import migrate
from chengguan.cli import app as cli_app
from chengguan.config import get_settings
from chengguan.db import create_engine
from chengguan.demo.geometry import DemoGeometry, build_city_geometry

PG_URL = os.environ.get("CHENGGUAN_TEST_DATABASE_URL")
DEMO_SCHEMA = "demo_build"  # PostgreSQL: the demo gets a schema of its own in the test database


@dataclass(frozen=True)
class DemoRuns:
    url: str
    first: str  # output of the first `chengguan demo`
    second: str  # output of running it again


@pytest.fixture(scope="session")
def demo_geometry() -> DemoGeometry:
    return build_city_geometry()


def _set_schema(url: str, sql: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(sql))
    engine.dispose()


@pytest.fixture(scope="session")
def demo_db_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty migrated database for the demo alone, on the store under test (a SQLite file,
    or a schema of its own in the PostgreSQL test database): the demo loads city-wide reference
    data that other domains' tests expect to control themselves. One for the session: the city
    takes seconds to build, and the history's tests load their reports into the same city."""
    if PG_URL:
        _set_schema(PG_URL, f"DROP SCHEMA IF EXISTS {DEMO_SCHEMA} CASCADE; CREATE SCHEMA {DEMO_SCHEMA}")
        url = f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{DEMO_SCHEMA}"
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    migrate.upgrade(url)
    yield url
    if PG_URL:
        _set_schema(PG_URL, f"DROP SCHEMA {DEMO_SCHEMA} CASCADE")


NO_HISTORY = ("--history", "0")  # the city alone: the history has tests of its own (test_history.py)


def _run_demo(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(cli_app, ["demo", *args])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


@contextmanager
def demo_cli(url: str, data_dir: Path) -> Iterator[Callable[..., str]]:
    """`chengguan demo` through the real root CLI against ``url``: each call is one run with
    the given options and returns its output."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("CHENGGUAN_DATABASE_URL", url)
        env.setenv("CHENGGUAN_DATA_DIR", str(data_dir))
        get_settings.cache_clear()  # the CLI reads its settings from the environment, once
        try:
            runner = CliRunner()
            yield functools.partial(_run_demo, runner)
        finally:
            get_settings.cache_clear()


@pytest.fixture(scope="session")
def demo_runs(demo_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> DemoRuns:
    """`chengguan demo` run twice against ``demo_db_url``, through the real root CLI."""
    with demo_cli(demo_db_url, tmp_path_factory.mktemp("demo-data")) as run:
        return DemoRuns(demo_db_url, run(*NO_HISTORY), run(*NO_HISTORY))
