"""GET requests: every filter, the 90-day window, the 1,000 cap, open/closed from the event's
status; GET one request. The session's database holds other tests' events too, so each test
looks for its own requests by number."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, insert

from chengguan.cases.models import Event, EventStatus
from chengguan.db import utcnow
from tests.open311.conftest import BASE, Open311City, same_in_both, validate, xml_root

BULK_CODE = "E9701"  # no such category: the cap test's events only


def _numbers(found: list[dict[str, Any]]) -> set[str]:
    return {r["service_request_id"] for r in found}


def _get(client: TestClient, **params: str) -> list[dict[str, Any]]:
    res = client.get(f"{BASE}/requests.json", params=params)
    assert res.status_code == 200, res.text
    validate("requests", res.json())
    return res.json()


def _change(db, number: str, **values: Any) -> None:
    with db() as session:
        event = session.get(Event, int(number[2:]))
        assert event is not None
        for name, value in values.items():
            setattr(event, name, value)


@pytest.fixture
def three(post, db) -> tuple[str, str, str]:
    """An open 占道经营, an open 公共场所噪声 and a closed 占道经营, reported just now."""
    vending = post(20).json()[0]["service_request_id"]
    noise = post(
        21,
        service_code="E0510",
        **{"attribute[stall_type]": None, "attribute[noise_source]": "square_dance", "attribute[period]": "night"},
        description="Open311 测试：广场舞音响太响",
    ).json()[0]["service_request_id"]
    closed = post(22).json()[0]["service_request_id"]
    _change(db, closed, status=EventStatus.CLOSED, closed_at=utcnow())
    return vending, noise, closed


def test_filters_by_code_and_status(client: TestClient, three: tuple[str, str, str]) -> None:
    vending, noise, closed = three
    mine = set(three)
    assert _numbers(_get(client)) >= mine  # the default: every status and code of the last 90 days
    assert _numbers(_get(client, service_code="E0510")) & mine == {noise}
    assert _numbers(_get(client, service_code="e0510, E0502")) & mine == mine
    assert _numbers(_get(client, status="open")) & mine == {vending, noise}
    assert _numbers(_get(client, status="closed")) & mine == {closed}
    assert _numbers(_get(client, status="open,closed", service_code="E0502")) & mine == {vending, closed}


def test_a_closed_request_says_when_it_closed(client: TestClient, db, three: tuple[str, str, str]) -> None:
    closed = three[2]
    (request,) = same_in_both(client, f"requests/{closed}")
    with db() as session:
        event = session.get(Event, int(closed[2:]))
        assert event is not None and event.closed_at is not None
        closed_at = event.closed_at.replace(microsecond=0)
    assert request["status"] == "closed" and request["status_notes"].startswith("已结案")
    assert dt.datetime.fromisoformat(request["updated_datetime"]) == closed_at
    _change(db, closed, status=EventStatus.VOID)
    assert client.get(f"{BASE}/requests/{closed}.json").json()[0]["status"] == "closed"


def test_service_request_id_overrides_every_other_argument(client: TestClient, three: tuple[str, str, str]) -> None:
    vending, noise, _closed = three
    found = _get(
        client,
        service_request_id=f"{vending}, {noise.lower()},SJ9999999999,nonsense",
        service_code="C0101",
        status="closed",
        start_date="2020-01-01T00:00:00Z",
        end_date="2020-01-02T00:00:00Z",
    )
    assert _numbers(found) == {vending, noise}


def test_the_window_is_the_last_90_days_unless_asked(client: TestClient, post, db) -> None:
    old = post(23, description="Open311 测试：一百天前的地摊").json()[0]["service_request_id"]
    now = utcnow()
    _change(db, old, first_reported_at=now - dt.timedelta(days=100))

    def w3c(days: int) -> str:
        return (now - dt.timedelta(days=days)).isoformat()

    assert old not in _numbers(_get(client))
    assert old in _numbers(_get(client, start_date=w3c(120), end_date=w3c(60)))
    assert old in _numbers(_get(client, start_date=w3c(120)))  # to start + 90 days
    assert old in _numbers(_get(client, end_date=w3c(95)))  # from end - 90 days
    assert old not in _numbers(_get(client, start_date=w3c(99)))
    day = (now - dt.timedelta(days=100)).astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    assert old in _numbers(_get(client, start_date=day.isoformat(), end_date=(day + dt.timedelta(days=1)).isoformat()))


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-05-01T00:00:00Z"}, "end_date"),
        ({"start_date": "2026-05-01T00:00:00+08:00", "end_date": "2026-04-01T00:00:00+08:00"}, "end_date"),
        ({"start_date": "last tuesday"}, "start_date"),
        ({"status": "open,fixed"}, "status"),
    ],
    ids=["span-over-90-days", "end-before-start", "not-a-date", "unknown-status"],
)
def test_bad_arguments_are_400(client: TestClient, open311_city: Open311City, params: dict[str, str], field: str):
    for fmt in ("json", "xml"):
        res = client.get(f"{BASE}/requests.{fmt}", params=params)
        assert res.status_code == 400
        errors = (
            res.json() if fmt == "json" else [{"description": e.findtext("description")} for e in xml_root(res.content)]
        )
        assert errors[0]["description"].startswith(field)


@pytest.fixture
def bulk(app, open311_city: Open311City) -> Iterator[dt.datetime]:
    """1,001 events of a code of their own, an hour apart, ending 200 days ago (removed afterwards)."""
    last = utcnow().replace(microsecond=0) - dt.timedelta(days=200)
    org = open311_city.intake.city.org["A1c2"]
    rows = [
        {
            "status": EventStatus.ACCEPTED,
            "category_key": BULK_CODE,
            "title": f"批量 {i}",
            "description": f"批量事件 {i}",
            "org_id": org,
            "source": "open311",
            "first_reported_at": (at := last - dt.timedelta(hours=i)),
            "last_reported_at": at,
            "created_at": at,
            "updated_at": at,
        }
        for i in range(1001)
    ]
    with app.state.sessionmaker.begin() as session:
        session.execute(insert(Event), rows)
    yield last
    with app.state.sessionmaker.begin() as session:
        session.execute(delete(Event).where(Event.category_key == BULK_CODE))


def test_at_most_1000_requests_come_back_newest_first(client: TestClient, bulk: dt.datetime) -> None:
    window = {"start_date": (bulk - dt.timedelta(days=60)).isoformat(), "end_date": bulk.isoformat()}
    found = _get(client, service_code=BULK_CODE, **window)
    assert len(found) == 1000
    times = [dt.datetime.fromisoformat(r["requested_datetime"]) for r in found]
    assert times[0] == bulk and times == sorted(times, reverse=True)
    assert (
        len(xml_root(client.get(f"{BASE}/requests.xml", params={"service_code": BULK_CODE, **window}).content)) == 1000
    )


@pytest.mark.parametrize("number", ["SJ9999999999", "nonsense"])
def test_an_unknown_request_is_404(client: TestClient, open311_city: Open311City, number: str) -> None:
    res = client.get(f"{BASE}/requests/{number}.json")
    assert res.status_code == 404 and res.json()[0]["code"] == 404
    assert client.get(f"{BASE}/requests/{number}.xml").status_code == 404


def test_published_descriptions_carry_no_phone_or_id_number(client: TestClient, post) -> None:
    res = post(31, description="占道摆摊，请联系我13912345678，身份证110105199003071234")
    number = res.json()[0]["service_request_id"]
    found = client.get(f"{BASE}/requests/{number}.json").json()[0]
    assert "13912345678" not in found["description"] and "110105199003071234" not in found["description"]
    assert found["description"].startswith("占道摆摊，请联系我")
