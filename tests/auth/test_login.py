from __future__ import annotations

from fastapi.testclient import TestClient

from chengguan.auth import service
from chengguan.auth.roles import Role
from chengguan.auth.schemas import UserIn
from tests.conftest import PASSWORD, login
from tests.factories import SampleCity


def test_password_login_issues_tokens_and_me_reports_roles(client: TestClient) -> None:
    res = client.post("/api/auth/token", data={"username": "clerk_a", "password": PASSWORD})
    assert res.status_code == 200
    body = res.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 15 * 60
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["roles"] == ["clerk"]
    assert "reference:read" in me.json()["permissions"]


def test_wrong_password_is_401_problem_naming_the_field(client: TestClient) -> None:
    res = client.post("/api/auth/token", data={"username": "analyst_a", "password": "nope-1234"})
    assert res.status_code == 401
    assert res.headers["content-type"].startswith("application/problem+json")
    assert res.json()["errors"][0]["field"] == "password"


def test_login_is_throttled_after_repeated_failures(client: TestClient, platform_session) -> None:
    service.create_user(
        platform_session, UserIn(username="throttled", display_name="t", password=PASSWORD, roles=[Role.CITIZEN])
    )
    platform_session.commit()
    for _ in range(5):
        assert (
            client.post("/api/auth/token", data={"username": "throttled", "password": "bad-pass1"}).status_code == 401
        )
    res = client.post("/api/auth/token", data={"username": "throttled", "password": PASSWORD})
    assert res.status_code == 429
    assert int(res.headers["Retry-After"]) > 0


def test_endpoints_require_authentication(client: TestClient) -> None:
    res = client.get("/api/orgs")
    assert res.status_code == 401
    assert res.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/orgs", headers={"Authorization": "Bearer not-a-token"}).status_code == 401


def test_refresh_rotates_and_reuse_revokes_the_family(client: TestClient) -> None:
    first = client.post("/api/auth/token", data={"username": "dispatcher_a", "password": PASSWORD}).json()
    second = client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    # the first token was rotated: presenting it again is a theft signal
    assert client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]}).status_code == 401
    # …which also kills the legitimate successor
    assert client.post("/api/auth/refresh", json={"refresh_token": second.json()["refresh_token"]}).status_code == 401


def test_logout_revokes_refresh_token(client: TestClient) -> None:
    pair = client.post("/api/auth/token", data={"username": "supervisor_a", "password": PASSWORD}).json()
    assert client.post("/api/auth/logout", json={"refresh_token": pair["refresh_token"]}).status_code == 204
    assert client.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 401


def test_api_key_authenticates_a_system_account(client: TestClient, city: SampleCity) -> None:
    me = client.get("/api/auth/me", headers={"X-API-Key": city.api_key})
    assert me.status_code == 200 and me.json()["kind"] == "system"
    assert client.get("/api/auth/me", headers={"X-API-Key": city.api_key[:-2] + "xx"}).status_code == 401
    assert client.get("/api/auth/me", headers={"X-API-Key": "garbage"}).status_code == 401


def test_system_accounts_cannot_log_in_with_a_password(client: TestClient) -> None:
    res = client.post("/api/auth/token", data={"username": "video_ai_a", "password": PASSWORD})
    assert res.status_code == 401


def test_disabled_user_token_stops_working(client: TestClient, as_user) -> None:
    headers = login(client, "officer_b1")
    assert client.get("/api/auth/me", headers=headers).status_code == 200
    admin = as_user("admin_b")
    uid = client.get("/api/auth/me", headers=headers).json()["id"]
    assert client.patch(f"/api/users/{uid}", json={"active": False}, headers=admin).status_code == 200
    assert client.get("/api/auth/me", headers=headers).status_code == 401
    assert client.patch(f"/api/users/{uid}", json={"active": True}, headers=admin).status_code == 200
