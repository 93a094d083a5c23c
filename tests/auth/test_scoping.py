"""A user sees the organisation subtree they belong to (plus the chain above it, for names);
another street's records are not found, not forbidden — their existence is not disclosed."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import SampleCity


def _codes(res) -> set[str]:
    assert res.status_code == 200, res.text
    return {item["code"] for item in res.json()["items"]}


def test_street_officer_sees_own_subtree_and_ancestors_only(client: TestClient, as_user, city: SampleCity) -> None:
    res = client.get("/api/orgs?limit=1000", headers=as_user("officer_a1"))
    codes = _codes(res)
    assert {"990101001000", "990101001001", "990101001002", "990101001-ZFD"} <= codes  # own street subtree
    assert {"990000000000", "990101000000"} <= codes  # the chain above, for display
    assert not codes & {"990101002000", "990101002001", "990102000000", "990102001000", "990101-SW"}
    assert res.json()["total"] == len(codes)  # counts are scoped too


def test_other_streets_record_is_404_not_403(client: TestClient, as_user, city: SampleCity) -> None:
    officer = as_user("officer_a1")
    assert client.get(f"/api/orgs/{city.org['A2']}", headers=officer).status_code == 404
    assert client.get(f"/api/orgs/{city.org['A2c1']}/feature", headers=officer).status_code == 404
    assert client.get(f"/api/orgs/{city.org['A1c1']}", headers=officer).status_code == 200


def test_district_admin_sees_only_own_districts_users(client: TestClient, as_user, city: SampleCity) -> None:
    admin = as_user("admin_a")
    res = client.get("/api/users?limit=1000", headers=admin)
    names = {u["username"] for u in res.json()["items"]}
    assert {"admin_a", "officer_a1", "officer_a2", "clerk_a"} <= names
    assert not names & {"admin_b", "officer_b1", "admin_city"}
    assert res.json()["total"] == len(names)
    assert client.get(f"/api/users/{city.user['officer_b1']}", headers=admin).status_code == 404
    assert (
        client.patch(f"/api/users/{city.user['officer_b1']}", json={"display_name": "x"}, headers=admin).status_code
        == 404
    )


def test_admin_cannot_write_above_or_beside_their_subtree(client: TestClient, as_user, city: SampleCity) -> None:
    admin = as_user("admin_a")
    org = {"code": "990102009000", "name": "越界街道", "kind": "street", "parent_id": city.org["B"]}
    res = client.post("/api/orgs", json=org, headers=admin)
    assert res.status_code == 422 and res.json()["errors"][0]["field"] == "parent_id"  # 乙区 is invisible
    res = client.post("/api/orgs", json={**org, "kind": "district", "parent_id": city.org["city"]}, headers=admin)
    assert res.status_code == 403  # the city is visible (ancestor) but not writable
    assert client.patch(f"/api/orgs/{city.org['B1']}", json={"name": "x"}, headers=admin).status_code == 404
    assert client.patch(f"/api/orgs/{city.org['city']}", json={"name": "x"}, headers=admin).status_code == 403


def test_city_admin_sees_everything(client: TestClient, as_user) -> None:
    codes = _codes(client.get("/api/orgs?limit=1000", headers=as_user("admin_city")))
    assert {"990101002000", "990102001000", "990101-SW"} <= codes


def test_citizen_sees_no_organisation_records(client: TestClient, as_user, city: SampleCity) -> None:
    citizen = as_user("citizen_a")
    assert client.get("/api/orgs", headers=citizen).status_code == 403
    assert client.get("/api/auth/me", headers=citizen).status_code == 200
