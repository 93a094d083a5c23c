"""Per-node clocks on the working calendar: entering and leaving a node, its traffic light.

A node's light is green below 80 % of its limit, yellow to 100 %, red past it. The 80 % instant
(``yellow_at``) is fixed when the node is entered, so a light is two comparisons and the sweep
two range queries. Shares are in working time (the 处置时限 of GB/T 30428.8 are working hours
and days); a calendar-day limit is the same instant either way at its end, and its 80 % mark is
taken on the working clock too, which is what a unit can act in.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from chengguan.cases.flow import Limit, State
from chengguan.cases.models import CaseNode, Clocked, Light
from chengguan.kit.workcal import WorkCalendar

YELLOW_SHARE = 0.8


def yellow_at(calendar: WorkCalendar, start: dt.datetime, due: dt.datetime) -> dt.datetime:
    """The instant 80 % of the working time from ``start`` to ``due`` has elapsed."""
    return calendar.point_between(start, due, YELLOW_SHARE)


def light_at(calendar: WorkCalendar, case: Clocked, now: dt.datetime) -> Light | None:
    """The light of the current node at ``now``; None when its clock does not run."""
    if case.deadline_at is None:
        return None
    if now > case.deadline_at:
        return Light.RED
    yellow = case.yellow_at or yellow_at(calendar, case.node_started(), case.deadline_at)
    return Light.YELLOW if now >= yellow else Light.GREEN


def set_due(calendar: WorkCalendar, case: Clocked, due: dt.datetime | None, now: dt.datetime) -> None:
    """Give the current node a deadline (None: its clock stops) and the light it has now."""
    case.deadline_at = due
    case.yellow_at = None if due is None else yellow_at(calendar, case.node_started(), due)
    light = light_at(calendar, case, now)
    case.light = None if light is None else light.value


def enter(
    calendar: WorkCalendar,
    case: Clocked,
    state: State,
    *,
    holder_id: int | None,
    limit: Limit | None,
    due: dt.datetime | None,
    at: dt.datetime,
) -> None:
    """Make ``state`` the case's current node from ``at``: an explicit ``due`` wins over the
    ``limit``; a state whose clock does not run gets neither."""
    case.status, case.node_at, case.holder_id = state.key, at, holder_id
    if not state.clock or state.final:
        due = None
    elif due is None and limit is not None:
        due = calendar.deadline(at, limit.amount, limit.unit)
    set_due(calendar, case, due, at)


def leave(
    session: Session,
    calendar: WorkCalendar,
    case: Clocked,
    *,
    subject: str,
    subject_id: int,
    org_id: int,
    holder_id: int | None,
    action: str,
    at: dt.datetime,
) -> CaseNode:
    """Record the current node as done at ``at``, with its working time and its light then."""
    start = case.node_started()
    light = light_at(calendar, case, at)
    due = case.deadline_at
    node = CaseNode(
        subject=subject,
        subject_id=subject_id,
        org_id=org_id,
        state=case.status,
        holder_id=holder_id,
        entered_at=start,
        left_at=at,
        due_at=due,
        working_s=calendar.working_time_between(start, at).total_seconds(),
        limit_s=None if due is None else calendar.working_time_between(start, due).total_seconds(),
        light=None if light is None else light.value,
        action=action,
    )
    session.add(node)
    return node


def working_left(calendar: WorkCalendar, case: Clocked, now: dt.datetime) -> float | None:
    """Signed working seconds to the deadline (negative: overdue by that much)."""
    if case.deadline_at is None:
        return None
    if now <= case.deadline_at:
        return calendar.working_time_between(now, case.deadline_at).total_seconds()
    return -calendar.working_time_between(case.deadline_at, now).total_seconds()


def due_after(calendar: WorkCalendar, now: dt.datetime, seconds_left: float) -> dt.datetime:
    """The deadline that leaves ``seconds_left`` of working time from ``now`` (none left: now)."""
    if seconds_left <= 0:
        return now
    return calendar.add_working_hours(now, dt.timedelta(seconds=seconds_left))
