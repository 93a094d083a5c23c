"""Reports through the API: every channel, idempotency, coordinate systems, duplicates merged
and not merged, dispatch with its reason, the 会商 fallback, the clerk's queue, attachments.

Each test reports at its own spot (``spot(n)``: 400 m apart inside 东街道), so tests sharing the
session's database never merge into each other's events.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from fastapi.testclient import TestClient

from chengguan.config import Settings
from chengguan.intake.channels import CHANNELS
from chengguan.kit.coords import CRS, convert_point
from tests.intake.conftest import OUTSIDE, IntakeCity, report

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


def spot(n: int, street: str = "A1") -> tuple[float, float]:
    """The n-th test spot: a lattice 0.005° (~430 m) apart, inside 东街道 (A1) or 西街道 (A2)."""
    x0 = {"A1": 116.0025, "A2": 116.1025}[street]
    return round(x0 + 0.005 * (n % 19), 6), round(39.905 + 0.01 * (n // 19), 6)


def at(n: int, **fields: object) -> dict[str, object]:
    lon, lat = spot(n)
    return report(lon=lon, lat=lat, crs="wgs84", **fields)


def post(client: TestClient, headers: dict[str, str], body: dict[str, object]):
    return client.post("/api/intake/reports", json=body, headers=headers)


def test_a_report_becomes_an_event_dispatched_with_its_reason(client, as_user, intake_city: IntakeCity) -> None:
    res = post(client, as_user("officer_a1"), at(1))
    assert res.status_code == 201, res.text
    out = res.json()
    assert out["status"] == "created" and out["event_number"].startswith("SJ")
    assert out["location"]["cell_code"].startswith("990101001")
    dispatch = out["dispatch"]
    assert dispatch["unit"]["code"] == "990101001-ZFD" and not dispatch["consultation"]
    assert "清单第901行" in dispatch["reason"] and "事件先属地" in dispatch["reason"]
    assert "处置时限" in dispatch["reason"] and dispatch["deadline_at"] is not None
    event = client.get(f"/api/events/{out['event_id']}", headers=as_user("dispatcher_a")).json()
    assert event["status"] == "dispatched" and event["unit_id"] == intake_city.city.org["A1_squad"]
    history = client.get(f"/api/events/{out['event_id']}/dispatches", headers=as_user("dispatcher_a")).json()
    assert len(history) == 1 and history[0]["automatic"] and history[0]["row_no"] == 901


def test_component_goes_to_its_owner_first(client, as_user, intake_city: IntakeCity) -> None:
    res = post(client, as_user("officer_a1"), at(2, category_key="C0101", description="上水井盖丢失"))
    assert res.json()["dispatch"]["unit"]["code"] == "990101-SW"
    assert "部件先属主" in res.json()["dispatch"]["reason"]


def test_sending_the_same_report_twice_never_creates_two(client, as_user, intake_city: IntakeCity) -> None:
    body = at(3, channel="video_ai", external_id="cam-17/alarm-0001", description="视频识别：占道经营")
    first = client.post("/api/intake/reports", json=body, headers={"X-API-Key": intake_city.city.api_key})
    again = client.post("/api/intake/reports", json=body, headers={"X-API-Key": intake_city.city.api_key})
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["repeated"] and again.json()["report_id"] == first.json()["report_id"]
    event = client.get(f"/api/events/{first.json()['event_id']}", headers=as_user("dispatcher_a")).json()
    assert event["report_count"] == 1


@pytest.mark.parametrize("code", sorted(CHANNELS))
def test_every_channel_is_taken(client, as_user, intake_city: IntakeCity, code: str) -> None:
    n = 10 + sorted(CHANNELS).index(code)
    body = at(n, channel=code, description=f"{CHANNELS[code].name_zh}：路口占道经营")
    if CHANNELS[code].needs_external_id:
        body["external_id"] = f"{code}-0001"
    res = post(client, as_user("admin_a"), body)
    assert res.status_code in (200, 201), res.text
    assert res.json()["status"] == "created"
    systems_without_id = post(client, as_user("admin_a"), {**body, "external_id": None})
    if CHANNELS[code].needs_external_id:
        assert systems_without_id.status_code == 422
        assert systems_without_id.json()["errors"][0]["field"] == "external_id"


@pytest.mark.parametrize("crs", [CRS.GCJ02, CRS.BD09])
def test_gcj02_and_bd09_are_stored_as_wgs84(client, as_user, intake_city: IntakeCity, crs: CRS) -> None:
    lon, lat = spot(30 + list(CRS).index(crs))
    sent = convert_point(lon, lat, CRS.WGS84, crs)
    assert abs(sent[0] - lon) > 1e-4  # the shift is real (hundreds of metres in Beijing)
    body = report(lon=sent[0], lat=sent[1], crs=str(crs))
    out = post(client, as_user("officer_a1"), body).json()
    assert out["location"]["lon"] == pytest.approx(lon, abs=1e-7)
    assert out["location"]["lat"] == pytest.approx(lat, abs=1e-7)


def test_a_repeat_nearby_is_merged_and_says_why(client, as_user, intake_city: IntakeCity) -> None:
    first = post(client, as_user("officer_a1"), at(40, description="东门路口有人占道经营卖水果"))
    lon, lat = spot(40)
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    second = post(
        client,
        as_user("citizen_a"),
        report(
            channel="citizen",
            lon=lon + 0.0002,
            lat=lat,
            crs="wgs84",
            submitted_at=later,
            description="东门路口有人占道经营卖水果，很久了",
        ),
    )
    out = second.json()
    assert out["status"] == "merged" and out["event_id"] == first.json()["event_id"]
    assert "距离" in out["duplicate"]["reason"]
    event = client.get(f"/api/events/{out['event_id']}", headers=as_user("dispatcher_a")).json()
    assert event["report_count"] == 2
    reports = client.get(f"/api/intake/events/{out['event_id']}/reports", headers=as_user("dispatcher_a")).json()
    assert [r["channel"] for r in reports] == ["patrol", "citizen"]


def test_far_apart_or_another_kind_of_problem_is_not_merged(client, as_user, intake_city: IntakeCity) -> None:
    first = post(client, as_user("officer_a1"), at(41, description="西口路边有人占道经营"))
    far = post(client, as_user("officer_a1"), at(42, description="西口路边有人占道经营"))  # 430 m away
    lon, lat = spot(41)
    other = post(
        client,
        as_user("officer_a1"),
        report(lon=lon, lat=lat, crs="wgs84", category_key="C0102", description="污水井盖丢失"),
    )
    ids = {r.json()["event_id"] for r in (first, far, other)}
    assert len(ids) == 3 and all(r.json()["status"] == "created" for r in (first, far, other))


def test_a_possible_duplicate_waits_for_the_clerk(client, as_user, intake_city: IntakeCity) -> None:
    first = post(client, as_user("officer_a1"), at(43, description="路口有人占道经营卖水果"))
    lon, lat = spot(43)
    nearby = report(lon=lon, lat=lat + 0.00135, crs="wgs84", description="路口有人摆摊卖水果和蔬菜挡住了路")  # 150 m
    maybe = post(client, as_user("officer_a1"), nearby).json()
    assert maybe["status"] == "pending" and maybe["pending_reasons"] == ["duplicate"]
    assert maybe["event_id"] is None
    assert [s["event_id"] for s in maybe["suggestions"]] == [first.json()["event_id"]]
    decided = client.post(
        f"/api/intake/reports/{maybe['report_id']}/decision",
        json={"action": "merge", "event_id": first.json()["event_id"]},
        headers=as_user("clerk_a"),
    )
    assert decided.status_code == 200 and decided.json()["status"] == "merged"


def test_outside_the_city_is_refused(client, as_user, intake_city: IntakeCity) -> None:
    res = post(client, as_user("officer_a1"), report(lon=OUTSIDE[0], lat=OUTSIDE[1], crs="wgs84"))
    assert res.status_code == 422
    assert res.json()["errors"][0]["field"] == "lon, lat" and "outside jurisdiction" in res.json()["detail"]


def test_no_location_at_all_is_a_400_naming_the_fields(client, as_user, intake_city: IntakeCity) -> None:
    res = post(client, as_user("officer_a1"), report())
    assert res.status_code == 400 and res.json()["errors"][0]["field"] == "lon, lat, address"
    half = post(client, as_user("officer_a1"), report(lon=116.03))
    assert half.status_code == 422 and "lat is missing" in half.text


def test_an_address_nobody_can_place_waits_for_the_clerk(client, as_user, intake_city: IntakeCity) -> None:
    out = post(client, as_user("clerk_a"), report(channel="citizen", address="火星基地三号舱门口")).json()
    assert out["status"] == "pending" and out["pending_reasons"] == ["location"]
    queue = client.get("/api/intake/queue?limit=1000", headers=as_user("clerk_a")).json()
    assert out["report_id"] in {r["id"] for r in queue["items"]}
    lon, lat = spot(44)
    placed = client.post(
        f"/api/intake/reports/{out['report_id']}/decision",
        json={"action": "new", "category_key": "E0502", "lon": lon, "lat": lat},
        headers=as_user("clerk_a"),
    ).json()
    assert placed["status"] == "created" and placed["dispatch"]["unit"]["code"] == "990101001-ZFD"


def test_without_a_confident_category_the_clerk_classifies(client, as_user, intake_city: IntakeCity) -> None:
    out = post(client, as_user("officer_a1"), at(45, category_key=None, description="这里有点问题")).json()
    assert out["status"] == "pending" and "category" in out["pending_reasons"]
    rejected = client.post(
        f"/api/intake/reports/{out['report_id']}/decision", json={"action": "reject"}, headers=as_user("clerk_a")
    )
    assert rejected.status_code == 422 and rejected.json()["errors"][0]["field"] == "reason"
    rejected = client.post(
        f"/api/intake/reports/{out['report_id']}/decision",
        json={"action": "reject", "reason": "无具体诉求"},
        headers=as_user("clerk_a"),
    )
    assert rejected.json()["status"] == "rejected"
    again = client.post(
        f"/api/intake/reports/{out['report_id']}/decision",
        json={"action": "reject", "reason": "x"},
        headers=as_user("clerk_a"),
    )
    assert again.status_code == 409


def test_unclear_ownership_goes_to_consultation_and_is_settled(client, as_user, intake_city: IntakeCity) -> None:
    lon, lat = spot(1, street="A2")  # 西街道 has no rule for 街面秩序
    out = post(client, as_user("admin_a"), report(lon=lon, lat=lat, crs="wgs84")).json()
    assert out["dispatch"]["consultation"] and out["dispatch"]["unit"]["name"] == "甲区城市管理指挥中心"
    assert "会商" in out["dispatch"]["reason"]
    queue = client.get("/api/consultations", headers=as_user("dispatcher_a")).json()["items"]
    consultation = next(c for c in queue if c["event_id"] == out["event_id"])
    settled = client.post(
        f"/api/consultations/{consultation['id']}/resolve",
        json={"unit_id": intake_city.city.org["A_water"], "note": "会商确定由水务处理"},
        headers=as_user("dispatcher_a"),
    )
    assert settled.status_code == 200 and not settled.json()["automatic"]
    event = client.get(f"/api/events/{out['event_id']}", headers=as_user("dispatcher_a")).json()
    assert event["status"] == "dispatched" and event["unit_id"] == intake_city.city.org["A_water"]
    again = client.post(
        f"/api/consultations/{consultation['id']}/resolve",
        json={"unit_id": 1, "note": "again"},
        headers=as_user("dispatcher_a"),
    )
    assert again.status_code == 409


def test_a_dispatcher_override_keeps_what_it_replaced(client, as_user, intake_city: IntakeCity) -> None:
    out = post(client, as_user("officer_a1"), at(46)).json()
    res = client.post(
        f"/api/events/{out['event_id']}/dispatch",
        json={"unit_id": intake_city.city.org["A_water"], "reason": "现场为水务设施问题"},
        headers=as_user("dispatcher_a"),
    )
    assert res.status_code == 200 and res.json()["unit_id"] == intake_city.city.org["A_water"]
    history = client.get(f"/api/events/{out['event_id']}/dispatches", headers=as_user("dispatcher_a")).json()
    assert [h["automatic"] for h in history] == [True, False]
    assert history[1]["replaced_unit_id"] == intake_city.city.org["A1_squad"]
    assert history[1]["override_reason"] == "现场为水务设施问题"
    no_reason = client.post(
        f"/api/events/{out['event_id']}/dispatch",
        json={"unit_id": intake_city.city.org["A_water"]},
        headers=as_user("dispatcher_a"),
    )
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
    assert (
        client.post(f"/api/events/{out['event_id']}/dispatch", json={}, headers=as_user("clerk_a")).status_code == 403
    )


def test_a_batch_takes_the_good_reports_and_names_the_bad(client, as_user, intake_city: IntakeCity) -> None:
    batch = [at(47), {**at(48), "channel": "carrier-pigeon"}, at(49, category_key="E9999")]
    res = client.post("/api/intake/reports/batch", json={"reports": batch}, headers=as_user("clerk_a")).json()
    assert res["outcomes"][0]["status"] == "created" and res["outcomes"][1] is None and res["outcomes"][2] is None
    assert [(e["index"], e["field"]) for e in res["errors"]] == [(1, "channel"), (2, "category_key")]


def test_input_limits_are_enforced(client, as_user, intake_city: IntakeCity) -> None:
    res = post(client, as_user("officer_a1"), at(50, description="长" * 4001))
    assert res.status_code == 422 and res.json()["errors"][0]["field"] == "description"


def test_attachments_are_typed_by_content_and_stored_once(
    client, as_user, intake_city: IntakeCity, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    citizen = as_user("citizen_a")
    out = post(client, citizen, at(51, channel="citizen")).json()
    url = f"/api/intake/reports/{out['report_id']}/attachments"
    first = client.post(url, files={"file": ("photo.png", io.BytesIO(PNG), "image/png")}, headers=citizen)
    again = client.post(url, files={"file": ("same.png", io.BytesIO(PNG), "image/png")}, headers=citizen)
    assert first.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert first.json()["content_type"] == "image/png"
    fake = client.post(
        url, files={"file": ("photo.png", io.BytesIO(b"MZ not a picture"), "image/png")}, headers=citizen
    )
    assert fake.status_code == 415
    monkeypatch.setattr(settings, "max_upload_mb", 1)
    big = client.post(url, files={"file": ("big.png", io.BytesIO(PNG + b"\x00" * 2**21), "image/png")}, headers=citizen)
    assert big.status_code == 413
    officers = post(client, as_user("officer_a1"), at(53)).json()  # not the citizen's to add to
    theirs = f"/api/intake/reports/{officers['report_id']}/attachments"
    files = {"file": ("p.png", io.BytesIO(PNG), "image/png")}
    assert client.post(theirs, files=files, headers=citizen).status_code == 404


def test_citizens_report_but_do_not_read_the_city_s_records(client, as_user, intake_city: IntakeCity) -> None:
    citizen = as_user("citizen_a")
    out = post(client, citizen, at(52, channel="citizen"))
    assert out.status_code == 201
    assert client.get("/api/intake/queue", headers=citizen).status_code == 403
    assert client.get(f"/api/events/{out.json()['event_id']}", headers=citizen).status_code == 403
    assert client.get("/api/intake/channels", headers=citizen).status_code == 200
