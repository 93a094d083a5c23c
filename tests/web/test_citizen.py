"""The citizen portal without a browser: every error of the report form in Chinese next to its
field, the tracking number, phone verification by SMS code, the rate limit and the size limit,
tracking, the rating (only after 结案, only once, on the event's timeline), and the public map
(coarsened, no personal data)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import re
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from chengguan.cases.models import CaseStep, Event, EventStatus
from chengguan.db import utcnow
from chengguan.intake import notify
from chengguan.intake.models import Attachment, Report
from chengguan.outbox import OutboxMessage
from chengguan.portal import service as portal
from chengguan.portal.models import CitizenReport
from tests.cases.conftest import JPEG, spot
from tests.intake.conftest import OUTSIDE
from tests.web.conftest import csrf_of

SUBMISSION = re.compile(r'name="submission" value="([^"]+)"')
TRACKED = re.compile(r"^/citizen/track/([0-9A-Z]{12})\?new=1$")
PHONE = "13912345678"
_addresses = itertools.count(1)
_spots = itertools.count(250)  # the event-flow tests' spots run from 0: no report here merges into theirs

Citizen = Callable[[], TestClient]


@pytest.fixture
def citizen(app, intake_city) -> Iterator[Citizen]:
    """``citizen()`` → a browser-like client with no account, from an address of its own (the
    rate limit counts per address)."""
    clients: list[TestClient] = []

    def make() -> TestClient:
        n = next(_addresses)
        client = TestClient(app, follow_redirects=False, client=(f"10.77.{n // 250}.{n % 250 + 1}", 50000))
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def form_of(client: TestClient) -> dict[str, str]:
    page = client.get("/citizen/report")
    assert page.status_code == 200, page.text
    found = SUBMISSION.search(page.text)
    assert found
    return {"csrf_token": csrf_of(page.text), "submission": found.group(1)}


def good(**fields: str) -> dict[str, str]:
    """A good report at a spot of its own (a report at another's spot could wait as a possible duplicate)."""
    lon, lat = spot(next(_spots))
    body = {"description": "路口有人占道摆摊卖水果，影响通行", "lon": str(lon), "lat": str(lat), "category": "E0502"}
    body.update(fields)
    return body


def jpeg(name: str = "现场.jpg", data: bytes = JPEG) -> tuple[str, tuple[str, bytes, str]]:
    return ("photos", (name, data, "image/jpeg"))


def report(client: TestClient, files: list | None = None, **fields: str) -> str:
    """Send a good report (with ``fields`` changed); its tracking number."""
    res = client.post("/citizen/report", data={**form_of(client), **good(**fields)}, files=files or [])
    assert res.status_code == 303, res.text
    found = TRACKED.match(res.headers["location"])
    assert found, res.headers["location"]
    return found.group(1)


def field_error(html: str, field: str) -> str:
    found = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', html)
    assert found, f"no error shown for {field}"
    return found.group(1)


def event_of(platform_session, tracking: str) -> Event:
    platform_session.expire_all()
    row = platform_session.scalar(select(CitizenReport).where(CitizenReport.tracking == tracking))
    report_row = platform_session.get(Report, row.report_id)
    return platform_session.get(Event, report_row.event_id)


def close(client: TestClient, as_user, photo_of: Callable[[int], int], event_id: int) -> None:
    """处理反馈 with a photo by the squad's officer, 核查通过 by the supervisor; auto-结案 follows."""
    body = {"fields": {"result": "已劝离摊贩，现场已清理"}, "evidence_ids": [photo_of(event_id)]}
    res = client.post(f"/api/events/{event_id}/actions/feedback", json=body, headers=as_user("officer_a1"))
    assert res.status_code == 200, res.text
    body = {"fields": {"note": "现场已恢复"}}
    res = client.post(f"/api/events/{event_id}/actions/verify_pass", json=body, headers=as_user("supervisor_a"))
    assert res.status_code == 200 and res.json()["state"] == "closed", res.text


# -- the report form ----------------------------------------------------------------------------------


def test_every_error_of_the_report_form_is_shown_in_chinese_next_to_its_field(citizen) -> None:
    client = citizen()
    base = form_of(client)

    res = client.post("/citizen/report", data={**base, "description": "  "})
    assert res.status_code == 422
    assert field_error(res.text, "description") == "请描述问题"
    assert field_error(res.text, "location") == "请在地图上选点或填写地址"
    assert 'role="alert"' in res.text and 'aria-invalid="true" aria-describedby="description-error"' in res.text

    cases = [
        ({"lon": "116.03", "lat": "north"}, "location", "地图选点无效，请重新选择"),
        ({"description": "长" * 1001}, "description", "不能超过1000字"),
        ({"address": "路" * 201, "lon": "", "lat": ""}, "address", "地址不能超过200字"),
        ({"category": "X9999"}, "category", "请从列表中选择问题类型"),
        ({"phone": "12345"}, "phone", "请输入11位手机号码"),
        ({"phone": PHONE}, "code", "请输入短信验证码"),
        ({"phone": PHONE, "code": "000000"}, "code", "验证码已失效，请重新获取"),  # none was sent
        ({"lon": str(OUTSIDE[0]), "lat": str(OUTSIDE[1])}, "location", "不在本市管辖范围内"),  # the pipeline's
    ]
    for fields, field, message in cases:
        res = client.post("/citizen/report", data={**base, **good(**fields)})
        assert res.status_code in (400, 422), (fields, res.status_code)
        assert field_error(res.text, field) == message, fields
        assert "路口有人占道摆摊" in res.text or "description" in fields  # what was typed comes back

    text_file = [("photos", ("说明.jpg", b"just some text, not a photo", "image/jpeg"))]
    res = client.post("/citizen/report", data={**base, **good()}, files=text_file)
    assert field_error(res.text, "photos") == "只能上传照片（JPG、PNG、HEIC）"
    res = client.post("/citizen/report", data={**base, **good()}, files=[jpeg(f"{i}.jpg") for i in range(4)])
    assert field_error(res.text, "photos") == "最多上传3张照片"
    big = JPEG + b"\0" * (portal.PHOTO_MAX_MB * 2**20)
    res = client.post("/citizen/report", data={**base, **good()}, files=[jpeg("大.jpg", big)])
    assert field_error(res.text, "photos") == "照片不能超过10MB"

    # in English on the language cookie
    client.cookies.set("cg_lang", "en")
    res = client.post("/citizen/report", data={**base, "description": ""})
    assert field_error(res.text, "description") == "describe the problem"
    client.cookies.delete("cg_lang")

    # no CSRF token: refused before anything is read
    res = client.post("/citizen/report", data=good())
    assert res.status_code == 403 and "页面已过期" in res.text


def test_a_body_larger_than_the_form_can_be_is_refused_while_it_is_read(citizen, platform_session) -> None:
    client = citizen()
    base = form_of(client)
    huge = b"\xff\xd8\xff" + b"\0" * portal.MAX_REQUEST_BYTES
    res = client.post("/citizen/report", data={**base, **good()}, files=[jpeg("巨.jpg", huge)])
    assert res.status_code == 413 and "提交内容超过31MB" in res.text


def test_a_report_gives_a_random_tracking_number_and_a_form_sent_twice_makes_one(citizen, platform_session) -> None:
    client = citizen()
    base = form_of(client)
    data = {**base, **good(description="井盖旁边有人摆摊修车，占用人行道")}
    first = client.post("/citizen/report", data=data, files=[jpeg()])
    again = client.post("/citizen/report", data=data, files=[jpeg()])
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    tracking = TRACKED.match(first.headers["location"]).group(1)
    event = event_of(platform_session, tracking)
    assert f"{event.id:010d}" not in tracking  # not the event number (SJ + the sequential id)
    row = platform_session.scalar(select(CitizenReport).where(CitizenReport.tracking == tracking))
    assert platform_session.scalar(select(func.count()).where(Report.external_id == f"web:{base['submission']}")) == 1
    assert platform_session.scalar(select(func.count()).where(Attachment.report_id == row.report_id)) == 1
    assert not row.phone_verified and row.client != "10.77.0.1"  # a keyed hash, not the address

    page = client.get(first.headers["location"])
    assert page.status_code == 200
    assert portal.show_tracking(tracking) in page.text and "提交成功" in page.text
    assert "处置中" in page.text and "东街道" in page.text  # dispatched by the list to the squad
    # the number is forgiving as typed: lower case, spaces, O for 0
    typed = portal.show_tracking(tracking).lower().replace("0", "o").replace("-", " ")
    res = client.get("/citizen/track", params={"number": typed})
    assert res.status_code == 303 and res.headers["location"] == f"/citizen/track/{tracking}"


def test_a_wrong_or_unknown_number_is_said_on_the_track_form(citizen) -> None:
    client = citizen()
    res = client.get("/citizen/track", params={"number": "12"})
    assert res.status_code == 422 and field_error(res.text, "number") == "查询编号为12位字母和数字"
    res = client.get(f"/citizen/track/{portal.new_tracking()}")
    assert res.status_code == 404 and field_error(res.text, "number") == "查询编号不存在，请核对"


def test_the_photo_sent_with_a_report_is_shown_to_who_sees_its_event_and_to_no_one_else(
    citizen, browser, platform_session
) -> None:
    sent = JPEG + b"citizen"
    tracking = report(citizen(), files=[jpeg(data=sent)], description="路边有人占道修车，油污满地")
    event = event_of(platform_session, tracking)
    attachment = platform_session.scalars(
        select(Attachment).join(Report, Report.id == Attachment.report_id).where(Report.event_id == event.id)
    ).one()
    url = f"/files/reports/{attachment.id}"
    officer = browser("officer_a1")  # the squad the list dispatched it to
    for page in (f"/events/{event.id}", f"/m/events/{event.id}"):
        assert f'<img src="{url}"' in officer.get(page).text
    res = officer.get(url)
    assert res.status_code == 200 and res.content == sent and res.headers["content-type"] == "image/jpeg"
    assert browser("officer_b1").get(url).status_code == 404  # another district's
    assert officer.get("/files/reports/999999999").status_code == 404
    assert browser(None).get(url).status_code == 303  # not logged in: to the login page


# -- phone verification --------------------------------------------------------------------------------


def sent_codes(platform_session, phone: str) -> list[str]:
    platform_session.expire_all()
    rows = platform_session.scalars(
        select(OutboxMessage).where(OutboxMessage.topic == notify.SMS).order_by(OutboxMessage.id)
    ).all()
    return [re.search(r"验证码是(\d{6})", m.payload["text"]).group(1) for m in rows if m.payload["phone"] == phone]


def test_a_phone_is_verified_by_an_sms_code_and_never_shown(citizen, platform_session) -> None:
    phone = "13700001111"
    client = citizen()
    base = form_of(client)
    # htmx: the phone block comes back alone
    res = client.post("/citizen/phone-code", data={**base, "phone": phone}, headers={"HX-Request": "true"})
    assert res.status_code == 200 and 'id="phone-block"' in res.text and "<html" not in res.text
    assert "验证码已发送至137****1111" in res.text
    codes = sent_codes(platform_session, phone)
    assert len(codes) == 1  # through the outbox, for the city's SMS sender
    res = client.post("/citizen/phone-code", data={**base, "phone": phone}, headers={"HX-Request": "true"})
    assert res.status_code == 422 and field_error(res.text, "phone") == "验证码已发送，请一分钟后再试"
    res = client.post("/citizen/phone-code", data={**base, "phone": "110"})  # without JavaScript: the whole form
    assert res.status_code == 422 and field_error(res.text, "phone") == "请输入11位手机号码" and "<form" in res.text

    wrong = "000000" if codes[0] != "000000" else "111111"
    res = client.post("/citizen/report", data={**base, **good(phone=phone, code=wrong)})
    assert res.status_code == 422 and field_error(res.text, "code") == "验证码错误"
    res = client.post("/citizen/report", data={**base, **good(phone=phone, code=codes[0])})
    assert res.status_code == 303, res.text
    tracking = TRACKED.match(res.headers["location"]).group(1)
    platform_session.expire_all()
    row = platform_session.scalar(select(CitizenReport).where(CitizenReport.tracking == tracking))
    assert row.phone_verified
    assert platform_session.get(Report, row.report_id).reporter_phone == phone  # told when it is closed
    page = client.get(f"/citizen/track/{tracking}").text
    assert phone not in page and "1111" not in page
    assert phone not in client.get("/citizen/map/problems.json").text


def test_reports_are_rate_limited_per_client(citizen) -> None:
    client, other = citizen(), citizen()
    for i in range(portal.REPORTS_PER_WINDOW):
        report(client, description=f"第{i}处垃圾满溢未清运，气味很大")
    res = client.post("/citizen/report", data={**form_of(client), **good()})
    assert res.status_code == 429 and "提交过于频繁，请60分钟后再试" in res.text
    assert report(other)  # another address is not affected


# -- tracking and rating ---------------------------------------------------------------------------------


def test_rating_only_after_closure_only_once_and_it_reaches_the_evaluation(
    citizen, client, as_user, photo, platform_session
) -> None:
    visitor = citizen()
    tracking = report(visitor, description="小区门口有流动摊贩占道经营，晚上很吵")
    url = f"/citizen/track/{tracking}"
    event = event_of(platform_session, tracking)
    token = form_of(visitor)["csrf_token"]  # the CSRF cookie and its token, from any form

    res = visitor.post(f"{url}/rating", data={"csrf_token": token, "rating": "5"})
    assert res.status_code == 409 and "问题办结后才能评价" in res.text

    close(client, as_user, photo, event.id)
    page = visitor.get(url).text
    assert "已办结" in page and "已劝离摊贩，现场已清理" in page  # the reply
    assert "officer_a1" not in page and "supervisor_a" not in page  # no officer names
    assert 'name="rating"' in page

    res = visitor.post(f"{url}/rating", data={"csrf_token": token, "rating": "9"})
    assert res.status_code == 422 and field_error(res.text, "rating") == "请选择1至5星"
    res = visitor.post(f"{url}/rating", data={"csrf_token": token, "rating": "4", "comment": "处理及时"})
    assert res.status_code == 303
    assert "您的评价：4星" in visitor.get(url).text
    res = visitor.post(f"{url}/rating", data={"csrf_token": token, "rating": "1"})
    assert res.status_code == 409 and "您已评价过" in res.text

    platform_session.expire_all()
    steps = platform_session.scalars(
        select(CaseStep).where(CaseStep.subject == "event", CaseStep.subject_id == event.id, CaseStep.action == "rate")
    ).all()
    assert [(s.data["rating"], s.data["comment"], s.to_state) for s in steps] == [(4, "处理及时", "closed")]
    # the supervisor sees it on the event page before the 综合评价
    desk = client.get(f"/api/events/{event.id}/timeline", headers=as_user("supervisor_a")).json()
    assert [s["data"].get("rating") for s in desk["steps"] if s["action"] == "rate"] == [4]
    res = client.post(
        f"/api/events/{event.id}/actions/evaluate", json={"fields": {"rating": 4}}, headers=as_user("supervisor_a")
    )
    assert res.status_code == 200 and res.json()["state"] == EventStatus.EVALUATED


def test_after_the_evaluation_a_late_rating_is_refused(citizen, client, as_user, photo, platform_session) -> None:
    visitor = citizen()
    tracking = report(visitor, description="人行道上有人摆摊卖衣服")
    event = event_of(platform_session, tracking)
    close(client, as_user, photo, event.id)
    res = client.post(
        f"/api/events/{event.id}/actions/evaluate", json={"fields": {"rating": 5}}, headers=as_user("supervisor_a")
    )
    assert res.status_code == 200
    url = f"/citizen/track/{tracking}"
    page = visitor.get(url).text
    assert "评价通道已关闭" in page and 'name="rating"' not in page
    res = visitor.post(f"{url}/rating", data={"csrf_token": form_of(visitor)["csrf_token"], "rating": "3"})
    assert res.status_code == 409 and "评价通道已关闭" in res.text


def test_a_merged_report_shows_nothing_of_the_other_reporter(citizen, platform_session) -> None:
    first, second = citizen(), citizen()
    lon, lat = (str(c) for c in spot(next(_spots)))
    text = "光明路口有人占道卖西瓜，三轮车停在人行道上"
    one = report(first, description=text, address="光明路口东侧", lon=lon, lat=lat)
    two = report(second, description=text, address="光明路路口", lon=lon, lat=lat)
    assert event_of(platform_session, one).id == event_of(platform_session, two).id  # merged by the pipeline
    page = second.get(f"/citizen/track/{two}").text
    assert "光明路路口" in page and "光明路口东侧" not in page


# -- the public map --------------------------------------------------------------------------------------


def test_snapping_puts_every_point_of_a_square_on_its_centre_within_the_half_diagonal() -> None:
    lon0, lat0 = portal.snap(116.03, 39.93)
    for dx, dy in itertools.product((-0.0009, 0.0, 0.0009), repeat=2):
        lon, lat = 116.03 + dx, 39.93 + dy
        slon, slat = portal.snap(lon, lat)
        metres = math.hypot((slon - lon) * 111_320 * math.cos(math.radians(lat)), (slat - lat) * 111_320)
        assert metres <= portal.GRID_M / math.sqrt(2) + 1
        assert portal.snap(slon, slat) == (slon, slat)  # a centre is its own square's centre
    assert portal.snap(116.03 + 0.00001, 39.93 + 0.00001) == (lon0, lat0)


def test_the_public_map_is_coarsened_counted_cached_and_free_of_personal_data(citizen, platform_session) -> None:
    client = citizen()
    portal._cache.clear()  # this test's reports must be in it
    report(client, description="公园门口私搭乱建棚子", lon="116.0312", lat="39.9307")
    res = client.get("/citizen/map/problems.json")
    assert res.status_code == 200 and res.headers["cache-control"] == "public, max-age=300"
    data = res.json()
    platform_session.expire_all()
    recent = Event.first_reported_at >= utcnow() - dt.timedelta(days=portal.MAP_DAYS)
    events = platform_session.execute(
        select(Event.lon, Event.lat).where(recent, Event.lon.is_not(None), Event.status != EventStatus.VOID)
    ).all()
    exact = {(round(lon, 5), round(lat, 5)) for lon, lat in events}
    assert sum(p[4] for p in data["points"]) == len(events)
    for lat, lon, key, stage, count in data["points"]:
        assert (lon, lat) not in exact and (lon, lat) == portal.snap(lon, lat)
        assert stage in ("received", "handling", "closed") and key in data["categories"] and count >= 1
    text = json.dumps(data, ensure_ascii=False)
    assert "公园门口" not in text and "reporter" not in text and "description" not in text
    areas = client.get("/citizen/map/areas.json").json()
    assert areas["type"] == "FeatureCollection" and areas["features"]
    page = client.get("/citizen/map")
    assert page.status_code == 200 and 'id="public-map"' in page.text
