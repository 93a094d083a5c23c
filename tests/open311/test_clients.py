"""Round trips with independent Open311 clients from PyPI against the app served by uvicorn on a
free loopback port: ``georeport`` (read-only: service list, definitions, requests, JSON and
XML) and ``civicbot`` (its Open311Client also files requests: it checks the payload against our
service definition, then POSTs the form)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from civicbot import Endpoint, HttpError, HttpTransport, Open311Client, ValidationError
from civicbot.http import RateLimiter
from georeport import GeoReport

from tests.open311.conftest import Open311City, spot


@pytest.fixture
def served(app) -> Iterator[str]:
    """The app on 127.0.0.1 (a port the kernel picks) in a background thread; its Open311 base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/open311/v2"
    server.should_exit = True
    thread.join(20)
    sock.close()


def _civicbot(base: str, city: Open311City) -> Open311Client:
    endpoint = Endpoint(id="chengguan-test", name="测试市", base_url=base, write=True)
    transport = HttpTransport(rate_limiter=RateLimiter(min_interval=0))  # our own server: no politeness pause
    return Open311Client(endpoint, transport, jurisdiction_id=city.city_code)


def test_list_services_post_a_request_and_get_it_back(served: str, open311_city: Open311City) -> None:
    reader = GeoReport(served, jurisdiction=open311_city.city_code)
    services = reader.get_service_list()
    vending = next(s for s in services if s["service_code"] == "E0502")
    assert vending["metadata"] and vending["group"] == "街面秩序"
    definition = reader.get_service_definition("E0502")
    assert [a["code"] for a in definition["attributes"]][:1] == ["stall_type"]

    writer = _civicbot(served, open311_city)
    lon, lat = spot(60)
    sent = writer.create_request(
        "E0502",
        dry_run=False,
        confirm="SEND",
        api_key=open311_city.api_key,
        validate_remote=True,  # civicbot reads our list and definition and checks the answers itself
        lat=lat,
        lng=lon,
        description="Open311 客户端测试：桥下有三轮车卖水果",
        attributes={"stall_type": "cart", "goods": ["produce", "food"]},
        media_url="https://photos.example.org/open311/client.jpg",
        email="client@example.org",
    )
    (created,) = sent.response
    number = created["service_request_id"]

    found = reader.get_service_request(number)
    assert found["status"] == "open" and found["service_code"] == "E0502"
    assert found["description"] == "Open311 客户端测试：桥下有三轮车卖水果"
    assert (found["long"], found["lat"]) == (lon, lat)
    assert found["media_url"] == "https://photos.example.org/open311/client.jpg"
    assert "client@example.org" not in str(found)
    listed = reader.get_service_requests(service_request_id=number)
    assert [r["service_request_id"] for r in listed] == [number]
    assert writer.get_request(number)["agency_responsible"] == "东街道综合执法队"

    as_xml = GeoReport(served, jurisdiction=open311_city.city_code, output_format="xml")
    assert any(s["service_code"] == "E0502" for s in as_xml.get_service_list())
    from_xml = as_xml.get_service_request(number)
    assert from_xml["service_request_id"] == number and from_xml["lat"] == str(lat)


def test_the_clients_see_our_rules_and_errors(served: str, open311_city: Open311City) -> None:
    writer = _civicbot(served, open311_city)
    with pytest.raises(ValidationError, match="stall_type"):  # our definition says it is required
        writer.create_request("E0502", api_key=open311_city.api_key, validate_remote=True, lat=40.06, lng=116.01)
    with pytest.raises(HttpError) as refused:
        writer.create_request("E0502", dry_run=False, confirm="SEND", api_key="wrong", lat=40.06, lng=116.01)
    assert refused.value.status == 403 and '"code":403' in refused.value.body
