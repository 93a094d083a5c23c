"""POST requests: a report through the intake pipeline and back as a service request; the form's
answers and the reporter's data stored (never shown); every bad input an Open311 error that
writes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from chengguan.audit import AuditEntry
from chengguan.auth import service as auth_service
from chengguan.auth.models import User
from chengguan.cases.models import Event
from tests.intake.conftest import OUTSIDE
from tests.open311.conftest import (
    BASE,
    Open311City,
    report_count,
    same_in_both,
    spot,
    stored,
    validate,
    xml_root,
)

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
PERSONAL = {
    "email": "li.lei@example.org",
    "first_name": "Lei",
    "last_name": "Li",
    "phone": "(010) 6512-3456",
    "device_id": "device-7f3a-open311",
    "account_id": "acct-88812",
}


def test_a_request_becomes_a_dispatched_event_and_reads_back(client: TestClient, post, db) -> None:
    res = post(1)
    assert res.status_code == 200, res.text
    created = res.json()
    validate("created", created)
    (item,) = created
    number = item["service_request_id"]
    assert number.startswith("SJ") and "token" not in item
    assert "处置时限" in item["service_notice"]

    (request,) = same_in_both(client, f"requests/{number}")
    validate("requests", [request])
    with db() as session:
        event = session.get(Event, int(number[2:]))
        assert event is not None and event.source == "open311"
        deadline = event.deadline_at
    assert request["status"] == "open" and request["service_code"] == "E0502" and request["service_name"] == "占道经营"
    assert request["agency_responsible"] == "东街道综合执法队"
    assert request["status_notes"].startswith("已派遣")
    assert (request["long"], request["lat"]) == spot(1)  # WGS-84 in, WGS-84 out
    assert deadline is not None
    assert dt.datetime.fromisoformat(request["expected_datetime"]) == deadline.replace(microsecond=0)
    assert request["expected_datetime"].endswith("+08:00") and request["requested_datetime"].endswith("+08:00")
    assert request["description"] == "Open311 测试 1：路边有人推车卖水果"


def test_the_xml_answer_is_the_same_request(post) -> None:
    res = post(2, fmt="xml")
    assert res.status_code == 200 and res.headers["content-type"] == "text/xml; charset=utf-8"
    root = xml_root(res.content)
    assert root.tag == "service_requests"
    request = root.find("request")
    assert request is not None and (request.findtext("service_request_id") or "").startswith("SJ")
    assert request.find("token") is None


def test_answers_and_personal_data_are_stored_but_never_shown(client: TestClient, post, db) -> None:
    res = post(
        3,
        **{"attribute[goods][]": ["produce", "food"], "attribute[stall_count]": "3"},
        media_url="https://photos.example.org/open311/3.jpg",
        **PERSONAL,
    )
    number = res.json()[0]["service_request_id"]
    with db() as session:
        report, extra = stored(session, number)
        assert report.attributes == {"stall_type": "cart", "goods": ["produce", "food"], "stall_count": 3}
        assert (report.reporter_name, report.reporter_phone) == ("Lei Li", "010 6512-3456")
        assert (extra.email, extra.device_id, extra.account_id) == (
            "li.lei@example.org",
            "device-7f3a-open311",
            "acct-88812",
        )
        logged = session.scalars(select(AuditEntry).where(AuditEntry.entity == "open311_requests")).all()
        assert logged and all("email" not in (e.after or {}) and "account_id" not in (e.after or {}) for e in logged)
    (shown,) = same_in_both(client, f"requests/{number}")
    assert shown["media_url"] == "https://photos.example.org/open311/3.jpg"
    public = [
        client.get(f"{BASE}/requests/{number}.json").text,
        client.get(f"{BASE}/requests/{number}.xml").text,
        client.get(f"{BASE}/requests.json", params={"service_request_id": number}).text,
        client.get(f"{BASE}/requests.xml").text,
    ]
    for text in public:
        for secret in ("li.lei", "Lei Li", "6512", "device-7f3a", "acct-88812"):
            assert secret not in text


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"lat": None, "long": None}, "lat, long, address_string, address_id"),
        ({"long": None}, "long"),
        ({"lat": None}, "lat"),
        ({"address_string": "东街道开放接口测试广场"}, "lat, long, address_string, address_id"),
        ({"lat": None, "long": None, "address_string": "某地", "address_id": "1"}, "lat, long, address_string"),
    ],
    ids=["none", "lat-only", "long-only", "coordinates-and-address", "address-and-id"],
)
def test_exactly_one_location_is_given(post, db, fields: dict[str, Any], field: str) -> None:
    with db() as session:
        before = report_count(session)
    res = post(4, **fields)
    assert res.status_code == 400, res.text
    assert res.json()[0]["code"] == 400 and res.json()[0]["description"].startswith(field)
    with db() as session:
        assert report_count(session) == before


def test_address_id_is_a_gazetteer_entry(client: TestClient, post, open311_city: Open311City) -> None:
    res = post(None, address_id=str(open311_city.poi_id), description="开放接口测试楼门口有人摆摊卖菜")
    assert res.status_code == 200, res.text
    (shown,) = same_in_both(client, f"requests/{res.json()[0]['service_request_id']}")
    assert shown["address_id"] == str(open311_city.poi_id) and shown["address"] == open311_city.poi_name
    assert (shown["long"], shown["lat"]) == open311_city.poi_point
    for unknown in ("99999999", "9" * 30, "楼"):
        res = post(None, address_id=unknown)
        assert res.status_code == 400 and res.json()[0]["description"].startswith("address_id"), unknown


def test_an_address_string_is_placed_by_the_gazetteer(client: TestClient, post, open311_city: Open311City) -> None:
    address = f"测试市东街道{open311_city.square_name}东侧"
    res = post(None, address_string=address, description="广场东侧有人摆地摊")
    assert res.status_code == 200, res.text
    (shown,) = same_in_both(client, f"requests/{res.json()[0]['service_request_id']}")
    assert shown["address"] == address and (shown["long"], shown["lat"]) == open311_city.square_point


def test_empty_fields_count_as_absent(post) -> None:
    res = post(5, address_string="", address_id="", email="", phone=" ", media_url="", jurisdiction_id="")
    assert res.status_code == 200, res.text


def test_a_repeat_joins_the_open_event(post) -> None:
    first = post(6, description="Open311 测试：北门外三轮车卖西瓜")
    again = post(6, description="Open311 测试：北门外三轮车卖西瓜，还在")
    assert again.json()[0]["service_request_id"] == first.json()[0]["service_request_id"]
    assert again.json()[0]["service_notice"].startswith("已并入") and "已并入" not in first.json()[0]["service_notice"]


LONG = "很" * 4001
BAD_INPUTS = [
    ({"description": LONG}, 400, "description"),
    ({"service_code": None}, 400, "service_code"),
    ({"service_code": "E9999"}, 404, "service_code"),
    ({"service_code": "E05"}, 404, "service_code"),
    ({"attribute[stall_type]": None}, 400, "attribute[stall_type]"),
    ({"attribute[stall_type]": "spaceship"}, 400, "attribute[stall_type]"),
    ({"attribute[stall_type]": None, "attribute[stall_type][]": ["cart", "fixed"]}, 400, "attribute[stall_type]"),
    ({"attribute[stall_count]": "three"}, 400, "attribute[stall_count]"),
    ({"attribute[goods][]": ["produce", "gold"]}, 400, "attribute[goods]"),
    ({"attribute[colour]": "red"}, 400, "attribute[colour]"),
    (
        {
            "service_code": "E0510",
            "attribute[stall_type]": None,
            "attribute[noise_source]": "square_dance",
            "attribute[period]": "night",
            "attribute[observed_at]": "2026-11-22T23:00:00",
        },
        400,
        "attribute[observed_at]",
    ),
    ({"media_url": "ftp://photos.example.org/1.jpg"}, 400, "media_url"),
    ({"email": "not-an-address"}, 400, "email"),
    ({"phone": "call me maybe"}, 400, "phone"),
    ({"lat": "95"}, 400, "lat"),
    ({"long": "east"}, 400, "long"),
    ({"lat": OUTSIDE[1], "long": OUTSIDE[0]}, 400, "lon, lat"),
    ({"jurisdiction_id": "sfgov.org"}, 404, "jurisdiction_id"),
]


@pytest.mark.parametrize(
    ("fields", "status", "field"), BAD_INPUTS, ids=[f"{i}-{b[2]}" for i, b in enumerate(BAD_INPUTS)]
)
def test_bad_input_is_an_open311_error_and_writes_nothing(post, db, fields, status: int, field: str) -> None:
    with db() as session:
        before = report_count(session)
    res = post(7, **fields)
    assert res.status_code == status, res.text
    assert res.headers["content-type"] == "application/json; charset=utf-8"
    errors = res.json()
    assert all(set(e) == {"code", "description"} and e["code"] == status for e in errors)
    assert any(e["description"].startswith(field) for e in errors), errors
    with db() as session:
        assert report_count(session) == before


def test_several_faults_come_back_together_in_xml(post) -> None:
    res = post(None, fmt="xml", description=LONG, email="nope")
    assert res.status_code == 400
    root = xml_root(res.content)
    assert root.tag == "errors"
    described = sorted((e.findtext("description") or "").split(":")[0] for e in root.findall("error"))
    assert described == ["description", "email", "lat, long, address_string, address_id"]
    assert {e.findtext("code") for e in root.findall("error")} == {"400"}


def test_the_api_key_is_required_and_checked(client: TestClient, post, db, open311_city: Open311City) -> None:
    missing = post(8, api_key=None)
    assert missing.status_code == 403 and missing.json()[0]["description"].startswith("api_key")
    assert post(8, api_key=open311_city.api_key[:-3] + "xyz").status_code == 403
    assert post(8, api_key="garbage").status_code == 403
    with db() as session:
        system = session.get(User, open311_city.system_user_id)
        assert system is not None
        key_row, key = auth_service.create_api_key(session, system, "revoked soon", None)
        auth_service.revoke_api_key(session, system, key_row.id)
    assert post(8, api_key=key).status_code == 403
    # the key may also ride in the query string, as some clients send it
    res = client.post(
        f"{BASE}/requests.json",
        params={"api_key": open311_city.api_key},
        data={
            "service_code": "E0510",
            "lat": spot(8)[1],
            "long": spot(8)[0],
            "attribute[noise_source]": "fitness",
            "attribute[period]": "day",
        },
    )
    assert res.status_code == 200, res.text


def test_a_validation_error_of_fastapi_is_an_open311_error(client: TestClient, open311_city: Open311City) -> None:
    """A file where text belongs fails FastAPI's own checks: still an Open311 400."""
    res = client.post(
        f"{BASE}/requests.xml",
        data={"api_key": open311_city.api_key, "service_code": "E0502"},
        files={"description": ("d.txt", b"a file, not text", "text/plain")},
    )
    assert res.status_code == 400, res.text
    error = xml_root(res.content).find("error")
    assert error is not None and (error.findtext("description") or "").startswith("description")
