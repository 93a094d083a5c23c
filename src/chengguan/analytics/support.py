"""Decision support for a user (分析研判): warnings, report vs enforcement, forecasts and duty
deployment over their own part of the lake, as tables (:class:`Result`) ready for a chart."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace

from sqlalchemy.orm import Session

from chengguan.analytics import duty, forecast, situation, thresholds, volume
from chengguan.analytics.engines import Engine, open_engine
from chengguan.analytics.metrics import Filters, Result, Subject
from chengguan.analytics.service import scoped_area
from chengguan.analytics.volume import Enforcement, Split
from chengguan.config import Settings

OUTRUN = 1.25  # reports per action this far above the whole slice's: complaints outrun action


@contextmanager
def _engine(settings: Settings) -> Iterator[Engine]:
    engine = open_engine("duckdb", settings.lake_path)
    try:
        yield engine
    finally:
        engine.close()


def _scoped(session: Session, scope_root: str | None, area_id: int | None, filters: Filters) -> Filters:
    return replace(filters, area_path=scoped_area(session, scope_root, area_id)).check()


def warnings(
    session: Session,
    settings: Settings,
    scope: tuple[str | None, int | None],
    subject: Subject,
    filters: Filters,
    split: Split,
    day: dt.date,
) -> Result:
    scoped, rules = _scoped(session, *scope, filters), thresholds.rules(session)
    with _engine(settings) as engine:
        lights = situation.warnings(engine, subject, scoped, split, day, rules)
    columns = ("area", "category", "observed", "baseline", "spread", "z", "level", "points")
    rows = [(x.area, x.category, x.observed, x.baseline, x.spread, x.z, str(x.level), x.points) for x in lights]
    return Result(columns, rows, {"day": day})


def pressure(counts: Mapping[str, Enforcement], outrun: float = OUTRUN) -> Result:
    """Each area's reports against its action (events closed plus penalty cases opened): reports
    per action relative to the whole slice's, > 1 where complaints outrun action more than on
    average; an area with reports and no action at all comes first (pressure None)."""
    total_reports = sum(c.reports for c in counts.values())
    total_action = sum(c.closed + c.penalty_cases for c in counts.values())
    rows = []
    for area, c in counts.items():
        action = c.closed + c.penalty_cases
        ratio = (c.reports / action) / (total_reports / total_action) if action and total_reports else None
        flagged = c.reports > 0 and (ratio is None or ratio >= outrun)
        rows.append((area, c.reports, c.events, c.dispatched, c.closed, c.penalty_cases, action, ratio, flagged))
    rows.sort(key=lambda r: (r[7] is not None, -(r[7] or 0.0), -r[1], r[0]))
    columns = ("area", "reports", "events", "dispatched", "closed", "penalty_cases", "action", "pressure", "outrun")
    return Result(columns, rows, {"reports": total_reports, "action": total_action, "outrun_at": outrun})


def report_vs_enforcement(
    session: Session, settings: Settings, scope: tuple[str | None, int | None], filters: Filters, area_by: str
) -> Result:
    scoped = _scoped(session, *scope, filters)
    with _engine(settings) as engine:
        return pressure(volume.enforcement(engine, scoped, area_by))


def _forecasts(
    session: Session,
    settings: Settings,
    scope: tuple[str | None, int | None],
    subject: Subject,
    filters: Filters,
    split: Split,
    today: dt.date,
    horizon: int,
) -> dict[tuple[str, str], forecast.Forecast]:
    scoped = _scoped(session, *scope, replace(filters, start=None, end=None))
    with _engine(settings) as engine:
        return forecast.from_lake(engine, subject, scoped, split, today, horizon)


def forecasts(
    session: Session,
    settings: Settings,
    scope: tuple[str | None, int | None],
    subject: Subject,
    filters: Filters,
    split: Split,
    today: dt.date,
    horizon: int,
    grain: volume.Grain,
) -> Result:
    """Expected volume per area × category and day (or hour), with each series' chosen model
    and its backtest beside the seasonal-naive one in ``meta``."""
    found = _forecasts(session, settings, scope, subject, filters, split, today, horizon)
    rows: list[tuple[object, ...]] = []
    for (area, category), f in sorted(found.items()):
        if grain is volume.Grain.DAY:
            rows += [(area, category, d, -1, round(float(v), 3)) for d, v in zip(f.days, f.daily, strict=True)]
        elif f.hourly is not None:
            rows += [
                (area, category, d, h, round(float(v), 3))
                for d, by_hour in zip(f.days, f.hourly, strict=True)
                for h, v in enumerate(by_hour)
            ]
    meta = {f"{a}/{c}": _backtest_meta(f) for (a, c), f in sorted(found.items())}
    return Result(("area", "category", "day", "hour", "expected"), rows, {"series": meta})


def _backtest_meta(f: forecast.Forecast) -> dict[str, object]:
    def scores(items: Sequence[forecast.Score]) -> list[dict[str, object]]:
        return [
            {"model": s.model, "smape": round(s.smape, 3), "mape": _round(s.mape), "points": s.points} for s in items
        ]

    return {"model": f.model, "backtest": scores(f.scores), "hourly_backtest": scores(f.hourly_scores)}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def deployment(
    session: Session,
    settings: Settings,
    scope: tuple[str | None, int | None],
    subject: Subject,
    filters: Filters,
    area_by: str,
    today: dt.date,
    days: int,
    officers: Mapping[str, int],
    shifts: Sequence[duty.Shift],
    minimum: int,
) -> Result:
    """勤务跟着高峰走: the officers of each area shared among the shifts of each of the ``days``
    from ``today`` by the hourly forecast of the area's whole volume."""
    found = _forecasts(session, settings, scope, subject, filters, Split(area_by=area_by), today, days)
    hourly = {area: f.hourly for (area, _), f in found.items() if f.hourly is not None}
    postings = duty.deploy(hourly, forecast.days_from(today, days), officers, shifts, minimum)
    rows = [(p.area, p.day, p.shift, p.expected, p.officers) for p in postings]
    models = {area: f.model for (area, _), f in found.items()}
    return Result(("area", "day", "shift", "expected", "officers"), rows, {"models": models, "minimum": minimum})
