"""What dispatching one event means, as plain data: the unit (or 会商), the reason and the
处置时限 deadline on the working calendar. Pure, so the bulk intake path and a dispatcher's
single click compute it the same way; writing the plan is the caller's business."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from chengguan.dispatch.resolver import Resolution, RuleBook
from chengguan.kit.workcal import WorkCalendar

# A place known only down to a street or district has no cell and so no class: the middle class
# keeps its limit neither the strictest nor the loosest until a clerk places it on a cell.
DEFAULT_AREA_CLASS = "B"


@dataclass(frozen=True)
class DispatchPlan:
    resolution: Resolution
    unit_id: int | None  # the owner; None when the event goes to 会商 (or nobody is configured)
    deadline_at: dt.datetime | None
    limit_label: str | None  # e.g. "4 working_hours (B类)"
    reason: str

    @property
    def consultation(self) -> bool:
        return self.resolution.needs_consultation


def plan(
    book: RuleBook,
    calendar: WorkCalendar,
    category_key: str,
    area_chain: Sequence[int],
    start: dt.datetime,
    *,
    cell_code: str | None = None,
    area_class: str | None = None,
) -> DispatchPlan:
    resolution = book.resolve(category_key, area_chain, cell_code, area_class)
    if resolution.needs_consultation:
        return DispatchPlan(resolution, None, None, None, resolution.reason)
    klass = area_class or DEFAULT_AREA_CLASS
    limit = book.time_limit(category_key, klass)
    if limit is None:
        return DispatchPlan(resolution, resolution.unit.id if resolution.unit else None, None, None, resolution.reason)
    amount, unit = limit
    deadline = calendar.deadline(start, amount, unit)
    label = f"{amount} {unit} ({klass}类)"
    return DispatchPlan(
        resolution,
        resolution.unit.id if resolution.unit else None,
        deadline,
        label,
        f"{resolution.reason}; 处置时限 {label}",
    )
