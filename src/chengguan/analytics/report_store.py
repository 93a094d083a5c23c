"""Generating, rendering and keeping the analysis reports.

**On demand** (:func:`generate`): a user's report of any period and area inside their own
organisation's subtree, answered from the lake. **Standard reports** (:func:`generate_due`, the
worker's ``analysis_reports`` job): when a period has ended and the lake has been synced past its
end, its report is built for each standard area and kept as JSON under ``<data_dir>/reports/``;
the API lists them and renders the one asked for in the format asked for (HTML, PDF, Excel), so a
report is computed once and stored once, whatever its readers download.

The standard areas: every city and district for each period; every street and town (体检报告)
for the month, the quarter and the year. A day or a week of a street is usually too few reports
to say much, and hundreds of streets × 365 daily reports would cost more than they tell.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from chengguan.analytics import lake, reports
from chengguan.analytics.engines import Engine, open_engine
from chengguan.analytics.metrics import Period, period_bounds, previous_bounds
from chengguan.analytics.report_html import render_html
from chengguan.analytics.report_pdf import render_pdf
from chengguan.analytics.report_xlsx import render_xlsx
from chengguan.analytics.reports import Report
from chengguan.analytics.service import scoped_area
from chengguan.config import Settings
from chengguan.errors import Invalid, NotFound
from chengguan.kit.downloads import content_disposition

FOLDER = "reports"
KEY = re.compile(r"^(day|week|month|quarter|year)-(\d{4}-\d{2}-\d{2})-(\d{1,18})$")
STREET_PERIODS = frozenset({Period.MONTH, Period.QUARTER, Period.YEAR})
MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def render(report: Report, fmt: str, settings: Settings, inline_echarts: bool = False) -> bytes:
    """The report in one of :data:`MEDIA_TYPES`' formats."""
    if fmt == "html":
        return render_html(report, inline_echarts).encode("utf-8")
    if fmt == "pdf":
        return render_pdf(report, settings)
    if fmt == "xlsx":
        return render_xlsx(report)
    raise Invalid(f"format must be one of {', '.join(MEDIA_TYPES)} / 格式不正确", field="format")


def disposition(report: Report, fmt: str) -> str:
    """An attachment named in Chinese for the reader, with an ASCII fallback for old clients."""
    return content_disposition(f"{report.title}-{report.start}.{fmt}", f"{key_of(report)}.{fmt}")


def generate(
    session: Session, settings: Settings, scope_root: str | None, area_id: int | None, period: Period, at: dt.date
) -> Report:
    """A user's report: the area must lie inside their own organisation's subtree."""
    path = scoped_area(session, scope_root, area_id)
    engine = open_engine("duckdb", settings.lake_path)
    try:
        return reports.build(engine, period, at, path, settings.tz)
    finally:
        engine.close()


# -- the store ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    key: str
    period: Period
    start: dt.date
    end: dt.date
    area_id: int
    area_name: str
    area_path: str
    title: str


def folder(settings: Settings) -> Path:
    return settings.data_dir / FOLDER


def key_of(report: Report) -> str:
    return f"{report.period.value}-{report.start.isoformat()}-{report.area.id}"


def store(settings: Settings, report: Report) -> Path:
    """Write the report's JSON atomically (a reader never sees half a file)."""
    root = folder(settings)
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"{key_of(report)}.json"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(report.model_dump_json(), encoding="utf-8")
    os.replace(tmp, path)
    return path


def _read(path: Path) -> Report:
    return Report.model_validate_json(path.read_text(encoding="utf-8"))


def listing(settings: Settings, scope_root: str) -> list[Stored]:
    """The stored reports of areas inside ``scope_root``, newest period first."""
    found = []
    for path in folder(settings).glob("*.json"):
        report = _read(path)
        if report.area.path.startswith(scope_root):
            found.append(
                Stored(
                    key=key_of(report),
                    period=report.period,
                    start=report.start,
                    end=report.end,
                    area_id=report.area.id,
                    area_name=report.area.name,
                    area_path=report.area.path,
                    title=report.title,
                )
            )
    return sorted(found, key=lambda s: (-s.start.toordinal(), s.period, s.area_path))


def load(settings: Settings, key: str, scope_root: str) -> Report:
    """One stored report; a report of an area outside ``scope_root`` is not found, like any row
    the user cannot see."""
    path = folder(settings) / f"{key}.json"
    if not KEY.fullmatch(key) or not path.exists():
        raise NotFound(f"no stored report {key!r} / 无此报告", field="key")
    report = _read(path)
    if not report.area.path.startswith(scope_root):
        raise NotFound(f"no stored report {key!r} / 无此报告", field="key")
    return report


# -- the worker's job ---------------------------------------------------------------------------


def last_ended(period: Period, today: dt.date) -> tuple[dt.date, dt.date]:
    """The latest period of its kind that ended by ``today`` (local)."""
    start, end = period_bounds(period, today - dt.timedelta(days=1))
    return (start, end) if end <= today else previous_bounds(period, start)


def _synced_past(settings: Settings, end: dt.date) -> bool:
    """Has the lake exported every report received before the period's end? A sync exports the rows
    stamped ``lake_settle_s`` before it began (see :mod:`chengguan.analytics.lake`)."""
    synced = lake.Manifest.read(settings.lake_path).synced_at.get("reports")
    if synced is None:
        return False
    covered = dt.datetime.fromisoformat(synced) - dt.timedelta(seconds=settings.lake_settle_s)
    return covered >= dt.datetime.combine(end, dt.time(), settings.tz)


def standard_areas(names: reports.Names, period: Period) -> list[reports.Area]:
    kinds = {"city", "district", *(reports.STREET_KINDS if period in STREET_PERIODS else ())}
    return sorted((o for o in names.orgs.values() if o.kind in kinds), key=lambda o: o.path)


def _generate_period(engine: Engine, settings: Settings, period: Period, start: dt.date) -> int:
    made = 0
    for area in standard_areas(reports.Names.read(engine), period):
        if (folder(settings) / f"{period.value}-{start.isoformat()}-{area.id}.json").exists():
            continue
        store(settings, reports.build(engine, period, start, area.path, settings.tz))
        made += 1
    return made


def generate_due(settings: Settings, now: dt.datetime) -> dict[str, int]:
    """Build and store the standard reports of every period that has ended and is in the lake;
    the number made per period (reports already stored are not made again)."""
    today = now.astimezone(settings.tz).date()
    made: dict[str, int] = {}
    engine = open_engine("duckdb", settings.lake_path)
    try:
        if "dim_orgs" not in engine.tables:  # nothing synced yet
            return made
        for period in Period:
            start, end = last_ended(period, today)
            if _synced_past(settings, end):
                made[period.value] = _generate_period(engine, settings, period, start)
    finally:
        engine.close()
    return made
