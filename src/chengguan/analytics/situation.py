"""The three-colour situational warning (三色态势预警): each area and category's volume of a day
against its own seasonal baseline.

**The baseline: the same weekday of the previous weeks, of the same kind of day.** City-management
volume has a strong weekly rhythm (evening and weekend 占道经营, Monday backlogs after the weekend)
and drifts with the season. Comparing a Tuesday with the Tuesdays of the last ``baseline_weeks``
weeks (default 8) takes out the weekly rhythm and follows the season, and needs only two months of
history; the same month a year earlier would need a year of data, confuses the season with a
year's growth of the reporting channels, and gives one point to compare with, not eight. Days are
matched by kind too: a weekday that is a holiday (国庆, 春节) is not compared with working
Tuesdays but with the rest days of the same weeks (weekends and holidays), which resemble it far
more; a 调休 working Sunday likewise with working days. A baseline needs ``MIN_POINTS`` days, or
the light is grey (no baseline yet).

**The score** is a standard score: z = (x − μ) / σ, where μ is the baseline's mean and σ its
standard deviation, but never below √μ (a Poisson count's own noise) or 1: a quiet series whose
few past values happened to agree would otherwise turn red on one report more. A day is yellow at
``yellow_z``, red at ``red_z``, but never with fewer than ``min_count`` reports (two reports where
there is usually none is not a situation). The thresholds are data: a row per area subtree and
category in ``warning_thresholds``, the most specific winning (:func:`resolve`).
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from statistics import fmean, stdev

from chengguan.analytics.engines import Engine
from chengguan.analytics.metrics import Filters, Subject
from chengguan.analytics.volume import ALL, Split, day_kinds, first_day, require_tables, volume
from chengguan.errors import Invalid

MIN_POINTS = 3
MAX_WEEKS = 52
REST = frozenset({"weekend", "holiday"})
WEEKEND = frozenset({5, 6})  # date.weekday(): a day the lake's calendar does not cover yet


class Level(enum.StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"
    GREY = "grey"  # not enough history for a baseline


SEVERITY = {Level.RED: 0, Level.YELLOW: 1, Level.GREEN: 2, Level.GREY: 3}


@dataclass(frozen=True)
class Thresholds:
    yellow_z: float = 2.0
    red_z: float = 3.0
    min_count: int = 5
    baseline_weeks: int = 8

    def check(self) -> Thresholds:
        if not 0 < self.yellow_z < self.red_z:
            raise Invalid("need 0 < yellow_z < red_z / 黄色阈值须小于红色阈值", field="yellow_z")
        if self.min_count < 0:
            raise Invalid("min_count must not be negative / 最小数量不能为负", field="min_count")
        if not MIN_POINTS <= self.baseline_weeks <= MAX_WEEKS:
            raise Invalid(f"baseline_weeks must be {MIN_POINTS}–{MAX_WEEKS} / 基线周数超出范围", field="baseline_weeks")
        return self


@dataclass(frozen=True)
class Rule:
    """Thresholds for an area subtree (its org path; None: the city) and a category (None: all)."""

    area_path: str | None
    category: str | None
    thresholds: Thresholds


def resolve(rules: Iterable[Rule], area_path: str, categories: Sequence[str]) -> Thresholds:
    """The most specific rule for an area and a category (``categories``: the key and its 大类's):
    the deepest area first, since a street's own setting speaks of its own conditions, then a
    category-specific rule over an all-category one. No rule: the defaults."""
    matching = [
        r
        for r in rules
        if (r.area_path is None or area_path.startswith(r.area_path))
        and (r.category is None or r.category in categories)
    ]
    if not matching:
        return Thresholds()
    best = max(matching, key=lambda r: (len(r.area_path or ""), r.category is not None))
    return best.thresholds


def _rest(day: dt.date, kinds: Mapping[dt.date, str]) -> bool:
    kind = kinds.get(day)
    return kind in REST if kind is not None else day.weekday() in WEEKEND


def baseline_days(day: dt.date, kinds: Mapping[dt.date, str], since: dt.date, weeks: int) -> list[dt.date]:
    """The days the baseline of ``day`` is made of (see the module docstring)."""
    rest = _rest(day, kinds)
    same_weekday = [day - dt.timedelta(weeks=k) for k in range(1, weeks + 1)]
    pool = [d for d in same_weekday if d >= since and _rest(d, kinds) == rest]
    if len(pool) >= MIN_POINTS:
        return pool
    window = (day - dt.timedelta(days=k) for k in range(1, 7 * weeks + 1))
    return [d for d in window if d >= since and _rest(d, kinds) == rest]


@dataclass(frozen=True)
class Light:
    area: str
    category: str
    observed: int
    baseline: float | None
    spread: float | None
    z: float | None
    level: Level
    points: int  # days in the baseline


def light(
    counts: Mapping[dt.date, int],
    day: dt.date,
    kinds: Mapping[dt.date, str],
    since: dt.date,
    thresholds: Thresholds,
    area: str = ALL,
    category: str = ALL,
) -> Light:
    """The colour of one series on ``day``; a day missing from ``counts`` had no report."""
    observed = counts.get(day, 0)
    pool = [counts.get(d, 0) for d in baseline_days(day, kinds, since, thresholds.baseline_weeks)]
    if len(pool) < MIN_POINTS:
        return Light(area, category, observed, None, None, None, Level.GREY, len(pool))
    mean = fmean(pool)
    spread = max(stdev(pool), math.sqrt(mean), 1.0)
    z = (observed - mean) / spread
    level = Level.GREEN
    if observed >= thresholds.min_count and z >= thresholds.yellow_z:
        level = Level.RED if z >= thresholds.red_z else Level.YELLOW
    return Light(area, category, observed, round(mean, 6), round(spread, 6), round(z, 6), level, len(pool))


def warnings(
    engine: Engine, subject: Subject, filters: Filters, split: Split, day: dt.date, rules: Sequence[Rule]
) -> list[Light]:
    """Every area × category of the slice that had a report within the baseline window, red
    first. An unsplit slice takes the rules of its own area (``filters.area_path``)."""
    require_tables(engine, subject, "dim_orgs")
    weeks = max([Thresholds().baseline_weeks, *(r.thresholds.baseline_weeks for r in rules)])
    window = replace(filters, start=day - dt.timedelta(weeks=weeks), end=day + dt.timedelta(days=1))
    since = first_day(engine, subject, filters)
    if since is None:
        return []
    series: dict[tuple[str, str], dict[dt.date, int]] = defaultdict(dict)
    for area, category, d, _, n in volume(engine, subject, window, split):
        series[area, category][d] = n
    kinds = day_kinds(engine, window.start or day, day + dt.timedelta(days=1))
    paths, majors = _org_paths(engine), _majors(engine)
    out = []
    for (area, category), counts in series.items():
        rule = resolve(rules, paths.get(area, filters.area_path or "/"), [category, majors.get(category, category)])
        out.append(light(counts, day, kinds, since, rule, area, category))
    return sorted(out, key=lambda x: (SEVERITY[x.level], -(x.z or 0.0), x.area, x.category))


def _org_paths(engine: Engine) -> dict[str, str]:
    return {str(i): path for i, path in engine.rows("SELECT id, path FROM dim_orgs")}


def _majors(engine: Engine) -> dict[str, str]:
    if "dim_categories" not in engine.tables:
        return {}
    return dict(engine.rows("SELECT key, major_key FROM dim_categories"))
