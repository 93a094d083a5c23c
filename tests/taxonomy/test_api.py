from __future__ import annotations

from fastapi.testclient import TestClient

from tests.taxonomy.conftest import FULL_LIMITS, LIMITS, minor_body

URL = "/api/taxonomy/categories"


def _make_major(client: TestClient, headers: dict[str, str], kind: str, code: str) -> None:
    res = client.post(URL, json={"kind": kind, "code": code, "name": f"测试大类{code}"}, headers=headers)
    assert res.status_code == 201, res.text


def test_flat_list_filters_by_kind_level_and_text(client: TestClient, as_user, seeded: int) -> None:
    clerk = as_user("clerk_a")
    res = client.get(URL, params={"kind": "event", "level": "minor", "q": "烧烤"}, headers=clerk)
    assert res.status_code == 200
    assert [c["key"] for c in res.json()["items"]] == ["E0504"]
    res = client.get(URL, params={"q": "manhole", "kind": "component", "limit": 3}, headers=clerk)
    body = res.json()
    assert body["total"] == 11 and len(body["items"]) == 3  # the 11 manhole covers of 大类 01
    assert all(c["kind"] == "component" for c in body["items"])
    assert client.get(URL, params={"q": "C0113"}, headers=clerk).json()["items"][0]["name"] == "消防栓"


def test_tree_view_nests_minors_under_their_major(client: TestClient, as_user, seeded: int) -> None:
    res = client.get(URL, params={"view": "tree", "kind": "component", "limit": 6}, headers=as_user("officer_a1"))
    majors = res.json()["items"]
    assert [m["key"] for m in majors] == ["C01", "C02", "C03", "C04", "C05", "C06"]
    assert all(child["parent_key"] == m["key"] for m in majors for child in m["children"])
    assert majors[0]["children"][0]["name"] == "上水井盖"
    found = client.get(URL, params={"view": "tree", "q": "井盖"}, headers=as_user("officer_a1")).json()["items"]
    assert {m["key"] for m in found} == {"C01", "E06"}  # 事件 0609 井盖缺损未设警示


def test_detail_has_conditions_limits_and_causes(client: TestClient, as_user, seeded: int) -> None:
    res = client.get(f"{URL}/e0301", headers=as_user("officer_a1"))
    assert res.status_code == 200
    body = res.json()
    assert body["name"] == "违法建设" and body["parent_key"] == "E03"
    assert [c["code"] for c in body["filing_conditions"]] == ["030101", "030102", "030103"]
    assert body["time_limits"]["C"] == {"amount": 20, "unit": "working_days", "label": "20工作日"}
    assert body["cause_codes"] == ["AY008", "AY009", "AY010"]
    assert client.get(f"{URL}/E9999", headers=as_user("officer_a1")).status_code == 404


def test_create_and_patch_a_minor_merging_time_limits(client: TestClient, as_user, seeded: int) -> None:
    admin = as_user("admin_city")
    _make_major(client, admin, "event", "81")
    body = minor_body("event", "8101", cause_codes=["AY025"], keywords=["测试", "小广告"])
    res = client.post(URL, json=body, headers=admin)
    assert res.status_code == 201, res.text
    assert res.json()["key"] == "E8101" and res.json()["filing_conditions"] == [{"code": "810101", "text": "有问题"}]
    patch = {"time_limits": {"B": {"amount": 2, "unit": "working_days"}}, "name": "改名"}
    res = client.patch(f"{URL}/E8101", json=patch, headers=admin)
    assert res.status_code == 200, res.text
    limits = {k: v["label"] for k, v in res.json()["time_limits"].items()}
    assert limits == {"A": "4工作时", "B": "2工作日", "C": "3自然日"}
    assert res.json()["name"] == "改名" and res.json()["cause_codes"] == ["AY025"]


def test_a_minor_without_a_time_limit_is_refused_naming_the_class(client: TestClient, as_user, seeded: int) -> None:
    admin = as_user("admin_city")
    _make_major(client, admin, "component", "82")
    res = client.post(URL, json=minor_body("component", "8201", time_limits=LIMITS), headers=admin)
    assert res.status_code == 422
    assert res.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in res.json()["errors"]] == ["time_limits.C"]
    assert client.get(f"{URL}/C8201", headers=admin).status_code == 404


def test_bad_categories_are_refused_with_the_field_at_fault(client: TestClient, as_user, seeded: int) -> None:
    admin = as_user("admin_city")
    _make_major(client, admin, "event", "83")
    foreign_code = [{"code": "010101", "text": "x"}]
    zero = {**FULL_LIMITS, "B": {"amount": 0, "unit": "working_days"}}
    cases = [
        (minor_body("event", "8401"), 422, "code"),  # no 大类 84 of 事件
        (minor_body("event", "8301", cause_codes=["AY999"]), 422, "cause_codes"),
        (minor_body("event", "8301", owner_function="water_supply"), 422, "owner_function"),
        (minor_body("component", "0101"), 409, "code"),  # the seed's 上水井盖
        (minor_body("event", "8301", filing_conditions=[]), 422, "filing_conditions"),
        (minor_body("event", "8301", filing_conditions=foreign_code), 422, "filing_conditions.0.code"),
        (minor_body("event", "8301", time_limits=zero), 422, "time_limits.B.amount"),
        ({"kind": "event", "code": "85", "name": "大类", "time_limits": FULL_LIMITS}, 422, "time_limits"),
    ]
    for body, status, field in cases:
        res = client.post(URL, json=body, headers=admin)
        assert res.status_code == status, (body, res.text)
        assert res.json()["errors"][0]["field"] == field, res.text
    assert client.get(f"{URL}/E8301", headers=admin).status_code == 404


def test_delete_removes_an_unused_minor_and_deactivates_a_major_with_minors(
    client: TestClient, as_user, seeded: int
) -> None:
    admin = as_user("admin_city")
    _make_major(client, admin, "component", "86")
    for code in ("8601", "8602"):
        assert client.post(URL, json=minor_body("component", code), headers=admin).status_code == 201
    res = client.delete(f"{URL}/C8601", headers=admin)
    assert res.json() == {"key": "C8601", "outcome": "deleted"}
    assert client.get(f"{URL}/C8601", headers=admin).status_code == 404
    res = client.delete(f"{URL}/C86", headers=admin)
    assert res.json() == {"key": "C86", "outcome": "deactivated"}
    assert client.get(f"{URL}/C8602", headers=admin).json()["active"] is False
    inactive = client.get(URL, params={"q": "C86", "active": "false"}, headers=admin).json()["items"]
    assert [c["key"] for c in inactive] == ["C86"]


def test_only_taxonomy_writers_may_change_it(client: TestClient, as_user, seeded: int) -> None:
    body = minor_body("event", "0501")
    for user in ("officer_a1", "dispatcher_a", "analyst_a"):
        assert client.post(URL, json=body, headers=as_user(user)).status_code == 403
        assert client.patch(f"{URL}/E0501", json={"name": "x"}, headers=as_user(user)).status_code == 403
        assert client.delete(f"{URL}/E0501", headers=as_user(user)).status_code == 403
    res = client.post(URL, json={"kind": "event", "code": "87", "name": "区级"}, headers=as_user("admin_a"))
    assert res.status_code == 403  # a district administrator: the taxonomy is city-wide
    assert client.get(URL).status_code == 401
    assert client.get(URL, headers=as_user("citizen_a")).status_code == 403
