from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from chengguan.audit import AuditEntry
from chengguan.db import unit_of_work
from chengguan.orgs.models import Organisation
from tests.factories import SampleCity


def test_every_change_is_audited_with_actor_and_before_after(client: TestClient, as_user, city: SampleCity) -> None:
    admin = as_user("admin_a")
    res = client.post(
        "/api/orgs",
        json={
            "code": "990101-AUD",
            "name": "审计测试科",
            "kind": "department",
            "parent_id": city.org["A"],
            "function": "audit-test",
        },
        headers=admin,
    )
    assert res.status_code == 201, res.text
    org_id = res.json()["id"]
    assert client.patch(f"/api/orgs/{org_id}", json={"name": "审计测试处"}, headers=admin).status_code == 200
    trail = client.get(f"/api/audit?entity=organisations&entity_id={org_id}", headers=admin).json()["items"]
    assert [e["action"] for e in trail] == ["organisations.update", "organisations.create"]
    update, create = trail
    assert create["actor_id"] == city.user["admin_a"] and create["actor_kind"] == "user"
    assert create["after"]["code"] == "990101-AUD" and create["before"] is None
    assert update["before"] == {"name": "审计测试科"} and update["after"] == {"name": "审计测试处"}
    assert client.delete(f"/api/orgs/{org_id}", headers=admin).status_code == 204
    trail = client.get(f"/api/audit?entity=organisations&entity_id={org_id}", headers=admin).json()["items"]
    assert trail[0]["action"] == "organisations.delete" and trail[0]["before"]["name"] == "审计测试处"


def test_a_refused_request_leaves_no_trace(client: TestClient, as_user, city: SampleCity, platform_session) -> None:
    bad = {
        "type": "Polygon",
        "coordinates": [[[116.0, 39.9], [116.1, 40.0], [116.1, 39.9], [116.0, 40.0], [116.0, 39.9]]],
    }
    res = client.post(
        "/api/orgs",
        json={
            "code": "990101001777",
            "name": "自交社区",
            "kind": "community",
            "parent_id": city.org["A1"],
            "geometry": bad,
        },
        headers=as_user("admin_a"),
    )
    assert res.status_code == 422
    assert res.json()["errors"][0]["field"] == "geometry" and "Self-intersection" in res.json()["detail"]
    assert platform_session.scalar(select(Organisation).where(Organisation.code == "990101001777")) is None
    entries = platform_session.scalars(select(AuditEntry).where(AuditEntry.action == "organisations.create")).all()
    assert all(e.after["code"] != "990101001777" for e in entries)


def test_audit_trail_is_scoped(client: TestClient, as_user, city: SampleCity) -> None:
    seen = client.get("/api/audit?entity=organisations&limit=1000", headers=as_user("supervisor_a")).json()["items"]
    assert seen and all(e["org_id"] not in {city.org["B"], city.org["B1"], city.org["city"]} for e in seen)
    assert client.get("/api/audit", headers=as_user("officer_a1")).status_code == 403


def test_a_change_without_an_actor_is_refused(app) -> None:
    with pytest.raises(RuntimeError, match=r"without session\.info"), unit_of_work(app.state.sessionmaker) as session:
        session.add(Organisation(code="NOACTOR", name="x", kind="city"))
        session.flush()
