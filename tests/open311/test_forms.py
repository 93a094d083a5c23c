"""A 小类's report form, written through the taxonomy API, is what Open311 publishes and checks."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from chengguan.audit import platform_actor
from chengguan.db import unit_of_work
from chengguan.taxonomy import service as taxonomy_service
from chengguan.taxonomy.models import Category
from chengguan.taxonomy.schemas import CategoryIn, FilingConditionIn, TimeLimitIn
from tests.open311.conftest import BASE, Open311City, same_in_both, validate

POTHOLE = "E9801"  # 大类 98: the seed never uses it, nor do other tests
FORM: list[dict[str, Any]] = [
    {
        "code": "depth_cm",
        "datatype": "number",
        "required": True,
        "description": "坑深 / Depth",
        "datatype_description": "厘米 / centimetres",
    },
    {
        "code": "surface",
        "datatype": "singlevaluelist",
        "description": "路面 / Surface",
        "values": [{"key": "asphalt", "name": "沥青 / Asphalt"}, {"key": "brick", "name": "砖 / Brick"}],
    },
]


@pytest.fixture(scope="module")
def pothole(app, open311_city: Open311City) -> str:
    """A 小类 of the tests' own, with no form yet."""
    limit = TimeLimitIn(amount=1, unit="working_days")
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        if session.scalar(select(Category).where(Category.key == POTHOLE)) is None:
            taxonomy_service.create(session, CategoryIn(kind="event", code="98", name="开放接口测试"))
            taxonomy_service.create(
                session,
                CategoryIn(
                    kind="event",
                    code="9801",
                    name="路面坑洞测试",
                    filing_conditions=[FilingConditionIn(text="路面有坑")],
                    closing_condition="已修补",
                    time_limits=dict.fromkeys("ABC", limit),
                ),
            )
    return POTHOLE


def test_a_form_put_through_the_taxonomy_api_is_the_service_definition(
    client: TestClient, as_user, post, pothole: str
) -> None:
    assert client.get(f"{BASE}/services/{pothole}.json").json() == {"service_code": pothole, "attributes": []}
    res = client.put(f"/api/taxonomy/categories/{pothole}/form", json=FORM, headers=as_user("admin_city"))
    assert res.status_code == 200, res.text
    assert [(a["code"], a["order"]) for a in res.json()["attributes"]] == [("depth_cm", 1), ("surface", 2)]

    definition = same_in_both(client, f"services/{pothole}")
    validate("service-definition", definition)
    assert [a["code"] for a in definition["attributes"]] == ["depth_cm", "surface"]
    listed = next(s for s in client.get(f"{BASE}/services.json").json() if s["service_code"] == pothole)
    assert listed["metadata"] is True

    common = {"service_code": pothole, "attribute[stall_type]": None, "description": "Open311 测试：路面有个坑"}
    missing = post(50, **common)
    assert missing.status_code == 400 and missing.json()[0]["description"].startswith("attribute[depth_cm]")
    answered = post(50, **common, **{"attribute[depth_cm]": "12.5", "attribute[surface]": "brick"})
    assert answered.status_code == 200, answered.text

    reordered = client.put(
        f"/api/taxonomy/categories/{pothole}/form", json=[FORM[1], FORM[0]], headers=as_user("admin_city")
    )
    assert [a["code"] for a in reordered.json()["attributes"]] == ["surface", "depth_cm"]
    cleared = client.put(f"/api/taxonomy/categories/{pothole}/form", json=[], headers=as_user("admin_city"))
    assert cleared.json()["attributes"] == []


@pytest.mark.parametrize(
    "form",
    [
        [{"code": "x", "datatype": "singlevaluelist", "description": "没有选项"}],
        [{"code": "x", "datatype": "string", "description": "多余选项", "values": [{"key": "a", "name": "A"}]}],
        [{"code": "x", "datatype": "colour", "description": "未知类型"}],
        [
            {"code": "x", "datatype": "string", "description": "一"},
            {"code": "x", "datatype": "text", "description": "二"},
        ],
        [{"code": "not a code", "datatype": "string", "description": "代码不合规"}],
    ],
    ids=["list-without-values", "values-on-a-string", "unknown-datatype", "repeated-code", "bad-code"],
)
def test_a_wrong_form_is_refused(client: TestClient, as_user, pothole: str, form: list[dict[str, Any]]) -> None:
    res = client.put(f"/api/taxonomy/categories/{pothole}/form", json=form, headers=as_user("admin_city"))
    assert res.status_code == 422, res.text


def test_forms_are_city_wide_and_belong_to_minor_categories(client: TestClient, as_user, pothole: str) -> None:
    assert (
        client.put(f"/api/taxonomy/categories/{pothole}/form", json=FORM, headers=as_user("admin_a")).status_code == 403
    )
    major = client.put("/api/taxonomy/categories/E98/form", json=FORM, headers=as_user("admin_city"))
    assert major.status_code == 422 and major.json()["errors"][0]["field"] == "key"
