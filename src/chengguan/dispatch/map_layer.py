"""The command map's (一张图) layers over the operational store: events counted by area and by the
light of their clock, and the events themselves inside a map view.

The light is computed in SQL from the clock columns (``cases.clock.light_at``'s two comparisons)
rather than read from the stored ``light``, which is only as fresh as the last sweep; a row the
sweep has not yet given its 80 % mark (written in bulk) falls back on its stored light. The
queries go through the ORM, so the user's organisation scope applies to them as to every page.

The aggregated layer must stay fast over hundreds of thousands of open events (issue 7: ≤ 200 ms
over 500,000). It is one index-only scan of ``ix_events_open_map`` grouped by (cell, street,
district), the index's leading columns, so the groups stream out without a sort; each row's light
is evaluated once, into one packed sum; the three levels are sums of those rows in Python.
"""

from __future__ import annotations

import datetime as dt
import enum
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, bindparam, case, func, literal, select
from sqlalchemy.orm import Session

from chengguan.cases.models import OPEN_STATUSES, Event, EventStatus, Light
from chengguan.errors import ChengguanError, Invalid
from chengguan.taxonomy.models import Category

NO_LIGHT = "none"  # the clock does not run (final states, suspended, not yet filed)
LIGHTS = (Light.RED.value, Light.YELLOW.value, Light.GREEN.value, NO_LIGHT)
MAX_EVENTS = 2000  # the most single events one map view draws; past it the view must zoom in


class Level(enum.StrEnum):
    """What the aggregated layer groups by: the city's own geography, coarse to fine."""

    DISTRICT = "district"
    STREET = "street"
    CELL = "cell"


# The aggregate's group: the partial index's leading columns, in its order.
AREA_COLUMNS = (Event.cell_id, Event.street_id, Event.district_id)
LEVEL_INDEX = {Level.CELL: 0, Level.STREET: 1, Level.DISTRICT: 2}


class StatusFilter(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"  # 结案 and 综合评价
    ALL = "all"


CLOSED_STATUSES = frozenset({EventStatus.CLOSED, EventStatus.EVALUATED})


@dataclass(frozen=True)
class MapFilters:
    """The map's filters: reported in [start, end), a 大类 or 小类, a channel, open/closed/all or
    one state of the event flow."""

    start: dt.datetime | None = None
    end: dt.datetime | None = None
    category: str | None = None
    source: str | None = None
    status: str = StatusFilter.OPEN

    def check(self) -> MapFilters:
        if self.start and self.end and self.start >= self.end:
            raise Invalid("start must be before end / 开始时间须早于结束时间", field="start")
        known = {*StatusFilter, *EventStatus}
        if self.status not in known:
            raise Invalid(f"status must be one of {', '.join(sorted(known))} / 状态不正确", field="status")
        return self


def light_case(now: dt.datetime, value: dict[str, Any]) -> ColumnElement[Any]:
    """The light of each row at ``now``, as ``value[light]``."""
    stored = case(
        (Event.light == Light.RED.value, literal(value[Light.RED])),
        (Event.light == Light.YELLOW.value, literal(value[Light.YELLOW])),
        else_=literal(value[Light.GREEN]),
    )
    return case(
        (Event.deadline_at.is_(None), literal(value[NO_LIGHT])),
        (Event.deadline_at < now, literal(value[Light.RED])),
        (Event.yellow_at.is_(None), stored),
        (Event.yellow_at <= now, literal(value[Light.YELLOW])),
        else_=literal(value[Light.GREEN]),
    )


def light_sql(now: dt.datetime) -> ColumnElement[str]:
    return light_case(now, {light: light for light in LIGHTS})


# Rendered as literals, as in the partial index's WHERE: SQLite does not match bound parameters
# against it and would not use ix_events_open_map.
_OPEN = Event.status.in_(bindparam("open_states", sorted(OPEN_STATUSES), expanding=True, literal_execute=True))


def _status_condition(status: str) -> ColumnElement[bool] | None:
    if status == StatusFilter.ALL:
        return None
    if status == StatusFilter.OPEN:
        return _OPEN
    if status == StatusFilter.CLOSED:
        return Event.status.in_(sorted(CLOSED_STATUSES))
    return Event.status == status


def _category_keys(session: Session, key: str) -> list[str]:
    """A 小类 key is itself; a 大类 key stands for its 小类 (events carry the 小类)."""
    parent = select(Category.id).where(Category.key == key).scalar_subquery()
    minors = session.scalars(select(Category.key).where(Category.parent_id == parent)).all()
    return [key, *minors]


def conditions(session: Session, filters: MapFilters) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if filters.start:
        out.append(Event.first_reported_at >= filters.start)
    if filters.end:
        out.append(Event.first_reported_at < filters.end)
    if filters.category:
        out.append(Event.category_key.in_(_category_keys(session, filters.category)))
    if filters.source:
        out.append(Event.source == filters.source)
    status = _status_condition(filters.status)
    if status is not None:
        out.append(status)
    return out


# -- the aggregated layer ----------------------------------------------------------------------------


@dataclass
class AreaCount:
    """The events of one area (a district, street or cell id; None: events outside every one)."""

    area_id: int | None
    lights: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LIGHTS, 0))

    @property
    def total(self) -> int:
        return sum(self.lights.values())

    def out(self) -> dict[str, Any]:
        return {"id": self.area_id, "total": self.total, **self.lights}


# One SUM carries three lights' counts of a group (green is the rest of count(*)): the CASE is
# then evaluated once a row, where a count per light evaluates it once per light (a third of the
# scan's time over 500,000 rows). Each count has 21 bits: a group (one cell of one street) would
# need two million open events of one light to overflow into the next.
PACK_BITS = 21
PACKED = {Light.RED.value: 0, Light.YELLOW.value: PACK_BITS, NO_LIGHT: 2 * PACK_BITS}
PACK_WEIGHTS: dict[str, Any] = {Light.GREEN.value: 0} | {light: 1 << shift for light, shift in PACKED.items()}


def unpack(total: int, packed: int) -> dict[str, int]:
    if total >> PACK_BITS:
        raise ChengguanError("an area holds more open events than the map's counters", status=500)
    lights = {light: (packed >> shift) & ((1 << PACK_BITS) - 1) for light, shift in PACKED.items()}
    return lights | {Light.GREEN.value: total - sum(lights.values())}


@dataclass(frozen=True)
class CellCount:
    """The events of one (cell, street, district) group per light: what every level sums."""

    areas: tuple[int | None, int | None, int | None]  # in AREA_COLUMNS' order
    lights: dict[str, int]


def cell_counts_statement(
    session: Session, filters: MapFilters, now: dt.datetime
) -> Select[int | None, int | None, int | None, int, Any]:
    where = conditions(session, filters)
    if filters.status == StatusFilter.OPEN and session.get_bind().dialect.name == "sqlite":
        # Without statistics (nothing runs ANALYZE) SQLite takes `status IN (…)` for a selective
        # term, seeks the sweep's status index and reads every open row from the table: seconds
        # over 500,000 events. likely() tells it most rows pass, and it scans the partial index.
        where = [func.likely(term) if term is _OPEN else term for term in where]
    return (
        select(*AREA_COLUMNS, func.count(), func.sum(light_case(now, PACK_WEIGHTS)))
        .where(*where)
        .group_by(*AREA_COLUMNS)
    )


def cell_counts(session: Session, filters: MapFilters, now: dt.datetime) -> list[CellCount]:
    """Counts per light of each (cell, street, district) holding events, in one scan."""
    rows = session.execute(cell_counts_statement(session, filters, now))
    return [CellCount((cell, street, district), unpack(n, int(packed))) for cell, street, district, n, packed in rows]


def roll_up(cells: list[CellCount], level: Level) -> list[AreaCount]:
    """The counts of ``level``'s areas (None: events outside every one), in id order."""
    at = LEVEL_INDEX[level]
    areas: dict[int | None, AreaCount] = {}
    for cell in cells:
        area_id = cell.areas[at]
        area = areas.setdefault(area_id, AreaCount(area_id))
        for light, n in cell.lights.items():
            area.lights[light] += n
    return sorted(areas.values(), key=lambda a: (a.area_id is None, a.area_id or 0))


def aggregate(session: Session, filters: MapFilters, level: Level, now: dt.datetime) -> list[AreaCount]:
    """Counts per area and light; the answer's size is the number of areas, whatever the number
    of events."""
    return roll_up(cell_counts(session, filters, now), level)


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Recent(Generic[K, V]):
    """A few recent answers by key, the least recently used dropped first (thread-safe; two
    threads missing the same key at once both compute it, and the answers are equal)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K, make: Callable[[], V]) -> V:
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        value = make()
        with self._lock:
            self._entries[key] = value
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value


class MinuteCounts:
    """The cells' counts per database, scope and filters, kept for the rest of the minute they were
    counted in (with their ``now``). The command centre's wall screens redraw every minute, each
    pan or zoom asks again, and a centre runs several screens under one scope: they share one scan.
    The counts are as of their ``now``; pages that act on an answer do not use this."""

    def __init__(self, size: int = 64) -> None:
        self._recent: Recent[Hashable, tuple[dt.datetime, list[CellCount]]] = Recent(size)

    def get(self, session: Session, filters: MapFilters, now: dt.datetime) -> tuple[dt.datetime, list[CellCount]]:
        # the scope is part of the key: a street's screen never reads the city's counts
        key = (session.get_bind(), session.info.get("scope"), filters, now.replace(second=0, microsecond=0))
        return self._recent.get(key, lambda: (now, cell_counts(session, filters, now)))


# -- single events in a view --------------------------------------------------------------------------


@dataclass(frozen=True)
class Bbox:
    west: float
    south: float
    east: float
    north: float

    @classmethod
    def parse(cls, text: str) -> Bbox:
        try:
            west, south, east, north = (float(v) for v in text.split(","))
        except ValueError:
            raise Invalid("bbox is west,south,east,north / 范围格式应为 西,南,东,北", field="bbox") from None
        if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
            raise Invalid("bbox is west,south,east,north in degrees / 范围不正确", field="bbox")
        return cls(west, south, east, north)


@dataclass(frozen=True)
class MapEvent:
    id: int
    lat: float | None  # never None inside a view: the bbox condition needs a point
    lon: float | None
    light: str
    title: str
    status: str

    def out(self) -> list[Any]:
        """Compact (a view may hold thousands): [id, lat, lon, light, title, status]."""
        return [self.id, self.lat, self.lon, self.light, self.title, self.status]


def events_in(
    session: Session, filters: MapFilters, bbox: Bbox, now: dt.datetime, limit: int = MAX_EVENTS
) -> tuple[list[MapEvent], bool]:
    """The events inside the view, the most urgent first (red, then by deadline); and whether
    there were more than ``limit`` (the map then asks the user to zoom in)."""
    light = light_sql(now)
    urgency = case((light == Light.RED.value, 0), (light == Light.YELLOW.value, 1), else_=2)
    stmt = select(Event.id, Event.lat, Event.lon, light, Event.title, Event.status).where(
        *conditions(session, filters),
        Event.lon.between(bbox.west, bbox.east),
        Event.lat.between(bbox.south, bbox.north),
    )
    stmt = stmt.order_by(urgency, Event.deadline_at.is_(None), Event.deadline_at, Event.id).limit(limit + 1)
    rows = [MapEvent(*row) for row in session.execute(stmt)]
    return rows[:limit], len(rows) > limit
