"""Node clocks on the working calendar across the 2026 Spring Festival (holidays 02-15 … 02-23,
working Saturdays 02-14 and 02-28), with a suspension that stops the clock, and a property:
whatever actions are taken, nothing leaves a final state and node times never run backwards."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from chengguan.audit import platform_actor
from chengguan.cases import clock
from chengguan.cases.flow import Limit, load_shipped, parse
from chengguan.cases.models import Event, Light
from chengguan.db import unit_of_work
from chengguan.kit.workcal import Unit
from tests.factories import shipped_calendar

BJ = ZoneInfo("Asia/Shanghai")
FLOW = parse(load_shipped("event"))
CAL = shipped_calendar()


def at(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=BJ)


def blank_event() -> Event:
    return Event(
        id=1,
        org_id=1,
        status="registered",
        title="t",
        source="patrol",
        report_count=1,
        first_reported_at=at(2, 13, 9),
        last_reported_at=at(2, 13, 9),
        supervision_count=0,
        rework_count=0,
    )


def dispatched(limit: Limit) -> Event:
    """An event dispatched on Friday 2026-02-13 at 16:30, the last working day before the holiday."""
    event = blank_event()
    clock.enter(CAL, event, FLOW.state("dispatched"), holder_id=7, limit=limit, due=None, at=at(2, 13, 16, 30))
    return event


def test_a_node_entered_before_the_holiday_is_due_on_the_working_saturday() -> None:
    cal = CAL
    event = dispatched(Limit(8, Unit.WORKING_HOURS))
    # Fri 16:30–17:30 (1 h) + Sat 02-14, a 调休 working day, 9–12 and 13:30–17:30 (7 h)
    assert event.deadline_at == at(2, 14, 17, 30) and event.light == Light.GREEN
    assert clock.light_at(cal, event, at(2, 14, 15, 55)) is Light.YELLOW  # 80 % = 6.4 h: Sat 15:54
    assert clock.light_at(cal, event, at(2, 14, 15, 50)) is Light.GREEN
    assert clock.light_at(cal, event, at(2, 14, 17, 31)) is Light.RED
    # suspended on Saturday at 10:00 with 6 working hours left; resumed after the holiday
    left = clock.working_left(cal, event, at(2, 14, 10))
    assert left == 6 * 3600
    assert clock.due_after(cal, at(2, 24, 9), left) == at(2, 24, 16, 30)
    # a whole working day from Friday afternoon is Saturday's close, two days jump the holiday
    assert cal.deadline(at(2, 13, 16, 30), 2, Unit.WORKING_DAYS) == at(2, 24, 17, 30)


def test_leaving_a_node_records_its_working_time_and_light(app) -> None:
    cal = CAL
    event = dispatched(Limit(1, Unit.WORKING_DAYS))
    assert event.deadline_at == at(2, 14, 17, 30)
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        node = clock.leave(
            session,
            cal,
            event,
            subject="event",
            subject_id=1,
            org_id=1,
            holder_id=7,
            action="feedback",
            at=at(2, 24, 10),
        )
        session.expunge(node)
    # Fri 1 h + Sat 7 h + Tue 02-24 9–10 1 h; the holiday week counts nothing
    assert node.working_s == 9 * 3600 and node.limit_s == 8 * 3600 and node.light == Light.RED


ACTIONS = sorted(FLOW.actions)


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(st.tuples(st.sampled_from(ACTIONS), st.integers(min_value=1, max_value=200_000)), max_size=25))
def test_no_action_leaves_a_final_state_and_clocks_never_run_backwards(steps) -> None:
    cal = CAL
    event = blank_event()
    now = at(2, 10, 9)
    clock.enter(cal, event, FLOW.state("registered"), holder_id=1, limit=None, due=None, at=now)
    entered = [event.node_at]
    for key, seconds in steps:
        action = FLOW.action(key)
        now += dt.timedelta(seconds=seconds)
        if event.status not in action.sources:
            continue
        assert not FLOW.state(event.status).final
        if action.targets:
            target = FLOW.state(action.targets[0])
            clock.enter(cal, event, target, holder_id=1, limit=Limit(2, Unit.WORKING_HOURS), due=None, at=now)
            entered.append(event.node_at)
            if target.final or not target.clock:
                assert event.deadline_at is None and event.light is None
            else:
                assert event.deadline_at is not None and event.deadline_at >= now
                assert event.node_started() <= event.yellow_at <= event.deadline_at
    assert entered == sorted(entered)
    for state in FLOW.states.values():
        if state.final:
            assert FLOW.from_state(state.key) == []
