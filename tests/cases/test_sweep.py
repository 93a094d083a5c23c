"""The deadline sweep and the worker: lights turn yellow then red on the working calendar, an
overdue event gets one 督办 and one notification however often (and by however many workers)
the sweep runs, and a due job is claimed by one worker only."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chengguan.audit import platform_actor
from chengguan.cases.models import CaseStep, Event
from chengguan.cases.sweep import sweep
from chengguan.db import unit_of_work
from chengguan.outbox import OutboxMessage
from chengguan.worker import Job, Spec, run_due


def _sweep(app, now: dt.datetime):
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        return sweep(session, now)


def _event(app, event_id: int) -> Event:
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        event = session.get(Event, event_id)
        assert event is not None
        session.expunge(event)
        return event


def _count(session: Session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_lights_turn_yellow_then_red_once(app, client: TestClient, new_event: Callable[[], dict]) -> None:
    eid = new_event()["id"]
    _sweep(app, dt.datetime.now(dt.UTC))  # gives the bulk-written row its 80 % mark
    event = _event(app, eid)
    assert event.yellow_at is not None and event.node_started() < event.yellow_at < event.deadline_at
    assert event.light is None  # written by the intake path: green until a sweep says otherwise

    _sweep(app, event.yellow_at + dt.timedelta(seconds=1))
    assert _event(app, eid).light == "yellow"

    late = event.deadline_at + dt.timedelta(minutes=1)
    _sweep(app, late)
    again = _sweep(app, late)  # nothing left to change
    assert again.red == 0 and again.yellow == 0
    overdue = _event(app, eid)
    assert overdue.light == "red" and overdue.supervision_count == 1
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        steps = session.scalars(select(CaseStep).where(CaseStep.subject == "event", CaseStep.subject_id == eid)).all()
        assert [(s.action, s.automatic) for s in steps] == [("supervise", True)]
        topics = session.scalars(
            select(OutboxMessage.topic).where(OutboxMessage.payload["event_id"].as_integer() == eid)
        ).all()
        assert sorted(topics) == ["case.overdue", "case.warning"]


def test_two_workers_sweeping_at_once_notify_once(app, client: TestClient, new_event: Callable[[], dict]) -> None:
    eid = new_event()["id"]
    _sweep(app, dt.datetime.now(dt.UTC))
    late = _event(app, eid).deadline_at + dt.timedelta(days=400)
    results = []

    def work() -> None:
        results.append(_sweep(app, late))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert _event(app, eid).supervision_count == 1
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        overdue = _count(
            session,
            OutboxMessage,
            OutboxMessage.topic == "case.overdue",
            OutboxMessage.payload["event_id"].as_integer() == eid,
        )
        assert overdue == 1


def test_a_due_job_runs_on_one_worker_only(app) -> None:
    runs: list[int] = []
    spec = Spec("test_claim", dt.timedelta(minutes=1), lambda session, now: runs.append(1))
    now = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    assert run_due(app.state.sessionmaker, [spec], now) == {"test_claim": "None"}
    assert run_due(app.state.sessionmaker, [spec], now + dt.timedelta(seconds=30)) == {}  # not due yet
    later = now + dt.timedelta(minutes=2)
    threads = [threading.Thread(target=run_due, args=(app.state.sessionmaker, [spec], later)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(runs) == 2

    def broken(session: Session, now: dt.datetime) -> None:
        raise RuntimeError("sender down")

    failing = Spec("test_failing", dt.timedelta(minutes=1), broken)
    assert run_due(app.state.sessionmaker, [failing], now)["test_failing"].startswith("error: RuntimeError")
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        job = session.get(Job, "test_failing")
        assert job is not None and "sender down" in (job.last_error or "") and job.last_ok_at is None


def test_an_unevaluated_closed_event_is_supervised_once_and_closed_history_is_left_alone(
    app, client: TestClient, as_user, new_event: Callable[[], dict], photo: Callable[[int], int]
) -> None:
    eid, history_id = new_event()["id"], new_event()["id"]
    officer, supervisor = as_user("officer_a1"), as_user("supervisor_a")
    res = client.post(
        f"/api/events/{eid}/actions/feedback",
        json={"fields": {"result": "已清理"}, "evidence_ids": [photo(eid)]},
        headers=officer,
    )
    assert res.status_code == 200, res.text
    res = client.post(f"/api/events/{eid}/actions/verify_pass", json={}, headers=supervisor)
    assert res.json()["state"] == "closed", res.text
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        # closed as history arrives: the dispatch deadline stays (on-time figures), no clock runs
        row = session.get(Event, history_id)
        assert row is not None
        row.status, row.closed_at = "closed", dt.datetime.now(dt.UTC)
    closed = _event(app, eid)
    assert closed.light == "green" and closed.yellow_at is not None and closed.deadline_at is not None

    _sweep(app, closed.yellow_at + dt.timedelta(seconds=1))
    assert _event(app, eid).light == "yellow"
    late = max(closed.deadline_at, _event(app, history_id).deadline_at) + dt.timedelta(minutes=1)
    first, again = _sweep(app, late), _sweep(app, late)
    assert (first.red, again.red) == (1, 0)
    overdue, history = _event(app, eid), _event(app, history_id)
    assert overdue.status == "closed" and overdue.light == "red" and overdue.supervision_count == 1
    assert history.light is None and history.supervision_count == 0
    # evaluating it ends the window: the next pass has nothing to turn
    res = client.post(f"/api/events/{eid}/actions/evaluate", json={"fields": {"rating": 3}}, headers=supervisor)
    assert res.status_code == 200, res.text
    assert _event(app, eid).deadline_at is None
