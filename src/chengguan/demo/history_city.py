"""The demo city as the history generator reads it from the database: the grid cells (with
uniform random points inside them), their classes and area names, the 小类 with their time
limits, the calendar (with its working clock as a table), and the gazetteer's places and roads."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from sqlalchemy import select
from sqlalchemy.orm import Session

from chengguan.calendar import service as calendar_service
from chengguan.calendar.models import CalendarDay
from chengguan.geo import service as geo_service
from chengguan.geo.grid import GridIndex
from chengguan.geo.models import GazetteerEntry, GridCell
from chengguan.kit.workcal import WorkCalendar
from chengguan.orgs.models import Organisation, OrgKind
from chengguan.taxonomy.models import Category, CategoryLevel

CLASSES = ("A", "B", "C")
HOUR = 3600.0
SHRINK = 0.98  # sample points are pulled this far towards their triangle's centre: never on an edge

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Minor:
    """A 小类 as the generator needs it."""

    key: str
    name: str
    conditions: tuple[str, ...]  # 立案条件 texts
    limits: dict[str, tuple[int, str]]  # area class → (amount, unit)


@dataclass(frozen=True)
class Spot:
    name: str
    kind: str
    lon: float
    lat: float
    district: str = ""  # the district the gazetteer puts it in ("" when it names none)


@dataclass
class City:
    """What of the city the history is made of: the grid cells (numbered in code order, so a seed
    makes the same history whatever order a database returns rows in) with their class and area
    names, the 小类, the calendar, the gazetteer's roads and places."""

    grid: GridIndex
    of_position: IntArray  # a grid index position → the cell's number
    geometries: NDArray[np.object_]
    cell_class: NDArray[np.int8]  # 0, 1, 2 for A, B, C
    cell_names: list[tuple[str, str, str]]  # district, street, community
    cell_street: IntArray  # a number per street, for the inspectors' ids
    categories: list[Minor]
    calendar: WorkCalendar
    holidays: dict[dt.date, str]
    places: dict[str, Spot]  # gazetteer POIs and roads by name (the first of a name)
    roads: list[tuple[Spot, shapely.LineString]]

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.categories]

    def locate(self, lon: ArrayLike, lat: ArrayLike) -> IntArray:
        """The cell number of each WGS-84 point, -1 outside the city."""
        found = self.grid.locate(lon, lat)
        return np.where(found >= 0, self.of_position[found], -1)


def read_city(session: Session) -> City:
    """The city as the database holds it (any city; the demo's Beijing has the named hot spots)."""
    grid = geo_service.grid_index(session)
    order = np.argsort(grid.codes, kind="stable")
    of_position = np.empty(len(order), dtype=np.int64)
    of_position[order] = np.arange(len(order))
    unscoped = {"skip_scope": True}
    cells = {
        r.id: r
        for r in session.execute(select(GridCell.id, GridCell.org_id, GridCell.area_class), execution_options=unscoped)
    }
    orgs = {
        r.id: r
        for r in session.execute(
            select(Organisation.id, Organisation.name, Organisation.parent_id, Organisation.kind),
            execution_options=unscoped,
        )
    }
    names: list[tuple[str, str, str]] = []
    streets: dict[int, int] = {}
    street_of: list[int] = []
    for cell_id in grid.ids[order].tolist():
        community = orgs[cells[cell_id].org_id]
        street = orgs.get(community.parent_id) if community.parent_id else None
        district = orgs.get(street.parent_id) if street and street.parent_id else None
        names.append((district.name if district else "", street.name if street else "", community.name))
        street_of.append(streets.setdefault(street.id if street else 0, len(streets)))
    holidays = select(CalendarDay.day, CalendarDay.name).where(CalendarDay.kind == "holiday")
    return City(
        grid,
        of_position,
        grid.geometries[order],
        np.array([CLASSES.index(cells[i].area_class) for i in grid.ids[order].tolist()], dtype=np.int8),
        names,
        np.array(street_of, dtype=np.int64),
        _categories(session),
        calendar_service.get_calendar(session),
        {r.day: r.name for r in session.execute(holidays)},
        *_gazetteer(session, {o: _district(orgs, o) for o in orgs}),
    )


def _categories(session: Session) -> list[Minor]:
    rows = session.scalars(
        select(Category).where(Category.level == CategoryLevel.MINOR, Category.active.is_(True)).order_by(Category.key)
    ).all()
    return [
        Minor(
            c.key,
            c.name,
            tuple(f.text for f in c.filing_conditions) or (c.name,),
            {t.area_class: (t.amount, t.unit) for t in c.time_limits},
        )
        for c in rows
    ]


def _district(orgs: dict[int, Any], org_id: int) -> str:
    """The name of the district an organisation lies in ("" above the districts)."""
    current = orgs.get(org_id)
    while current is not None and current.kind != OrgKind.DISTRICT:
        current = orgs.get(current.parent_id)
    return current.name if current is not None else ""


def _gazetteer(
    session: Session, districts: dict[int, str]
) -> tuple[dict[str, Spot], list[tuple[Spot, shapely.LineString]]]:
    rows = session.execute(
        select(
            GazetteerEntry.name,
            GazetteerEntry.kind,
            GazetteerEntry.lon,
            GazetteerEntry.lat,
            GazetteerEntry.org_id,
            GazetteerEntry.line,
        )
        .where(GazetteerEntry.kind.in_(("poi", "road")), GazetteerEntry.active.is_(True))
        .order_by(GazetteerEntry.id)
    ).all()
    places: dict[str, Spot] = {}
    roads: list[tuple[Spot, shapely.LineString]] = []
    for r in rows:
        spot = Spot(r.name, r.kind, r.lon, r.lat, districts.get(r.org_id, ""))
        places.setdefault(r.name, spot)
        if r.kind == "road" and r.line is not None:
            roads.append((spot, r.line))
    return places, roads


# -- sampling ---------------------------------------------------------------------------------------


class CellPoints:
    """Uniform random points inside grid cells, from each cell's triangulation."""

    def __init__(self, geometries: NDArray[np.object_]) -> None:
        triangles = shapely.constrained_delaunay_triangles(geometries)
        parts, owner = shapely.get_parts(triangles, return_index=True)
        corners = shapely.get_coordinates(parts).reshape(len(parts), 4, 2)[:, :3, :]
        order = np.argsort(owner, kind="stable")
        self.corners = corners[order]
        owner = owner[order]
        a, b, c = self.corners[:, 0], self.corners[:, 1], self.corners[:, 2]
        area = np.abs((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (c[:, 0] - a[:, 0]) * (b[:, 1] - a[:, 1])) / 2
        self.cumulative = np.cumsum(area)
        counts = np.bincount(owner, minlength=len(geometries))
        self.last = np.cumsum(counts) - 1
        self.first = self.last - counts + 1
        self.before = np.where(self.first > 0, self.cumulative[np.maximum(self.first - 1, 0)], 0.0)
        self.area = self.cumulative[self.last] - self.before

    def sample(self, cells: IntArray, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
        target = self.before[cells] + rng.random(len(cells)) * self.area[cells]
        tri = np.clip(np.searchsorted(self.cumulative, target, side="right"), self.first[cells], self.last[cells])
        corners = self.corners[tri]
        r1, r2 = np.sqrt(rng.random(len(cells))), rng.random(len(cells))
        weights = np.stack([1 - r1, r1 * (1 - r2), r1 * r2], axis=1)
        weights = SHRINK * weights + (1 - SHRINK) / 3
        point = (weights[:, :, None] * corners).sum(axis=1)
        return point[:, 0], point[:, 1]


class WorkingClock:
    """The calendar's working clock as a piecewise-linear table over the history (breakpoints at
    midnights and at the ends of working periods), so millions of closing times cost a few
    vector operations instead of a calendar call each."""

    def __init__(self, calendar: WorkCalendar, start: dt.datetime, days: int) -> None:
        stamps: list[dt.datetime] = []
        for d in range(-1, days + 1):
            day = start.date() + dt.timedelta(days=d)
            stamps.append(dt.datetime.combine(day, dt.time(), calendar.zone))
            for period in calendar.periods:
                stamps += [dt.datetime.combine(day, t, calendar.zone) for t in (period.start, period.end)]
        origin = stamps[0]
        self.at = np.array([s.timestamp() for s in stamps])
        self.clock = np.array([calendar.working_time_between(origin, s).total_seconds() for s in stamps])
        per_day = 1 + 2 * len(calendar.periods)
        self.day_hours = float(np.diff(self.clock[::per_day]).max()) / HOUR  # a full working day

    def after(self, at: FloatArray, working_s: FloatArray) -> FloatArray:
        """The instant ``working_s`` working seconds after ``at`` (NaN beyond the table)."""
        target = np.interp(at, self.at, self.clock) + working_s
        i = np.searchsorted(self.clock, target, side="left")
        inside = (i > 0) & (i < len(self.clock))
        i = np.clip(i, 1, len(self.clock) - 1)
        c0, c1, t0, t1 = self.clock[i - 1], self.clock[i], self.at[i - 1], self.at[i]
        share = np.divide(target - c0, c1 - c0, out=np.zeros_like(target), where=c1 > c0)
        return np.where(inside, t0 + share * (t1 - t0), np.nan)
