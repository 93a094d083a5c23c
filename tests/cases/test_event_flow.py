"""The event flow end to end through the API: dispatch → 处理反馈 → 核查 (返工 once) → auto-结案 →
综合评价, and 延期, 挂账/销账, 回退, 作废 with their approvals, 督办, the refusals (409 naming the
allowed actions, 403, 422 naming the field), the timeline and the inbox."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from chengguan import outbox
from chengguan.audit import platform_actor
from chengguan.cases.flow import load_shipped
from chengguan.db import unit_of_work
from chengguan.dispatch.flow import CLOSED
from chengguan.intake import notify
from chengguan.outbox import OutboxMessage
from tests.factories import SampleCity
from tests.intake.conftest import report


def act(client: TestClient, headers: dict[str, str], event_id: int, action: str, **body: object):
    return client.post(f"/api/events/{event_id}/actions/{action}", json=body, headers=headers)


def ok(res) -> dict:
    assert res.status_code == 200, res.text
    return res.json()


def event(client: TestClient, as_user, event_id: int) -> dict:
    return ok(client.get(f"/api/events/{event_id}", headers=as_user("admin_city")))


def test_an_event_from_dispatch_to_evaluation_with_one_rework(
    client: TestClient, as_user, city: SampleCity, new_event: Callable[[], dict], photo: Callable[[int], int]
) -> None:
    ev = new_event()
    eid = ev["id"]
    assert ev["status"] == "dispatched" and ev["unit_id"] == city.org["A1_squad"]
    officer, clerk, supervisor = as_user("officer_a1"), as_user("clerk_a"), as_user("supervisor_a")
    offered = {a["key"] for a in ok(client.get(f"/api/events/{eid}/actions", headers=officer))}
    assert offered == {"feedback", "send_back", "extend", "suspend"}

    # 处理反馈 needs a photo of this event
    res = act(client, officer, eid, "feedback", fields={"result": "已清理"})
    assert res.status_code == 422 and res.json()["errors"][0]["field"] == "evidence_ids"
    first = photo(eid)
    out = ok(act(client, officer, eid, "feedback", fields={"result": "已清理"}, evidence_ids=[first]))
    assert out["state"] == "verifying" and out["steps"][0]["data"]["evidence_ids"] == [first]
    assert event(client, as_user, eid)["holder_id"] == city.org["A_centre"]

    # 核查 fails: 返工 sends it back to the same unit with a fresh limit
    out = ok(act(client, clerk, eid, "verify_fail", fields={"reason": "仍有堆物"}))
    again = event(client, as_user, eid)
    assert out["state"] == "dispatched" and again["rework_count"] == 1 and again["unit_id"] == city.org["A1_squad"]
    assert again["deadline_at"] is not None and again["light"] == "green"

    ok(act(client, officer, eid, "feedback", fields={"result": "已清理完毕"}, evidence_ids=[photo(eid)]))
    # 核查 passes and auto-结案 (switched on by default) closes it in the same request
    out = ok(act(client, supervisor, eid, "verify_pass", fields={"note": "现场已恢复"}))
    assert out["state"] == "closed"
    assert [(s["action"], s["automatic"]) for s in out["steps"]] == [("verify_pass", False), ("close", True)]
    closed = event(client, as_user, eid)
    assert closed["status"] == "closed" and closed["deadline_at"] is not None  # the evaluation window

    out = ok(act(client, supervisor, eid, "evaluate", fields={"rating": 5}))
    assert out["state"] == "evaluated" and event(client, as_user, eid)["deadline_at"] is None
    # nothing leaves the final state
    res = act(client, supervisor, eid, "supervise", fields={"note": "再看看"})
    assert res.status_code == 409 and res.json()["allowed"] == [] and res.json()["state"] == "evaluated"

    timeline = ok(client.get(f"/api/events/{eid}/timeline", headers=clerk))
    states = [n["state"] for n in timeline["nodes"]]
    assert states == ["dispatched", "verifying", "dispatched", "verifying", "verified", "closed", "evaluated"]
    holders = {n["state"]: n["holder_id"] for n in timeline["nodes"][:-1]}
    assert holders["dispatched"] == city.org["A1_squad"] and holders["verifying"] == city.org["A_centre"]
    entered = [dt.datetime.fromisoformat(n["entered_at"]) for n in timeline["nodes"]]
    assert entered == sorted(entered)  # clocks never run backwards
    assert all(n["working_hours"] >= 0 for n in timeline["nodes"])
    assert [s["action"] for s in timeline["steps"]] == [
        "feedback",
        "verify_fail",
        "feedback",
        "verify_pass",
        "close",
        "evaluate",
    ]


def test_refusals_name_the_state_the_role_and_the_field(
    client: TestClient, as_user, new_event: Callable[[], dict]
) -> None:
    eid = new_event()["id"]
    officer, clerk = as_user("officer_a1"), as_user("clerk_a")
    res = act(client, clerk, eid, "verify_pass")
    assert res.status_code == 409
    body = res.json()
    assert body["state"] == "dispatched" and "verify_pass" in body["detail"] and body["errors"][0]["field"] == "action"
    assert body["allowed"] == ["void"]  # what a clerk may do from 处置
    res = act(client, clerk, eid, "feedback", fields={"result": "x"})
    assert res.status_code == 403 and "officer" in res.json()["detail"]
    res = act(client, officer, eid, "extend", fields={"amount": 2, "unit": "fortnights", "reason": "x"})
    assert res.status_code == 422 and res.json()["errors"][0]["field"] == "fields.unit"
    res = act(client, officer, eid, "extend", fields={"amount": 2, "unit": "working_days", "colour": "red"})
    assert res.status_code == 422 and res.json()["errors"][0]["field"] == "fields.colour"
    res = act(client, officer, eid, "nap")
    assert res.status_code == 422 and res.json()["errors"][0]["field"] == "action"
    # an officer of another street does not hold it
    res = act(client, as_user("officer_a2"), eid, "suspend", fields={"reason": "x"})
    assert res.status_code in (404, 422)
    # nothing was half-applied
    ev = client.get(f"/api/events/{eid}", headers=clerk).json()
    assert ev["status"] == "dispatched" and ok(client.get(f"/api/events/{eid}/timeline", headers=clerk))["steps"] == []


def test_an_extension_needs_the_dispatchers_approval_and_moves_the_deadline(
    client: TestClient, as_user, new_event: Callable[[], dict]
) -> None:
    ev = new_event()
    eid, before = ev["id"], dt.datetime.fromisoformat(ev["deadline_at"])
    officer, dispatcher = as_user("officer_a1"), as_user("dispatcher_a")
    out = ok(act(client, officer, eid, "extend", fields={"amount": 2, "unit": "working_days", "reason": "等材料"}))
    assert out["state"] == "dispatched" and out["steps"] == [] and out["request"]["status"] == "pending"
    request_id = out["request"]["id"]
    res = act(client, officer, eid, "suspend", fields={"reason": "另一申请"})
    assert res.status_code == 409  # one pending request at a time
    url = f"/api/events/{eid}/requests/{request_id}"
    assert client.post(f"{url}/approve", json={}, headers=officer).status_code == 403
    out = ok(client.post(f"{url}/approve", json={"note": "同意"}, headers=dispatcher))
    assert out["request"]["status"] == "approved" and out["steps"][0]["action"] == "extend"
    after = dt.datetime.fromisoformat(event(client, as_user, eid)["deadline_at"])
    assert after > before and dt.datetime.fromisoformat(out["steps"][0]["data"]["new_deadline_at"]) == after
    assert client.post(f"{url}/reject", json={}, headers=dispatcher).status_code == 409  # already decided


def test_suspension_stops_the_clock_and_settling_goes_to_verification(
    client: TestClient, as_user, new_event: Callable[[], dict], photo: Callable[[int], int]
) -> None:
    eid = new_event()["id"]
    officer, dispatcher = as_user("officer_a1"), as_user("dispatcher_a")
    request = ok(act(client, officer, eid, "suspend", fields={"reason": "需立项资金"}))["request"]
    ok(client.post(f"/api/events/{eid}/requests/{request['id']}/approve", json={}, headers=dispatcher))
    ev = event(client, as_user, eid)
    assert ev["status"] == "suspended" and ev["deadline_at"] is None and ev["light"] is None
    out = ok(act(client, dispatcher, eid, "resume"))
    resumed = event(client, as_user, eid)
    assert out["state"] == "dispatched" and resumed["deadline_at"] is not None
    request = ok(act(client, officer, eid, "suspend", fields={"reason": "再次挂账"}))["request"]
    ok(client.post(f"/api/events/{eid}/requests/{request['id']}/approve", json={}, headers=dispatcher))
    out = ok(act(client, officer, eid, "settle", fields={"result": "已解决"}, evidence_ids=[photo(eid)]))
    assert out["state"] == "verifying"


def test_send_back_void_and_supervision(client: TestClient, as_user, city: SampleCity, new_event) -> None:
    officer, dispatcher = as_user("officer_a1"), as_user("dispatcher_a")
    eid = new_event()["id"]
    request = ok(act(client, officer, eid, "send_back", fields={"reason": "不属于本单位"}))["request"]
    out = ok(client.post(f"/api/events/{eid}/requests/{request['id']}/approve", json={}, headers=dispatcher))
    ev = event(client, as_user, eid)
    # 回退 is not followed by auto-派遣: it would go straight back to the same unit
    assert out["state"] == "registered" and ev["unit_id"] is None and ev["holder_id"] == city.org["A_centre"]
    out = ok(act(client, dispatcher, eid, "assign", fields={"unit_id": city.org["A_water"], "reason": "水务问题"}))
    assert out["state"] == "dispatched" and event(client, as_user, eid)["unit_id"] == city.org["A_water"]

    out = ok(act(client, as_user("supervisor_a"), eid, "supervise", fields={"note": "请加快"}))
    assert out["state"] == "dispatched" and event(client, as_user, eid)["supervision_count"] == 1

    request = ok(act(client, as_user("clerk_a"), eid, "void", fields={"reason": "重复上报"}))["request"]
    url = f"/api/events/{eid}/requests/{request['id']}"
    assert client.post(f"{url}/approve", json={}, headers=dispatcher).status_code == 403  # 值班长 approves
    out = ok(client.post(f"{url}/approve", json={}, headers=as_user("shift_leader_a")))
    assert out["state"] == "void"


def test_the_inbox_lists_what_my_unit_holds_by_deadline(client: TestClient, as_user, new_event) -> None:
    ids = [new_event()["id"] for _ in range(2)]
    page = ok(client.get("/api/inbox", params={"limit": 500}, headers=as_user("officer_a1")))
    mine = [e for e in page["items"] if e["id"] in ids]
    assert len(mine) == 2
    deadlines = [e["deadline_at"] for e in page["items"] if e["deadline_at"] is not None]
    assert deadlines == sorted(deadlines)
    # the district centre's clerk holds none of them while they are with the squad
    centre = ok(client.get("/api/inbox", params={"limit": 500}, headers=as_user("clerk_a")))
    assert not {e["id"] for e in centre["items"]} & set(ids) or all(
        e["holder_id"] != e["unit_id"] for e in centre["items"] if e["id"] in ids
    )


def test_a_city_switches_auto_close_off_and_back(client: TestClient, as_user, new_event, photo) -> None:
    admin = as_user("admin_city")
    flow = load_shipped("event")
    try:
        changed = {**flow, "switches": {**flow["switches"], "auto_close": False}}
        assert client.put("/api/flows/event", json=changed, headers=as_user("admin_a")).status_code == 403
        assert ok(client.put("/api/flows/event", json=changed, headers=admin))["switches"]["auto_close"] is False
        eid = new_event()["id"]
        ok(act(client, as_user("officer_a1"), eid, "feedback", fields={"result": "好了"}, evidence_ids=[photo(eid)]))
        out = ok(act(client, as_user("supervisor_a"), eid, "verify_pass"))
        assert out["state"] == "verified"
        assert ok(act(client, as_user("shift_leader_a"), eid, "close"))["state"] == "closed"
        # a flow that drops a state or names an unknown role is refused with the field
        broken = {**flow, "states": {k: v for k, v in flow["states"].items() if k != "suspended"}}
        res = client.put("/api/flows/event", json=broken, headers=admin)
        assert res.status_code == 422
        bad_role = {**flow, "actions": {**flow["actions"], "close": {**flow["actions"]["close"], "roles": ["mayor"]}}}
        res = client.put("/api/flows/event", json=bad_role, headers=admin)
        assert res.status_code == 422 and res.json()["errors"][0]["field"] == "actions.close.roles"
    finally:
        assert client.put("/api/flows/event", json=flow, headers=admin).status_code == 200


def test_without_auto_dispatch_new_events_wait_for_a_clerk_to_register(
    client: TestClient, as_user, city: SampleCity, new_event: Callable[[], dict]
) -> None:
    admin = as_user("admin_city")
    flow = load_shipped("event")
    try:
        manual = {**flow, "switches": {**flow["switches"], "auto_dispatch": False}}
        ok(client.put("/api/flows/event", json=manual, headers=admin))
        ev = new_event()
        assert ev["status"] == "accepted" and ev["unit_id"] is None
        out = ok(act(client, as_user("clerk_a"), ev["id"], "register"))
        assert out["state"] == "registered" and [s["action"] for s in out["steps"]] == ["register"]
        out = ok(act(client, as_user("dispatcher_a"), ev["id"], "dispatch"))
        assert out["state"] == "dispatched" and out["steps"][0]["data"]["unit_id"] == city.org["A1_squad"]
    finally:
        assert client.put("/api/flows/event", json=flow, headers=admin).status_code == 200


def test_reporters_are_told_when_it_closes(app, client: TestClient, as_user, new_event, photo) -> None:
    ev = new_event(reporter_phone="13800001234", reporter_name="李四")
    eid = ev["id"]
    # a second report of the same problem by another caller merges into it
    same = {k: ev[k] for k in ("lon", "lat")}
    body = report(external_id=secrets.token_hex(6), crs="wgs84", reporter_phone="13900005678", **same)
    merged = client.post("/api/intake/reports", json=body, headers=as_user("officer_a1"))
    assert merged.json()["event_id"] == eid, merged.text
    ok(act(client, as_user("officer_a1"), eid, "feedback", fields={"result": "已清理"}, evidence_ids=[photo(eid)]))
    ok(act(client, as_user("supervisor_a"), eid, "verify_pass"))
    closed = event(client, as_user, eid)
    assert closed["status"] == "closed" and closed["closed_at"] is not None
    senders = {"*": outbox.log_sender, CLOSED: notify.tell_reporters}
    for _ in range(2):  # the closure, then the messages it queued
        with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
            outbox.deliver(session, senders, dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1))
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        rows = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.topic == notify.SMS, OutboxMessage.payload["event_id"].as_integer() == eid
            )
        ).all()
        told = {m.payload["phone"]: (m.payload["text"], m.sent_at) for m in rows}
    assert set(told) == {"13800001234", "13900005678"}
    text, sent_at = told["13800001234"]
    assert closed["number"] in text and "已办结" in text and sent_at is not None
