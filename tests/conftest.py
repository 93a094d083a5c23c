"""Tests run on a real database built by the migrations: SQLite by default, PostgreSQL when
``CHENGGUAN_TEST_DATABASE_URL`` names one (``scripts/test`` runs the suite on both)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from chengguan import migrate
from chengguan.app import create_app
from chengguan.audit import platform_actor
from chengguan.cli import app as cli_app
from chengguan.config import Settings, get_settings
from chengguan.db import create_engine, make_sessionmaker, unit_of_work
from chengguan.legal import service as legal_service
from chengguan.taxonomy import service as taxonomy_service
from tests.analytics.conftest import Synthetic, lake_settings, remove_history, seed_history, sync
from tests.factories import SampleCity, SampleGrid, build_test_city, build_test_grid

PG_URL = os.environ.get("CHENGGUAN_TEST_DATABASE_URL")
PASSWORD = "Passw0rd-test"


# The fixtures through which a test reaches the database under test. On the PostgreSQL pass a test
# that reaches none of them (pure logic, or its own SQLite file) would only repeat what the SQLite
# pass of the same run has just checked, so it is left out of that pass.
DATABASE_FIXTURES = frozenset({"db_url", "demo_db_url", "import_city_store"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not PG_URL:
        return
    on_postgres, repeats = [], []
    for item in items:
        reaches = DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
        (on_postgres if reaches else repeats).append(item)
    if repeats:
        config.hook.pytest_deselected(items=repeats)
        items[:] = on_postgres


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if PG_URL:
        _reset_postgres(PG_URL)
        url = PG_URL
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def settings(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        env="test",
        database_url=db_url,
        data_dir=tmp_path_factory.mktemp("data"),
        secret_key=secrets.token_urlsafe(48),
    )


@pytest.fixture(scope="session")
def app(settings: Settings):
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture(scope="session")
def city(app) -> SampleCity:
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        return build_test_city(session, PASSWORD)


@pytest.fixture(scope="session")
def grid(app, city: SampleCity) -> SampleGrid:
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        return build_test_grid(session, city)


@pytest.fixture(scope="session")
def seeded(app) -> int:
    """The number of categories in the shipped taxonomy, loaded into the session's database."""
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        legal_service.load_causes(session)
        return taxonomy_service.load_seed(session)


@pytest.fixture
def client(app, city: SampleCity) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture
def platform_session(app) -> Iterator[Session]:
    """An unscoped unit of work acting as the platform (what the CLI and worker use)."""
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        yield session


def login(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    res = client.post("/api/auth/token", data={"username": username, "password": password})
    assert res.status_code == 200, res.text
    return {"Authorization": f"Bearer {res.json()['access_token']}"}


@pytest.fixture
def as_user(client: TestClient):
    """``as_user("admin_a")`` → auth headers for that test-city user (cached per test)."""
    cache: dict[str, dict[str, str]] = {}

    def headers(username: str) -> dict[str, str]:
        if username not in cache:
            cache[username] = login(client, username)
        return cache[username]

    return headers


@pytest.fixture
def cli_store(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """In-process CLI commands (Typer's CliRunner) run against the test store."""
    monkeypatch.setenv("CHENGGUAN_DATABASE_URL", settings.db_url)
    monkeypatch.setenv("CHENGGUAN_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def fresh_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Result]]:
    """``fresh_cli("taxonomy", "list")``: the CLI in process (Typer's runner; the installed entry
    point itself is run by ``tests/test_cli.py``) on a new, migrated SQLite store of its own."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    migrate.upgrade(url)
    monkeypatch.setenv("CHENGGUAN_DATABASE_URL", url)
    monkeypatch.setenv("CHENGGUAN_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(cli_app, list(args))
    get_settings.cache_clear()


@pytest.fixture
def fresh_engine(tmp_path: Path):
    """A separate, empty, migrated SQLite store for tests that need a blank database."""
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    migrate.upgrade(url)
    engine = create_engine(url)
    yield engine, make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def synthetic(app, city: SampleCity, grid: SampleGrid, seeded: int) -> Iterator[Synthetic]:
    """A seeded synthetic history in the test city (see ``tests/analytics/conftest.py``): here, so
    that the analytics and the web dashboard tests share one."""
    data = seed_history(app, grid)
    yield data
    remove_history(app, data)


@pytest.fixture(scope="session")
def synced(app, settings: Settings, synthetic: Synthetic, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A lake synced once from the seeded history (read-only for the tests that use it)."""
    configured = lake_settings(settings, tmp_path_factory.mktemp("lake"))
    sync(app, configured)
    return configured
