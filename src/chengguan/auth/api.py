"""/api/auth (OAuth2 password flow, refresh, logout, me) and /api/users (administration)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy.orm import Session, sessionmaker

from chengguan.audit import Actor
from chengguan.auth import service
from chengguan.auth.deps import DbSession, client_ip, current_principal, get_sessionmaker, get_settings, require
from chengguan.auth.models import User
from chengguan.auth.principal import Principal
from chengguan.auth.roles import Permission, Role
from chengguan.auth.schemas import (
    ApiKeyIn,
    ApiKeyOut,
    MeOut,
    NewApiKeyOut,
    RefreshIn,
    TokenOut,
    UserIn,
    UserOut,
    UserPatch,
)
from chengguan.config import Settings
from chengguan.db import unit_of_work
from chengguan.errors import Unauthorized
from chengguan.kit.paging import MAX_LIMIT, Page

router = APIRouter(tags=["auth"])


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        kind=user.kind,
        org_id=user.org_id,
        roles=sorted(Role(r) for r in user.role_names),
        phone=user.phone,
        email=user.email,
        active=user.active,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
    )


@router.post("/api/auth/token", response_model=TokenOut, summary="Log in (OAuth2 password flow)")
def login(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    factory: sessionmaker[Session] = Depends(get_sessionmaker),
    settings: Settings = Depends(get_settings),
) -> TokenOut:
    ip = client_ip(request)
    # The attempt is recorded in its own transaction: a failed login must leave its trace.
    with unit_of_work(factory) as session:
        service.check_throttle(session, settings, form.username, ip)
        user = service.verify_login(session, form.username, form.password)
        service.record_attempt(session, form.username, ip, success=user is not None)
        if user is None:
            pair = None
        else:
            session.info["actor"] = Actor(kind="user", name=user.username, id=user.id, org_id=user.org_id, ip=ip)
            pair = service.login_succeeded(session, settings, user)
    if pair is None:
        raise Unauthorized("wrong username or password / 用户名或密码错误", field="password")
    return TokenOut(access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in)


@router.post("/api/auth/refresh", response_model=TokenOut, summary="Trade a refresh token for a new pair")
def refresh(
    body: RefreshIn,
    factory: sessionmaker[Session] = Depends(get_sessionmaker),
    settings: Settings = Depends(get_settings),
) -> TokenOut:
    with unit_of_work(factory) as session:  # a detected reuse must stay revoked
        pair = service.rotate_refresh(session, settings, body.refresh_token)
    if pair is None:
        raise Unauthorized("refresh token invalid, expired or reused", field="refresh_token")
    return TokenOut(access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in)


@router.post("/api/auth/logout", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke a refresh token")
def logout(body: RefreshIn, session: DbSession) -> None:
    service.logout(session, body.refresh_token)


@router.get("/api/auth/me", response_model=MeOut)
def me(principal: Principal = Depends(current_principal)) -> MeOut:
    return MeOut(
        id=principal.user_id,
        username=principal.username,
        display_name=principal.display_name,
        kind=principal.kind,
        org_id=principal.org_id,
        roles=sorted(principal.roles),
        permissions=sorted(principal.permissions),
    )


@router.get("/api/users", response_model=Page[UserOut], tags=["users"])
def list_users(
    session: DbSession,
    org_id: int | None = None,
    role: Role | None = None,
    q: str | None = Query(None, max_length=64),
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
    _: Principal = Depends(require(Permission.USERS_READ)),
) -> Page[UserOut]:
    rows, total = service.list_users(session, org_id=org_id, role=role, q=q, limit=limit, offset=offset)
    return Page(items=[user_out(u) for u in rows], total=total, limit=limit, offset=offset)


@router.post("/api/users", response_model=UserOut, status_code=201, tags=["users"])
def create_user(body: UserIn, session: DbSession, _: Principal = Depends(require(Permission.USERS_WRITE))) -> UserOut:
    return user_out(service.create_user(session, body))


@router.get("/api/users/{user_id}", response_model=UserOut, tags=["users"])
def get_user(user_id: int, session: DbSession, _: Principal = Depends(require(Permission.USERS_READ))) -> UserOut:
    return user_out(service.get_user(session, user_id))


@router.patch("/api/users/{user_id}", response_model=UserOut, tags=["users"])
def patch_user(
    session: DbSession,
    user_id: int,
    body: UserPatch,
    _: Principal = Depends(require(Permission.USERS_WRITE)),
) -> UserOut:
    return user_out(service.update_user(session, service.get_user(session, user_id), body))


@router.get("/api/users/{user_id}/api-keys", response_model=list[ApiKeyOut], tags=["users"])
def list_api_keys(
    user_id: int, session: DbSession, _: Principal = Depends(require(Permission.USERS_READ))
) -> list[ApiKeyOut]:
    return [ApiKeyOut.model_validate(k) for k in service.api_keys_of(session, service.get_user(session, user_id))]


@router.post("/api/users/{user_id}/api-keys", response_model=NewApiKeyOut, status_code=201, tags=["users"])
def create_api_key(
    session: DbSession,
    user_id: int,
    body: ApiKeyIn,
    _: Principal = Depends(require(Permission.USERS_WRITE)),
) -> NewApiKeyOut:
    row, key = service.create_api_key(session, service.get_user(session, user_id), body.name, body.expires_at)
    return NewApiKeyOut(key=key, **ApiKeyOut.model_validate(row).model_dump())


@router.delete("/api/users/{user_id}/api-keys/{key_id}", status_code=204, tags=["users"])
def revoke_api_key(
    session: DbSession,
    user_id: int,
    key_id: int,
    _: Principal = Depends(require(Permission.USERS_WRITE)),
) -> None:
    service.revoke_api_key(session, service.get_user(session, user_id), key_id)
