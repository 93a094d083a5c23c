"""The aggregates behind warnings, forecasts and report-vs-enforcement: portable SQL, one
definition for DuckDB and Spark (the rules of :mod:`chengguan.analytics.metrics` apply: no
engine-specific functions, no division, no bound parameters).

Each query returns counts per area (a district or a street, or the whole slice), per category
(a 大类, a 小类, or all) and per local day (and hour); everything else (baselines, models,
ratios) is Python over these few thousand rows.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from chengguan.analytics.engines import Engine
from chengguan.analytics.metrics import DIMENSIONS, Filters, Subject, where
from chengguan.errors import Invalid, NotFound

ALL = "all"  # the key of a slice taken whole (no split by area or category)
NONE = "none"  # the key of rows not yet placed or classified
AREA_LEVELS = ("district", "street")
CATEGORY_LEVELS = ("major", "category")


class Grain(enum.StrEnum):
    DAY = "day"
    HOUR = "hour"


@dataclass(frozen=True)
class Split:
    """How a slice is cut: by district or street (or not), by 大类 or 小类 (or not)."""

    area_by: str | None = None
    category_by: str | None = None

    def __post_init__(self) -> None:
        if self.area_by is not None and self.area_by not in AREA_LEVELS:
            raise Invalid("area_by is district or street / 区域须为区或街道", field="area_by")
        if self.category_by is not None and self.category_by not in CATEGORY_LEVELS:
            raise Invalid("category_by is major or category / 类别须为大类或小类", field="category_by")

    def keys(self) -> tuple[str, str]:
        """The two SELECT expressions; an unsplit side is the literal 'all'."""
        area = DIMENSIONS[self.area_by] if self.area_by else f"'{ALL}'"
        category = DIMENSIONS[self.category_by] if self.category_by else f"'{ALL}'"
        return area, category

    def group(self) -> list[str]:
        return [DIMENSIONS[d] for d in (self.area_by, self.category_by) if d]


def require_tables(engine: Engine, *tables: str) -> None:
    missing = [t for t in tables if t not in engine.tables]
    if missing:
        raise NotFound(
            f"the lake has no {', '.join(missing)} yet: run `chengguan lake sync` / 分析库尚无数据，请先同步",
            field="lake",
        )


def _key(value: object) -> str:
    """Area ids and category keys as one string type, so that 'all' and ids sort together."""
    return NONE if value is None else str(value)


def volume(
    engine: Engine, subject: Subject, filters: Filters, split: Split, grain: Grain = Grain.DAY
) -> list[tuple[str, str, dt.date, int, int]]:
    """(area, category, day, hour, n) for every non-empty group; hour is -1 at the day grain.
    Rows with no area or category (not yet placed or classified) fall under the key 'none'."""
    require_tables(engine, subject)
    area, category = split.keys()
    group = [*split.group(), "day"] + (["hour"] if grain is Grain.HOUR else [])
    hour = "hour" if grain is Grain.HOUR else "-1"
    sql = (
        f"SELECT {area} AS a, {category} AS c, day, {hour} AS h, COUNT(*) AS n FROM {subject} "
        f"{where(filters.conditions())} GROUP BY {', '.join(group)}"
    )
    rows = [(_key(a), _key(c), d, int(h), int(n)) for a, c, d, h, n in engine.rows(sql)]
    return sorted(rows)


def hourly_series(
    engine: Engine, subject: Subject, filters: Filters, split: Split
) -> dict[tuple[str, str], np.ndarray]:
    """(days × 24) hourly counts of each area × category over [filters.start, filters.end),
    zeros where nothing was reported."""
    if not (filters.start and filters.end):
        raise Invalid("a series needs a period: start and end / 须指定起止日期", field="start")
    n = (filters.end - filters.start).days
    out: dict[tuple[str, str], np.ndarray] = {}
    for area, category, day, hour, count in volume(engine, subject, filters, split, Grain.HOUR):
        series = out.setdefault((area, category), np.zeros((n, 24)))
        series[(day - filters.start).days, hour] = count
    return out


def first_day(engine: Engine, subject: Subject, filters: Filters) -> dt.date | None:
    """The first day of the slice's history, whatever its category: before it, zero is unknown,
    after it, a day without rows is a real zero."""
    require_tables(engine, subject)
    place = replace(filters, category=None, start=None, end=None)
    found = engine.rows(f"SELECT MIN(day) FROM {subject} {where(place.conditions())}")
    return found[0][0] if found else None


def day_kinds(engine: Engine, start: dt.date, end: dt.date) -> dict[dt.date, str]:
    """The working calendar's kind of each day in [start, end): workday, makeup, weekend or
    holiday (from the lake's ``dim_days``, written from ``chengguan.calendar`` on every sync)."""
    require_tables(engine, "dim_days")
    sql = f"SELECT day, kind FROM dim_days WHERE day >= DATE '{start.isoformat()}' AND day < DATE '{end.isoformat()}'"
    return dict(engine.rows(sql))


@dataclass(frozen=True)
class Enforcement:
    reports: int
    events: int
    dispatched: int
    closed: int
    penalty_cases: int


def enforcement(engine: Engine, filters: Filters, area_by: str) -> dict[str, Enforcement]:
    """Per area: reports received, events that came of them (and how many were dispatched and
    closed), and penalty cases opened in the period. Penalty cases have no category or channel,
    so only the period and the area apply to them."""
    require_tables(engine, Subject.REPORTS, Subject.EVENTS)
    split = Split(area_by=area_by)
    area = split.keys()[0]
    group = f"GROUP BY {area}"
    reports = _counts(engine, f"SELECT {area}, COUNT(*) FROM reports {where(filters.conditions())} {group}")
    events = _counts(
        engine,
        f"SELECT {area}, COUNT(*), SUM(CASE WHEN dispatched_at IS NOT NULL THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN closed_at IS NOT NULL THEN 1 ELSE 0 END) FROM events {where(filters.conditions())} {group}",
    )
    penalties: dict[str, Sequence[int]] = {}
    if "penalty_cases" in engine.tables:  # a city without an enforcement case yet has no such table
        place_time = replace(filters, category=None, source=None)
        penalties = _counts(
            engine, f"SELECT {area}, COUNT(*) FROM penalty_cases {where(place_time.conditions())} {group}"
        )
    out = {}
    for key in sorted({*reports, *events, *penalties}):
        e = events.get(key, (0, 0, 0))
        out[key] = Enforcement(reports.get(key, (0,))[0], e[0], e[1], e[2], penalties.get(key, (0,))[0])
    return out


def _counts(engine: Engine, sql: str) -> dict[str, Sequence[int]]:
    return {_key(row[0]): tuple(int(v) for v in row[1:]) for row in engine.rows(sql)}
