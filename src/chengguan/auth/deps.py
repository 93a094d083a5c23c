"""Request dependencies: the unit of work, the authenticated principal, permission checks.

Endpoints take the request's unit of work as ``session: DbSession``: it commits after the
endpoint returns and before the response is sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from sqlalchemy.orm import Session, sessionmaker

from chengguan.auth import scoping
from chengguan.auth import service as auth_service
from chengguan.auth.principal import Principal
from chengguan.auth.roles import Permission
from chengguan.auth.tokens import BEARER_CHALLENGE
from chengguan.config import Settings
from chengguan.db import unit_of_work
from chengguan.errors import Forbidden, Unauthorized

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)


# ``async def``: FastAPI runs a plain ``def`` dependency in its thread pool, a hand-off to another
# thread and back that costs more than reading an attribute.
async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_sessionmaker(request: Request) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    return factory


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


REFUSED = "refused"  # request.state flag: the request failed but answered with a page of its own


def db_session(request: Request) -> Iterator[Session]:
    # the factory read here, not as a dependency of its own: one thread hand-off less per request
    with unit_of_work(get_sessionmaker(request)) as session:
        yield session
        if getattr(request.state, REFUSED, False):
            # a web page turned the error into its response (a form shown again with its errors),
            # so no exception reaches the unit of work: what the request wrote is undone here
            session.rollback()


# scope="function": the commit runs before the response is sent, so a failed commit is an
# error response (e.g. 409 from the IntegrityError handler), never a 200 for a lost write.
DbSession = Annotated[Session, Depends(db_session, scope="function")]


def current_principal(
    request: Request,
    session: DbSession,
    settings: Settings = Depends(get_settings),
    token: str | None = Security(oauth2_scheme),
    api_key: str | None = Security(api_key_header),
) -> Principal:
    if token:
        principal = auth_service.authenticate_token(session, settings, token)
    elif api_key:
        principal = auth_service.authenticate_api_key(session, api_key)
    else:
        raise Unauthorized("authentication required / 请先登录", headers=BEARER_CHALLENGE)
    scoping.bind(session, principal.actor(client_ip(request)), principal.scope)
    return principal


def require(*permissions: Permission, citywide: bool = False) -> Callable[..., Principal]:
    """Dependency: the caller must hold every one of ``permissions``. ``citywide`` routes change
    data shared by the whole city (calendar, taxonomy, case causes): only a city-level account
    may call them, not a district's administrator."""

    def check(principal: Principal = Depends(current_principal)) -> Principal:
        missing = [p for p in permissions if not principal.can(p)]
        if missing:
            raise Forbidden(f"your roles lack the permission {', '.join(missing)} / 无此操作权限")
        if citywide and not principal.citywide:
            raise Forbidden("city-wide data is changed at city level only / 全市共用数据仅限市级修改")
        return principal

    # read by the access-matrix test
    check.permissions = permissions  # type: ignore[attr-defined]
    check.citywide = citywide  # type: ignore[attr-defined]
    return check
