from __future__ import annotations

from fastapi.testclient import TestClient

from tests.dispatch.conftest import Categories
from tests.factories import SampleCity

URL = "/api/responsibility"


def _body(city: SampleCity, row: int, category: str, basis: str, unit: str, area: str | None = None) -> dict:
    return {
        "row_no": row,
        "category": category,
        "basis": basis,
        "unit_id": city.org[unit],
        "org_id": city.org[area] if area else None,
    }


def test_street_admin_sees_and_edits_only_their_streets_rules(
    client: TestClient, as_user, city: SampleCity, cats: Categories, street_admin: str
) -> None:
    district = as_user("admin_a")
    street = as_user(street_admin)
    own = client.post(URL, json=_body(city, 1001, cats.event, "territory", "A1_squad", "A1c1"), headers=street)
    assert own.status_code == 201, own.text
    assert own.json()["org_name"] == "A1一社区" and own.json()["unit_name"] == "东街道综合执法队"
    other = client.post(URL, json=_body(city, 1002, cats.event, "territory", "A_water", "A2"), headers=district)
    assert other.status_code == 201, other.text
    other_id = other.json()["id"]
    listed = client.get(URL, params={"category": cats.event}, headers=street).json()
    assert [r["row_no"] for r in listed["items"]] == [1001] and listed["total"] == 1
    assert client.get(f"{URL}/{other_id}", headers=street).status_code == 404
    assert client.patch(f"{URL}/{other_id}", json={"priority": 3}, headers=street).status_code == 404
    assert client.delete(f"{URL}/{other_id}", headers=street).status_code == 404
    # a rule for 西街道 names an area the street admin cannot see; a city-wide one, an area they cannot write
    res = client.post(URL, json=_body(city, 1003, cats.event, "territory", "A1_squad", "A2"), headers=street)
    assert res.status_code == 422 and res.json()["errors"][0]["field"] == "org_id"
    assert client.post(URL, json=_body(city, 1004, cats.event, "owner", "A_water"), headers=street).status_code == 403
    # …but the owning unit may sit outside their subtree (a district department)
    res = client.patch(f"{URL}/{own.json()['id']}", json={"unit_id": city.org["A_water"]}, headers=street)
    assert res.status_code == 200 and res.json()["unit_code"] == "990101-SW"
    assert {
        r["row_no"] for r in client.get(URL, params={"category": cats.event}, headers=district).json()["items"]
    } == {
        1001,
        1002,
    }


def test_officers_read_and_resolve_but_cannot_write(
    client: TestClient, as_user, city: SampleCity, cats: Categories, rule
) -> None:
    rule_id = rule(1101, cats.event, "territory", "A1_squad", "A1")
    officer = as_user("officer_a1")
    assert client.get(f"{URL}/{rule_id}", headers=officer).status_code == 200
    body = _body(city, 1102, cats.event, "territory", "A1_squad", "A1")
    assert client.post(URL, json=body, headers=officer).status_code == 403
    assert client.patch(f"{URL}/{rule_id}", json={"priority": 1}, headers=officer).status_code == 403
    assert client.delete(f"{URL}/{rule_id}", headers=officer).status_code == 403
    res = client.get(f"{URL}/resolve", params={"category": cats.event, "org": city.org["A1c1"]}, headers=officer)
    assert res.status_code == 200 and res.json()["row_no"] == 1101
    assert client.get(f"{URL}/resolve", params={"category": cats.event, "org": city.org["A1c1"]}).status_code == 401


def test_resolve_by_cell_uses_its_community_and_area_class(
    client: TestClient, as_user, city: SampleCity, cats: Categories, rule, temp_cell: str
) -> None:
    rule(1201, cats.component, "owner", "A_water", cell_code=temp_cell)
    admin = as_user("admin_b")
    res = client.get(f"{URL}/resolve", params={"category": cats.component, "cell": temp_cell}, headers=admin)
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["unit"]["code"] == "990101-SW" and body["basis"] == "owner" and not body["needs_consultation"]
    assert body["reason"] == f"网格 {temp_cell} C类; 清单第1201行; 部件先属主"
    both = {"category": cats.component, "cell": temp_cell, "org": city.org["B1"]}
    assert client.get(f"{URL}/resolve", params=both, headers=admin).json()["row_no"] == 1201
    elsewhere = {**both, "org": city.org["B1c1"]}
    res = client.get(f"{URL}/resolve", params=elsewhere, headers=admin)
    assert res.status_code == 422 and res.json()["errors"][0]["field"] == "cell"


def test_resolve_refuses_a_place_it_cannot_use(client: TestClient, as_user, city: SampleCity, cats: Categories) -> None:
    admin = as_user("admin_a")
    for params, field in [
        ({"category": cats.event}, "org"),
        ({"category": cats.event, "org": city.org["A_water"]}, "org"),  # a department is no area
        ({"category": cats.event, "org": city.org["B1c1"]}, "org"),  # outside 甲区
        ({"category": cats.event, "cell": "990101001001999"}, "cell"),
    ]:
        res = client.get(f"{URL}/resolve", params=params, headers=admin)
        assert res.status_code == 422 and res.json()["errors"][0]["field"] == field, (params, res.text)
    res = client.get(f"{URL}/resolve", params={"category": "E9999", "org": city.org["A1"]}, headers=admin)
    assert res.status_code == 404


def test_bad_rules_are_refused_with_the_field(client: TestClient, as_user, city: SampleCity, cats: Categories) -> None:
    admin = as_user("admin_city")
    good = _body(city, 1301, cats.event, "territory", "A1_squad", "A1")
    assert client.post(URL, json=good, headers=admin).status_code == 201
    for body, status, field in [
        ({**good, "row_no": 1302, "category": "E9999"}, 422, "category"),
        ({**good, "row_no": 1302, "unit_id": 999_999}, 422, "unit_id"),
        ({**good, "row_no": 1302, "basis": "both"}, 422, "basis"),
        ({**good, "row_no": 1302, "org_id": city.org["A1_squad"]}, 422, "org_id"),
        ({**good, "row_no": 1302, "cell_code": "12"}, 422, "cell_code"),
        (good, 409, "row_no"),
    ]:
        res = client.post(URL, json=body, headers=admin)
        assert res.status_code == status and res.json()["errors"][0]["field"] == field, (body, res.text)


def test_a_category_named_by_a_rule_is_deactivated_not_deleted(
    client: TestClient, as_user, cats: Categories, rule
) -> None:
    rule(1401, cats.component_sibling, "owner", "A_water")
    admin = as_user("admin_city")
    res = client.delete(f"/api/taxonomy/categories/{cats.component_sibling}", headers=admin)
    assert res.json()["outcome"] == "deactivated"
    res = client.delete(f"/api/taxonomy/categories/{cats.event}", headers=admin)
    assert res.json()["outcome"] == "deleted"
