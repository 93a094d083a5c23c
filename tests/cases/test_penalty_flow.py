"""The administrative-penalty case end to end, on the service functions with a moving clock:
立案 (approved, in the limitation period) → 调查取证 (two officers, evidence) → 法制审核 →
告知 with the discretion's advice and the hearing right → 听证 (requested in time, noticed ≥ 7
working days ahead) → 决定 (not heavier than notified) → 送达 → overdue payment with the
surcharge cap → 催告 → court window; the simple procedure's thresholds; 不予处罚; the 90-day
limit; and the documents each step issues. The API covers creation, scoping and refusals."""

from __future__ import annotations

import datetime as dt
import io
import secrets
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from chengguan.audit import platform_actor
from chengguan.auth import scoping
from chengguan.auth import service as auth_service
from chengguan.auth.models import User
from chengguan.calendar import service as calendar_service
from chengguan.cases import service as cases_service
from chengguan.cases import workflow
from chengguan.cases.models import PenaltyCase
from chengguan.cases.penalty import PENALTY_FLOW
from chengguan.cases.schemas import PenaltyCaseIn
from chengguan.cases.sweep import sweep
from chengguan.config import Settings
from chengguan.db import unit_of_work
from chengguan.documents.models import Document
from chengguan.errors import ChengguanError, Conflict, Invalid
from chengguan.evidence import service as evidence_service
from chengguan.evidence.models import EvidenceType
from chengguan.evidence.schemas import EvidenceIn
from chengguan.evidence.storage import blob_store
from chengguan.legal import deadlines
from tests.factories import SampleCity
from tests.legal.conftest import legal_loaded  # noqa: F401 - the shipped laws and causes

BJ = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 3, 2, 10, tzinfo=BJ)  # a Monday after the Spring Festival
pytestmark = pytest.mark.usefixtures("legal_loaded")  # the shipped causes
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64


Act = Callable[..., workflow.Outcome]


@pytest.fixture
def act(app, settings: Settings) -> Act:
    """``act(user, case_id, action, at, **fields)`` takes the action as that user at ``at``;
    ``act(..., approve_by=user)`` also approves the request it makes."""

    def run(username: str, case_id: int, action: str, at: dt.datetime, approve_by: str | None = None, **fields: Any):
        with ActingAs(app, username) as (session, principal):
            case = cases_service.get_penalty_case(session, case_id, for_update=True)
            out = workflow.take(session, PENALTY_FLOW, case, action, principal, fields, now=at, settings=settings)
        if approve_by is None:
            return out
        assert out.request is not None, out
        with ActingAs(app, approve_by) as (session, principal):
            case = cases_service.get_penalty_case(session, case_id, for_update=True)
            request = cases_service.get_request(session, "penalty", case_id, out.request.id)
            return workflow.decide(
                session, PENALTY_FLOW, case, request, principal, approve=True, now=at, settings=settings
            )

    return run


class ActingAs:
    """A unit of work acting as ``username``, scoped as the API would scope them."""

    def __init__(self, app, username: str) -> None:
        self.factory, self.username = app.state.sessionmaker, username

    def __enter__(self):
        self.cm = unit_of_work(self.factory)
        session = self.cm.__enter__()
        user = session.scalars(select(User).where(User.username == self.username)).one()
        principal = auth_service.principal_of(session, user)
        scoping.bind(session, principal.actor(), principal.scope)
        return session, principal

    def __exit__(self, *exc):
        return self.cm.__exit__(*exc)


def case_in(city: SampleCity, **overrides: Any) -> PenaltyCaseIn:
    data: dict[str, Any] = {
        "agency_id": city.org["A1_squad"],
        "org_id": city.org["A1c1"],
        "source": "inspection",
        "title": "占道经营",
        "facts": "当事人在东街道路口占道摆摊销售水果",
        "causes": [{"cause_code": "AY001"}],
        "party_type": "citizen",
        "party_name": "张三",
        "party_id_no": f"1101011990{secrets.randbelow(10**8):08d}",
        "party_address": "东街道1号",
        "act_at": T0 - dt.timedelta(days=3),
        "discovered_at": T0 - dt.timedelta(days=1),
        "officers": [city.user["officer_a2"]],
    }
    data.update(overrides)
    return PenaltyCaseIn(**data)


@pytest.fixture
def new_case(app, city: SampleCity) -> Callable[..., int]:
    def make(**overrides: Any) -> int:
        with ActingAs(app, "officer_a1") as (session, principal):
            cal = calendar_service.get_calendar(session)
            return cases_service.create_penalty_case(session, cal, case_in(city, **overrides), principal, T0).id

    return make


def evidence(app, case_id: int) -> int:
    """A photo of the case, stored and logged by the evidence service."""
    settings: Settings = app.state.settings
    meta = EvidenceIn(subject_type="penalty", subject_id=str(case_id), evidence_type=EvidenceType("audiovisual"))
    with ActingAs(app, "officer_a1") as (session, _):
        stream = io.BytesIO(JPEG + secrets.token_bytes(64))
        item = evidence_service.add_evidence(session, blob_store(settings), stream, "现场.jpg", meta, max_bytes=2**20)
        return item.id


def case_row(app, case_id: int) -> PenaltyCase:
    with ActingAs(app, "admin_city") as (session, _):
        case = cases_service.get_penalty_case(session, case_id)
        session.expunge(case)
        return case


def documents(app, case_id: int) -> list[str]:
    with ActingAs(app, "admin_city") as (session, _):
        stmt = select(Document.kind).where(Document.subject_type == "penalty", Document.subject_id == str(case_id))
        return list(session.scalars(stmt.order_by(Document.id)))


def refused(error: type[ChengguanError], field: str, fn: Callable[[], object]) -> ChengguanError:
    with pytest.raises(error) as caught:
        fn()
    assert caught.value.field == field, caught.value.message
    return caught.value


def test_an_ordinary_case_with_a_hearing_an_overdue_payment_and_a_demand(app, act: Act, new_case) -> None:
    cid = new_case()
    assert case_row(app, cid).status == "discovered"
    # 立案 needs the head's approval; 调查终结 needs evidence
    act("officer_a1", cid, "file", T0, approve_by="agency_head_a", reason="现场检查发现")
    filed = case_row(app, cid)
    assert filed.status == "investigating" and filed.decision_due_at is not None
    assert filed.decision_due_at == dt.datetime(2026, 6, 2, tzinfo=BJ)  # 90 days: 05-31 is a Sunday, so 06-01 24:00
    refused(
        Invalid,
        "guards.has_evidence",
        lambda: act("officer_a1", cid, "finish_investigation", T0, legal_review="yes", collective="no", report="查明"),
    )
    evidence(app, cid)
    seen = (T0 + dt.timedelta(days=1)).isoformat()
    act("officer_a1", cid, "inspection_record", T0, inspected_at=seen, place="东街道路口", findings="占道摆摊约6平方米")
    act(
        "officer_a1", cid, "inquiry_record", T0, inquired_at=seen, place="东街道执法队", respondent="张三",
        transcript="问：你在此摆摊多久？答：三天。",
    )  # fmt: skip
    t = T0 + dt.timedelta(days=7)
    act("officer_a1", cid, "finish_investigation", t, legal_review="yes", collective="no", report="事实清楚")
    assert case_row(app, cid).status == "legal_review"
    refused(
        Conflict, "action", lambda: act("officer_a1", cid, "notify", t, tier="一般", penalty_kind="fine", amount=2000)
    )
    act("legal_reviewer_a", cid, "review_pass", t, opinion="同意")

    # 告知: a fine above the hearing threshold (3,000 元 for a citizen) carries the hearing right
    notified_at = T0 + dt.timedelta(days=10)  # Thu 03-12
    act(
        "officer_a1",
        cid,
        "notify",
        notified_at,
        approve_by="agency_head_a",
        tier="严重",
        penalty_kind="fine",
        amount=4600,
    )
    case = case_row(app, cid)
    assert case.status == "notified" and case.hearing_right and case.intended_yuan == 4600
    assert case.recommendation is not None and case.recommendation["band"][0] <= 4600 <= case.recommendation["band"][1]
    assert any("法" in line for line in case.recommendation["rationale"])
    assert documents(app, cid) == [
        "filing_approval", "inspection_record", "inquiry_record", "penalty_notice", "hearing_notice",
    ]  # fmt: skip
    # the statement window (5 working days: to Thu 03-19) holds the decision back
    refused(
        Invalid, "guards.statement_window_over", lambda: act("agency_head_a", cid, "decide", notified_at, amount=4600)
    )
    late = dt.datetime(2026, 3, 20, 9, tzinfo=BJ)
    refused(
        Invalid,
        "fields.requested_at",
        lambda: act("officer_a1", cid, "request_hearing", late, requested_at=late.isoformat()),
    )
    asked = dt.datetime(2026, 3, 19, 16, tzinfo=BJ)
    act("officer_a1", cid, "request_hearing", asked, requested_at=asked.isoformat())
    too_soon = asked + dt.timedelta(days=5)
    refused(
        Invalid,
        "fields.hearing_at",
        lambda: act("officer_a1", cid, "schedule_hearing", asked, hearing_at=too_soon.isoformat(), place="第一会议室"),
    )
    hearing_at = dt.datetime(2026, 4, 2, 9, 30, tzinfo=BJ)
    act("officer_a1", cid, "schedule_hearing", asked, hearing_at=hearing_at.isoformat(), place="第一会议室")
    refused(Invalid, "guards.statement_window_over", lambda: act("agency_head_a", cid, "decide", asked, amount=4600))

    # 决定 after the hearing: no heavier than notified (法45)
    decided_at = dt.datetime(2026, 4, 7, 10, tzinfo=BJ)
    refused(Invalid, "fields.amount", lambda: act("agency_head_a", cid, "decide", decided_at, amount=4800))
    act("agency_head_a", cid, "decide", decided_at, amount=4200)
    case = case_row(app, cid)
    assert case.status == "decided" and case.fine_yuan == 4200 and case.outcome == "penalty"
    served = dt.datetime(2026, 4, 8, 15, tzinfo=BJ)
    act("officer_a1", cid, "serve", served, served_at=served.isoformat(), method="direct")
    case = case_row(app, cid)
    assert case.status == "payment" and case.payment_due_at == dt.datetime(2026, 4, 24, tzinfo=BJ)  # 15 days
    assert documents(app, cid)[-2:] == ["penalty_decision", "service_receipt"]
    with ActingAs(app, "admin_city") as (session, _):
        stmt = select(Document.fields).where(Document.subject_id == str(cid), Document.kind == "penalty_decision")
        decision = session.scalars(stmt).one()
    assert decision["provisions"].startswith("《北京市市容环境卫生条例》第") and "4200" in decision["penalty"]

    # not yet overdue: no 催告; overdue: 催告, then the court only after 10 working days
    refused(Invalid, "guards.payment_overdue", lambda: act("officer_a1", cid, "demand", served))
    demanded = dt.datetime(2026, 6, 10, 10, tzinfo=BJ)
    act("officer_a1", cid, "demand", demanded)
    assert case_row(app, cid).status == "demanded" and documents(app, cid)[-1] == "demand_notice"
    refused(
        Invalid,
        "guards.court_window_open",
        lambda: act("officer_a1", cid, "apply_court", demanded + dt.timedelta(days=3), approve_by="agency_head_a"),
    )
    # paid at last: the surcharge (3 %/day) has reached its cap, the fine itself
    paid_at = dt.datetime(2026, 6, 12, 10, tzinfo=BJ)
    refused(
        Invalid,
        "fields.amount",
        lambda: act("officer_a1", cid, "pay", paid_at, paid_at=paid_at.isoformat(), amount=4200),
    )
    act("officer_a1", cid, "pay", paid_at, paid_at=paid_at.isoformat(), amount=8400)
    case = case_row(app, cid)
    assert (
        case.status == "closed" and case.surcharge_yuan == Decimal("4200.00") and case.paid_yuan == Decimal("8400.00")
    )
    act("officer_a1", cid, "archive", paid_at)
    assert case_row(app, cid).status == "archived"
    with ActingAs(app, "admin_city") as (session, _):
        case = cases_service.get_penalty_case(session, cid)
        nodes = cases_service.nodes(
            session, calendar_service.get_calendar(session), "penalty", case, cid, None, paid_at
        )
    assert [n.state for n in nodes] == [
        "discovered",
        "investigating",
        "legal_review",
        "deciding",
        "notified",
        "hearing",
        "decided",
        "payment",
        "demanded",
        "closed",
        "archived",
    ]
    assert [n.entered_at for n in nodes] == sorted(n.entered_at for n in nodes)


def test_the_simple_procedure_stays_inside_its_thresholds(app, act: Act, new_case) -> None:
    cid = new_case()
    refused(
        Invalid,
        "evidence_ids",
        lambda: act("officer_a1", cid, "summary", T0, penalty_kind="fine", amount=200, collected="no"),
    )
    ids = [evidence(app, cid)]
    error = refused(
        Invalid, "fields.amount", lambda: _summary(app, cid, ids, penalty_kind="fine", amount=201, collected="no")
    )
    assert "法 51" in error.message
    _summary(app, cid, ids, penalty_kind="fine", amount=200, collected="no")
    case = case_row(app, cid)
    assert case.status == "payment" and case.procedure == "simple" and documents(app, cid) == ["summary_decision"]
    # an organisation may be fined up to 3,000 元 on the spot, and a fine of ≤ 100 元 collected there
    other = new_case(party_type="organisation", party_name="某某商贸有限公司", party_id_no=None)
    _summary(app, other, [evidence(app, other)], penalty_kind="fine", amount=3000, collected="no")
    assert case_row(app, other).status == "payment"
    third = new_case()
    _summary(app, third, [evidence(app, third)], penalty_kind="fine", amount=100, collected="yes")
    paid = case_row(app, third)
    assert paid.status == "closed" and paid.paid_yuan == Decimal("100.00")


def _summary(app, cid: int, evidence_ids: list[int], **fields: Any) -> workflow.Outcome:
    with ActingAs(app, "officer_a1") as (session, principal):
        case = cases_service.get_penalty_case(session, cid, for_update=True)
        return workflow.take(
            session,
            PENALTY_FLOW,
            case,
            "summary",
            principal,
            fields,
            evidence_ids=evidence_ids,
            now=T0,
            settings=app.state.settings,
        )


def test_no_penalty_the_limitation_and_the_ninety_days(app, act: Act, new_case) -> None:
    stale = new_case(act_at=T0 - dt.timedelta(days=800), discovered_at=T0)
    refused(Invalid, "guards.within_limitation", lambda: act("officer_a1", stale, "file", T0, reason="巡查"))
    cid = new_case()
    act("officer_a1", cid, "file", T0, approve_by="agency_head_a", reason="检查发现")
    evidence(app, cid)
    act("officer_a1", cid, "finish_investigation", T0, legal_review="no", collective="no", report="轻微")
    late = T0 + dt.timedelta(days=120)
    refused(
        Invalid,
        "guards.decision_in_time",
        lambda: act(
            "officer_a1", cid, "notify", late, approve_by="agency_head_a", tier="一般", penalty_kind="fine", amount=2000
        ),
    )
    act(
        "officer_a1",
        cid,
        "extend_decision",
        T0 + dt.timedelta(days=60),
        approve_by="agency_head_a",
        days=60,
        reason="案情复杂",
    )
    assert case_row(app, cid).decision_due_at.astimezone(BJ).date() > dt.date(2026, 7, 20)
    act("agency_head_a", cid, "no_penalty", late, ground="minor")
    case = case_row(app, cid)
    assert case.status == "closed" and case.outcome == "no_penalty"


def test_cases_through_the_api_are_scoped_and_role_checked(client: TestClient, as_user, city: SampleCity) -> None:
    body = case_in(city).model_dump(mode="json")
    assert client.post("/api/penalty-cases", json=body, headers=as_user("clerk_a")).status_code == 403
    res = client.post("/api/penalty-cases", json=body, headers=as_user("officer_a1"))
    assert res.status_code == 201, res.text
    cid = res.json()["id"]
    assert res.json()["number"].startswith("ZF") and res.json()["status"] == "discovered"
    assert client.get(f"/api/penalty-cases/{cid}", headers=as_user("officer_b1")).status_code == 404
    assert client.get(f"/api/penalty-cases/{cid}", headers=as_user("analyst_a")).status_code == 403
    res = client.post(
        f"/api/penalty-cases/{cid}/actions/decide", json={"fields": {"amount": 1}}, headers=as_user("agency_head_a")
    )
    assert res.status_code == 409 and res.json()["state"] == "discovered"
    offered = client.get(f"/api/penalty-cases/{cid}/actions", headers=as_user("officer_a1")).json()
    assert {a["key"] for a in offered} == {"file", "decline", "summary", "inspection_record", "rectification_notice"}
    bad = {**body, "causes": [{"cause_code": "AY999"}]}
    res = client.post("/api/penalty-cases", json=bad, headers=as_user("officer_a1"))
    assert res.status_code == 404 and res.json()["errors"][0]["field"] == "causes.0.cause_code"
    res = client.post("/api/penalty-cases", json={**body, "agency_id": city.org["B1"]}, headers=as_user("officer_a1"))
    assert res.status_code in (403, 404)
    inbox = client.get("/api/penalty-cases/inbox", params={"limit": 500}, headers=as_user("officer_a1")).json()
    assert cid in {c["id"] for c in inbox["items"]}
    assert cid not in {
        c["id"] for c in client.get("/api/penalty-cases/inbox", headers=as_user("officer_a2")).json()["items"]
    }
    timeline = client.get(f"/api/penalty-cases/{cid}/timeline", headers=as_user("officer_a1")).json()
    assert timeline["state"] == "discovered" and timeline["nodes"][-1]["light"] == "green"


def test_the_sweep_turns_an_idle_case_red_once(app, new_case) -> None:
    cid = new_case()  # 案件来源 is held for at most 7 working days before 立案 or not
    due = case_row(app, cid).deadline_at
    assert due is not None
    for _ in range(2):
        with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
            sweep(session, due + dt.timedelta(days=1))
    case = case_row(app, cid)
    assert case.light == "red" and case.supervision_count == 1
    with ActingAs(app, "admin_city") as (session, _):
        steps = cases_service.steps(session, "penalty", cid)
    assert [(s.action, s.automatic) for s in steps] == [("supervise", True)]


def test_a_written_waiver_ends_the_statement_window(app, act: Act, new_case, settings: Settings) -> None:
    cid = new_case()
    act("officer_a1", cid, "file", T0, approve_by="agency_head_a", reason="检查发现")
    evidence(app, cid)
    act("officer_a1", cid, "finish_investigation", T0, legal_review="no", collective="no", report="事实清楚")
    act("officer_a1", cid, "notify", T0, approve_by="agency_head_a", tier="一般", penalty_kind="fine", amount=2000)
    refused(Invalid, "guards.statement_window_over", lambda: act("agency_head_a", cid, "decide", T0, amount=2000))
    # the waiver needs the party's signed statement attached
    refused(Invalid, "evidence_ids", lambda: act("officer_a1", cid, "waive", T0, statement="放弃陈述申辩"))
    signed = evidence(app, cid)
    with ActingAs(app, "officer_a1") as (session, principal):
        case = cases_service.get_penalty_case(session, cid, for_update=True)
        workflow.take(
            session, PENALTY_FLOW, case, "waive", principal, {"statement": "放弃陈述申辩和听证"},
            evidence_ids=[signed], now=T0, settings=settings,
        )  # fmt: skip
    assert case_row(app, cid).waived_at == T0
    act("agency_head_a", cid, "decide", T0 + dt.timedelta(hours=1), amount=2000)
    decided = case_row(app, cid)
    assert decided.status == "decided" and decided.fine_yuan == 2000


def test_preserved_and_seized_items_are_decided_in_time_or_supervised(app, act: Act, new_case) -> None:
    cid = new_case()
    act("officer_a1", cid, "file", T0, approve_by="agency_head_a", reason="检查发现")
    evidence(app, cid)
    act("officer_a1", cid, "preserve", T0, approve_by="agency_head_a", items="三轮车一辆")
    preserved = case_row(app, cid).measures[0]
    assert preserved["kind"] == "preserve" and preserved["due_at"] == "2026-03-11T17:30:00+08:00"  # 7 working days
    # the investigation cannot close while preserved items wait for their decision (法56)
    refused(
        Invalid,
        "guards.preservations_decided",
        lambda: act("officer_a1", cid, "finish_investigation", T0, legal_review="no", collective="no", report="查明"),
    )
    t = T0 + dt.timedelta(days=2)
    no_such = lambda: act("officer_a1", cid, "decide_measure", t, measure=2, decision="release")  # noqa: E731
    refused(Invalid, "guards.measure_open", no_such)
    act("officer_a1", cid, "decide_measure", t, approve_by="agency_head_a", measure=1, decision="seize")
    decided, seized = case_row(app, cid).measures
    assert decided["decision"] == "seize" and decided["decided_at"] and seized["kind"] == "seize"
    assert seized["items"] == "三轮车一辆" and seized["started_at"] == t.isoformat()
    act("officer_a1", cid, "extend_seizure", t, approve_by="agency_head_a", measure=2, days=30, reason="需鉴定")
    extended = case_row(app, cid).measures[1]
    # 30 more calendar days, the end moved past a holiday to the next working day (法85)
    with ActingAs(app, "admin_city") as (session, _):
        cal = calendar_service.get_calendar(session)
        expected = deadlines.seizure_end(cal, dt.datetime.fromisoformat(seized["started_at"]), 30).closes
    assert extended["due_at"] == expected.isoformat() and extended["extended_days"] == 30
    assert dt.datetime.fromisoformat(extended["due_at"]) - dt.datetime.fromisoformat(seized["due_at"]) >= dt.timedelta(
        days=30
    )
    refused(  # once only (强制法25)
        Invalid,
        "guards.seizure_extendable",
        lambda: act("officer_a1", cid, "extend_seizure", t, measure=2, days=10, reason="再延"),
    )
    act("officer_a1", cid, "finish_investigation", t, legal_review="no", collective="no", report="查明")

    # past its limit, the seizure is supervised once and the agency told
    late = dt.datetime.fromisoformat(extended["due_at"]) + dt.timedelta(hours=1)
    found = []
    for _ in range(2):
        with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
            found.append(sweep(session, late).measures)
    assert found[0] >= 1 and found[1] == 0
    case = case_row(app, cid)
    assert case.measures[1]["overdue_at"] and "overdue_at" not in case.measures[0]
    with ActingAs(app, "admin_city") as (session, _):
        notes = [s.note for s in cases_service.steps(session, "penalty", cid) if s.automatic]
    assert "查封扣押期限届满未处理 (强制法25)" in notes
