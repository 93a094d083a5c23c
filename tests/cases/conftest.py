"""Events to drive through the event flow: each test reports its own problem in 东街道 as a
patrol officer, and the responsibility list dispatches it to 东街道综合执法队 (A1_squad)."""

from __future__ import annotations

import io
import itertools
import secrets
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.intake.conftest import IntakeCity, intake_city, report  # noqa: F401 - shared fixture

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
_spots = itertools.count()


def spot(n: int) -> tuple[float, float]:
    """The n-th spot of these tests: ~430 m apart in 东街道, ≥ 300 m from the intake tests' spots,
    so no report merges into another test's event."""
    return round(116.0045 + 0.005 * (n % 19), 6), round(39.9075 + 0.01 * (n // 19), 6)


@pytest.fixture
def new_event(client: TestClient, as_user, intake_city: IntakeCity) -> Callable[..., dict]:  # noqa: F811
    """``new_event(**report_fields)`` → the event a fresh patrol report made (dispatched by the list)."""

    def make(**fields: object) -> dict:
        lon, lat = spot(next(_spots))
        body = report(external_id=secrets.token_hex(6), lon=lon, lat=lat, crs="wgs84", **fields)
        res = client.post("/api/intake/reports", json=body, headers=as_user("officer_a1"))
        assert res.status_code in (200, 201), res.text
        event_id = res.json()["event_id"]
        out = client.get(f"/api/events/{event_id}", headers=as_user("admin_city"))
        assert out.status_code == 200, out.text
        return out.json()

    return make


@pytest.fixture
def photo(client: TestClient, as_user) -> Callable[[int], int]:
    """``photo(event_id)`` → the id of a photo uploaded for the event by its officer."""

    def upload(event_id: int, user: str = "officer_a1") -> int:
        files = {"file": ("现场照片.jpg", io.BytesIO(JPEG + secrets.token_bytes(64)), "image/jpeg")}
        data = {"subject_type": "event", "subject_id": str(event_id), "evidence_type": "audiovisual"}
        res = client.post("/api/evidence", data=data, files=files, headers=as_user(user))
        assert res.status_code == 201, res.text
        return int(res.json()["id"])

    return upload
