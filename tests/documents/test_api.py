"""/api/documents: kinds, preview, issue, download, list by case, agency numbering settings;
who may do what, and the downloaded bytes are the filed evidence."""

from __future__ import annotations

import hashlib
from urllib.parse import quote

from fastapi.testclient import TestClient

from chengguan.documents.kinds import KINDS, get_kind
from chengguan.documents.render import UNNUMBERED, WATERMARK
from tests.documents.conftest import body_text, case_ref, sample_fields, squashed
from tests.factories import SampleCity


def _issue_body(city: SampleCity, case: str, key: str = "penalty_decision", agency: str = "A1_squad") -> dict:
    return {"kind": key, "agency_org_id": city.org[agency], "subject_id": case, "fields": sample_fields(get_kind(key))}


def test_kinds_list_their_fields(client: TestClient, as_user) -> None:
    res = client.get("/api/documents/kinds", headers=as_user("analyst_a"))
    assert res.status_code == 200
    kinds = {k["key"]: k for k in res.json()}
    assert set(kinds) == set(KINDS) and len(kinds) >= 10
    decision = kinds["penalty_decision"]
    assert decision["title"] == "行政处罚决定书" and decision["word"] == "罚决"
    fields = {f["name"]: f for f in decision["fields"]}
    assert fields["party_name"] == {"name": "party_name", "label": "当事人", "required": True}
    assert fields["party_id"]["required"] is False
    assert client.get("/api/documents/kinds").status_code == 401


def test_issue_download_and_list_by_case(client: TestClient, as_user, city: SampleCity) -> None:
    case, other = case_ref(), case_ref()
    officer = as_user("officer_a1")
    first = client.post("/api/documents", json=_issue_body(city, case), headers=officer)
    assert first.status_code == 201, first.text
    doc = first.json()
    assert doc["issued_by_name"] == "officer_a1" and doc["subject_id"] == case
    second = client.post("/api/documents", json=_issue_body(city, case, "service_receipt"), headers=officer).json()
    client.post("/api/documents", json=_issue_body(city, other), headers=officer)

    pdf = client.get(f"/api/documents/{doc['id']}/pdf", headers=as_user("analyst_a"))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    digest = hashlib.sha256(pdf.content).hexdigest()
    evidence = client.get(f"/api/evidence/{doc['evidence_id']}", headers=officer).json()
    assert digest == doc["sha256"] == evidence["sha256"] == pdf.headers["x-content-sha256"]
    assert quote(f"{doc['number']}.pdf") in pdf.headers["content-disposition"]
    assert doc["number"] in body_text(pdf.content)

    listed = client.get("/api/documents", params={"subject_id": case}, headers=as_user("analyst_a")).json()
    assert [d["id"] for d in listed["items"]] == [doc["id"], second["id"]] and listed["total"] == 2
    assert client.get(f"/api/documents/{doc['id']}", headers=officer).json()["number"] == doc["number"]


def test_only_evidence_writers_issue(client: TestClient, as_user, city: SampleCity) -> None:
    for user in ("analyst_a", "dispatcher_a", "supervisor_a"):
        res = client.post("/api/documents", json=_issue_body(city, case_ref()), headers=as_user(user))
        assert res.status_code == 403, user
    assert client.get("/api/documents/kinds", headers=as_user("citizen_a")).status_code == 403


def test_other_districts_neither_issue_for_nor_see_an_agency(client: TestClient, as_user, city: SampleCity) -> None:
    res = client.post("/api/documents", json=_issue_body(city, case_ref()), headers=as_user("officer_b1"))
    assert res.status_code == 404 and res.json()["errors"][0]["field"] == "agency_org_id"
    case = case_ref()
    doc = client.post("/api/documents", json=_issue_body(city, case), headers=as_user("officer_a1")).json()
    assert client.get(f"/api/documents/{doc['id']}", headers=as_user("admin_b")).status_code == 404
    assert client.get(f"/api/documents/{doc['id']}/pdf", headers=as_user("admin_b")).status_code == 404
    assert client.get("/api/documents", params={"subject_id": case}, headers=as_user("admin_b")).json()["total"] == 0


def test_a_missing_field_is_named(client: TestClient, as_user, city: SampleCity) -> None:
    body = _issue_body(city, case_ref())
    del body["fields"]["facts"]
    res = client.post("/api/documents", json=body, headers=as_user("officer_a1"))
    assert res.status_code == 422 and [e["field"] for e in res.json()["errors"]] == ["fields.facts"]
    res = client.post("/api/documents", json={**body, "kind": "warrant"}, headers=as_user("officer_a1"))
    assert res.status_code == 404 and res.json()["errors"][0]["field"] == "kind"


def test_preview_is_a_watermarked_draft_that_stores_nothing(client: TestClient, as_user, city: SampleCity) -> None:
    fields = sample_fields(get_kind("hearing_notice"))
    res = client.post(
        "/api/documents/preview", json={"kind": "hearing_notice", "fields": fields}, headers=as_user("analyst_a")
    )
    assert res.status_code == 200 and res.headers["content-type"] == "application/pdf"
    text = body_text(res.content)
    assert squashed(WATERMARK) in text and UNNUMBERED in text and "甲区" in text  # the caller's organisation
    assert squashed(fields["proposed_penalty"]) in text
    bad = client.post(
        "/api/documents/preview", json={"kind": "hearing_notice", "fields": {}}, headers=as_user("analyst_a")
    )
    assert bad.status_code == 422 and "fields.party_name" in {e["field"] for e in bad.json()["errors"]}


def test_agency_numbering_is_set_by_organisation_admins(client: TestClient, as_user, city: SampleCity) -> None:
    org_id = city.org["A2"]
    url = f"/api/documents/agencies/{org_id}"
    settings = {"abbreviation": "京城管西", "number_format": "{abbr}{word}〔{year}〕{seq}号"}
    assert client.put(url, json=settings, headers=as_user("officer_a2")).status_code == 403
    assert client.put(url, json=settings, headers=as_user("admin_b")).status_code == 404
    res = client.put(url, json=settings, headers=as_user("admin_a"))
    assert res.status_code == 200 and res.json()["example"] == "京城管西罚决〔2026〕12号"
    assert client.get(url, headers=as_user("officer_a2")).json()["abbreviation"] == "京城管西"
    doc = client.post("/api/documents", json=_issue_body(city, case_ref(), agency="A2"), headers=as_user("officer_a2"))
    assert doc.json()["number"] == f"京城管西罚决〔{doc.json()['year']}〕{doc.json()['seq']}号"
    bad = client.put(url, json={"abbreviation": "京城管西", "number_format": "{abbr}"}, headers=as_user("admin_a"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "number_format"
