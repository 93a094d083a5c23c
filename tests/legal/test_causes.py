"""The 64 shipped case causes, their links to the texts, and administration through the API."""

from __future__ import annotations

import csv
import io
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from chengguan.audit import platform_actor
from chengguan.db import unit_of_work
from chengguan.errors import Invalid
from chengguan.legal import causes, service

NUMBERED = [f"AY{n:03d}" for n in range(1, 61)]
LETTERED = ["AY037b", "AY040b", "AY042b", "AY047b"]
# Provisions the KB cites outside the 31 shipped texts: none. Every §2 reference names one of them
# (the texts it could not find, e.g. 北京市大气污染防治条例, appear only in its notes and authorities).
KNOWN_UNRESOLVED: list[tuple[str, str]] = []


def _ay_causes(session: Session) -> list:
    rows, _total = service.list_causes(session, q="AY", limit=1000)
    return [c for c in rows if c.source_digest is not None]


def test_all_64_causes_are_loaded_with_their_codes(session: Session) -> None:
    codes = [c.code for c in _ay_causes(session)]
    assert sorted(codes) == sorted(NUMBERED + LETTERED) and len(codes) == 64
    assert len(causes.read_shipped()) == 64


def test_every_provision_links_to_a_loaded_article_except_the_known_list(session: Session) -> None:
    shipped = {c.code for c in _ay_causes(session)}
    unlinked = [(code, p.ref) for code, p in service.unlinked_provisions(session) if code in shipped]
    assert unlinked == KNOWN_UNRESOLVED
    for cause in _ay_causes(session):
        roles = {p.role for p in cause.provisions}
        assert roles == {"breached", "penalty"}, cause.code


def test_fine_text_is_the_statutes_own_words(session: Session) -> None:
    """Every line of fine_text occurs verbatim in an article the cause cites as penalty provision."""
    for cause in _ay_causes(session):
        penalty = "\n".join(
            t.resolved.article.text
            for t in service.provision_texts(session, cause)
            if t.provision.role == "penalty" and t.resolved
        )
        for line in filter(None, cause.fine_text.split("\n")):
            assert line in penalty, (cause.code, line)
        if cause.fine_basis == "none":
            assert cause.fine_min is None and cause.fine_max is None and not cause.fine_text


def test_a_cause_carries_range_tiers_and_exact_provisions(session: Session) -> None:
    cause = service.get_cause(session, "AY025")
    assert cause.name == "非法小广告（散发、张贴、涂写、刻画、喷涂）" and cause.verification == "V"
    assert (cause.fine_min, cause.fine_max, cause.fine_basis) == (100, 10000, "fixed")
    assert cause.tiers == [{"when": "一般", "min": 100, "max": 1000}, {"when": "情节严重", "min": 1000, "max": 10000}]
    street = service.get_cause(session, "AY001")
    texts = service.provision_texts(session, street)
    assert [(t.provision.role, t.resolved.citation) for t in texts if t.resolved] == [
        ("breached", "北京市市容环境卫生条例第三十五条第一款"),
        ("penalty", "北京市市容环境卫生条例第三十五条第五款"),
    ]
    waste = service.provision_texts(session, service.get_cause(session, "AY047"))
    assert [t.resolved.citation for t in waste if t.resolved][1:] == [
        "中华人民共和国固体废物污染环境防治法第一百一十一条第一款第三项",
        "中华人民共和国固体废物污染环境防治法第一百一十一条第一款第四项",
        "中华人民共和国固体废物污染环境防治法第一百一十一条第二款",
    ]
    obstruct = service.get_cause(session, "AY060")
    assert obstruct.fine_min is None and obstruct.fine_max == 500
    assert service.get_cause(session, "AY008").fine_basis == "percent_of_cost"


def _csv(*rows: dict[str, str]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=causes.COLUMNS, restval="")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def test_the_causes_file_is_checked_row_by_row() -> None:
    good = {"code": "X1", "name": "名"}
    data = _csv(good, {"code": "X2", "name": "名", "tiers": "严重=1-2"}, good)
    with pytest.raises(Invalid) as exc:
        causes.read_causes(data, "my.csv")
    assert {e.field for e in exc.value.errors} == {"line 3: tiers", "line 4: code"}
    assert "nothing was loaded" in exc.value.message
    data = _csv({"code": "X2", "name": "名", "fine_min": "900", "fine_max": "100", "verification": "Q"})
    with pytest.raises(Invalid) as exc:
        causes.read_causes(data, "my.csv")
    assert {e.field for e in exc.value.errors} == {"line 2: verification"}
    data = _csv({"code": "X2", "name": "名", "fine_min": "900", "fine_max": "100"})
    with pytest.raises(Invalid) as exc:
        causes.read_causes(data, "my.csv")
    [error] = exc.value.errors
    assert error.field == "line 2: cause" and "fine_min 900 exceeds fine_max 100" in error.message
    assert [row.cause.code for row in causes.read_causes(_csv(good), "ok.csv")] == ["X1"]


# -- API --------------------------------------------------------------------------------------------


def _code() -> str:
    return f"T{uuid.uuid4().hex[:8]}"


def test_read_causes_as_a_citizen(legal_client: TestClient, as_user) -> None:
    headers = as_user("citizen_a")
    page = legal_client.get("/api/legal/causes", params={"q": "AY0", "limit": 100}, headers=headers).json()
    assert page["total"] == 64 and page["items"][0]["code"] == "AY001"
    detail = legal_client.get("/api/legal/causes/AY037", headers=headers).json()
    assert detail["fine_min"] == 10000 and detail["fine_max"] == 100000
    penalty = [p for p in detail["provisions"] if p["role"] == "penalty"]
    assert penalty[0]["citation"] == "中华人民共和国噪声污染防治法第七十七条第一款第二项"
    assert penalty[0]["text"].startswith("（二）未按照规定取得证明")
    assert legal_client.get("/api/legal/causes/AY999", headers=headers).status_code == 404


def test_filter_causes_by_document_and_tag(legal_client: TestClient, as_user) -> None:
    headers = as_user("officer_a1")
    docs = legal_client.get("/api/legal/documents", params={"q": "燃气"}, headers=headers).json()["items"]
    gas = next(d for d in docs if d["title"] == "北京市燃气管理条例")
    page = legal_client.get("/api/legal/causes", params={"document_id": gas["id"]}, headers=headers).json()
    assert [c["code"] for c in page["items"]] == ["AY054", "AY055", "AY056"]
    verified = legal_client.get("/api/legal/causes", params={"verification": "V", "q": "AY"}, headers=headers).json()
    assert verified["total"] == 64


def test_an_administrator_adds_and_changes_a_cause(legal_client: TestClient, as_user) -> None:
    admin, code = as_user("admin_city"), _code()
    body = {
        "code": code,
        "name": "测试案由",
        "breached_refs": ["BJ市容 36 para 1"],
        "penalty_refs": ["BJ市容 36 para 2"],
        "fine_min": 20,
        "fine_max": 50,
        "tiers": [{"when": "一般", "min": 20, "max": 50}],
    }
    res = legal_client.post("/api/legal/causes", json=body, headers=admin)
    assert res.status_code == 201, res.text
    assert [p["citation"] for p in res.json()["provisions"]] == [
        "北京市市容环境卫生条例第三十六条第一款",
        "北京市市容环境卫生条例第三十六条第二款",
    ]
    assert legal_client.post("/api/legal/causes", json=body, headers=admin).status_code == 409
    res = legal_client.patch(
        f"/api/legal/causes/{code}", json={"fine_max": 60, "penalty_refs": ["BJ市容 36"]}, headers=admin
    )
    assert res.status_code == 200, res.text
    assert res.json()["fine_max"] == 60
    assert [p["ref"] for p in res.json()["provisions"]] == ["BJ市容 36 para 1", "BJ市容 36"]
    res = legal_client.patch(f"/api/legal/causes/{code}", json={"fine_max": 10}, headers=admin)
    assert res.status_code == 422 and "fine_min 20 exceeds fine_max 10" in res.text


def test_refs_that_do_not_resolve_are_refused(legal_client: TestClient, as_user) -> None:
    admin = as_user("admin_city")
    body = {
        "code": _code(),
        "name": "坏引用",
        "breached_refs": ["BJ市容 35 para 1"],
        "penalty_refs": ["BJ市容 35 para 9"],
    }
    res = legal_client.post("/api/legal/causes", json=body, headers=admin)
    assert res.status_code == 422
    assert res.json()["errors"][0]["field"] == "penalty_refs.0.ref.paragraph"
    body["penalty_refs"] = ["燃气管理条例 60"]
    res = legal_client.post("/api/legal/causes", json=body, headers=admin)
    assert res.json()["errors"][0]["field"] == "penalty_refs.0.ref.document"
    assert res.json()["candidates"] == ["北京市燃气管理条例", "城镇燃气管理条例"]
    assert legal_client.get(f"/api/legal/causes/{body['code']}", headers=admin).status_code == 404


def test_only_administrators_write_causes(legal_client: TestClient, as_user) -> None:
    body = {"code": _code(), "name": "越权"}
    for user in ("officer_a1", "legal_reviewer_a", "citizen_a", "admin_a"):  # admin_a: a district's
        assert legal_client.post("/api/legal/causes", json=body, headers=as_user(user)).status_code == 403
    assert (
        legal_client.patch("/api/legal/causes/AY001", json={"active": False}, headers=as_user("officer_a1")).status_code
        == 403
    )
    assert legal_client.post("/api/legal/causes", json=body).status_code == 401


def test_reloading_keeps_a_citys_edit_of_a_shipped_cause(legal_client: TestClient, as_user, app) -> None:
    admin = as_user("admin_city")
    res = legal_client.patch("/api/legal/causes/AY059", json={"notes": "本市由城管执法 (BJ绿化 73)"}, headers=admin)
    assert res.status_code == 200
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        assert service.load_causes(session) == 0
    assert legal_client.get("/api/legal/causes/AY059", headers=admin).json()["notes"] == "本市由城管执法 (BJ绿化 73)"
