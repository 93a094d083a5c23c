"""What dispatching one event means, as plain data: the unit (or 会商), the reason and the
处置时限 deadline on the working calendar. Pure, so the bulk intake path and a dispatcher's
single click compute it the same way; writing the plan is the caller's business."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from chengguan.dispatch.resolver import Resolution, RuleBook, memoised
from chengguan.kit.workcal import WorkCalendar
from chengguan.taxonomy.models import UNIT_LABELS, LimitUnit

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


@dataclass(frozen=True)
class _Terms:
    """A plan without its deadline: the same for every event of one category at one place."""

    resolution: Resolution
    unit_id: int | None
    limit: tuple[int, str] | None  # (amount, unit) on the working calendar
    label: str | None
    reason: str


class Planner:
    """:func:`plan` for many events against one rule book and calendar (a bulk import's run):
    everything but the deadline is kept per (category, place), so an event pays only for its
    deadline once its category has been planned at its place. Build it afresh with the book."""

    def __init__(self, book: RuleBook, calendar: WorkCalendar) -> None:
        self.book, self.calendar = book, calendar
        self._terms: dict[tuple[str, tuple[int, ...], str | None, str | None], _Terms] = {}

    def plan(
        self,
        category_key: str,
        area_chain: Sequence[int],
        start: dt.datetime,
        *,
        cell_code: str | None = None,
        area_class: str | None = None,
    ) -> DispatchPlan:
        key = (category_key, tuple(area_chain), cell_code, area_class)
        terms = memoised(self._terms, key, lambda: _terms(self.book, category_key, area_chain, cell_code, area_class))
        deadline = self.calendar.deadline(start, *terms.limit) if terms.limit else None
        return DispatchPlan(terms.resolution, terms.unit_id, deadline, terms.label, terms.reason)


def _terms(
    book: RuleBook, category_key: str, area_chain: Sequence[int], cell_code: str | None, area_class: str | None
) -> _Terms:
    resolution = book.resolve(category_key, area_chain, cell_code, area_class)
    if resolution.needs_consultation:
        return _Terms(resolution, None, None, None, resolution.reason)
    unit_id = resolution.unit.id if resolution.unit else None
    klass = area_class or DEFAULT_AREA_CLASS
    limit = book.time_limit(category_key, klass)
    if limit is None:
        return _Terms(resolution, unit_id, None, None, resolution.reason)
    label = f"{limit[0]}{UNIT_LABELS[LimitUnit(limit[1])]} ({klass}类)"  # as the taxonomy writes it: 8工作时
    return _Terms(resolution, unit_id, limit, label, f"{resolution.reason}; 处置时限 {label}")


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
    """One event's plan (a dispatcher's click, a single report)."""
    return Planner(book, calendar).plan(category_key, area_chain, start, cell_code=cell_code, area_class=area_class)
