"""Automatic analysis reports (日报、周报、月报、季报、年报) and a street's 体检报告, from the lake.

A report covers one calendar period (the day, the Monday–Sunday week, the month, the quarter or
the year that contains a given day) and one area subtree (the city, a district, a street). It is
built from the metric registry (:mod:`chengguan.analytics.metrics`), so its figures are the ones
the dashboard shows for the same slice:

- volume of reports (诉求) with 环比 (the period before) and 同比 (the same period a year earlier);
- the volume over the period (by hour for a day, by day up to a quarter, by month for a year);
- hot types: the top 小类 with their share and change; hot places: the top streets (above a
  street), the top unit grid cells and the cells that are significant Getis-Ord Gi* hotspots;
- hot times: the weekday × hour matrix; sources: the channels with their share;
- closure, when the lake has events with deadlines: the events first reported in the period, how
  many were closed, and of those whose deadline fell before the period ended, how many were closed
  on time and which units hold the overdue ones;
- for a street (体检报告): the street against the average street of its district and of its city,
  and its rank in the district;
- findings: short generated Chinese sentences stating the above.

The :class:`Report` is a plain pydantic model: the worker stores it as JSON and the three outputs
(HTML, PDF, Excel) are rendered from it, so a stored report can be downloaded in any format.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from chengguan.analytics import metrics
from chengguan.analytics.engines import Engine
from chengguan.analytics.metrics import Filters, Period, Subject
from chengguan.errors import Invalid, NotFound
from chengguan.intake.channels import CHANNELS

TOP = 10  # rows of each ranking
HOTSPOT_BIN = 2  # Gi* hot at 95 % confidence or more
STREET_KINDS = ("street", "town")
WEEKDAYS = ("一", "二", "三", "四", "五", "六", "日")

PERIOD_NAMES: dict[Period, tuple[str, str, str]] = {
    # (this period, the period before, the report's title)
    Period.DAY: ("本日", "前一日", "日报"),
    Period.WEEK: ("本周", "上周", "周报"),
    Period.MONTH: ("本月", "上月", "月报"),
    Period.QUARTER: ("本季度", "上季度", "季报"),
    Period.YEAR: ("本年度", "上年度", "年报"),
}


class Area(BaseModel):
    id: int
    name: str
    kind: str
    path: str


class Volume(BaseModel):
    n: int
    previous: int
    mom: float | None  # 环比: change against the period before
    last_year: int
    yoy: float | None  # 同比: change against the same period a year earlier


class Ranked(BaseModel):
    """One row of a ranking: a type, a place, a source or a unit."""

    key: str
    name: str
    n: int
    share: float | None = None
    previous: int | None = None
    change: float | None = None


class Hotspot(BaseModel):
    cell: str
    n: int
    z: float
    p: float
    bin: int


class Closure(BaseModel):
    events: int  # first reported in the period
    closed: int
    due: int  # deadline before the period's end
    on_time: int  # of the due: closed by the deadline
    overdue: int  # of the due: closed late or still open
    on_time_rate: float | None
    overdue_by_unit: list[Ranked]


class Benchmark(BaseModel):
    """A street beside the average street of its district or city (体检报告)."""

    label: str
    volume: float
    previous: float
    mom: float | None
    on_time_rate: float | None


class Checkup(BaseModel):
    rank: int  # by volume among the district's streets, 1 = the most
    streets: int
    rows: list[Benchmark]


class Report(BaseModel):
    period: Period
    start: dt.date
    end: dt.date  # exclusive
    area: Area
    title: str
    volume: Volume
    trend_by: str  # hour, day or month
    trend: list[tuple[str, int]]
    hot_types: list[Ranked]
    hot_streets: list[Ranked]
    hot_cells: list[Ranked]
    hotspots: list[Hotspot]
    heatmap: list[list[int]]  # [weekday 0 = Monday][hour]
    sources: list[Ranked]
    closure: Closure | None
    checkup: Checkup | None
    findings: list[str]

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)


# -- the lake's dimensions ----------------------------------------------------------------------


@dataclass(frozen=True)
class Names:
    """Names of organisations and categories, read once from the lake's dimensions."""

    orgs: dict[int, Area]
    district_of: dict[int, int | None]
    categories: dict[str, str]

    @classmethod
    def read(cls, engine: Engine) -> Names:
        if "dim_orgs" not in engine.tables:
            raise NotFound("the lake has no organisations yet: run `chengguan lake sync` / 请先同步", field="lake")
        rows = engine.rows("SELECT id, name, kind, path, district_id FROM dim_orgs")
        categories = engine.rows("SELECT key, name FROM dim_categories") if "dim_categories" in engine.tables else []
        return cls(
            orgs={r[0]: Area(id=r[0], name=r[1], kind=r[2], path=r[3]) for r in rows},
            district_of={r[0]: r[4] for r in rows},
            categories=dict(categories),
        )

    def area(self, path: str) -> Area:
        for org in self.orgs.values():
            if org.path == path:
                return org
        raise NotFound(f"no organisation at {path!r} in the lake / 分析库中无此区域", field="area")

    def org_name(self, key: object) -> str:
        org = self.orgs.get(int(key)) if isinstance(key, int) else None
        return org.name if org else str(key)

    def streets_under(self, path: str) -> list[Area]:
        return [o for o in self.orgs.values() if o.kind in STREET_KINDS and o.path.startswith(path)]

    def city_of(self, area: Area) -> Area:
        return self.area("/" + area.path.split("/")[1] + "/")


def source_name(code: str) -> str:
    channel = CHANNELS.get(code)
    return channel.name_zh if channel else code


# -- the sections -------------------------------------------------------------------------------


def _volume(engine: Engine, area_path: str, period: Period, at: dt.date) -> Volume:
    result = metrics.compare(engine, Subject.REPORTS, Filters(area_path=area_path), period, at)
    if not result.rows:
        return Volume(n=0, previous=0, mom=None, last_year=0, yoy=None)
    _, n, previous, mom, last_year, yoy = result.rows[0]
    return Volume(n=n, previous=previous, mom=mom, last_year=last_year, yoy=yoy)


def _trend(engine: Engine, filters: Filters, period: Period) -> tuple[str, list[tuple[str, int]]]:
    """The volume over the period, every slot present (a quiet day is a zero, not a gap)."""
    assert filters.start and filters.end
    if period is Period.DAY:
        by, slots = "hour", [str(h) for h in range(24)]
    elif period is Period.YEAR:
        by, slots = "month", [f"{filters.start.year}-{m:02d}" for m in range(1, 13)]
    else:
        by = "day"
        slots = [(filters.start + dt.timedelta(days=i)).isoformat() for i in range((filters.end - filters.start).days)]
    found = {str(k): n for k, n in metrics.counts(engine, Subject.REPORTS, filters, by).rows}
    return by, [(slot, found.get(slot, 0)) for slot in slots]


def _hot_types(engine: Engine, filters: Filters, names: Names) -> list[Ranked]:
    result = metrics.hot_types(engine, Subject.REPORTS, filters, "category", TOP)
    return [
        Ranked(key=str(k), name=names.categories.get(k, str(k)), n=n, share=share, previous=prev, change=change)
        for k, n, share, prev, change in result.rows
    ]


def _ranked(rows: list[tuple[object, int]], total: int, name: dict[object, str] | None = None) -> list[Ranked]:
    return [
        Ranked(key=str(k), name=(name or {}).get(k, str(k)), n=n, share=n / total if total else None) for k, n in rows
    ]


def _hot_places(engine: Engine, filters: Filters, area: Area, names: Names, total: int) -> dict[str, list[Ranked]]:
    streets: list[Ranked] = []
    if area.kind not in STREET_KINDS:
        rows = metrics.top(engine, Subject.REPORTS, filters, "street", TOP).rows
        streets = _ranked(rows, total, {k: names.org_name(k) for k, _ in rows})
    cells = _ranked(metrics.top(engine, Subject.REPORTS, filters, "cell", TOP).rows, total)
    return {"streets": streets, "cells": cells}


def _hotspots(engine: Engine, filters: Filters) -> list[Hotspot]:
    if "dim_cells" not in engine.tables:
        return []
    result = metrics.hotspots_gi(engine, Subject.REPORTS, filters)
    hot = [Hotspot(cell=c, n=n, z=z, p=p, bin=b) for c, n, z, p, b in result.rows if b >= HOTSPOT_BIN and n > 0]
    return sorted(hot, key=lambda h: (-h.z, h.cell))[:TOP]


def _heatmap(engine: Engine, filters: Filters) -> list[list[int]]:
    matrix = [[0] * 24 for _ in range(7)]
    for weekday, hour, n in metrics.heatmap(engine, Subject.REPORTS, filters).rows:
        matrix[weekday - 1][hour] = n
    return matrix


def _sources(engine: Engine, filters: Filters, total: int) -> list[Ranked]:
    rows = sorted(metrics.counts(engine, Subject.REPORTS, filters, "source").rows, key=lambda r: (-r[1], str(r[0])))
    return _ranked(rows, total, {k: source_name(str(k)) for k, _ in rows})


def _instant(day: dt.date, tz: ZoneInfo) -> str:
    """The instant the local ``day`` begins, with its offset: a plain TIMESTAMP literal would be read
    in DuckDB's session time zone when compared with the lake's UTC timestamps."""
    instant = dt.datetime.combine(day, dt.time(), tz).astimezone(dt.UTC)
    return f"TIMESTAMPTZ '{instant.strftime('%Y-%m-%d %H:%M:%S')}+00:00'"


def closure(engine: Engine, filters: Filters, tz: ZoneInfo, names: Names) -> Closure | None:
    """Closure of the events first reported in the period; None when the lake has no events or none
    of the period's events has a deadline (nothing to be on time against).

    A deadline is due when it fell before the period's end; a due event is on time when it was
    closed by its deadline, overdue otherwise (closed late, or still open when the lake was synced).
    The reports run on the embedded engine (DuckDB): the instant literal is its spelling."""
    if "events" not in engine.tables:
        return None
    assert filters.end
    due = f"(deadline_at IS NOT NULL AND deadline_at < {_instant(filters.end, tz)})"
    on_time = f"({due} AND closed_at IS NOT NULL AND closed_at <= deadline_at)"
    overdue = f"({due} AND NOT (closed_at IS NOT NULL AND closed_at <= deadline_at))"
    base = metrics.where(filters.conditions())
    sql = (
        f"SELECT COUNT(*) AS events, SUM(CASE WHEN closed_at IS NOT NULL THEN 1 ELSE 0 END) AS closed, "
        f"SUM(CASE WHEN {due} THEN 1 ELSE 0 END) AS due, SUM(CASE WHEN {on_time} THEN 1 ELSE 0 END) AS on_time, "
        f"SUM(CASE WHEN deadline_at IS NOT NULL THEN 1 ELSE 0 END) AS with_deadline FROM events {base}"
    )
    events, closed, due_n, on_time_n, with_deadline = engine.rows(sql)[0]
    if not with_deadline:
        return None
    late = metrics.where([*filters.conditions(), overdue, "unit_id IS NOT NULL"])
    by_unit = engine.rows(
        f"SELECT unit_id, COUNT(*) AS n FROM events {late} GROUP BY unit_id ORDER BY n DESC, unit_id ASC LIMIT {TOP}"
    )
    due_n, on_time_n = int(due_n), int(on_time_n)
    return Closure(
        events=int(events),
        closed=int(closed),
        due=due_n,
        on_time=on_time_n,
        overdue=due_n - on_time_n,
        on_time_rate=on_time_n / due_n if due_n else None,
        overdue_by_unit=_ranked(by_unit, due_n - on_time_n, {k: names.org_name(k) for k, _ in by_unit}),
    )


# -- 体检报告: a street beside its district and city ----------------------------------------------


def _street_volumes(engine: Engine, filters: Filters, path: str) -> dict[int, int]:
    within = Filters(start=filters.start, end=filters.end, area_path=path)
    return {int(k): n for k, n in metrics.counts(engine, Subject.REPORTS, within, "street").rows if k is not None}


def _benchmark(
    engine: Engine, label: str, area: Area, streets: int, period: Period, at: dt.date, tz: ZoneInfo, names: Names
) -> Benchmark:
    """The area's figures divided by its number of streets: the average street."""
    volume = _volume(engine, area.path, period, at)
    start, end = metrics.period_bounds(period, at)
    done = closure(engine, Filters(start=start, end=end, area_path=area.path), tz, names)
    per = max(streets, 1)
    return Benchmark(
        label=label,
        volume=volume.n / per,
        previous=volume.previous / per,
        mom=volume.mom,
        on_time_rate=done.on_time_rate if done else None,
    )


def checkup(
    engine: Engine, report: Report, names: Names, tz: ZoneInfo, filters: Filters, at: dt.date
) -> Checkup | None:
    """The street's figures beside the average street of its district and of its city."""
    if report.area.kind not in STREET_KINDS:
        return None
    district_id = names.district_of.get(report.area.id)
    district = names.orgs.get(district_id) if district_id is not None else None
    city = names.city_of(report.area)
    own = Benchmark(
        label=report.area.name,
        volume=report.volume.n,
        previous=report.volume.previous,
        mom=report.volume.mom,
        on_time_rate=report.closure.on_time_rate if report.closure else None,
    )
    rows = [own]
    peers = [report.area]
    if district is not None:
        peers = names.streets_under(district.path)
        rows.append(_benchmark(engine, f"{district.name}街道平均", district, len(peers), report.period, at, tz, names))
    city_streets = len(names.streets_under(city.path))
    rows.append(_benchmark(engine, f"{city.name}街道平均", city, city_streets, report.period, at, tz, names))
    volumes = _street_volumes(engine, filters, district.path if district else report.area.path)
    ranking = sorted(peers, key=lambda s: (-volumes.get(s.id, 0), s.path))
    rank = next(i for i, s in enumerate(ranking, start=1) if s.id == report.area.id)
    return Checkup(rank=rank, streets=len(peers), rows=rows)


# -- the report ---------------------------------------------------------------------------------


def build(engine: Engine, period: Period, at: dt.date, area_path: str, tz: ZoneInfo) -> Report:
    """The report of the period containing ``at`` for the area at ``area_path`` (an org path)."""
    names = Names.read(engine)
    area = names.area(area_path)
    start, end = metrics.period_bounds(period, at)
    filters = Filters(start=start, end=end, area_path=area.path).check()
    volume = _volume(engine, area.path, period, at)
    trend_by, trend = _trend(engine, filters, period)
    places = _hot_places(engine, filters, area, names, volume.n)
    title = f"{area.name}城市管理{'体检报告' if area.kind in STREET_KINDS else '分析' + PERIOD_NAMES[period][2]}"
    report = Report(
        period=period,
        start=start,
        end=end,
        area=area,
        title=title,
        volume=volume,
        trend_by=trend_by,
        trend=trend,
        hot_types=_hot_types(engine, filters, names),
        hot_streets=places["streets"],
        hot_cells=places["cells"],
        hotspots=_hotspots(engine, filters),
        heatmap=_heatmap(engine, filters),
        sources=_sources(engine, filters, volume.n),
        closure=closure(engine, filters, tz, names),
        checkup=None,
        findings=[],
    )
    report.checkup = checkup(engine, report, names, tz, filters, at)
    report.findings = findings(report)
    return report


def parse_period(value: str) -> Period:
    try:
        return Period(value)
    except ValueError:
        allowed = ", ".join(p.value for p in Period)
        raise Invalid(f"period must be one of {allowed} / 周期不正确", field="period") from None


# -- findings: the report in a few Chinese sentences --------------------------------------------


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def change_words(value: float | None) -> str:
    """上升12.5% / 下降3.0% / 持平 / 无可比数据."""
    if value is None:
        return "无可比数据"
    if abs(value) < 0.0005:
        return "持平"
    return f"{'上升' if value > 0 else '下降'}{abs(value) * 100:.1f}%"


def _volume_sentence(report: Report) -> str:
    now, before, _ = PERIOD_NAMES[report.period]
    v = report.volume
    span = report.start.isoformat() if report.period is Period.DAY else f"{report.start}至{report.last_day}"
    return (
        f"{now}（{span}）{report.area.name}共受理诉求{v.n}件，环比{change_words(v.mom)}（{before}{v.previous}件），"
        f"同比{change_words(v.yoy)}（去年同期{v.last_year}件）。"
    )


def _types_sentence(report: Report) -> str | None:
    if not report.hot_types:
        return None
    top = "、".join(f"{t.name}（{t.n}件，占{pct(t.share)}）" for t in report.hot_types[:3])
    sentence = f"高发类型主要为{top}"
    risers = [t for t in report.hot_types if t.change is not None and t.change > 0]
    if risers:
        riser = max(risers, key=lambda t: (t.change or 0, t.n))
        sentence += f"；其中{riser.name}环比增幅最大（{change_words(riser.change)}）"
    return sentence + "。"


def _places_sentence(report: Report) -> str | None:
    places = report.hot_streets or report.hot_cells
    if not places:
        return None
    what = "街道（乡镇）" if report.hot_streets else "单元网格"
    top = "、".join(f"{p.name}（{p.n}件）" for p in places[:3])
    sentence = f"高发地点主要集中在{top}等{what}"
    if report.hotspots:
        cells = "、".join(h.cell for h in report.hotspots[:3])
        sentence += f"；热点分析（Getis-Ord Gi*，95%置信度）识别出{len(report.hotspots)}个显著热点网格，如{cells}"
    return sentence + "。"


def _times_sentence(report: Report) -> str | None:
    total = sum(map(sum, report.heatmap))
    if not total:
        return None
    by_hour = [sum(day[h] for day in report.heatmap) for h in range(24)]
    by_day = [sum(day) for day in report.heatmap]
    hour = max(range(24), key=lambda h: (by_hour[h], -h))
    weekday = max(range(7), key=lambda d: (by_day[d], -d))
    return (
        f"高发时段为{hour}时至{hour + 1}时（占{pct(by_hour[hour] / total)}），"
        f"一周中星期{WEEKDAYS[weekday]}受理最多（{by_day[weekday]}件）。"
    )


def _sources_sentence(report: Report) -> str | None:
    if not report.sources:
        return None
    top = "、".join(f"{s.name}（占{pct(s.share)}）" for s in report.sources[:2])
    return f"诉求来源以{top}为主。"


def _closure_sentence(report: Report) -> str | None:
    c = report.closure
    if c is None:
        return None
    sentence = f"{PERIOD_NAMES[report.period][0]}事件{c.events}件，已办结{c.closed}件"
    if c.due:
        sentence += f"；到期{c.due}件，按期办结率{pct(c.on_time_rate)}，超期{c.overdue}件"
    if c.overdue_by_unit:
        worst = c.overdue_by_unit[0]
        sentence += f"，超期最多的单位为{worst.name}（{worst.n}件）"
    return sentence + "。"


def _checkup_sentence(report: Report) -> str | None:
    c = report.checkup
    if c is None:
        return None
    own, *averages = c.rows
    ratios = "，".join(
        f"为{a.label}的{own.volume / a.volume:.2f}倍" if a.volume else f"{a.label}为0件" for a in averages
    )
    return f"{report.area.name}受理量{ratios}，在本区{c.streets}个街道（乡镇）中居第{c.rank}位。"


def findings(report: Report) -> list[str]:
    """The main findings as sentences, in the order a reader looks for them."""
    sentences = (
        _volume_sentence(report),
        _types_sentence(report),
        _places_sentence(report),
        _times_sentence(report),
        _sources_sentence(report),
        _closure_sentence(report),
        _checkup_sentence(report),
    )
    return [s for s in sentences if s]
