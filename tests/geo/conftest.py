"""Unit grid cells over the test city: every community but 南镇二社区 (B1c2, left empty for the
tests that add cells) is split into 2 × 2 cells, serials 001 SW, 002 SE, 003 NW, 004 NE."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from shapely.geometry import Polygon, box, mapping
from sqlalchemy import select
from sqlalchemy.orm import Session

from chengguan.audit import platform_actor
from chengguan.db import unit_of_work
from chengguan.geo import service
from chengguan.geo.models import GridCell
from chengguan.geo.schemas import CellIn
from chengguan.orgs import service as orgs_service
from tests.factories import SampleCity

GRIDDED = ("A1c1", "A1c2", "A2c1", "A2c2", "B1c1")
EMPTY = "B1c2"
AREA_CLASS = {1: "A", 2: "B", 3: "C", 4: "C"}


@dataclass
class SampleGrid:
    cells: dict[str, Polygon] = field(default_factory=dict)  # code → polygon
    community: dict[str, str] = field(default_factory=dict)  # community key → its 12-digit code

    def code(self, key: str, serial: int) -> str:
        return f"{self.community[key]}{serial:03d}"


def quadrants(x0: float, y0: float, x1: float, y1: float) -> list[Polygon]:
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    return [box(x0, y0, xm, ym), box(xm, y0, x1, ym), box(x0, ym, xm, y1), box(xm, ym, x1, y1)]


@pytest.fixture(scope="session")
def grid(app, city: SampleCity) -> SampleGrid:
    sample = SampleGrid()
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        cells = []
        for key in (*GRIDDED, EMPTY):
            org = orgs_service.get(session, city.org[key])
            sample.community[key] = org.code
            if key == EMPTY:
                continue
            for serial, quad in enumerate(quadrants(*org.geometry.bounds), start=1):
                code = sample.code(key, serial)
                sample.cells[code] = quad
                cells.append(
                    CellIn(
                        code=code, name=f"{org.name}{serial}号", area_class=AREA_CLASS[serial], geometry=mapping(quad)
                    )
                )
        service.import_cells(session, cells)
    return sample


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
