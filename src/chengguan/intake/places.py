"""Point → unit grid cell → community → street → district, for many points at once.

The geo index answers which cell holds a point; this adds each cell's area chain and class,
read once per process and re-read when the cells or the organisations change.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike
from sqlalchemy import select
from sqlalchemy.orm import Session

from chengguan import revisions
from chengguan.geo import service as geo_service
from chengguan.geo.grid import GridIndex
from chengguan.geo.models import GridCell
from chengguan.orgs.models import Organisation, OrgKind

STREET_KINDS = frozenset({OrgKind.STREET, OrgKind.TOWN})


@dataclass(frozen=True)
class Place:
    cell_id: int | None
    cell_code: str | None
    area_class: str | None
    chain: tuple[int, ...]  # area organisations, most specific first, up to the city
    street_id: int | None
    district_id: int | None
    org_id: int = field(init=False)  # the most specific area organisation: read for every report

    def __post_init__(self) -> None:
        object.__setattr__(self, "org_id", self.chain[0])


class PlaceBook:
    def __init__(self, session: Session, index: GridIndex) -> None:
        unscoped = {"skip_scope": True}
        orgs = session.execute(
            select(Organisation.id, Organisation.parent_id, Organisation.kind), execution_options=unscoped
        ).all()
        self._parent = {o.id: o.parent_id for o in orgs}
        self._kind = {o.id: o.kind for o in orgs}
        cells = {
            c.id: (c.org_id, c.area_class)
            for c in session.execute(
                select(GridCell.id, GridCell.org_id, GridCell.area_class), execution_options=unscoped
            )
        }
        self.index = index
        self._codes = {int(i): str(code) for i, code in zip(index.ids, index.codes, strict=True)}
        self._places = [
            self._cell_place(int(i), str(code), *cells[int(i)]) for i, code in zip(index.ids, index.codes, strict=True)
        ]

    def _cell_place(self, cell_id: int, code: str, community_id: int, area_class: str) -> Place:
        return self.area_place(community_id, cell_id=cell_id, cell_code=code, area_class=area_class)

    def area_place(
        self, org_id: int, *, cell_id: int | None = None, cell_code: str | None = None, area_class: str | None = None
    ) -> Place:
        """The place of an area organisation (e.g. a street named by an address) with no cell."""
        chain = self.chain(org_id)
        street = next((o for o in chain if self._kind[o] in STREET_KINDS), None)
        district = next((o for o in chain if self._kind[o] == OrgKind.DISTRICT), None)
        return Place(cell_id, cell_code, area_class, chain, street, district)

    def chain(self, org_id: int) -> tuple[int, ...]:
        chain: list[int] = []
        current: int | None = org_id
        while current is not None:
            chain.append(current)
            current = self._parent.get(current)
        return tuple(chain)

    def code_of(self, cell_id: int) -> str | None:
        return self._codes.get(cell_id)

    def locate(self, lon: ArrayLike, lat: ArrayLike) -> list[Place | None]:
        """WGS-84 points → their places (None outside every active cell)."""
        positions = self.index.locate(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        return [self._places[p] if p >= 0 else None for p in positions.tolist()]


_cache: dict[str, tuple[object, PlaceBook]] = {}
_lock = threading.Lock()


def place_book(session: Session) -> PlaceBook:
    index = geo_service.grid_index(session)
    url = str(session.get_bind().engine.url)
    key = (id(index), revisions.tokens(session, "orgs"))
    with _lock:
        cached = _cache.get(url)
        if cached is None or cached[0] != key:
            cached = (key, PlaceBook(session, index))
            _cache[url] = cached
        return cached[1]
