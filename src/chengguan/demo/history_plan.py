"""The plan of a year of reports: everything decided before any report is written, from the
whole year's counts per day and 小类 down to the numbers of each week's reports (time, 小类,
channel, place, landmark, closing time); :mod:`history_writer` puts them into words."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from chengguan.demo import history_mix as mix
from chengguan.demo import history_text as words
from chengguan.demo.history_city import CLASSES, HOUR, CellPoints, City, FloatArray, IntArray, Spot, WorkingClock
from chengguan.kit.workcal import Unit

DEFAULT_REPORTS = 500_000
FIRST_DAY = dt.date(2025, 11, 22)
DAYS = 365
BATCH = 5_000
# Asia/Shanghai has kept UTC+8 without summer time since 1991: a fixed offset is exact here and
# ten times cheaper per timestamp than a ZoneInfo.
LOCAL = dt.timezone(dt.timedelta(hours=8))
DAY_S = 86_400.0
M_PER_DEGREE = 111_320.0
ROAD_NEAR_M = 300.0  # a point this close to a gazetteer road is addressed by the road
ROAD_STEP_M = 50.0


@dataclass(frozen=True)
class HistorySpec:
    """What to generate: ``reports`` over ``days`` from ``first_day``, fed in ``batch``-sized batches."""

    reports: int = DEFAULT_REPORTS
    seed: int = 2026
    first_day: dt.date = FIRST_DAY
    days: int = DAYS
    batch: int = BATCH

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.first_day, dt.time(), LOCAL)

    @property
    def end(self) -> dt.datetime:
        """Midnight after the last day: the history's "now"; later closings stay open."""
        return self.start + dt.timedelta(days=self.days)


def _pick(cumulative: FloatArray, u: FloatArray) -> IntArray:
    """Row-wise categorical draws: ``cumulative`` holds each row's normalised cumulative weights."""
    return np.minimum((u[:, None] > cumulative).sum(axis=1), cumulative.shape[1] - 1).astype(np.int64)


def _cumulative(weights: FloatArray) -> FloatArray:
    total = weights.sum(axis=-1, keepdims=True)
    return np.cumsum(weights / np.where(total > 0, total, 1.0), axis=-1)


@dataclass
class Rows:
    """Reports as columns (one row per report)."""

    columns: dict[str, NDArray[Any]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.columns["t"]) if self.columns else 0

    def take(self, index: IntArray | NDArray[np.bool_]) -> Rows:
        return Rows({k: v[index] for k, v in self.columns.items()})

    @staticmethod
    def concat(parts: Sequence[Rows]) -> Rows:
        parts = [p for p in parts if len(p)]
        if not parts:
            return Rows()
        return Rows({k: np.concatenate([p.columns[k] for p in parts]) for k in parts[0].columns})


class Plan:
    """Everything decided for the whole year before any report is made: counts per day and 小类,
    the channel, hour, place and time-limit tables."""

    def __init__(self, city: City, spec: HistorySpec) -> None:
        self.city, self.spec = city, spec
        self.rng = np.random.default_rng([spec.seed, 20251122])
        self.keys = city.keys
        self.start = spec.start.timestamp()
        self.end = spec.end.timestamp()
        self.days = [spec.first_day + dt.timedelta(days=d) for d in range(spec.days)]
        weights = self._day_weights()
        self.originals, self.repeats = self._counts(weights)
        self.channels = list(mix.CHANNEL_SHARES)
        self.channel_cdf = _cumulative(self._channel_matrix((self.originals + self.repeats).sum(axis=0)))
        self.hour_cdf, self.shape_of = self._hours()
        self.points = CellPoints(city.geometries)
        self.cell_cdf = self._cell_cdfs()
        self.rural = np.array([k in mix.RURAL for k in self.keys])
        self.spots, self.spot_share, self.spot_cdf, self.chronic = self._spots()
        self.spot_table = np.array(
            [[s.lon, s.lat, mix.SPOT_KINDS[s.kind].spread_m, c] for s, c in self.spots] or [[0] * 4]
        )
        self.road_of_point, self.road_tree = self._roads()
        self.clock = WorkingClock(city.calendar, spec.start, spec.days)
        self.limit_s, self.calendar_limit = self._limits()

    # counts ----------------------------------------------------------------------------------

    def _day_weights(self) -> FloatArray:
        """(day, 小类) weights: each 小类's year share spread by season, rest days, holidays and weather."""
        cal = self.city.calendar
        months = np.array([d.month for d in self.days])
        rest = np.array([not cal.is_working_day(d) for d in self.days])
        festival = self._festival()
        holiday = np.array([d in self.city.holidays for d in self.days])
        weather = {"storm": self._weather(mix.STORMS, mix.STORM_MONTHS, mix.STORM_TAIL)}
        weather["snow"] = self._weather(mix.SNOWFALLS, mix.SNOW_MONTHS, mix.SNOW_TAIL)
        columns = []
        for key in self.keys:
            m = np.array(mix.SEASONS[mix.SEASON_OF.get(key, "flat")])[months - 1]
            m = m * np.where(rest, mix.REST_DAY_FACTORS.get(key, mix.REST_DAY_FACTOR), 1.0)
            tourist = mix.TOURIST_HOLIDAY_FACTORS.get(key, mix.HOLIDAY_FACTOR)
            m = m * np.where(holiday & (festival == 0), tourist, 1.0)
            m = m * np.where(festival == 2, mix.SPRING_FESTIVAL_FACTORS.get(key, mix.SPRING_FESTIVAL_FACTOR), 1.0)
            m = m * np.where(festival == 1, mix.SPRING_FESTIVAL_SHOULDER[1], 1.0)
            if key in mix.WEATHER_OF:
                trickle = 0.02 if key in mix.WEATHER_ONLY else 1.0
                m = m * (trickle + mix.WEATHER_PEAK * weather[mix.WEATHER_OF[key]])
            columns.append(self._weight(key) * m / m.sum())
        return np.stack(columns, axis=1)

    def _weight(self, key: str) -> float:
        default = mix.DEFAULT_COMPONENT_WEIGHT if key.startswith("C") else mix.DEFAULT_EVENT_WEIGHT
        return mix.CATEGORY_WEIGHTS.get(key, default)

    def _festival(self) -> IntArray:
        """2 on Spring Festival holidays, 1 on the days around them, else 0."""
        marks = np.zeros(len(self.days), dtype=np.int64)
        festival = [i for i, d in enumerate(self.days) if self.city.holidays.get(d) == mix.SPRING_FESTIVAL]
        if festival:
            shoulder = mix.SPRING_FESTIVAL_SHOULDER[0]
            marks[max(min(festival) - shoulder, 0) : max(festival) + shoulder + 1] = 1
            marks[festival] = 2
        return marks

    def _weather(self, count: int, months: tuple[int, ...], tail: tuple[float, ...]) -> FloatArray:
        """Intensity per day of ``count`` storms or snowfalls on days drawn in ``months``."""
        season = [i for i, d in enumerate(self.days) if d.month in months]
        days: list[int] = (
            self.rng.choice(season, size=min(count, len(season)), replace=False).tolist() if season else []
        )
        intensity = np.zeros(len(self.days))
        for first in days:
            for lag, level in enumerate(tail):
                if first + lag < len(self.days):
                    intensity[first + lag] = max(intensity[first + lag], level)
        return intensity

    def _counts(self, weights: FloatArray) -> tuple[IntArray, IntArray]:
        """Problems (first reports) and repeat reports per (day, 小类), adding up to the spec."""
        originals_total = round(self.spec.reports * (1 - mix.DUPLICATE_SHARE))
        p = weights.ravel() / weights.sum()
        originals = self.rng.multinomial(originals_total, p).reshape(weights.shape)
        propensity = np.array([self._repeats(k) for k in self.keys])
        repeat_weights = (originals * propensity).ravel()
        repeats_total = self.spec.reports - originals_total
        if repeat_weights.sum() == 0:
            return originals, np.zeros_like(originals)
        repeats = self.rng.multinomial(repeats_total, repeat_weights / repeat_weights.sum())
        return originals, repeats.reshape(weights.shape)

    @staticmethod
    def _repeats(key: str) -> float:
        return mix.COMPONENT_REPEATS if key.startswith("C") else mix.REPEAT_PROPENSITY.get(key, mix.DEFAULT_REPEATS)

    # channels and hours ------------------------------------------------------------------------

    def _channel_matrix(self, category_totals: IntArray) -> FloatArray:
        """P(channel | 小类): what each channel can and tends to report, scaled (iterative
        proportional fitting) so that the channels' shares of the year match CHANNEL_SHARES."""
        affinity = np.ones((len(self.keys), len(self.channels)))
        for j, code in enumerate(self.channels):
            for i, key in enumerate(self.keys):
                sensor = mix.SENSOR_CATEGORIES.get(code)
                if sensor is not None and key not in sensor:
                    affinity[i, j] = 0.0
                affinity[i, j] *= mix.CHANNEL_LEANING.get(code, {}).get(key, 1.0)
                if key.startswith("C"):
                    affinity[i, j] *= mix.COMPONENT_LEANING.get(code, 1.0)
        share = category_totals / category_totals.sum()
        target = np.array([mix.CHANNEL_SHARES[c] for c in self.channels])
        scale = np.ones(len(self.channels))
        for _ in range(200):
            p = affinity * scale
            p /= p.sum(axis=1, keepdims=True)
            scale *= target / np.maximum(share @ p, 1e-12)
        p = affinity * scale
        return p / p.sum(axis=1, keepdims=True)

    def _hours(self) -> tuple[FloatArray, IntArray]:
        """Cumulative hour weights per (daily shape, channel), and each 小类's shape."""
        shapes = list(mix.HOURS)
        table = np.array(
            [[np.array(mix.HOURS[s]) * np.array(mix.CHANNEL_HOURS[c]) for c in self.channels] for s in shapes]
        )
        shape_of = np.array([shapes.index(mix.HOUR_SHAPE.get(k, "day")) for k in self.keys])
        return _cumulative(table), shape_of

    # places ------------------------------------------------------------------------------------

    def _cell_cdfs(self) -> FloatArray:
        """Cumulative weights over the cells: row 0 for most 小类, row 1 for the rural ones."""
        activity = self.rng.lognormal(0.0, mix.CELL_ACTIVITY_SIGMA, len(self.city.cell_class))
        rows = [
            activity * np.array([table[c] for c in CLASSES])[self.city.cell_class]
            for table in (mix.CELL_CLASS_WEIGHT, mix.RURAL_CLASS_WEIGHT)
        ]
        return _cumulative(np.array(rows))

    def _spots(self) -> tuple[list[tuple[Spot, int]], FloatArray, FloatArray, NDArray[np.bool_]]:
        """The hot spots (each with its cell), each 小类's share of problems at one, its
        cumulative weights over them, and which (小类, spot) pairs are chronic."""
        named = [
            Spot(name, kind, place.lon, place.lat, place.district)
            for kind, names in mix.SPOT_NAMES.items()
            for name in names
            if (place := self.city.places.get(name)) is not None
        ]
        spots = named + self._synthetic_spots()
        cells = self.city.locate([s.lon for s in spots], [s.lat for s in spots]).tolist()
        located = [(s, c) for s, c in zip(spots, cells, strict=True) if c >= 0]
        refs: dict[str, int] = {}  # a spot by name, and a synthetic one also as "kind#n"
        drawn: Counter[str] = Counter()
        for j, (spot, _) in enumerate(located):
            refs.setdefault(spot.name, j)
            if spot.kind in mix.SYNTHETIC_SPOTS:
                refs[f"{spot.kind}#{drawn[spot.kind]}"] = j
                drawn[spot.kind] += 1
        chronic = np.zeros((len(self.keys), max(len(located), 1)), dtype=bool)
        index = {key: i for i, key in enumerate(self.keys)}
        for ref, key in mix.CHRONIC:
            if ref in refs and key in index:
                chronic[index[key], refs[ref]] = True
        share = np.zeros(len(self.keys))
        weights = np.zeros(chronic.shape)
        for i, key in enumerate(self.keys):
            affinity = mix.SPOT_AFFINITY.get(key)
            if affinity is None:
                continue
            kinds = np.array([spot.kind in affinity[1] for spot, _ in located] or [False])
            weights[i] = np.where(kinds, np.where(chronic[i], mix.CHRONIC_WEIGHT, 1.0), 0.0)
            share[i] = affinity[0] if kinds.any() else 0.0
        return located, share, _cumulative(weights), chronic

    def _synthetic_spots(self) -> list[Spot]:
        """早市 and 老旧小区 in communities of class A/B: a point in one of their cells."""
        urban = np.flatnonzero(self.city.cell_class < 2)
        by_community: dict[str, int] = {}
        for cell in urban.tolist():
            by_community.setdefault(self.city.cell_names[cell][2], cell)
        communities = sorted(by_community.items())
        spots: list[Spot] = []
        for kind, count in mix.SYNTHETIC_SPOTS.items():
            chosen = self.rng.choice(len(communities), size=min(count, len(communities)), replace=False)
            cells = np.array([communities[i][1] for i in chosen], dtype=np.int64)
            lon, lat = self.points.sample(cells, self.rng)
            for i, x, y in zip(chosen.tolist(), lon.tolist(), lat.tolist(), strict=True):
                community = communities[i][0]
                name = (
                    f"{community}早市"
                    if kind == "morning_market"
                    else f"{community}{int(self.rng.integers(1, 40))}号院"
                )
                spots.append(Spot(name, kind, x, y))
        return spots

    def _roads(self) -> tuple[IntArray, cKDTree | None]:
        """Points every ROAD_STEP_M along the gazetteer's roads (and the road of each), for
        "on which road" lookups."""
        owner: list[int] = []
        points: list[FloatArray] = []
        for i, (_, line) in enumerate(self.city.roads):
            steps = max(int(line.length * M_PER_DEGREE / ROAD_STEP_M), 1)
            at = shapely.line_interpolate_point(line, np.linspace(0, 1, steps + 1), normalized=True)
            points.append(shapely.get_coordinates(at))
            owner += [i] * len(at)
        if not points:
            return np.zeros(0, dtype=np.int64), None
        xy = np.concatenate(points)
        return np.array(owner, dtype=np.int64), cKDTree(xy * [math.cos(math.radians(40.0)), 1.0])

    def _limits(self) -> tuple[FloatArray, NDArray[np.bool_]]:
        """Per (小类, area class): the time limit in seconds (working seconds, or wall-clock for
        calendar days), and whether it counts calendar days."""
        seconds = np.zeros((len(self.keys), len(CLASSES)))
        calendar = np.zeros((len(self.keys), len(CLASSES)), dtype=bool)
        for i, minor in enumerate(self.city.categories):
            for j, cls in enumerate(CLASSES):
                amount, unit = minor.limits.get(cls, (5, Unit.WORKING_DAYS))
                hours = {Unit.WORKING_HOURS: 1.0, Unit.WORKING_DAYS: self.clock.day_hours, Unit.CALENDAR_DAYS: 24.0}
                seconds[i, j] = amount * hours[Unit(unit)] * HOUR
                calendar[i, j] = unit == Unit.CALENDAR_DAYS
        return seconds, calendar

    # the reports of a span of days --------------------------------------------------------------------

    def week(self, first: int, last: int) -> Rows:
        """The problems first reported on days [first, last) and all their repeats (some later)."""
        counts = self.originals[first:last]
        day_i, cat_i = np.nonzero(counts)
        per_cell = counts[day_i, cat_i]
        day, cat = np.repeat(day_i + first, per_cell), np.repeat(cat_i, per_cell)
        originals = self._problems(day, cat)
        starts = np.cumsum(per_cell) - per_cell
        repeats = self.repeats[first:last][day_i, cat_i]
        group = np.repeat(np.arange(len(per_cell)), repeats)
        # a few problems draw many repeats: the first of a group are favoured, in random order
        parent = starts[group] + np.floor(per_cell[group] * self.rng.random(len(group)) ** 2.5).astype(np.int64)
        return Rows.concat([originals, self._repeats_of(originals, parent)])

    def _problems(self, day: IntArray, cat: IntArray) -> Rows:
        n, rng = len(day), self.rng
        channel = _pick(self.channel_cdf[cat], rng.random(n))
        hour = _pick(self.hour_cdf[self.shape_of[cat], channel], rng.random(n))
        t = self.start + day * DAY_S + (hour + rng.random(n)) * HOUR
        lon, lat, cell, spot = self._places(cat)
        cols = {"t": t, "cat": cat, "channel": channel, "lon": lon, "lat": lat, "cell": cell, "spot": spot}
        road, number = self._landmarks(lon, lat, spot)
        cols |= {"road": road, "number": number, "side": rng.integers(0, len(words.SIDES), n)}
        cols |= {"closed": self._closing(t, cat, cell, spot), "repeat": np.zeros(n, dtype=bool)}
        return Rows(cols)

    def _places(self, cat: IntArray) -> tuple[FloatArray, FloatArray, IntArray, IntArray]:
        n, rng = len(cat), self.rng
        lon, lat = np.zeros(n), np.zeros(n)
        at_spot = rng.random(n) < self.spot_share[cat]
        spot = np.full(n, -1, dtype=np.int64)
        cell = np.full(n, -1, dtype=np.int64)
        hot = np.flatnonzero(at_spot)
        if len(hot):
            spot[hot] = _pick(self.spot_cdf[cat[hot]], rng.random(len(hot)))
            lon[hot], lat[hot], cell[hot] = self._near_spots(spot[hot], cat[hot])
        plain = np.flatnonzero(~at_spot)
        cell[plain] = self._cells(self.rural[cat[plain]].astype(np.int64))
        lon[plain], lat[plain] = self.points.sample(cell[plain], rng)
        return lon, lat, cell, spot

    def _cells(self, profile: IntArray) -> IntArray:
        u = self.rng.random(len(profile))
        out = np.empty(len(profile), dtype=np.int64)
        for p in (0, 1):
            mask = profile == p
            out[mask] = np.searchsorted(self.cell_cdf[p], u[mask])
        return np.minimum(out, len(self.city.cell_class) - 1)

    def _near_spots(self, spot: IntArray, cat: IntArray) -> tuple[FloatArray, FloatArray, IntArray]:
        """Points scattered around hot spots (tighter at a chronic one), kept inside the city,
        with the spot's own cell: the address names the spot's community, wherever the point fell."""
        base = self.spot_table[spot]  # lon, lat, spread, cell
        spread = np.where(self.chronic[cat, spot], mix.CHRONIC_SPREAD_M, base[:, 2])
        lon, lat = self._scatter(base[:, 0], base[:, 1], spread)
        outside = self.city.locate(lon, lat) < 0
        lon[outside], lat[outside] = base[outside, 0], base[outside, 1]
        return lon, lat, base[:, 3].astype(np.int64)

    def _scatter(self, lon: FloatArray, lat: FloatArray, metres: FloatArray | float) -> tuple[FloatArray, FloatArray]:
        dy = self.rng.normal(0.0, 1.0, len(lon)) * metres / M_PER_DEGREE
        dx = self.rng.normal(0.0, 1.0, len(lon)) * metres / (M_PER_DEGREE * np.cos(np.radians(lat)))
        return lon + dx, lat + dy

    def _landmarks(self, lon: FloatArray, lat: FloatArray, spot: IntArray) -> tuple[IntArray, IntArray]:
        """The road a point lies on (-1: none near; spots name themselves) and a house number."""
        road = np.full(len(lon), -1, dtype=np.int64)
        if self.road_tree is not None and len(lon):
            limit = ROAD_NEAR_M / M_PER_DEGREE  # bounded: most points have no road near, and say so fast
            xy = np.column_stack([lon * math.cos(math.radians(40.0)), lat])
            distance, nearest = self.road_tree.query(xy, distance_upper_bound=limit)
            near = np.isfinite(distance) & (spot < 0)
            road[near] = self.road_of_point[nearest[near]]
        return road, self.rng.integers(1, 120, len(lon))

    def _closing(self, t: FloatArray, cat: IntArray, cell: IntArray, spot: IntArray) -> FloatArray:
        """When each problem is closed: most within the time limit, some late, a few never (not
        at a hot spot: an event left open there would absorb its reports for the rest of the
        year); NaN for open (also when the closing falls after the history's end)."""
        n, rng = len(t), self.rng
        cls = self.city.cell_class[cell]
        limit = self.limit_s[cat, cls]
        fate = rng.random(n)
        share = 0.02 + 0.95 * rng.beta(2.0, 2.5, n)
        late = 1.0 + rng.exponential(mix.OVERDUE_MEAN, n)
        share = np.where(fate < mix.NEVER_CLOSED + mix.OVERDUE, late, share)
        closed = np.where(self.calendar_limit[cat, cls], t + share * limit, self.clock.after(t, share * limit))
        closed[(fate < mix.NEVER_CLOSED) & (spot < 0)] = np.nan
        closed[closed >= self.end] = np.nan
        return closed

    def _repeats_of(self, originals: Rows, parent: IntArray) -> Rows:
        """More reports of the same problems: soon after the first (before it is closed, mostly),
        from a few metres away, by any channel."""
        rows = originals.take(parent)
        n, rng = len(rows), self.rng
        if not n:
            return rows
        c = rows.columns
        t0, closed = c["t"], c["closed"]
        window = mix.REPEAT_WINDOW_H * HOUR
        span = np.minimum(np.where(np.isnan(closed), window, closed - t0), window)
        delay = span * rng.beta(0.6, 4.0, n)  # most within hours
        recurrence = (rng.random(n) < mix.RECURRENCE) & ~np.isnan(closed)
        delay = np.where(recurrence, closed - t0 + rng.exponential(12 * HOUR, n), delay)
        t = t0 + delay
        late = t >= self.end
        t[late] = t0[late] + (self.end - t0[late]) * rng.random(int(late.sum()))
        lon, lat = self._scatter(c["lon"], c["lat"], mix.REPEAT_SPREAD_M)
        outside = self.city.locate(lon, lat) < 0
        lon[outside], lat[outside] = c["lon"][outside], c["lat"][outside]
        channel = _pick(self.channel_cdf[c["cat"]], rng.random(n))
        own = self._closing(t, c["cat"], c["cell"], c["spot"])
        still_open = np.isnan(closed) | (closed > t)
        c |= {"t": t, "lon": lon, "lat": lat, "channel": channel, "repeat": np.ones(n, dtype=bool)}
        c["closed"] = np.where(still_open, closed, own)
        return rows
