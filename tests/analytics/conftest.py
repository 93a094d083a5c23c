"""A seeded synthetic history in the test city, written straight into the operational tables,
and what pandas makes of it independently.

Every row carries the channel/source ``SOURCE`` so that the analyses can be sliced to it whatever
else the session's database holds; the rows are deleted at the end of the session. 东街道一社区
(A1c1) gets a planted hotspot: 40 % of the reports in its four cells.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session
from tests.factories import SampleGrid

from chengguan.analytics import lake
from chengguan.audit import platform_actor
from chengguan.calendar import service as calendar_service
from chengguan.cases.models import CaseNode, CaseStep, Event, PenaltyCase
from chengguan.config import Settings
from chengguan.db import unit_of_work
from chengguan.dispatch.models import DispatchRecord
from chengguan.geo.models import GridCell
from chengguan.intake.models import Report
from chengguan.taxonomy.models import Category

SOURCE = "lakesynth"
TZ = "Asia/Shanghai"
N_REPORTS = 2400
FIRST_DAY = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
SPAN_DAYS = 425  # to 2026-03-01: 14 months, so that 同比 has a year to look back on
HOT_COMMUNITY = "A1c1"
PENALTIES = 60  # enforcement cases, on the first events
OLD_STAMP = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)  # updated_at of every seeded row: before any sync
HOUR_WEIGHTS = np.array([1, 1, 1, 1, 1, 2, 3, 5, 8, 12, 12, 9, 7, 6, 6, 6, 7, 8, 10, 11, 9, 5, 3, 2], dtype=float)


@dataclass
class Synthetic:
    frame: pd.DataFrame  # one row per seeded report: id, received_at (UTC), cell_code, category_key, major_key …
    event_ids: list[int]
    cells: dict[str, int]  # code → id
    area_path: str  # the test city's root path


def _pick_categories(session: Session) -> dict[str, str]:
    """Six 小类 of the shipped taxonomy from three 大类, each with its 大类's key."""
    minors = session.execute(
        select(Category.key, Category.parent_id).where(Category.level == "minor").order_by(Category.key)
    ).all()
    majors = {r.id: r.key for r in session.execute(select(Category.id, Category.key))}
    chosen: dict[str, str] = {}
    for key, parent in minors:
        per_major = sum(1 for m in chosen.values() if m == majors[parent])
        if per_major < 2 and len({*chosen.values(), majors[parent]}) <= 3:
            chosen[key] = majors[parent]
        if len(chosen) == 6:
            break
    return chosen


def _seed(session: Session, grid: SampleGrid) -> Synthetic:
    rng = np.random.default_rng(20260301)
    categories = _pick_categories(session)
    cell_rows = session.execute(select(GridCell.code, GridCell.id, GridCell.org_id)).all()
    cells = {r.code: r.id for r in cell_rows if r.code in grid.cells}
    org_of = {r.code: r.org_id for r in cell_rows if r.code in grid.cells}
    codes = sorted(cells)
    hot = [c for c in codes if c.startswith(grid.community[HOT_COMMUNITY])]
    weights = np.array([0.4 / len(hot) if c in hot else 0.6 / (len(codes) - len(hot)) for c in codes])
    cell_pick = rng.choice(codes, size=N_REPORTS, p=weights)
    day = rng.integers(0, SPAN_DAYS, size=N_REPORTS)
    hour = rng.choice(24, size=N_REPORTS, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    second = rng.integers(0, 3600, size=N_REPORTS)
    keys = list(categories)
    category = rng.choice(keys, size=N_REPORTS, p=np.linspace(3, 1, len(keys)) / np.linspace(3, 1, len(keys)).sum())
    channel = rng.choice([SOURCE, f"{SOURCE}-app"], size=N_REPORTS, p=[0.7, 0.3])
    local_midnight = pd.Timestamp(FIRST_DAY.date(), tz=TZ)
    received = [
        (local_midnight + pd.Timedelta(days=int(d), hours=int(h), seconds=int(s))).tz_convert("UTC").to_pydatetime()
        for d, h, s in zip(day, hour, second, strict=True)
    ]
    events = [
        {
            "status": "closed",
            "category_key": str(category[i]),
            "title": "synthetic",
            "description": "",
            "cell_id": cells[str(cell_pick[i])],
            "org_id": org_of[str(cell_pick[i])],
            "source": str(channel[i]),
            "report_count": 1,
            "first_reported_at": received[i],
            "last_reported_at": received[i],
            "created_at": received[i],
            "updated_at": OLD_STAMP,
        }
        for i in range(0, N_REPORTS, 2)
    ]
    event_ids = list(session.scalars(insert(Event).returning(Event.id), events))
    reports = [
        {
            "channel": str(channel[i]),
            "external_id": f"lk-{i}",
            "status": "created",
            "pending_reasons": [],
            "title": "占道经营",
            "description": "门口有人摆摊",
            "submitted_at": received[i],
            "received_at": received[i],
            "reporter_name": "张三",
            "reporter_phone": "13800138000",
            "location_source": "coordinates",
            "cell_id": cells[str(cell_pick[i])],
            "org_id": org_of[str(cell_pick[i])],
            "category_key": str(category[i]),
            "event_id": event_ids[i // 2] if i % 2 == 0 else None,
            "lon": 116.05,
            "lat": 39.95,
            "updated_at": OLD_STAMP,
        }
        for i in range(N_REPORTS)
    ]
    report_ids = list(session.scalars(insert(Report).returning(Report.id), reports))
    _seed_history(session, event_ids)
    frame = pd.DataFrame(
        {
            "id": report_ids,
            "received_at": pd.to_datetime(received, utc=True),
            "cell_code": cell_pick.astype(str),
            "category_key": category.astype(str),
            "major_key": [categories[str(c)] for c in category],
            "source": channel.astype(str),
        }
    )
    root = session.scalar(select(GridCell.org_id).where(GridCell.code == codes[0]))
    assert root is not None
    return Synthetic(frame, event_ids, cells, _city_path(session, root))


def _city_path(session: Session, org_id: int) -> str:
    path = session.scalar(select(lake.org_table.c.path).where(lake.org_table.c.id == org_id))
    assert path is not None
    return "/" + path.split("/")[1] + "/"


def _seed_history(session: Session, event_ids: list[int]) -> None:
    """Node history, timeline steps and dispatch records of the first 200 events."""
    rows = session.execute(
        select(Event.id, Event.org_id, Event.first_reported_at).where(Event.id.in_(event_ids[:200]))
    ).all()
    nodes, steps, dispatches = [], [], []
    for r in rows:
        left = r.first_reported_at + dt.timedelta(hours=2)
        nodes.append(
            {
                "subject": "event",
                "subject_id": r.id,
                "org_id": r.org_id,
                "state": "dispatched",
                "holder_id": r.org_id,
                "entered_at": r.first_reported_at,
                "left_at": left,
                "working_s": 3600.0,
                "limit_s": 7200.0,
                "light": "green",
                "action": "report_back",
            }
        )
        steps.append(
            {
                "subject": "event",
                "subject_id": r.id,
                "org_id": r.org_id,
                "action": "dispatch",
                "from_state": "registered",
                "to_state": "dispatched",
                "actor_name": "王五",
                "note": "请尽快处理 13900000000",
                "data": {},
                "at": r.first_reported_at,
            }
        )
        dispatches.append(
            {
                "event_id": r.id,
                "org_id": r.org_id,
                "unit_id": r.org_id,
                "reason": "synthetic",
                "automatic": True,
                "at": r.first_reported_at,
            }
        )
    session.execute(insert(CaseNode), nodes)
    session.execute(insert(CaseStep), steps)
    session.execute(insert(DispatchRecord), dispatches)
    session.execute(insert(PenaltyCase), [_penalty(r) for r in rows[:PENALTIES]])


def _penalty(event: Any) -> dict[str, Any]:
    """An enforcement case opened on an event, with a party whose data must not reach the lake."""
    return {
        "org_id": event.org_id,
        "agency_id": event.org_id,
        "event_id": event.id,
        "source": SOURCE,
        "status": "closed",
        "title": "synthetic",
        "causes": [],
        "party_type": "citizen",
        "party_name": "张三",
        "party_key": "lakesynth-party",
        "party_phone": "13800138000",
        "act_at": event.first_reported_at,
        "discovered_at": event.first_reported_at,
        "updated_at": OLD_STAMP,
    }


def _cleanup(session: Session, event_ids: list[int]) -> None:
    channels = [SOURCE, f"{SOURCE}-app", f"{SOURCE}-late"]
    session.execute(delete(PenaltyCase).where(PenaltyCase.source == SOURCE))
    session.execute(delete(DispatchRecord).where(DispatchRecord.event_id.in_(event_ids)))
    session.execute(delete(CaseStep).where(CaseStep.subject == "event", CaseStep.subject_id.in_(event_ids)))
    session.execute(delete(CaseNode).where(CaseNode.subject == "event", CaseNode.subject_id.in_(event_ids)))
    session.execute(update(Report).where(Report.channel.in_(channels)).values(event_id=None))
    session.execute(delete(Report).where(Report.channel.in_(channels)))
    session.execute(delete(Event).where(Event.source.in_(channels)))


def seed_history(app, grid: SampleGrid) -> Synthetic:
    """The seeded history, written once per session by the ``synthetic`` fixture of
    ``tests/conftest.py`` (the analytics and the dashboard tests share it: a fixture defined in two
    directories would seed twice)."""
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        calendar_service.load_seed(session)
        return _seed(session, grid)


def remove_history(app, data: Synthetic) -> None:
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        _cleanup(session, data.event_ids)


def lake_settings(settings: Settings, root: Path, settle_s: int = 0) -> Settings:
    """The test settings with their own lake; changes count as settled at once unless asked."""
    return settings.model_copy(update={"lake_dir": root, "lake_settle_s": settle_s})


def sync(app, settings: Settings, full: bool = False) -> dict[str, lake.TableSync]:
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        return lake.sync(session, settings, full=full)
