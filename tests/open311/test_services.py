"""Discovery, the service list and service definitions, in JSON and XML, against the GeoReport v2
schemas; the report forms behind them in the taxonomy API."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from tests.open311.conftest import BASE, Open311City, same_in_both, validate, xml_root


def test_discovery_names_the_endpoint_in_both_formats(client: TestClient, open311_city: Open311City) -> None:
    doc = same_in_both(client, "discovery")
    assert doc["contact"] and doc["key_service"]
    assert dt.datetime.fromisoformat(doc["changeset"]) <= dt.datetime.now(dt.UTC)
    (endpoint,) = doc["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2" and endpoint["type"] == "test"
    assert endpoint["formats"] == ["text/xml", "application/json"]


def test_services_are_the_active_minor_categories(client: TestClient, open311_city: Open311City) -> None:
    services = same_in_both(client, "services")
    validate("services", services)
    by_code = {s["service_code"]: s for s in services}
    assert all(len(code) == 5 for code in by_code), "大类 are groups, not services"
    vending = by_code["E0502"]
    assert vending["service_name"] == "占道经营" and vending["group"] == "街面秩序"
    assert vending["metadata"] is True and vending["type"] == "realtime"
    assert vending["keywords"] == "占道经营,摆摊,地摊"
    assert vending["description"] == "在道路、广场等公共场所摆摊设点"  # its 立案条件, for want of a description
    assert by_code["C0101"]["metadata"] is False  # no form: nothing to ask beyond the description


def test_a_service_definition_is_the_categorys_form(client: TestClient, open311_city: Open311City) -> None:
    definition = same_in_both(client, "services/E0510")
    validate("service-definition", definition)
    assert definition["service_code"] == "E0510"
    attributes = definition["attributes"]
    assert [a["code"] for a in attributes] == ["noise_source", "period", "observed_at"]
    assert [a["order"] for a in attributes] == [1, 2, 3]
    source, period, when = attributes
    assert source["datatype"] == "singlevaluelist" and source["required"] and source["variable"]
    assert {"key": "square_dance", "name": "广场舞 / Square dancing"} in source["values"]
    assert [v["key"] for v in period["values"]] == ["day", "night"]
    assert when["datatype"] == "datetime" and not when["required"] and when["values"] == []
    assert "ISO 8601" in when["datatype_description"]


def test_every_datatype_of_the_spec_is_offered(client: TestClient, open311_city: Open311City) -> None:
    services = client.get(f"{BASE}/services.json").json()
    seen = set()
    for s in (s for s in services if s["metadata"]):
        definition = client.get(f"{BASE}/services/{s['service_code']}.json").json()
        validate("service-definition", definition)
        seen |= {a["datatype"] for a in definition["attributes"]}
    assert seen == {"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_unknown_service_is_404_in_the_asked_format(client: TestClient, open311_city: Open311City, fmt) -> None:
    res = client.get(f"{BASE}/services/E9999.{fmt}")
    assert res.status_code == 404
    if fmt == "json":
        assert res.json()[0]["code"] == 404 and "E9999" in res.json()[0]["description"]
    else:
        error = xml_root(res.content).find("error")
        assert (
            error is not None and error.findtext("code") == "404" and "E9999" in (error.findtext("description") or "")
        )
    assert client.get(f"{BASE}/services/E05.json").status_code == 404  # a 大类 is no service


def test_jurisdiction_id_is_the_city_code(client: TestClient, open311_city: Open311City) -> None:
    assert client.get(f"{BASE}/services.json", params={"jurisdiction_id": open311_city.city_code}).status_code == 200
    assert client.get(f"{BASE}/services.json", params={"jurisdiction_id": ""}).status_code == 200  # empty = absent
    res = client.get(f"{BASE}/services.json", params={"jurisdiction_id": "sfgov.org"})
    assert res.status_code == 404 and "jurisdiction_id" in res.json()[0]["description"]
    assert client.get(f"{BASE}/requests.xml", params={"jurisdiction_id": "sfgov.org"}).status_code == 404


def test_the_taxonomy_api_shows_the_form(client: TestClient, as_user, open311_city: Open311City) -> None:
    res = client.get("/api/taxonomy/categories/E0502", headers=as_user("analyst_a"))
    form = res.json()["attributes"]
    assert [(a["code"], a["datatype"], a["required"], a["order"]) for a in form] == [
        ("stall_type", "singlevaluelist", True, 1),
        ("goods", "multivaluelist", False, 2),
        ("stall_count", "number", False, 3),
    ]
    assert client.get("/api/taxonomy/categories/C0101", headers=as_user("analyst_a")).json()["attributes"] == []
