"""Tokens: a report a clerk must place first gets a token, and the token gives the request's
number once the clerk has made it an event (or a 404 once they have rejected it)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from chengguan.open311.models import Open311Request
from tests.open311.conftest import BASE, Open311City, same_in_both, spot, validate

NOWHERE = "Qwxz Nowhere 999"  # no gazetteer entry resembles it


def _pending(post, description: str) -> str:
    res = post(None, address_string=NOWHERE, description=description)
    assert res.status_code == 200, res.text
    validate("created", res.json())
    (created,) = res.json()
    assert "service_request_id" not in created and len(created["token"]) == 32
    return created["token"]


def _report_id(db, token: str) -> int:
    with db() as session:
        report_id = session.scalar(select(Open311Request.report_id).where(Open311Request.token == token))
        assert report_id is not None
        return report_id


def test_a_token_resolves_once_a_clerk_places_the_report(client: TestClient, as_user, post, db) -> None:
    token = _pending(post, "Open311 测试：某处有人摆摊，地址说不清")
    waiting = same_in_both(client, f"tokens/{token}")
    validate("token", waiting)
    assert waiting == [{"token": token}]

    lon, lat = spot(40)
    decided = client.post(
        f"/api/intake/reports/{_report_id(db, token)}/decision",
        json={"action": "new", "category_key": "E0502", "lon": lon, "lat": lat},
        headers=as_user("admin_city"),
    )
    assert decided.status_code == 200, decided.text

    resolved = same_in_both(client, f"tokens/{token}")
    validate("token", resolved)
    number = resolved[0]["service_request_id"]
    assert resolved == [{"service_request_id": number, "token": token}] and number.startswith("SJ")
    (request,) = same_in_both(client, f"requests/{number}")
    assert (request["long"], request["lat"]) == (lon, lat) and request["address"] == NOWHERE


def test_a_rejected_reports_token_is_404(client: TestClient, as_user, post, db) -> None:
    token = _pending(post, "Open311 测试：无效诉求")
    rejected = client.post(
        f"/api/intake/reports/{_report_id(db, token)}/decision",
        json={"action": "reject", "reason": "不属于城管职责"},
        headers=as_user("admin_city"),
    )
    assert rejected.status_code == 200, rejected.text
    res = client.get(f"{BASE}/tokens/{token}.json")
    assert res.status_code == 404 and "not taken up" in res.json()[0]["description"]
    assert "不属于城管职责" not in res.text  # the clerk's reason is internal


def test_an_unknown_token_is_404(client: TestClient, open311_city: Open311City) -> None:
    assert client.get(f"{BASE}/tokens/0123456789abcdef0123456789abcdef.json").status_code == 404
    assert client.get(f"{BASE}/tokens/0123456789abcdef0123456789abcdef.xml").status_code == 404
