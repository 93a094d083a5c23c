"""Authenticated requests reuse the caller's principal and API key (auth/service.py) until an
account, a role, a key or the organisation tree changes — in any process: the changes below are
committed through a unit of work of their own, as another worker or the CLI would."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from chengguan.audit import platform_actor
from chengguan.auth import service
from chengguan.auth.models import ApiKey
from chengguan.auth.roles import Role
from chengguan.auth.schemas import UserIn, UserPatch
from chengguan.db import unit_of_work, utcnow
from tests.conftest import PASSWORD, login
from tests.factories import SampleCity


@contextmanager
def elsewhere(app: Any) -> Iterator[Session]:
    """A committed change from outside the request path (another worker, the CLI)."""
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        yield session


@pytest.fixture
def user_reads(app: Any) -> Iterator[list[str]]:
    """The statements that read the users table, as the app's engine runs them."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM users" in statement:
            seen.append(statement)

    event.listen(app.state.engine, "before_cursor_execute", record)
    yield seen
    event.remove(app.state.engine, "before_cursor_execute", record)


def _person(app: Any, city: SampleCity, username: str, role: Role) -> int:
    with elsewhere(app) as session:
        user = service.create_user(
            session,
            UserIn(username=username, display_name=username, password=PASSWORD, roles=[role], org_id=city.org["A"]),
        )
        return user.id


def test_a_live_token_reuses_its_principal_until_the_account_changes(
    app: Any, client: TestClient, city: SampleCity, user_reads: list[str]
) -> None:
    uid = _person(app, city, "pc_reuse", Role.ANALYST)
    headers = login(client, "pc_reuse")
    assert client.get("/api/auth/me", headers=headers).status_code == 200
    user_reads.clear()
    assert client.get("/api/auth/me", headers=headers).status_code == 200
    assert user_reads == []  # served from the cache
    with elsewhere(app) as session:
        service.update_user(session, service.get_user(session, uid), UserPatch(password="An0ther-passw0rd"))
    user_reads.clear()
    assert client.get("/api/auth/me", headers=headers).status_code == 200
    assert len(user_reads) == 1  # a new password is a new accounts state: read again


def test_a_role_change_applies_to_the_next_request(app: Any, client: TestClient, city: SampleCity) -> None:
    uid = _person(app, city, "pc_role", Role.ANALYST)
    headers = login(client, "pc_role")
    assert client.get("/api/auth/me", headers=headers).json()["roles"] == ["analyst"]
    with elsewhere(app) as session:
        service.update_user(session, service.get_user(session, uid), UserPatch(roles=[Role.CLERK]))
    assert client.get("/api/auth/me", headers=headers).json()["roles"] == ["clerk"]


def test_a_disabled_account_is_refused_on_the_next_request(app: Any, client: TestClient, city: SampleCity) -> None:
    uid = _person(app, city, "pc_disabled", Role.ANALYST)
    headers = login(client, "pc_disabled")
    assert client.get("/api/auth/me", headers=headers).status_code == 200
    with elsewhere(app) as session:
        service.update_user(session, service.get_user(session, uid), UserPatch(active=False))
    assert client.get("/api/auth/me", headers=headers).status_code == 401


def _system_key(app: Any, city: SampleCity, username: str, expires_at: dt.datetime | None = None) -> tuple[int, str]:
    with elsewhere(app) as session:
        user = service.create_user(
            session,
            UserIn(username=username, display_name=username, kind="system", roles=[Role.SYSTEM], org_id=city.org["A"]),
        )
        row, key = service.create_api_key(session, user, "tests", expires_at)
        return row.id, key


def test_a_revoked_api_key_is_refused_on_the_next_request(app: Any, client: TestClient, city: SampleCity) -> None:
    key_id, key = _system_key(app, city, "pc_revoked")
    assert client.get("/api/auth/me", headers={"X-API-Key": key}).status_code == 200
    assert client.get("/api/auth/me", headers={"X-API-Key": key[:-2] + "xx"}).status_code == 401  # secret checked
    with elsewhere(app) as session:
        row = session.get(ApiKey, key_id)
        assert row is not None
        service.revoke_api_key(session, service.get_user(session, row.user_id), key_id)
    assert client.get("/api/auth/me", headers={"X-API-Key": key}).status_code == 401


def test_a_cached_api_key_still_expires_on_time(app: Any, client: TestClient, city: SampleCity) -> None:
    _, key = _system_key(app, city, "pc_expiring", expires_at=utcnow() + dt.timedelta(seconds=1.5))
    assert client.get("/api/auth/me", headers={"X-API-Key": key}).status_code == 200
    time.sleep(1.6)
    res = client.get("/api/auth/me", headers={"X-API-Key": key})
    assert res.status_code == 401 and "expired" in res.json()["detail"]
