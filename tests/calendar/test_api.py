"""/api/calendar: reading, deadlines, edits by administrators, refusals."""

from __future__ import annotations

import datetime as dt

import httpx2
import pytest
from fastapi.testclient import TestClient

D = dt.date


def _deadline(client: TestClient, headers: dict[str, str], start: str, amount: float, unit: str) -> dict:
    res = client.get("/api/calendar/deadline", params={"start": start, "amount": amount, "unit": unit}, headers=headers)
    assert res.status_code == 200, res.text
    return res.json()


def _field(res: httpx2.Response) -> str:
    assert res.status_code == 422, res.text
    assert res.headers["content-type"].startswith("application/problem+json")
    return res.json()["errors"][0]["field"]


def test_a_year_lists_its_days_and_status(client: TestClient, officer) -> None:
    body = client.get("/api/calendar/2026", headers=officer).json()
    assert (body["status"], body["notice"]) == ("official", "国办发明电〔2025〕7号")
    days = {d["date"]: d for d in body["days"]}
    assert days["2026-02-14"]["kind"] == "workday" and days["2026-02-15"]["name"] == "春节"
    assert client.get("/api/calendar/2027", headers=officer).json()["status"] == "provisional"
    empty = client.get("/api/calendar/2035", headers=officer).json()
    assert empty["status"] is None and empty["days"] == []


def test_five_working_days_across_the_spring_festival(client: TestClient, officer) -> None:
    # Thu 02-12 → Fri 02-13, Sat 02-14 (调休), [02-15 … 02-23 春节], Tue 02-24, Wed 02-25, Thu 02-26
    body = _deadline(client, officer, "2026-02-12T10:00:00+08:00", 5, "working_days")
    assert body["deadline"] == "2026-02-26T17:30:00+08:00" and body["last_day"] == "2026-02-26"
    assert body["working_days"] == ["2026-02-13", "2026-02-14", "2026-02-24", "2026-02-25", "2026-02-26"]
    assert body["years"] == {"2026": "official"}


def test_deadlines_in_hours_and_calendar_days(client: TestClient, officer) -> None:
    hours = _deadline(client, officer, "2026-02-14T16:00:00+08:00", 4, "working_hours")
    assert hours["deadline"] == "2026-02-24T11:30:00+08:00"  # Sat 1.5 h, the holiday, Tue 2.5 h
    days = _deadline(client, officer, "2026-02-01T09:00:00Z", 15, "calendar_days")
    assert days["deadline"] == "2026-02-25T00:00:00+08:00" and days["last_day"] == "2026-02-24"
    # a period reaching into 2027 says that year's schedule is only provisional
    into_2027 = _deadline(client, officer, "2026-12-20T10:00:00+08:00", 15, "calendar_days")
    assert into_2027["last_day"] == "2027-01-04"
    assert into_2027["years"] == {"2026": "official", "2027": "provisional"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-02-12T10:00:00", "amount": 5, "unit": "working_days"}, "start"),
        ({"start": "2026-02-12T10:00:00+08:00", "amount": 5, "unit": "fortnights"}, "unit"),
        ({"start": "2026-02-12T10:00:00+08:00", "amount": 1.5, "unit": "working_days"}, "amount"),
        ({"start": "2026-02-12T10:00:00+08:00", "amount": 0, "unit": "working_hours"}, "amount"),
        ({"start": "yesterday", "amount": 5, "unit": "working_days"}, "start"),
        ({"amount": 5, "unit": "working_days"}, "start"),
    ],
)
def test_bad_deadline_input_names_the_field(client: TestClient, officer, params: dict, field: str) -> None:
    assert _field(client.get("/api/calendar/deadline", params=params, headers=officer)) == field


def test_only_calendar_writers_edit(client: TestClient, officer) -> None:
    day = {"kind": "holiday", "name": "x"}
    hours = {"periods": [{"start": "09:00", "end": "17:00"}]}
    for method, path, body in [
        ("PUT", "/api/calendar/days/2032-03-03", day),
        ("DELETE", "/api/calendar/days/2026-02-16", None),
        ("PUT", "/api/calendar/working-hours", hours),
        ("PUT", "/api/calendar/years/2026", {"status": "provisional"}),
        ("DELETE", "/api/calendar/years/2026", None),
    ]:
        assert client.request(method, path, json=body, headers=officer).status_code == 403, path
        assert client.request(method, path, json=body).status_code == 401, path
    assert client.get("/api/calendar/2026").status_code == 401
    assert client.get("/api/calendar/2026", headers=officer).json()["status"] == "official"


def test_an_edit_moves_deadlines_and_bumps_the_revision(client: TestClient, admin, restore) -> None:
    assert D(2032, 3, 1).weekday() == 0
    start = "2032-03-01T10:00:00+08:00"  # a Monday, in a year without a schedule
    rev = client.get("/api/calendar/2032", headers=admin).json()["revision"]
    assert _deadline(client, admin, start, 5, "working_days")["deadline"] == "2032-03-08T17:30:00+08:00"

    res = client.put("/api/calendar/days/2032-03-03", json={"kind": "holiday", "name": "测试假日"}, headers=admin)
    assert res.status_code == 200 and res.json()["date"] == "2032-03-03"
    assert _deadline(client, admin, start, 5, "working_days")["deadline"] == "2032-03-09T17:30:00+08:00"
    res = client.put("/api/calendar/days/2032-03-06", json={"kind": "workday", "name": "测试调休"}, headers=admin)
    assert res.status_code == 200
    # 03-02 (1), 03-03 off, 03-04 (2), 03-05 (3), Sat 03-06 worked (4), Mon 03-08 (5)
    assert _deadline(client, admin, start, 5, "working_days")["deadline"] == "2032-03-08T17:30:00+08:00"

    year = client.get("/api/calendar/2032", headers=admin).json()
    assert year["revision"] == rev + 2 and year["status"] == "provisional" and len(year["days"]) == 2

    assert client.delete("/api/calendar/days/2032-03-03", headers=admin).status_code == 204
    assert _deadline(client, admin, start, 5, "working_days")["deadline"] == "2032-03-06T17:30:00+08:00"
    res = client.delete("/api/calendar/days/2032-03-03", headers=admin)
    assert res.status_code == 404 and res.json()["errors"][0]["field"] == "date"


def test_bad_day_entries_are_refused(client: TestClient, admin, restore) -> None:
    weekday = client.put("/api/calendar/days/2032-03-02", json={"kind": "workday", "name": "x"}, headers=admin)
    assert _field(weekday) == "kind"
    assert _field(
        client.put("/api/calendar/days/1999-01-01", json={"kind": "holiday", "name": "x"}, headers=admin)
    ) == ("date")
    assert _field(
        client.put("/api/calendar/days/2032-02-30", json={"kind": "holiday", "name": "x"}, headers=admin)
    ) == ("date")
    assert _field(client.put("/api/calendar/days/2032-03-02", json={"kind": "holiday", "name": ""}, headers=admin)) == (
        "name"
    )


def test_working_hours_are_edited_and_validated(client: TestClient, admin, restore) -> None:
    url = "/api/calendar/working-hours"
    assert client.get(url, headers=admin).json() == {
        "periods": [{"start": "09:00:00", "end": "12:00:00"}, {"start": "13:30:00", "end": "17:30:00"}]
    }
    start = "2026-03-09T17:00:00+08:00"
    assert _deadline(client, admin, start, 4, "working_hours")["deadline"] == "2026-03-10T14:00:00+08:00"

    overlap = {"periods": [{"start": "09:00", "end": "12:00"}, {"start": "11:00", "end": "17:00"}]}
    assert _field(client.put(url, json=overlap, headers=admin)) == "periods.1.start"
    inverted = {"periods": [{"start": "12:00", "end": "09:00"}]}
    assert _field(client.put(url, json=inverted, headers=admin)) == "periods.0.end"
    assert _field(client.put(url, json={"periods": []}, headers=admin)) == "periods"
    assert _field(client.put(url, json={"periods": [{"start": "25:00", "end": "26:00"}]}, headers=admin)) == (
        "periods.0.start"
    )

    summer = {"periods": [{"start": "08:30", "end": "12:00"}, {"start": "14:00", "end": "18:00"}]}
    assert client.put(url, json=summer, headers=admin).status_code == 200
    # Mon 17:00–18:00 1 h, Tue 08:30–11:30 3 h
    assert _deadline(client, admin, start, 4, "working_hours")["deadline"] == "2026-03-10T11:30:00+08:00"


def test_year_status_is_set_and_a_schedule_removed(client: TestClient, admin, restore) -> None:
    url = "/api/calendar/years/2033"
    assert _field(client.put(url, json={"status": "official"}, headers=admin)) == "notice"
    res = client.put(url, json={"status": "official", "notice": "国办发明电〔2032〕1号"}, headers=admin)
    assert res.status_code == 200 and res.json()["status"] == "official"
    assert client.delete(url, headers=admin).status_code == 204
    assert client.get("/api/calendar/2033", headers=admin).json()["status"] is None
    assert client.delete(url, headers=admin).status_code == 404
