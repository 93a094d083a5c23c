"""Everything under /open311/ answers in Open311's error format, in the format the URL asks for."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.open311.conftest import BASE, Open311City, xml_root


def test_an_unknown_path_is_404_in_xml_unless_json_is_asked(client: TestClient, open311_city: Open311City) -> None:
    for path in (f"{BASE}/nothing", "/open311/v3/services.xml", f"{BASE}/services.html", f"{BASE}/"):
        res = client.get(path)
        assert res.status_code == 404 and res.headers["content-type"] == "text/xml; charset=utf-8", path
        assert xml_root(res.content).findtext("error/code") == "404"
    res = client.get(f"{BASE}/nothing.json")
    assert res.status_code == 404 and res.json()[0]["code"] == 404


def test_a_known_resource_with_another_method_is_405(client: TestClient, open311_city: Open311City) -> None:
    res = client.delete(f"{BASE}/requests.json")
    assert res.status_code == 405 and res.headers["allow"] == "GET, POST"
    assert res.json()[0]["code"] == 405
    res = client.post(f"{BASE}/services.xml")
    assert res.status_code == 405 and res.headers["allow"] == "GET"
    assert xml_root(res.content).findtext("error/code") == "405"


def test_other_paths_keep_problem_json(client: TestClient, open311_city: Open311City) -> None:
    res = client.get("/api/nothing-here")
    assert res.status_code == 404 and res.headers["content-type"] == "application/problem+json"
