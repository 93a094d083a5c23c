"""The officer's phone without a browser: 上报 through the intake pipeline (its outcome, its photos
with GPS and time, a form sent twice making one report), 当场处罚 in one request (refusals next
to their fields and nothing written, the 决定书 downloaded), 掌上查, and who may see what."""

from __future__ import annotations

import re
import secrets

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from chengguan.cases.models import PenaltyCase
from chengguan.evidence.models import EvidenceItem
from chengguan.intake.models import Attachment, Report
from tests.cases.conftest import JPEG
from tests.factories import SampleCity
from tests.legal.conftest import legal_loaded  # noqa: F401 - the shipped laws and causes
from tests.web.conftest import csrf_of

pytestmark = pytest.mark.usefixtures("legal_loaded", "intake_city")
FIELD_ERROR = re.compile(r'<p class="field-error" id="([\w-]+)-error">([^<]+)</p>')

HERE = (116.099, 40.023)  # in 东街道, ≥ 380 m from every spot of tests.cases.conftest.spot and the intake tests


def errors_of(html: str) -> dict[str, str]:
    return dict(FIELD_ERROR.findall(html))


def jpeg(name: str = "现场.jpg") -> tuple[str, bytes, str]:
    return (name, JPEG + secrets.token_bytes(16), "image/jpeg")  # unique bytes: stored once by content


def count(platform_session, stmt) -> int:
    platform_session.expire_all()
    return int(platform_session.scalar(stmt) or 0)


# -- my tasks ----------------------------------------------------------------------------------------


def test_my_tasks_link_the_phone_screens_the_user_may_use(browser) -> None:
    page = browser("officer_a1").get("/m/").text
    for href in ('href="/m/report"', 'href="/m/penalty/new"', 'href="/m/laws"'):
        assert href in page
    supervisor = browser("supervisor_a").get("/m/").text  # reports, reads cases, opens none
    assert 'href="/m/report"' in supervisor and 'href="/m/penalty/new"' not in supervisor


# -- 上报 --------------------------------------------------------------------------------------------


def report_form(officer: TestClient, **fields: object) -> tuple[dict[str, object], str]:
    page = officer.get("/m/report").text
    submission = re.search(r'name="submission" value="([^"]+)"', page)
    assert submission
    lon, lat = HERE
    data: dict[str, object] = {
        "csrf_token": csrf_of(page),
        "submission": submission.group(1),
        "category": "E0502",
        "description": "东街道路口有人占道经营卖水果",
        "lon": str(lon),
        "lat": str(lat),
        "collected_at": "2026-03-02T09:30:00+08:00",
    }
    data.update(fields)
    return data, page


def test_a_report_names_its_faults_next_to_its_fields(browser) -> None:
    officer = browser("officer_a1")
    data, _ = report_form(officer, description=" ", lon="", lat="", category="Z9999")
    res = officer.post("/m/report", data=data, files=[("photos", ("note.txt", b"not a photo", "text/plain"))])
    assert res.status_code == 422
    errors = errors_of(res.text)
    assert errors == {
        "description": "请描述问题",
        "location": "请在地图上选点或填写地址",
        "category": "请从列表中选择问题类型",
        "photos": "只能上传照片（JPG、PNG、HEIC）",
    }, errors
    assert 'aria-describedby="location-error"' in res.text


def test_a_report_becomes_an_event_with_its_photos_placed_and_timed(browser, platform_session) -> None:
    officer = browser("officer_a1")
    data, _ = report_form(officer)
    res = officer.post("/m/report", data=data, files=[("photos", jpeg("1.jpg")), ("photos", jpeg("2.jpg"))])
    assert res.status_code == 303, res.text
    found = re.fullmatch(r"/m/reports/(\d+)", res.headers["location"])
    assert found
    report = platform_session.get(Report, int(found.group(1)))
    assert report is not None and report.channel == "patrol" and report.event_id is not None
    assert report.status == "created" and report.external_id == f"m:{data['submission']}"
    page = officer.get(res.headers["location"]).text
    assert "已立为新问题" in page and f'href="/m/events/{report.event_id}"' in page
    # the photos: the report's attachments, and evidence on the event with the phone's place and time
    attached = select(func.count()).select_from(Attachment).where(Attachment.report_id == report.id)
    assert count(platform_session, attached) == 2
    photos = platform_session.scalars(
        select(EvidenceItem).where(
            EvidenceItem.subject_type == "event", EvidenceItem.subject_id == str(report.event_id)
        )
    ).all()
    assert len(photos) == 2
    assert {(p.lon, p.lat) for p in photos} == {HERE}
    assert all(p.collected_at.isoformat() == "2026-03-02T01:30:00+00:00" for p in photos)
    task = officer.get(f"/m/events/{report.event_id}").text
    assert set(re.findall(r"/files/evidence/(\d+)", task)) == {str(p.id) for p in photos}

    # the same form again (a queued form sent twice, a double tap): the same report, nothing new
    again = officer.post("/m/report", data=data, files=[("photos", jpeg("1.jpg"))])
    assert again.headers["location"] == res.headers["location"]
    assert count(platform_session, attached) == 2


def test_a_report_without_a_place_waits_for_a_clerk(browser) -> None:
    officer = browser("officer_a1")
    data, _ = report_form(officer, lon="", lat="", address="不知名的小巷深处")
    res = officer.post("/m/report", data=data)
    assert res.status_code == 303, res.text
    page = officer.get(res.headers["location"]).text
    assert "等待受理员确认" in page and "/m/events/" not in page


def test_a_report_is_its_reporters(browser) -> None:
    officer = browser("officer_a1")
    data, _ = report_form(officer)
    url = officer.post("/m/report", data=data).headers["location"]
    assert browser("officer_b1").get(url).status_code == 404  # another district's officer
    assert browser("analyst_a").get("/m/report").status_code == 403  # no right to report


# -- 当场处罚 ---------------------------------------------------------------------------------------------


def penalty_form(officer: TestClient, city: SampleCity, **fields: object) -> dict[str, object]:
    page = officer.get("/m/penalty/new")
    assert page.status_code == 200, page.text
    data: dict[str, object] = {
        "csrf_token": csrf_of(page.text),
        "party_type": "citizen",
        "party_name": "李四",
        "party_id_no": f"1101011985{secrets.randbelow(10**8):08d}",
        "party_address": "东街道路口",
        "cause_code": "AY001",
        "facts": "当事人在东街道路口占道摆摊",
        "penalty_kind": "fine",
        "amount": "50",
        "collected": "yes",
        "officers": str(city.user["officer_a2"]),
        "lon": str(HERE[0]),
        "lat": str(HERE[1]),
    }
    data.update(fields)
    return data


def penalty_rows(platform_session) -> tuple[int, int]:
    cases = count(platform_session, select(func.count()).select_from(PenaltyCase))
    photos = count(
        platform_session, select(func.count()).select_from(EvidenceItem).where(EvidenceItem.subject_type == "penalty")
    )
    return cases, photos


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"amount": "201", "collected": "no"}, {"amount": "法 51"}),  # a citizen: ≤ 200 元
        ({"amount": "150", "collected": "yes"}, {"collected": "法 68"}),  # 当场收缴: ≤ 100 元
        ({"officers": ""}, {"officers": "执法人员不得少于两人"}),  # 法42、法55
        ({"penalty_kind": ""}, {"penalty_kind": "必填"}),
    ],
)
def test_a_refused_penalty_writes_nothing_and_says_why_by_the_field(
    browser, city: SampleCity, platform_session, fields: dict[str, str], expected: dict[str, str]
) -> None:
    officer = browser("officer_a1")
    before = penalty_rows(platform_session)
    res = officer.post("/m/penalty", data=penalty_form(officer, city, **fields), files={"photo": jpeg()})
    assert res.status_code == 422, res.text
    errors = errors_of(res.text)
    assert errors.keys() == expected.keys(), errors
    for field, text in expected.items():
        assert text in errors[field], errors
        assert f'aria-describedby="{field}-error"' in res.text
    assert "当事人在东街道路口占道摆摊" in res.text  # what was typed is kept
    assert penalty_rows(platform_session) == before  # the case and its photo rolled back


def test_a_penalty_form_without_party_or_photo(browser, city: SampleCity, platform_session) -> None:
    officer = browser("officer_a1")
    before = penalty_rows(platform_session)
    res = officer.post("/m/penalty", data=penalty_form(officer, city, party_name="", cause_code="AY999"))
    assert res.status_code == 422
    assert errors_of(res.text) == {"party_name": "必填", "photo": "请先拍摄现场照片"}
    res = officer.post("/m/penalty", data=penalty_form(officer, city, cause_code="AY999"), files={"photo": jpeg()})
    assert res.status_code == 422 and "cause_code" in errors_of(res.text)
    assert penalty_rows(platform_session) == before


def decide(officer: TestClient, city: SampleCity, **fields: object) -> int:
    res = officer.post("/m/penalty", data=penalty_form(officer, city, **fields), files={"photo": jpeg()})
    assert res.status_code == 303, res.text
    found = re.fullmatch(r"/m/penalty/(\d+)", res.headers["location"])
    assert found
    return int(found.group(1))


def test_a_fine_collected_on_the_spot_closes_the_case_with_its_decision(
    browser, city: SampleCity, platform_session
) -> None:
    officer = browser("officer_a1")
    cid = decide(officer, city)
    case = platform_session.get(PenaltyCase, cid)
    assert case.status == "closed" and case.procedure == "simple" and case.fine_yuan == 50 and case.paid_at
    assert sorted(case.officers) == sorted([city.user["officer_a1"], city.user["officer_a2"]])
    page = officer.get(f"/m/penalty/{cid}").text
    assert "当场处罚决定书" in page and "罚款 50元" in page and 'id="case-state">结案<' in page
    doc = re.search(r'href="/files/documents/(\d+)\?download=true"', page)
    assert doc
    pdf = officer.get(f"/files/documents/{doc.group(1)}", params={"download": "true"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-disposition"].startswith("attachment")
    # the decided case is its area's: another district's officer does not see it
    assert browser("officer_b1").get(f"/m/penalty/{cid}").status_code == 404


def test_a_warning_and_a_fine_paid_later(browser, city: SampleCity, platform_session) -> None:
    officer = browser("officer_a1")
    warning = platform_session.get(
        PenaltyCase, decide(officer, city, penalty_kind="warning", amount="", collected="no")
    )
    assert warning.status == "closed" and warning.penalty_kind == "warning" and warning.fine_yuan is None
    later = decide(
        officer, city, party_type="organisation", party_name="某某商贸有限公司", amount="3000", collected="no"
    )
    case = platform_session.get(PenaltyCase, later)
    assert case.status == "payment" and case.payment_due_at is not None
    assert "缴款期限" in officer.get(f"/m/penalty/{later}").text


def test_only_those_who_open_cases_decide_on_the_spot(browser) -> None:
    assert browser("supervisor_a").get("/m/penalty/new").status_code == 403


# -- 掌上查 -------------------------------------------------------------------------------------------


def test_the_law_lookup_on_the_phone(browser) -> None:
    officer = browser("officer_a1")
    page = officer.get("/m/laws", params={"q": "摆摊 占用"}).text
    assert '<body class="phone"' in page
    hits = re.findall(r'href="(/m/laws/articles/\d+)"', page)
    assert hits, "no article found"
    article = officer.get(hits[0])
    assert article.status_code == 200 and "摆摊" in article.text and 'href="/m/laws"' in article.text
    assert "请输入关键词" not in officer.get("/m/laws").text  # no search yet: a hint, not an error
    assert officer.get("/m/laws/articles/999999999").status_code == 404
