from __future__ import annotations

from fastapi.testclient import TestClient


def test_health_and_readiness_are_public(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "migrations": "ok"}


def test_openapi_docs_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert "/api/auth/token" in spec["paths"] and "/api/orgs" in spec["paths"]


def test_unknown_route_is_problem_json(client: TestClient) -> None:
    res = client.get("/api/nope")
    assert res.status_code == 404
    assert res.headers["content-type"].startswith("application/problem+json")


def test_validation_errors_name_the_field(client: TestClient, as_user) -> None:
    res = client.get("/api/orgs?limit=0", headers=as_user("admin_a"))
    assert res.status_code == 422
    assert res.json()["errors"][0]["field"] == "limit"
