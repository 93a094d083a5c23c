"""The community the tests add cells to, and removing them again (the cells themselves:
``tests.factories.build_test_grid``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from chengguan.audit import platform_actor
from chengguan.db import unit_of_work
from chengguan.geo import service
from chengguan.geo.models import GridCell
from tests.factories import EMPTY, SampleGrid


@pytest.fixture
def empty_community(app, grid: SampleGrid) -> Iterator[str]:
    """The code of the community without cells; whatever a test puts there is removed after it."""
    code = grid.community[EMPTY]
    yield code
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        remove_cells(session, code)


def remove_cells(session: Session, prefix: str) -> None:
    for cell in session.scalars(select(GridCell).where(GridCell.code.startswith(prefix))).all():
        service.delete_cell(session, cell)
