"""The warning thresholds as data: read, set and remove (city-wide; every edit audited)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from chengguan.analytics.models import WarningThreshold
from chengguan.analytics.situation import Rule, Thresholds
from chengguan.errors import NotFound
from chengguan.orgs import service as orgs_service
from chengguan.orgs.models import org_table


def list_all(session: Session) -> list[WarningThreshold]:
    return list(session.scalars(select(WarningThreshold).order_by(WarningThreshold.id)))


def rules(session: Session) -> list[Rule]:
    """Every row as a rule keyed by its area's path (the city-wide rows by None)."""
    paths = {r.id: r.path for r in session.execute(select(org_table.c.id, org_table.c.path))}
    return [Rule(paths[r.org_id] if r.org_id else None, r.category_key, _thresholds(r)) for r in list_all(session)]


def _thresholds(row: WarningThreshold) -> Thresholds:
    return Thresholds(row.yellow_z, row.red_z, row.min_count, row.baseline_weeks)


def put(session: Session, org_id: int | None, category_key: str | None, values: Thresholds) -> WarningThreshold:
    """Set the thresholds of an area and category (creating the row, or replacing its values)."""
    values.check()
    if org_id is not None:
        orgs_service.get(session, org_id)  # NotFound for an unknown organisation
    row = session.scalar(
        select(WarningThreshold).where(
            WarningThreshold.org_id.is_(None) if org_id is None else WarningThreshold.org_id == org_id,
            WarningThreshold.category_key.is_(None)
            if category_key is None
            else WarningThreshold.category_key == category_key,
        )
    )
    if row is None:
        row = WarningThreshold(org_id=org_id, category_key=category_key)
        session.add(row)
    row.yellow_z, row.red_z = values.yellow_z, values.red_z
    row.min_count, row.baseline_weeks = values.min_count, values.baseline_weeks
    session.flush()
    return row


def delete(session: Session, threshold_id: int) -> None:
    row = session.get(WarningThreshold, threshold_id)
    if row is None:
        raise NotFound("no such threshold / 无此阈值", field="threshold_id")
    session.delete(row)
    session.flush()
