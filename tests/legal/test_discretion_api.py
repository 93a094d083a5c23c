"""/api/legal/discretion: recommendations with rationale and texts, the decision check, and the
agencies' tier schemes (who may change which, validation, audit, inheritance)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from chengguan.audit import AuditEntry
from chengguan.legal.discretion import DEFAULT_SCHEME
from tests.factories import SampleCity

URL = "/api/legal/discretion"
STRICT = {
    "tiers": [
        {"name": "较轻", "lower": 0, "upper": 30},
        {"name": "一般", "lower": 30, "upper": 70},
        {"name": "严重", "lower": 70, "upper": 100},
    ],
    "hearing_citizen": 2000,
    "hearing_organisation": 30000,
    "published_as": "甲区城管裁量基准（试行）",
}


def _recommend(client: TestClient, headers: dict[str, str], *codes: str, **facts) -> dict:
    body = {"causes": [{"cause_code": c} for c in codes], "tier": "一般", **facts}
    res = client.post(f"{URL}/recommend", json=body, headers=headers)
    assert res.status_code == 200, res.text
    return res.json()


@pytest.fixture
def district_scheme(legal_client: TestClient, as_user, city: SampleCity) -> Iterator[int]:
    """甲区 (district A) has its own scheme for the test; removed afterwards."""
    district = city.org["A"]
    res = legal_client.put(f"{URL}/schemes/orgs/{district}", json=STRICT, headers=as_user("admin_a"))
    assert res.status_code == 200, res.text
    yield district
    assert legal_client.delete(f"{URL}/schemes/orgs/{district}", headers=as_user("admin_a")).status_code == 204


def test_a_recommendation_with_its_rationale_and_texts(legal_client: TestClient, as_user) -> None:
    advice = _recommend(legal_client, as_user("officer_b1"), "AY025")
    rec = advice["applies"]
    assert (rec["applicable"], rec["band"], rec["amount"]) == (
        {"low": 100, "high": 1000},
        {"low": 280, "high": 550},
        415,
    )
    assert rec["builtin_tier"] == "一般" and rec["simple_procedure"] is False and rec["hearing"] is False
    assert advice["scheme"]["source"] == DEFAULT_SCHEME.source and advice["concurrence"] == []
    assert rec["lines"][0]["citations"] == ["北京市市容环境卫生条例第四十一条第一款"]
    assert [p["citation"] for p in rec["provisions"] if p["role"] == "penalty"] == [
        "北京市市容环境卫生条例第四十一条第一款"
    ]
    assert all(p["text"] for p in rec["provisions"])
    rules = {r["citation"]: r["text"] for r in advice["rules"]}
    assert rules["中华人民共和国行政处罚法第五十一条"].startswith("违法事实确凿并有法定依据")
    assert "中华人民共和国行政处罚法第三十四条" in rules
    assert rec["rounding"].startswith("金额以元为单位")


def test_citizens_may_ask_anonymous_callers_may_not(legal_client: TestClient, as_user) -> None:
    advice = _recommend(legal_client, as_user("citizen_a"), "AY013")
    assert advice["applies"]["applicable"] == {"low": 20, "high": 50}
    body = {"causes": [{"cause_code": "AY013"}], "tier": "一般"}
    assert legal_client.post(f"{URL}/recommend", json=body).status_code == 401


def test_several_causes_one_fine(legal_client: TestClient, as_user) -> None:
    advice = _recommend(legal_client, as_user("officer_a1"), "AY029", "AY041", party="organisation")
    assert advice["applies"]["cause_code"] == "AY041"
    assert [r["cause_code"] for r in advice["recommendations"]] == ["AY029", "AY041"]
    assert advice["concurrence"][0]["citations"] == ["中华人民共和国行政处罚法第二十九条"]


def test_history_and_no_penalty_grounds_through_the_api(legal_client: TestClient, as_user) -> None:
    headers = as_user("officer_a1")
    first = _recommend(legal_client, headers, "AY025", corrected=True, harm="slight")["applies"]
    assert first["no_penalty"]["ground"] == "first_offence" and first["no_penalty"]["mandatory"] is False
    history = {"prior_penalties": 1, "last_penalty_on": "2026-01-05", "window_days": 730}
    again = _recommend(legal_client, headers, "AY025", corrected=True, harm="slight", history=history)["applies"]
    assert again["no_penalty"] is None and again["amount"] == 550
    child = _recommend(legal_client, headers, "AY025", age=12)["applies"]
    assert child["amount"] is None and child["no_penalty"]["ref"] == "法 30"


@pytest.mark.parametrize(
    ("patch", "field", "status"),
    [
        ({"causes": [{"cause_code": "AY999"}]}, "causes.0.cause_code", 404),
        ({"causes": [{"cause_code": "AY009"}]}, "causes.0.quantity", 422),
        ({"causes": [{"cause_code": "AY001"}, {"cause_code": "AY034"}]}, "causes.1.builtin_tier", 422),
        ({"tier": "特别严重"}, "tier", 422),
        ({"reduce": True}, "reduce", 422),
        ({"party": "robot"}, "party", 422),
        ({"history": {"prior_penalties": 2}}, "history.last_penalty_on", 422),
        ({"causes": []}, "causes", 422),
    ],
)
def test_errors_name_the_field(legal_client: TestClient, as_user, patch, field, status) -> None:
    body = {"causes": [{"cause_code": "AY001"}], "tier": "一般", **patch}
    res = legal_client.post(f"{URL}/recommend", json=body, headers=as_user("officer_a1"))
    assert res.status_code == status, res.text
    assert res.json()["errors"][0]["field"] == field


def test_the_decision_check(legal_client: TestClient, as_user) -> None:
    headers = as_user("legal_reviewer_a")
    body = {"causes": [{"cause_code": "AY025"}], "tier": "一般", "amount": 450}
    ok = legal_client.post(f"{URL}/check", json=body, headers=headers).json()
    assert ok["verdict"] == "ok" and ok["recommendation"]["amount"] == 415
    res = legal_client.post(f"{URL}/check", json={**body, "amount": 900}, headers=headers)
    assert res.status_code == 422 and res.json()["errors"][0]["field"] == "reason"
    flagged = legal_client.post(f"{URL}/check", json={**body, "amount": 900, "reason": "多处张贴"}, headers=headers)
    assert flagged.json()["verdict"] == "supervise" and flagged.json()["deviation"] == 350
    res = legal_client.post(f"{URL}/check", json={**body, "amount": 1500, "reason": "严重"}, headers=headers)
    assert res.status_code == 422 and res.json()["errors"][0]["field"] == "amount"
    assert "BJ市容 41 para 1" in res.json()["refs"]


def test_an_agency_scheme_governs_its_subtree_only(legal_client: TestClient, as_user, district_scheme: int) -> None:
    inside = _recommend(legal_client, as_user("officer_a1"), "AY025")  # 东街道, under 甲区
    assert inside["scheme"]["org_id"] == district_scheme and inside["scheme"]["source"].startswith("甲区")
    assert inside["applies"]["band"] == {"low": 370, "high": 730}  # 30–70 % of 100–1000
    outside = _recommend(legal_client, as_user("officer_b1"), "AY025")  # 乙区
    assert outside["scheme"]["org_id"] is None and outside["applies"]["band"] == {"low": 280, "high": 550}
    fine = _recommend(legal_client, as_user("officer_a1"), "AY001")["applies"]  # 500–5000: 1850–3650
    assert fine["amount"] == 2750 and fine["hearing"] and fine["hearing_threshold"] == 2000
    chosen = _recommend(legal_client, as_user("admin_city"), "AY025", org_id=district_scheme)
    assert chosen["scheme"]["org_id"] == district_scheme
    officer = as_user("officer_a1")
    seen = legal_client.get(f"{URL}/schemes/orgs/{district_scheme}", headers=officer).json()
    assert seen["published_as"] == STRICT["published_as"] and [t["name"] for t in seen["tiers"]] == [
        "较轻",
        "一般",
        "严重",
    ]
    listed = legal_client.get(f"{URL}/schemes", headers=as_user("citizen_a")).json()  # published: 法34
    assert district_scheme in [s["org_id"] for s in listed]


def test_who_may_change_which_scheme(legal_client: TestClient, as_user, city: SampleCity) -> None:
    b, root = city.org["B"], city.org["city"]
    assert legal_client.put(f"{URL}/schemes/orgs/{b}", json=STRICT, headers=as_user("admin_a")).status_code == 404
    assert legal_client.put(f"{URL}/schemes/orgs/{root}", json=STRICT, headers=as_user("admin_a")).status_code == 403
    assert legal_client.put(f"{URL}/schemes/orgs/{b}", json=STRICT, headers=as_user("officer_b1")).status_code == 403
    assert legal_client.put(f"{URL}/schemes/citywide", json=STRICT, headers=as_user("admin_a")).status_code == 403
    assert legal_client.delete(f"{URL}/schemes/orgs/{b}", headers=as_user("admin_b")).status_code == 404


@pytest.mark.parametrize(
    ("tiers", "field"),
    [
        ([{"name": "轻", "lower": 0, "upper": 40}, {"name": "重", "lower": 50, "upper": 100}], "tiers.1.lower"),
        ([{"name": "轻", "lower": 0, "upper": 90}], "tiers.0.upper"),
        ([{"name": "轻", "lower": 0, "upper": 120}], "tiers.0.upper"),
    ],
)
def test_scheme_validation_through_the_api(legal_client: TestClient, as_user, city: SampleCity, tiers, field) -> None:
    res = legal_client.put(
        f"{URL}/schemes/orgs/{city.org['B']}", json={**STRICT, "tiers": tiers}, headers=as_user("admin_b")
    )
    assert res.status_code == 422 and res.json()["errors"][0]["field"] == field


def test_the_city_wide_scheme_is_audited(
    legal_client: TestClient, as_user, city: SampleCity, platform_session: Session
) -> None:
    admin = as_user("admin_city")
    assert legal_client.get(f"{URL}/schemes/citywide", headers=admin).json()["source"] == DEFAULT_SCHEME.source
    res = legal_client.put(f"{URL}/schemes/citywide", json=STRICT, headers=admin)
    assert res.status_code == 200 and res.json()["org_id"] == city.org["city"]
    changed = {**STRICT, "hearing_citizen": 5000}
    assert legal_client.put(f"{URL}/schemes/citywide", json=changed, headers=admin).json()["hearing_citizen"] == 5000
    advice = _recommend(legal_client, as_user("officer_b1"), "AY025")  # 乙区 inherits the city's
    assert advice["scheme"]["org_id"] == city.org["city"] and advice["applies"]["hearing_threshold"] == 5000
    assert legal_client.delete(f"{URL}/schemes/orgs/{city.org['city']}", headers=admin).status_code == 204
    assert legal_client.get(f"{URL}/schemes/citywide", headers=admin).json()["org_id"] is None
    entries = platform_session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "discretion_schemes", AuditEntry.org_id == city.org["city"])
    ).all()
    assert len(entries) >= 3 and {e.actor_name for e in entries} == {"admin_city"}
    update = next(e for e in entries if e.before and e.after and "hearing_citizen" in e.after)
    assert (update.before["hearing_citizen"], update.after["hearing_citizen"]) == (2000, 5000)
