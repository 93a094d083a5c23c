from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import SampleCity

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[116.0, 39.9], [116.05, 39.9], [116.05, 39.95], [116.0, 39.95], [116.0, 39.9]]],
}


def test_ancestors_are_the_chain_above_root_first(client: TestClient, as_user, city: SampleCity) -> None:
    res = client.get(f"/api/orgs/{city.org['A1c2']}/ancestors", headers=as_user("officer_a1"))
    assert [o["code"] for o in res.json()] == ["990000000000", "990101000000", "990101001000"]
    res = client.get(f"/api/orgs/{city.org['A_water']}/ancestors", headers=as_user("admin_a"))
    assert [o["code"] for o in res.json()] == ["990000000000", "990101000000"]


def test_kind_and_parent_rules_are_enforced(client: TestClient, as_user, city: SampleCity) -> None:
    admin = as_user("admin_a")
    res = client.post(
        "/api/orgs",
        json={"code": "990101-BADC", "name": "x", "kind": "community", "parent_id": city.org["A"]},
        headers=admin,
    )
    assert res.status_code == 422 and res.json()["errors"][0]["field"] == "parent_id"
    res = client.post(
        "/api/orgs",
        json={"code": "990101001000", "name": "dup", "kind": "squad", "parent_id": city.org["A1"]},
        headers=admin,
    )
    assert res.status_code == 409 and res.json()["errors"][0]["field"] == "code"
    res = client.post(
        "/api/orgs",
        json={"code": "990101-GEO", "name": "x", "kind": "department", "parent_id": city.org["A"], "geometry": SQUARE},
        headers=admin,
    )
    assert res.status_code == 422 and res.json()["errors"][0]["field"] == "geometry"


def test_child_geometry_must_lie_inside_the_parent(client: TestClient, as_user, city: SampleCity) -> None:
    outside = {"type": "Polygon", "coordinates": [[[116.3, 39.9], [116.35, 39.9], [116.35, 39.95], [116.3, 39.9]]]}
    res = client.post(
        "/api/orgs",
        json={
            "code": "990101001901",
            "name": "飞地社区",
            "kind": "community",
            "parent_id": city.org["A1"],
            "geometry": outside,
        },
        headers=as_user("admin_a"),
    )
    assert res.status_code == 422 and "outside the parent" in res.json()["detail"]


def test_geojson_features_carry_wgs84_geometry(client: TestClient, as_user, city: SampleCity) -> None:
    fc = client.get(f"/api/orgs/features?parent_id={city.org['A1']}", headers=as_user("admin_a")).json()
    assert fc["type"] == "FeatureCollection"
    assert {f["id"] for f in fc["features"]} == {"990101001001", "990101001002"}
    ring = fc["features"][0]["geometry"]["coordinates"][0]
    assert all(116.0 <= x <= 116.1 and 39.9 <= y <= 40.1 for x, y in ring)


def test_moving_a_subtree_rewrites_paths_below_it(client: TestClient, as_user, city: SampleCity) -> None:
    admin = as_user("admin_city")
    street = client.post(
        "/api/orgs",
        json={"code": "990101003000", "name": "搬迁街道", "kind": "street", "parent_id": city.org["A"]},
        headers=admin,
    ).json()
    community = client.post(
        "/api/orgs",
        json={"code": "990101003001", "name": "搬迁社区", "kind": "community", "parent_id": street["id"]},
        headers=admin,
    ).json()
    assert (
        client.patch(f"/api/orgs/{street['id']}", json={"parent_id": city.org["B"]}, headers=admin).status_code == 200
    )
    chain = client.get(f"/api/orgs/{community['id']}/ancestors", headers=admin).json()
    assert [o["code"] for o in chain] == ["990000000000", "990102000000", "990101003000"]
    assert client.get(f"/api/orgs/{community['id']}", headers=admin).json()["depth"] == 3
    # 甲区's administrator no longer sees the moved street
    assert client.get(f"/api/orgs/{street['id']}", headers=as_user("admin_a")).status_code == 404
    assert (
        client.patch(f"/api/orgs/{street['id']}", json={"parent_id": community["id"]}, headers=admin).status_code == 422
    )
    assert client.delete(f"/api/orgs/{street['id']}", headers=admin).status_code == 409  # still has a child
    assert client.delete(f"/api/orgs/{community['id']}", headers=admin).status_code == 204
    assert client.delete(f"/api/orgs/{street['id']}", headers=admin).status_code == 204
