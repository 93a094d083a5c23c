"""The command map's (一张图) layers over the operational store: events counted by area and by the
light of their clock, and the events themselves inside a map view.

The light is computed in SQL from the clock columns (``cases.clock.light_at``'s two comparisons)
rather than read from the stored ``light``, which is only as fresh as the last sweep; a row the
sweep has not yet given its 80 % mark (written in bulk) falls back on its stored light. The
queries go through the ORM, so the user's organisation scope applies to them as to every page.

The aggregated layer must stay fast over hundreds of thousands of open events (issue 7: ≤ 200 ms
over 500,000). The city's default view (every open event, for a city-wide user or the platform)
on SQLite reads ``event_area_counts``, which triggers keep by area and stored light, and moves the
few rows whose clock passed a mark since the sweep stored their light (``kept_counts``): a few
thousand rows and six index seeks. Any other question (a filter, a district's or street's scope,
PostgreSQL) is one index-only scan of ``ix_events_open_map`` grouped by (cell, street, district),
the index's leading columns, so the groups stream out without a sort; each row's light is
evaluated once, into one packed sum. The three levels are sums of the groups (numpy columns), and
the answer goes out as columns. A city-wide user's count leaves out the scope's condition, which
holds for every row (``sees_every_organisation``).
"""

from __future__ import annotations

import datetime as dt
import enum
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

import numpy as np
import numpy.typing as npt
from sqlalchemy import ColumnElement, Select, String, Table, case, func, literal, literal_column, select, union_all
from sqlalchemy.orm import Session

from chengguan.cases import service as cases_service
from chengguan.cases.models import (
    EVENT_OPEN,
    NO_AREA,
    OPEN_STATUSES,
    Event,
    EventAreaCount,
    EventStatus,
    Light,
    stored_light_sql,
)
from chengguan.errors import ChengguanError, Invalid
from chengguan.orgs.models import Organisation, Scope
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


def _status_condition(session: Session, status: str) -> ColumnElement[bool] | None:
    if status == StatusFilter.ALL:
        return None
    if status == StatusFilter.OPEN:
        return cases_service.event_open(session)  # as ix_events_open_map's WHERE
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
    status = _status_condition(session, filters.status)
    if status is not None:
        out.append(status)
    return out


# -- the aggregated layer ----------------------------------------------------------------------------


# One SUM carries three lights' counts of a group (green is the rest of count(*)): the CASE is
# then evaluated once a row, where a count per light evaluates it once per light (a third of the
# scan's time over 500,000 rows). Each count has 21 bits: a group (one cell of one street) would
# need two million open events of one light to overflow into the next.
PACK_BITS = 21
PACKED = {Light.RED.value: 0, Light.YELLOW.value: PACK_BITS, NO_LIGHT: 2 * PACK_BITS}
PACK_WEIGHTS: dict[str, Any] = {Light.GREEN.value: 0} | {light: 1 << shift for light, shift in PACKED.items()}
Counts = npt.NDArray[np.int64]


def unpack(total: Counts | int, packed: Counts | int) -> dict[str, Any]:
    """The counts per light of groups (arrays) or of one group (integers) from their packed sums."""
    if np.any(np.asarray(total) >> PACK_BITS):
        raise ChengguanError("an area holds more open events than the map's counters", status=500)
    lights = {light: (packed >> shift) & ((1 << PACK_BITS) - 1) for light, shift in PACKED.items()}
    return lights | {Light.GREEN.value: total - sum(lights.values())}


@dataclass(frozen=True)
class GroupCounts:
    """The events of every (cell, street, district) group per light, as columns: what every level
    sums. ``areas`` has a row a group, in AREA_COLUMNS' order (NO_AREA: none)."""

    areas: Counts  # (groups, 3)
    lights: dict[str, Counts]  # light → (groups,)


@dataclass(frozen=True)
class AreaCounts:
    """The events of one level's areas per light, as columns: area ``ids[i]`` (None: the events
    outside every area) holds ``lights[light][i]`` events of each light. Columns, not a record an
    area: the cell level has ten thousand areas, and the answer is built and sent as five lists."""

    ids: list[int | None]
    lights: dict[str, list[int]]

    def totals(self) -> dict[str, int]:
        return {light: sum(column) for light, column in self.lights.items()}


def cell_counts_statement(session: Session, filters: MapFilters, now: dt.datetime) -> Select[int, int, int, int, Any]:
    cell, street, district = (func.coalesce(column, NO_AREA) for column in AREA_COLUMNS)
    return (
        select(cell, street, district, func.count(), func.sum(light_case(now, PACK_WEIGHTS)))
        .where(*conditions(session, filters))
        .group_by(*AREA_COLUMNS)
    )


def sees_every_organisation(session: Session) -> bool:
    """Whether the session's scope holds every organisation (a city-wide user). The scope's
    condition on an event, ``org_id IN (subtree) OR unit_id IN (subtree)``, is then true of every
    row (``org_id`` always names one), and is left out: over 500,000 open events it costs a probe
    a row (60–130 ms of CPU), and without statistics SQLite plans it as a seek of every event by
    ``org_id`` and ``unit_id`` (1.4 s of CPU; benchmarks/README.md "Command map")."""
    scope = session.info.get("scope")
    if not isinstance(scope, Scope) or scope.root_path is None:
        return False  # the platform's session has no condition to leave out; no root sees nothing
    outside = select(Organisation.id).where(~Organisation.path.startswith(scope.root_path, autoescape=True))
    return session.execute(outside.limit(1), execution_options={"skip_scope": True}).first() is None


def cell_counts(session: Session, filters: MapFilters, now: dt.datetime) -> GroupCounts:
    """Counts per light of each (cell, street, district) holding events: from the kept counts
    when they answer the question (``kept_counts``), else in one scan."""
    everything = sees_every_organisation(session)
    if filters == MapFilters() and session.get_bind().dialect.name == "sqlite" and (everything or no_scope(session)):
        return kept_counts(session, now)
    return scanned_counts(session, filters, now, everything=everything)


def scanned_counts(session: Session, filters: MapFilters, now: dt.datetime, *, everything: bool) -> GroupCounts:
    """The counts by one scan of the open rows' index (``everything``: the session's scope holds
    every organisation, and its condition is left out)."""
    options = {"skip_scope": True} if everything else {}
    return group_counts(session.execute(cell_counts_statement(session, filters, now), execution_options=options).all())


def group_counts(rows: Sequence[Any]) -> GroupCounts:
    """GroupCounts from rows of (cell, street, district, events, packed lights)."""
    # by column: numpy reads a tuple a column quickly, and a result row slowly (PostgreSQL's packed
    # sums are Decimals; they convert exactly)
    columns: list[tuple[Any, ...]] = list(zip(*rows, strict=True)) if rows else [()] * 5
    cell, street, district, n, packed = np.array(columns, dtype=np.int64)
    return GroupCounts(np.stack([cell, street, district], axis=1), unpack(n, packed))


def no_scope(session: Session) -> bool:
    """The platform's own session (no user): nothing to leave out."""
    return session.info.get("scope") is None


def stored_light() -> ColumnElement[str]:
    """The light the row's stored columns say, as ``event_area_counts`` keeps it."""
    return literal_column(f"({stored_light_sql()})", String).label("stored")


def turned_statement(now: dt.datetime) -> Select[Any]:
    """The open rows whose light at ``now`` is not their stored one, by (area, stored light, light):
    the clocks that passed a mark since the sweep stored their light (and the bulk rows it has not
    reached yet). Six disjoint parts, each a seek of the sweep's ``(status, light, deadline)`` or
    of ``ix_events_open_yellow``; a stored light is a ``Light`` value or NULL."""
    red, yellow, green = Light.RED.value, Light.YELLOW.value, Light.GREEN.value
    running = Event.deadline_at >= now
    marked = [Event.yellow_at.is_not(None), Event.yellow_at <= now, running]
    # The open states as literals match the partial ix_events_open_yellow; as bound parameters
    # they match no partial index, which keeps SQLite (with statistics or without) from scanning
    # the map's covering index instead of seeking the sweep's index by state, light and deadline.
    by_mark, by_deadline = EVENT_OPEN, Event.status.in_(sorted(OPEN_STATUSES))
    parts = [  # light at now: red
        [by_deadline, Event.light.is_(None), Event.deadline_at < now],
        [by_deadline, Event.light.in_((green, yellow)), Event.deadline_at < now],
        # yellow
        [by_mark, Event.light.is_(None), *marked],
        [by_mark, Event.light == green, *marked],
        # green
        [by_mark, Event.light == yellow, Event.yellow_at.is_not(None), Event.yellow_at > now, running],
        # yellow or green: a red whose deadline moved (set_due stores the new light; a test may not)
        [by_deadline, Event.light == red, running, Event.yellow_at.is_not(None)],
    ]
    columns: list[ColumnElement[Any]] = [
        *(func.coalesce(column, NO_AREA) for column in AREA_COLUMNS),
        stored_light(),
        light_sql(now),
    ]
    turned = union_all(*(select(*columns).where(*part) for part in parts)).subquery()
    keys = list(turned.c)
    return select(*keys, func.count()).group_by(*keys)


def kept_counts(session: Session, now: dt.datetime) -> GroupCounts:
    """The open events' counts from ``event_area_counts`` (SQLite keeps them by trigger), each
    row whose light at ``now`` differs from its stored one moved to its light: a read of some
    thousands of rows and a few index seeks, where the scan reads every open event (issue 7:
    ≤ 200 ms over 500,000; benchmarks/README.md "Command map")."""
    kept = cast(Table, EventAreaCount.__table__).c  # Core columns: no ORM row handling
    packed = func.sum(kept.n * case(PACK_WEIGHTS, value=kept.light, else_=0))
    stmt = (
        select(kept.cell_id, kept.street_id, kept.district_id, func.sum(kept.n), packed)
        .where(kept.n != 0)
        .group_by(kept.cell_id, kept.street_id, kept.district_id)
    )
    counts = group_counts(session.execute(stmt).all())
    # the caller holds every organisation (or is the platform): no scope condition to add
    moves = session.execute(turned_statement(now), execution_options={"skip_scope": True}).all()
    if moves:
        index = {tuple(area): i for i, area in enumerate(counts.areas.tolist())}
        for cell, street, district, stored, light, moved in moves:
            i = index[(cell, street, district)]
            counts.lights[stored][i] -= moved
            counts.lights[light][i] += moved
    return counts


def roll_up(groups: GroupCounts, level: Level) -> AreaCounts:
    """The counts of ``level``'s areas, in id order (the events outside every one first)."""
    ids, area_of = np.unique(groups.areas[:, LEVEL_INDEX[level]], return_inverse=True)
    # bincount sums in float64: exact up to 2**53 events
    lights = {
        light: np.bincount(area_of, weights=column, minlength=len(ids)).astype(np.int64).tolist()
        for light, column in groups.lights.items()
    }
    return AreaCounts([None if i == NO_AREA else int(i) for i in ids.tolist()], lights)


def aggregate(session: Session, filters: MapFilters, level: Level, now: dt.datetime) -> AreaCounts:
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
        self._recent: Recent[Hashable, tuple[dt.datetime, GroupCounts]] = Recent(size)

    def get(self, session: Session, filters: MapFilters, now: dt.datetime) -> tuple[dt.datetime, GroupCounts]:
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
