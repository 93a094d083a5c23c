"""Open311 against the intake test city: a city-level system account with an API key, two
gazetteer points in 东街道二社区 (A1c2), the GeoReport v2 JSON Schemas, and helpers.

Each test reports at its own spot (``spot(n)``, 430 m apart in A1c2, where no other domain's
tests report), so tests sharing the session's database never merge into each other's events."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import jsonschema
import pytest
from fastapi.testclient import TestClient
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chengguan.audit import platform_actor
from chengguan.auth import service as auth_service
from chengguan.auth.roles import Role
from chengguan.auth.schemas import UserIn
from chengguan.db import unit_of_work
from chengguan.geo import gazetteer_service
from chengguan.geo.gazetteer_schemas import EntryIn
from chengguan.intake.models import Report
from chengguan.open311.models import Open311Request
from chengguan.orgs import service as orgs_service
from tests.intake.conftest import IntakeCity, intake_city

__all__ = ["intake_city"]

SCHEMAS = Path(__file__).parents[1] / "data" / "open311"
BASE = "/open311/v2"


def spot(n: int) -> tuple[float, float]:
    """The n-th test spot (lon, lat, WGS-84) in 东街道二社区."""
    return round(116.0025 + 0.005 * (n % 19), 6), round(40.0525 + 0.005 * (n // 19), 6)


@dataclass(frozen=True)
class Open311City:
    intake: IntakeCity
    api_key: str
    system_user_id: int
    poi_id: int  # a gazetteer entry: an address_id
    poi_name: str
    poi_point: tuple[float, float]
    square_name: str  # another, found by its name as an address_string
    square_point: tuple[float, float]
    city_code: str  # the jurisdiction_id


@pytest.fixture(scope="session")
def open311_city(app, intake_city: IntakeCity) -> Open311City:
    city = intake_city.city
    poi_point, square_point = spot(90), spot(91)
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        system = auth_service.create_user(
            session,
            UserIn(
                username="open311_gateway",
                display_name="Open311 接口",
                kind="system",
                roles=[Role.SYSTEM],
                org_id=city.org["city"],
            ),
        )
        key = auth_service.create_api_key(session, system, "open311 tests", None)[1]
        community = orgs_service.get(session, city.org["A1c2"]).code
        poi = gazetteer_service.create_entry(
            session, EntryIn(kind="poi", name="开放接口测试楼", lon=poi_point[0], lat=poi_point[1], org_code=community)
        )
        gazetteer_service.create_entry(
            session,
            EntryIn(kind="poi", name="开放接口测试广场", lon=square_point[0], lat=square_point[1], org_code=community),
        )
        city_code = orgs_service.get(session, city.org["city"]).code
        return Open311City(
            intake_city,
            key,
            system.id,
            poi.id,
            "开放接口测试楼",
            poi_point,
            "开放接口测试广场",
            square_point,
            city_code,
        )


# -- schemas ----------------------------------------------------------------------------------------

_formats = jsonschema.FormatChecker(formats=())


@_formats.checks("date-time", raises=ValueError)
def _w3c_with_offset(value: object) -> bool:
    """Open311 times carry their offset; jsonschema alone would not check the format at all."""
    if not isinstance(value, str):
        return True
    parsed = dt.datetime.fromisoformat(value)
    return parsed.tzinfo is not None and bool(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d([+-]\d\d:\d\d|Z)", value))


@_formats.checks("uri")
def _uri(value: object) -> bool:
    return not isinstance(value, str) or bool(urlsplit(value).scheme and urlsplit(value).netloc)


def _load(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / name).read_text("utf-8"))


_registry = Registry().with_resources(
    (name, Resource.from_contents(_load(name), default_specification=DRAFT7))
    for name in ("service.json", "request.json", "services.json", "requests.json", "service-definition.json")
)


def _swagger(definition: str) -> dict[str, Any]:
    """A list of one of swagger.json's definitions (POST and token answers have no schema file)."""
    swagger = _load("swagger.json")
    return {"type": "array", "items": {"$ref": f"#/definitions/{definition}"}, "definitions": swagger["definitions"]}


SCHEMA_OF: dict[str, dict[str, Any]] = {
    "services": _load("services.json"),
    "service-definition": _load("service-definition.json"),
    "requests": _load("requests.json"),
    "created": _swagger("RequestResponse"),
    "token": _swagger("TokenResponse"),
}


def validate(kind: str, data: object) -> None:
    """Raises unless ``data`` fits the GeoReport v2 schema of ``kind``."""
    validator = jsonschema.Draft7Validator(SCHEMA_OF[kind], registry=_registry, format_checker=_formats)
    validator.validate(data)


# -- XML --------------------------------------------------------------------------------------------


def xml_root(body: bytes) -> ET.Element:
    assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?>'), body[:60]
    return ET.fromstring(body)


def xml_as_json(element: ET.Element) -> Any:
    """An XML document read back the way the JSON says it: lists for list elements, text for
    leaves ("" for an empty one)."""
    children = list(element)
    if not children:
        return element.text or ""
    names = [c.tag for c in children]
    if len(set(names)) == 1 and element.tag in LISTS:
        return [xml_as_json(c) for c in children]
    return {c.tag: xml_as_json(c) for c in children}


LISTS = {"services", "attributes", "values", "endpoints", "formats", "service_requests", "errors"}


def as_xml_text(value: Any) -> Any:
    """A JSON value as its XML rendering reads back."""
    if isinstance(value, dict):
        return {k: as_xml_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_xml_text(v) for v in value] if value else ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def same_in_both(client: TestClient, path: str, **kwargs: Any) -> Any:
    """GET ``path`` as .json and .xml; asserts they carry the same document; returns the JSON."""
    as_json = client.get(f"{BASE}/{path}.json", **kwargs)
    as_xml = client.get(f"{BASE}/{path}.xml", **kwargs)
    assert as_json.status_code == as_xml.status_code == 200, as_json.text
    assert as_json.headers["content-type"] == "application/json; charset=utf-8"
    assert as_xml.headers["content-type"] == "text/xml; charset=utf-8"
    assert xml_as_json(xml_root(as_xml.content)) == as_xml_text(as_json.json())
    return as_json.json()


@pytest.fixture
def post(client: TestClient, open311_city: Open311City) -> Callable[..., Any]:
    """``post(n, **fields)`` → the response of a POST at spot n (E0502 with its required answer
    unless the fields say otherwise); ``fmt="xml"`` for XML; ``n=None`` for no coordinates."""

    def send(n: int | None, fmt: str = "json", **fields: Any) -> Any:
        data: dict[str, Any] = {
            "api_key": open311_city.api_key,
            "service_code": "E0502",
            "attribute[stall_type]": "cart",
            "description": f"Open311 测试 {n}：路边有人推车卖水果",
        }
        if n is not None:
            data["long"], data["lat"] = spot(n)
        data.update(fields)
        return client.post(f"{BASE}/requests.{fmt}", data={k: v for k, v in data.items() if v is not None})

    return send


@pytest.fixture
def db(app) -> Callable[[], Any]:
    """``with db() as session:`` a fresh, unscoped unit of work: it sees every commit made so far."""
    return lambda: unit_of_work(app.state.sessionmaker, actor=platform_actor("tests"))


def stored(session: Session, number: str) -> tuple[Report, Open311Request]:
    """The newest Open311 report behind the event numbered ``number`` and its Open311 row."""
    found = session.execute(
        select(Report, Open311Request)
        .join(Open311Request, Open311Request.report_id == Report.id)
        .where(Report.event_id == int(number.removeprefix("SJ")))
        .order_by(Open311Request.id.desc())
    ).first()
    assert found is not None, number
    return found[0], found[1]


def report_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Report)) or 0
