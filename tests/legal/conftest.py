from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete
from sqlalchemy.orm import Session

from chengguan.audit import platform_actor
from chengguan.db import unit_of_work
from chengguan.legal import service
from chengguan.legal.loader import LAWS_DIR
from chengguan.legal.models import LawDocument


@pytest.fixture(scope="session")
def legal_loaded(app) -> None:
    """The shipped 31 texts and 64 causes, loaded once into the session's database."""
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        service.load_laws(session)
        service.load_causes(session)


@pytest.fixture
def legal_client(client: TestClient, legal_loaded) -> TestClient:
    return client


@pytest.fixture
def session(platform_session: Session, legal_loaded) -> Session:
    return platform_session


@pytest.fixture
def scratch_laws(session: Session, tmp_path: Path) -> Iterator[Path]:
    """A folder for test-only law texts; the documents loaded from it are removed afterwards
    (in the test's own unit of work, which commits after this)."""
    yield tmp_path
    titles = [p.read_text(encoding="utf-8").splitlines()[0][2:] for p in tmp_path.glob("*.md")]
    session.execute(delete(LawDocument).where(LawDocument.title.in_(titles)))


def shipped(name: str) -> Path:
    """The shipped text whose file name starts with ``name``."""
    return next(LAWS_DIR.glob(f"{name}*.md"))
