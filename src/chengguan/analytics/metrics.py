"""The metric registry: one SQL definition per metric, run unchanged on DuckDB and on Spark.

**Why hand-kept portable SQL and not SQLGlot or ibis.** The 三高 metrics are filters, ``GROUP BY``
counts, conditional sums (``SUM(CASE …)``), one join to a dimension and ``ORDER BY … LIMIT``:
a subset that DuckDB and Spark SQL parse alike. A transpiler would add a dependency and a layer
whose output can change between its releases; ibis would add a third query language to learn.
The subset's rules are kept here and enforced by the test that runs every metric on both engines
and compares the rows: date literals as ``DATE 'YYYY-MM-DD'``, no engine-specific functions (the
local day, hour and weekday are columns the lake sync computes), no division in SQL (ratios are
computed in Python from the integer counts, so they are equal to the last bit), explicit
``NULLS LAST`` where order matters, and no bound parameters (the two engines spell them
differently): every literal is a date, an integer, or a string checked against a strict pattern
before it is quoted.

A metric returns a :class:`Result`: column names and rows of plain Python values.
"""

from __future__ import annotations

import calendar as pycal
import datetime as dt
import enum
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from chengguan.analytics import hotspots
from chengguan.analytics.engines import Engine
from chengguan.errors import Invalid, NotFound

AREA_PATH = re.compile(r"^(/[0-9A-Za-z_-]{1,32})+/$")
KEY = re.compile(r"^[0-9A-Za-z_.:-]{1,32}$")
MAX_TOP = 1000


class Subject(enum.StrEnum):
    REPORTS = "reports"  # every submission (诉求): the public's demand
    EVENTS = "events"  # the problems after merging duplicates (事件): the work


# Dimensions a metric can group by: name → column of the fact tables.
DIMENSIONS: dict[str, str] = {
    "day": "day",
    "month": "month",
    "hour": "hour",
    "weekday": "weekday",
    "major": "major_key",  # 大类
    "category": "category_key",  # 小类
    "district": "district_id",
    "street": "street_id",
    "cell": "cell_code",  # 单元网格
    "source": "source",
}


@dataclass(frozen=True)
class Coded:
    """A dimension the fact tables also carry as an integer id. A metric groups by the id (over tens
    of millions of rows, hashing an integer costs a fraction of hashing a 15-character code) and
    names the groups from the dimension table after aggregation, from thousands of rows. Ids and
    codes are one-to-one (``GridCell.code`` and ``Category.key`` are unique), so the answers are those
    of grouping by code.

    小类 are coded as well: the cube groups tens of millions of rows into millions of 小类 × cell × hour
    groups, and an integer key takes a third off it (40 M records: 2.76 → 1.82 s, see
    ``benchmarks/README.md``). The 大类 stay keyed by string: a dozen groups, and no fact column to add."""

    id_column: str
    table: str
    code_column: str = "code"


CODED: dict[str, Coded] = {
    "cell": Coded("cell_id", "dim_cells"),
    "category": Coded("category_id", "dim_categories", "key"),
}
TIME_DIMENSIONS = ("hour", "weekday", "day", "month")
TYPE_DIMENSIONS = ("major", "category")
PLACE_DIMENSIONS = ("district", "street", "cell")


def _string(value: str, pattern: re.Pattern[str], name: str) -> str:
    if not pattern.fullmatch(value):
        raise Invalid(f"{name} {value!r} has characters that are not allowed / 含不允许的字符", field=name)
    return f"'{value}'"


def _date(value: dt.date) -> str:
    return f"DATE '{value.isoformat()}'"


def dimension(name: str, field_name: str = "by") -> str:
    if name not in DIMENSIONS:
        raise Invalid(f"unknown dimension {name!r}; one of {', '.join(DIMENSIONS)} / 未知维度", field=field_name)
    return DIMENSIONS[name]


@dataclass(frozen=True)
class Filters:
    """A slice: a time range [start, end) in local days, an area subtree (its org path), a
    category subtree (a 大类 key takes its 小类 with it) and a source channel."""

    start: dt.date | None = None
    end: dt.date | None = None
    area_path: str | None = None
    category: str | None = None
    source: str | None = None

    def conditions(self, prefix: str = "", time: bool = True) -> list[str]:
        out = []
        if time and self.start:
            out.append(f"{prefix}day >= {_date(self.start)}")
        if time and self.end:
            out.append(f"{prefix}day < {_date(self.end)}")
        out += self.place_conditions(prefix)
        if self.category:
            key = _string(self.category, KEY, "category")
            out.append(f"({prefix}category_key = {key} OR {prefix}major_key = {key})")
        if self.source:
            out.append(f"{prefix}source = {_string(self.source, KEY, 'source')}")
        return out

    def place_conditions(self, prefix: str = "") -> list[str]:
        if not self.area_path:
            return []
        # a prefix compare, not LIKE: "_" in a code would be a LIKE wildcard, and the engines escape differently
        path = _string(self.area_path, AREA_PATH, "area")
        return [f"SUBSTRING({prefix}area_path, 1, {len(self.area_path)}) = {path}"]

    def check(self) -> Filters:
        if self.start and self.end and self.start >= self.end:
            raise Invalid("start must be before end / 开始日期须早于结束日期", field="start")
        self.conditions()  # refuses what cannot be quoted
        return self


def where(conditions: Sequence[str]) -> str:
    return f"WHERE {' AND '.join(conditions)}" if conditions else ""


@dataclass(frozen=True)
class Result:
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    meta: dict[str, Any] = field(default_factory=dict)

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def _require(engine: Engine, *tables: str) -> None:
    for table in tables:
        if table not in engine.tables:
            raise NotFound(
                f"the lake has no {table} yet: run `chengguan lake sync` / 分析库尚无数据，请先同步", field="lake"
            )


def _grouped(
    engine: Engine, subject: Subject, by: Sequence[str], conditions: Sequence[str], known: Sequence[str] = ()
) -> str:
    """``COUNT(*)`` of the slice grouped by the dimensions ``by``: a query with the columns k0, k1 … and n,
    without the groups whose key of a dimension in ``known`` is null.

    A coded dimension (see :class:`Coded`) is grouped by its id and named from its table afterwards;
    a LEFT JOIN keeps a fact whose id the table lacks, as a null key, as its null code would be."""
    columns = [CODED[name].id_column if name in CODED else dimension(name) for name in by]
    keys = [f"k{i}" for i in range(len(by))]
    present = [f"{c} IS NOT NULL" for c, name in zip(columns, by, strict=True) if name in known]
    inner = (
        f"SELECT {', '.join(f'{c} AS {k}' for c, k in zip(columns, keys, strict=True))}, COUNT(*) AS n "
        f"FROM {subject} {where([*conditions, *present])} GROUP BY {', '.join(columns)}"
    )
    coded = [(k, name) for k, name in zip(keys, by, strict=True) if name in CODED]
    if not coded:
        return inner
    _require(engine, *(CODED[name].table for _, name in coded))
    code = {k: f"{k}_d.{CODED[name].code_column}" for k, name in coded}
    outer = [f"{code[k]} AS {k}" if k in code else f"g.{k}" for k in keys]
    joins = " ".join(f"LEFT JOIN {CODED[name].table} {k}_d ON {k}_d.id = g.{k}" for k, name in coded)
    named = [f"{code[k]} IS NOT NULL" for k, name in coded if name in known]
    return f"SELECT {', '.join(outer)}, g.n FROM ({inner}) g {joins} {where(named)}"


def _sort_key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Nulls last, whatever the engine's default."""
    return tuple((v is None, v if v is not None else 0) for v in row)


# -- the metrics ------------------------------------------------------------------------------


def counts(engine: Engine, subject: Subject, filters: Filters, by: str) -> Result:
    """Volume by one dimension: day, month, hour, weekday, 大类, 小类, district, street, cell, source."""
    _require(engine, subject)
    sql = _grouped(engine, subject, [by], filters.conditions())
    return Result((by, "n"), sorted(engine.rows(sql), key=_sort_key))


def heatmap(engine: Engine, subject: Subject, filters: Filters) -> Result:
    """Hot times: volume by weekday (1 = Monday) × hour of day."""
    _require(engine, subject)
    sql = f"SELECT weekday, hour, COUNT(*) AS n FROM {subject} {where(filters.conditions())} GROUP BY weekday, hour"
    return Result(("weekday", "hour", "n"), sorted(engine.rows(sql), key=_sort_key))


def day_kinds(engine: Engine, subject: Subject, filters: Filters) -> Result:
    """Hot times: working days against rest days (weekends and holidays, by the working calendar),
    as the mean volume per day, over the filter's range (default: the first to the last day with
    data), so that 7 holiday days are not compared as a sum with 250 working days."""
    _require(engine, subject, "dim_days")
    f = f"SELECT day FROM {subject} {where(filters.conditions())}"
    first = _date(filters.start) if filters.start else "(SELECT MIN(day) FROM f)"
    last = f"d.day < {_date(filters.end)}" if filters.end else "d.day <= (SELECT MAX(day) FROM f)"
    sql = (
        f"WITH f AS ({f}), span AS (SELECT d.day, d.working FROM dim_days d WHERE d.day >= {first} AND {last}) "
        "SELECT s.working, COUNT(DISTINCT s.day) AS days, COUNT(f.day) AS n "
        "FROM span s LEFT JOIN f ON f.day = s.day GROUP BY s.working"
    )
    rows = sorted(engine.rows(sql), key=_sort_key)
    return Result(("working", "days", "n", "per_day"), [(w, d, n, n / d if d else None) for w, d, n in rows])


def top(engine: Engine, subject: Subject, filters: Filters, by: str, limit: int = 10) -> Result:
    """Hot places (by district, street or cell) or hot anything: the ``limit`` largest groups."""
    _require(engine, subject)
    limit = _limit(limit)
    grouped = _grouped(engine, subject, [by], filters.conditions(), known=[by])
    return Result((by, "n"), engine.rows(f"SELECT k0, n FROM ({grouped}) t ORDER BY n DESC, k0 ASC LIMIT {limit}"))


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_TOP:
        raise Invalid(f"limit must be 1–{MAX_TOP} / 条数须在1到{MAX_TOP}之间", field="limit")
    return int(limit)


def hotspots_gi(engine: Engine, subject: Subject, filters: Filters, band_m: float | None = None) -> Result:
    """Hot places that are statistically significant: Getis-Ord Gi* over the unit grid cells of
    the area (cells without a report count as zero), see :mod:`chengguan.analytics.hotspots`."""
    _require(engine, subject, "dim_cells")
    inner = where([*filters.conditions(), "cell_id IS NOT NULL"])
    cells = where(filters.place_conditions("c."))
    # counted per cell id first (see Coded), then one row per cell of the area, zero where none
    sql = (
        f"SELECT c.code, c.lon, c.lat, COALESCE(f.n, 0) AS n FROM dim_cells c "
        f"LEFT JOIN (SELECT cell_id, COUNT(*) AS n FROM {subject} {inner} GROUP BY cell_id) f ON f.cell_id = c.id "
        f"{cells}"
    )
    rows = sorted(engine.rows(sql), key=_sort_key)
    counts_ = np.array([r[3] for r in rows], dtype=np.float64)
    points = hotspots.project(np.array([r[1] for r in rows]), np.array([r[2] for r in rows]))
    gi = hotspots.gi_star(counts_, points, band_m)
    out = [
        (r[0], r[3], round(float(z), 6), round(float(p), 6), int(b))
        for r, z, p, b in zip(rows, gi.z, gi.p, gi.bin, strict=True)
    ]
    return Result(("cell", "n", "z", "p", "bin"), out, {"band_m": round(gi.band_m, 1)})


def hot_types(engine: Engine, subject: Subject, filters: Filters, by: str = "category", limit: int = 10) -> Result:
    """Hot types: the top ``limit`` 小类 (or 大类) of the period with their share of the period's
    volume and the change against the period just before it, of the same length."""
    _require(engine, subject)
    if by not in TYPE_DIMENSIONS:
        raise Invalid("hot types group by major or category / 只能按大类或小类", field="by")
    if not (filters.start and filters.end):
        raise Invalid("hot types need a period: start and end / 须指定起止日期", field="start")
    column, limit = dimension(by), _limit(limit)
    before = filters.start - (filters.end - filters.start)
    conditions = [f"day >= {_date(before)}", f"day < {_date(filters.end)}", *filters.conditions(time=False)]
    is_now = f"day >= {_date(filters.start)}"
    sql = (
        f"SELECT {column} AS k, SUM(CASE WHEN {is_now} THEN 1 ELSE 0 END) AS n, "
        f"SUM(CASE WHEN {is_now} THEN 0 ELSE 1 END) AS prev FROM {subject} {where(conditions)} GROUP BY {column}"
    )
    rows = [(k, int(n), int(p)) for k, n, p in engine.rows(sql)]
    total = sum(n for _, n, _ in rows)
    ranked = sorted((r for r in rows if r[1] > 0), key=lambda r: (-r[1], r[0] is None, r[0] or ""))[:limit]
    out = [(k, n, n / total, p, (n - p) / p if p else None) for k, n, p in ranked]
    return Result((by, "n", "share", "previous", "change"), out, {"total": total, "previous_start": before})


def cube(
    engine: Engine,
    subject: Subject,
    filters: Filters,
    type_by: str = "category",
    place_by: str = "cell",
    time_by: str = "hour",
    limit: int = MAX_TOP,
) -> Result:
    """The type × place × time cube, ranked: which 小类 peaks where and when (the ``limit``
    largest combinations)."""
    _require(engine, subject)
    for value, allowed, name in (
        (type_by, TYPE_DIMENSIONS, "type_by"),
        (place_by, PLACE_DIMENSIONS, "place_by"),
        (time_by, TIME_DIMENSIONS, "time_by"),
    ):
        if value not in allowed:
            raise Invalid(f"{name} must be one of {', '.join(allowed)} / 维度不正确", field=name)
    limit = _limit(limit)
    dimensions = [type_by, place_by, time_by]
    grouped = _grouped(engine, subject, dimensions, filters.conditions(), known=dimensions[:2])
    sql = f"SELECT k0, k1, k2, n FROM ({grouped}) c ORDER BY n DESC, k0 ASC, k1 ASC, k2 ASC LIMIT {limit}"
    return Result((type_by, place_by, time_by, "n"), engine.rows(sql))


# -- 同比 / 环比 ------------------------------------------------------------------------------


class Period(enum.StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


def _add_months(day: dt.date, months: int) -> dt.date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, pycal.monthrange(year, month)[1]))


def period_bounds(period: Period, at: dt.date) -> tuple[dt.date, dt.date]:
    """The [start, end) of the period that contains ``at``."""
    if period is Period.DAY:
        return at, at + dt.timedelta(days=1)
    if period is Period.WEEK:
        start = at - dt.timedelta(days=at.weekday())
        return start, start + dt.timedelta(days=7)
    months = {Period.MONTH: 1, Period.QUARTER: 3, Period.YEAR: 12}[period]
    first_month = (at.month - 1) // months * months + 1 if period is not Period.YEAR else 1
    start = dt.date(at.year, first_month, 1)
    return start, _add_months(start, months)


def previous_bounds(period: Period, start: dt.date) -> tuple[dt.date, dt.date]:
    """环比: the period just before."""
    return period_bounds(period, start - dt.timedelta(days=1))


def last_year_bounds(period: Period, start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """同比: the same period a year earlier; weeks go back 52 weeks so the weekdays line up."""
    if period is Period.WEEK:
        return start - dt.timedelta(weeks=52), end - dt.timedelta(weeks=52)
    if period is Period.DAY:
        day = _add_months(start, -12)
        return day, day + dt.timedelta(days=1)
    return _add_months(start, -12), _add_months(end, -12)


def _in(bounds: tuple[dt.date, dt.date]) -> str:
    return f"(day >= {_date(bounds[0])} AND day < {_date(bounds[1])})"


def _ratio(now: int, then: int) -> float | None:
    return (now - then) / then if then else None


def compare(
    engine: Engine, subject: Subject, filters: Filters, period: Period, at: dt.date, by: str | None = None
) -> Result:
    """同比/环比: the volume of the period containing ``at`` against the period before (环比) and
    the same period a year earlier (同比), for the slice, optionally split by a dimension."""
    _require(engine, subject)
    if filters.start or filters.end:
        raise Invalid("同比/环比 take a period and a date, not a range / 同比环比按周期与日期计算", field="start")
    now = period_bounds(period, at)
    prev, last = previous_bounds(period, now[0]), last_year_bounds(period, *now)
    key = dimension(by) if by else "'all'"
    ranges = f"({_in(now)} OR {_in(prev)} OR {_in(last)})"
    sql = (
        f"SELECT {key} AS k, SUM(CASE WHEN {_in(now)} THEN 1 ELSE 0 END) AS n, "
        f"SUM(CASE WHEN {_in(prev)} THEN 1 ELSE 0 END) AS prev, SUM(CASE WHEN {_in(last)} THEN 1 ELSE 0 END) AS ly "
        f"FROM {subject} {where([ranges, *filters.conditions()])} GROUP BY {key}"
    )
    rows = sorted(((k, int(n), int(p), int(y)) for k, n, p, y in engine.rows(sql)), key=_sort_key)
    out = [(k, n, p, _ratio(n, p), y, _ratio(n, y)) for k, n, p, y in rows]
    meta = {"current": now, "previous": prev, "last_year": last}
    return Result((by or "slice", "n", "previous", "mom", "last_year", "yoy"), out, meta)


# -- the registry -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    name: str
    title: str
    run: Callable[..., Result]


REGISTRY: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("counts", "Volume by one dimension / 按维度统计", counts),
        Metric("heatmap", "Hot times: weekday × hour / 高发时段热力图", heatmap),
        Metric("day_kinds", "Hot times: working days vs rest days / 工作日与节假日", day_kinds),
        Metric("top", "Hot places or types: top N / 高发排名", top),
        Metric("hotspots", "Hot places: Getis-Ord Gi* on unit grid cells / 高发地点热点", hotspots_gi),
        Metric("hot_types", "Hot types: top N with share and change / 高发类型", hot_types),
        Metric("cube", "Type × place × time cube / 类型×地点×时间", cube),
        Metric("compare", "同比/环比 (year-on-year, period-on-period)", compare),
    )
}


def standard_set(filters: Filters, at: dt.date) -> list[tuple[str, dict[str, Any]]]:
    """The standard analyses of a slice, as (metric, arguments): what the engines must agree on."""
    period = replace(filters, start=None, end=None)
    runs: list[tuple[str, dict[str, Any]]] = [("counts", {"filters": filters, "by": by}) for by in DIMENSIONS]
    runs += [
        ("heatmap", {"filters": filters}),
        ("day_kinds", {"filters": filters}),
        ("top", {"filters": filters, "by": "street", "limit": 5}),
        ("top", {"filters": filters, "by": "cell", "limit": 5}),
        ("hotspots", {"filters": filters}),
        ("cube", {"filters": filters, "limit": 50}),
        ("cube", {"filters": filters, "type_by": "major", "place_by": "street", "time_by": "weekday", "limit": 50}),
        ("compare", {"filters": period, "period": Period.MONTH, "at": at}),
        ("compare", {"filters": period, "period": Period.WEEK, "at": at, "by": "major"}),
        ("compare", {"filters": period, "period": Period.YEAR, "at": at, "by": "source"}),
    ]
    if filters.start and filters.end:
        runs.append(("hot_types", {"filters": filters, "limit": 5}))
        runs.append(("hot_types", {"filters": filters, "by": "major", "limit": 5}))
    return runs


def run(engine: Engine, name: str, subject: Subject = Subject.REPORTS, **arguments: Any) -> Result:
    if name not in REGISTRY:
        raise NotFound(f"no metric {name!r} / 无此指标", field="metric")
    filters: Filters = arguments.pop("filters", Filters())
    return REGISTRY[name].run(engine, subject, filters.check(), **arguments)
