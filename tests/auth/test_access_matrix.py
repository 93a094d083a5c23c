"""Every route × every role: a role holding the route's permissions gets past the door (any
status but 401/403), a role without them gets 403, nobody unauthenticated gets in (401).

Routes and their permissions are read from the app itself, so a new endpoint is covered the
day it is added. Inputs are deliberately bogus (ids that do not exist), so allowed calls end
in 404/422 and change nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from chengguan.auth.roles import ROLE_PERMISSIONS, Permission, Role

PUBLIC = {
    "/health",
    "/ready",
    "/api/auth/token",
    "/api/auth/refresh",
    "/api/auth/logout",
    # what outside witnesses mirror and check: hashes, signatures and public keys only
    "/api/evidence/sth",
    "/api/evidence/sth/latest",
    "/api/evidence/keys",
    "/api/evidence/proof/inclusion",
    "/api/evidence/proof/consistency",
    # Open311 GeoReport v2: the GETs are public (no personal data); a POST sends the spec's
    # api_key form field, refused with Open311's own 403 (tests/open311)
    "/open311/v2/discovery.{fmt:georeport_format}",
    "/open311/v2/services.{fmt:georeport_format}",
    "/open311/v2/services/{service_code}.{fmt:georeport_format}",
    "/open311/v2/requests.{fmt:georeport_format}",
    "/open311/v2/requests/{service_request_id}.{fmt:georeport_format}",
    "/open311/v2/tokens/{token}.{fmt:georeport_format}",
    "/open311/{path:path}",  # any other path: an Open311 404 or 405
}
WEB = "chengguan.web."
ROLE_USER = {role: f"{role.value}_a" for role in Role if role not in {Role.OFFICER, Role.SYSTEM}}
ROLE_USER[Role.OFFICER] = "officer_a1"


def _permissions(dependant: Dependant) -> set[Permission]:
    found: set[Permission] = set(getattr(dependant.call, "permissions", ()))
    for sub in dependant.dependencies:
        found |= _permissions(sub)
    return found


def _citywide(dependant: Dependant) -> bool:
    return bool(getattr(dependant.call, "citywide", False)) or any(_citywide(s) for s in dependant.dependencies)


def _authenticated(dependant: Dependant) -> bool:
    return (dependant.call is not None and dependant.call.__name__ == "current_principal") or any(
        _authenticated(sub) for sub in dependant.dependencies
    )


def _routes(app, citywide: bool | None = None) -> Iterator[tuple[str, str, set[Permission], bool]]:
    """The API's routes; the web pages (and the PWA's public files) log in by cookie and send a
    stranger to the login page (tests/web/test_pages.py walks them)."""
    for context in iter_route_contexts(app.routes):
        route = context.route
        if isinstance(route, APIRoute) and not route.endpoint.__module__.startswith(WEB):
            dependant = context.route.dependant
            if citywide is not None and _citywide(dependant) != citywide:
                continue
            for method in sorted(set(context.methods or ()) - {"HEAD"}):
                yield method, context.path, _permissions(dependant), _authenticated(dependant)


def _concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: "999999" if m.group(1).endswith("id") else "NOPE-999", path)


def test_every_non_public_route_requires_authentication(app, client: TestClient) -> None:
    routes = list(_routes(app))
    assert len(routes) > 10
    for method, path, _perms, authenticated in routes:
        if path in PUBLIC:
            continue
        assert authenticated, f"{method} {path} does not authenticate its caller"
        res = client.request(method, _concrete(path))
        assert res.status_code == 401, f"{method} {path} → {res.status_code} without credentials"


@pytest.mark.parametrize("role", sorted(ROLE_USER, key=str))
def test_role_access_matches_its_permissions(app, client: TestClient, as_user, role: Role) -> None:
    headers = as_user(ROLE_USER[role])
    granted = ROLE_PERMISSIONS[role]
    checked = 0
    for method, path, perms, authenticated in _routes(app, citywide=False):
        if not authenticated or not perms:
            continue
        res = client.request(method, _concrete(path), headers=headers)
        if perms <= granted:
            assert res.status_code not in (401, 403), f"{role} should reach {method} {path}: {res.text}"
        else:
            assert res.status_code == 403, f"{role} must not reach {method} {path} (needs {perms}): {res.status_code}"
        checked += 1
    assert checked > 10


def test_system_account_access_matches_its_permissions(app, client: TestClient, city) -> None:
    headers = {"X-API-Key": city.api_key}
    for method, path, perms, authenticated in _routes(app):
        if authenticated and perms and not perms <= ROLE_PERMISSIONS[Role.SYSTEM]:
            assert client.request(method, _concrete(path), headers=headers).status_code == 403, f"{method} {path}"


def test_citywide_data_is_changed_at_city_level_only(app, client: TestClient, as_user) -> None:
    city_admin, district_admin = as_user("admin_city"), as_user("admin_a")
    routes = list(_routes(app, citywide=True))
    assert routes
    for method, path, _perms, _auth in routes:
        assert client.request(method, _concrete(path), headers=district_admin).status_code == 403, f"{method} {path}"
        assert client.request(method, _concrete(path), headers=city_admin).status_code not in (401, 403), path
