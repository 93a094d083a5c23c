"""执法办案 and 法规查询 pages without a browser: a case opened from the form (its field errors in
Chinese), driven from 立案 to 决定 through each stage's form and the approvals, the discretion's
advice per tier, evidence with its standing in the log, the 决定书 downloaded; scoping; the law
lookup."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from chengguan.audit import platform_actor
from chengguan.db import unit_of_work
from chengguan.evidence import sth
from tests.cases.conftest import JPEG
from tests.factories import SampleCity
from tests.legal.conftest import legal_loaded  # noqa: F401 - the shipped laws and causes
from tests.web.conftest import csrf_of

pytestmark = pytest.mark.usefixtures("legal_loaded")
BJ = ZoneInfo("Asia/Shanghai")


def local(at: dt.datetime) -> str:
    return at.astimezone(BJ).strftime("%Y-%m-%dT%H:%M")


def post(client: TestClient, url: str, page: str, **data: object):
    return client.post(url, data={"csrf_token": csrf_of(page), **data})


def new_case_form(city: SampleCity, **overrides: object) -> dict[str, object]:
    now = dt.datetime.now(dt.UTC)
    form: dict[str, object] = {
        "agency_id": city.org["A1_squad"],
        "source": "inspection",
        "cause_code": "AY001",
        "title": "占道经营",
        "facts": "当事人在东街道路口占道摆摊",
        "act_at": local(now - dt.timedelta(days=3)),
        "discovered_at": local(now - dt.timedelta(days=1)),
        "party_type": "citizen",
        "party_name": "张三",
        "party_id_no": f"1101011990{secrets.randbelow(10**8):08d}",
        "officers": [city.user["officer_a2"]],
    }
    form.update(overrides)
    return form


def open_case(officer: TestClient, city: SampleCity) -> int:
    page = officer.get("/penalty-cases/new").text
    res = post(officer, "/penalty-cases", page, **new_case_form(city))
    assert res.status_code == 303, res.text
    found = re.fullmatch(r"/penalty-cases/(\d+)", res.headers["location"])
    assert found, res.headers["location"]
    return int(found.group(1))


def act(client: TestClient, case_id: int, action: str, **fields: object):
    page = client.get(f"/penalty-cases/{case_id}").text
    return post(client, f"/penalty-cases/{case_id}/actions/{action}", page, **fields)


def approve(head: TestClient, case_id: int) -> None:
    page = head.get(f"/penalty-cases/{case_id}").text
    found = re.search(rf'action="(/penalty-cases/{case_id}/requests/\d+)/approve"', page)
    assert found, "no approval form for the agency head"
    assert post(head, f"{found.group(1)}/approve", page, note="同意").status_code == 303


def upload(client: TestClient, case_id: int, kind: str, name: str) -> int:
    page = client.get(f"/penalty-cases/{case_id}").text
    res = client.post(
        f"/penalty-cases/{case_id}/evidence",
        data={"csrf_token": csrf_of(page), "evidence_type": kind, "description": name},
        files={"file": (name, JPEG + secrets.token_bytes(32), "image/jpeg")},
    )
    assert res.status_code == 303, res.text
    ids = re.findall(r'href="/files/evidence/(\d+)"', client.get(f"/penalty-cases/{case_id}").text)
    return max(int(i) for i in ids)


def test_a_new_case_names_its_faults_in_chinese_then_opens(browser, city: SampleCity) -> None:
    officer = browser("officer_a1")
    page = officer.get("/penalty-cases/new").text
    # the causes to choose from, and a colleague of the next unit to name as co-officer (法55)
    assert 'value="AY001"' in page and f'name="officers" value="{city.user["officer_a2"]}"' in page
    res = post(officer, "/penalty-cases", page, **new_case_form(city, title="", act_at="昨天", cause_code=""))
    assert res.status_code == 422
    errors = dict(re.findall(r'<p class="field-error" id="f-(\w+)-error">([^<]+)</p>', res.text))
    assert errors == {"title": "必填", "act_at": "时间格式不正确", "cause_code": "必填"}, errors
    assert "当事人在东街道路口占道摆摊" in res.text  # what was typed is kept
    cid = open_case(officer, city)
    page = officer.get(f"/penalty-cases/{cid}").text
    assert "占道经营" in page and f'action="/penalty-cases/{cid}/actions/file"' in page


def test_a_case_from_filing_to_the_decision_document(browser, city: SampleCity, app) -> None:
    officer, head = browser("officer_a1"), browser("agency_head_a")
    cid = open_case(officer, city)
    assert act(officer, cid, "file", reason="巡查发现").status_code == 303
    assert "等待有权限的人员审批" in officer.get(f"/penalty-cases/{cid}").text
    approve(head, cid)
    photo = upload(officer, cid, "audiovisual", "现场.jpg")
    res = act(officer, cid, "finish_investigation", legal_review="no", collective="no", report="事实清楚")
    assert res.status_code == 303, res.text

    # before 告知 the page offers the discretion's advice at every tier, with the articles' texts
    page = officer.get(f"/penalty-cases/{cid}").text
    assert "裁量档次" in page and "建议罚款" in page and "blockquote" in page
    res = act(officer, cid, "notify", tier="一般", penalty_kind="fine", amount="两千")
    assert res.status_code == 422 and 'id="notify-amount-error"' in res.text
    assert act(officer, cid, "notify", tier="一般", penalty_kind="fine", amount="2000").status_code == 303
    approve(head, cid)
    page = officer.get(f"/penalty-cases/{cid}").text
    assert "事先告知书" in page and "偏离" not in page

    # the party waives 陈述申辩 in writing: the signed statement is attached, then the head decides
    signed = upload(officer, cid, "statement", "放弃陈述申辩声明.jpg")
    assert signed != photo
    res = act(officer, cid, "waive", statement="放弃陈述、申辩和听证", evidence_ids=str(signed))
    assert res.status_code == 303, res.text
    assert act(head, cid, "decide", amount="2000").status_code == 303
    page = officer.get(f"/penalty-cases/{cid}").text
    assert "行政处罚决定书" in page and "2000 元" in page
    decision = re.search(r"<strong>行政处罚决定书</strong>.*?/files/documents/(\d+)\?download=true", page, re.S)
    assert decision, "the decision is not listed with a download link"
    pdf = officer.get(f"/files/documents/{decision.group(1)}", params={"download": "true"})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith("attachment") and pdf.content.startswith(b"%PDF")

    # evidence stands as logged until a tree head covers it, then anchored (tests/evidence/test_standing.py
    # has the altered row)
    assert "待签发树头" in page
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        sth.issue_sth(session, app.state.settings)
    page = officer.get(f"/penalty-cases/{cid}").text
    assert "已上链存证" in page and "待签发树头" not in page


def test_cases_are_scoped_and_need_their_permission(browser, city: SampleCity) -> None:
    cid = open_case(browser("officer_a1"), city)
    assert browser("officer_b1").get(f"/penalty-cases/{cid}").status_code == 404
    assert browser("clerk_a").get(f"/penalty-cases/{cid}").status_code == 403
    assert browser("clerk_a").get("/penalty-cases/new").status_code == 403
    listed = browser("agency_head_a").get("/penalty-cases").text
    assert f'href="/penalty-cases/{cid}"' in listed
    assert f'href="/penalty-cases/{cid}"' not in browser("officer_b1").get("/penalty-cases").text


def test_the_law_lookup_finds_articles_and_shows_them_whole(browser) -> None:
    clerk = browser("clerk_a")
    page = clerk.get("/laws", params={"q": "摆摊 占用"}).text
    hits = re.findall(r'href="/laws/articles/(\d+)"', page)
    assert hits and "共 " in page
    article = clerk.get(f"/laws/articles/{hits[0]}").text
    assert "摆摊" in article and "返回查询" in article
    too_many = clerk.get("/laws", params={"q": " ".join(f"词{i}" for i in range(20))}).text
    assert 'id="q-error"' in too_many
