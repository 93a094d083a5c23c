"""What every page shares: the logged-in user (``PageUser``), templates and their context."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.responses import Response

from chengguan.auth import scoping
from chengguan.auth import service as auth_service
from chengguan.auth.deps import DbSession, client_ip, get_sessionmaker, get_settings
from chengguan.auth.principal import Principal
from chengguan.auth.roles import ROLE_LABELS, Permission, Role
from chengguan.config import Settings
from chengguan.db import unit_of_work
from chengguan.errors import Forbidden, Unauthorized
from chengguan.web import session as web_session
from chengguan.web.i18n import LANGUAGES, Translator, language_of

HERE = Path(__file__).parent
templates = Jinja2Templates(
    env=Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,  # a misspelt name in a template fails the page, not silently
        trim_blocks=True,
        lstrip_blocks=True,
    )
)


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str  # catalogue key
    permission: Permission


# The header's links; later screens (一张图, analysis, administration) add theirs here.
NAV = [
    NavItem("/", "nav.home", Permission.REFERENCE_READ),
    NavItem("/inbox", "nav.inbox", Permission.EVENT_READ),
    NavItem("/queue", "nav.queue", Permission.REPORT_REVIEW),
    NavItem("/consultations", "nav.consultations", Permission.DISPATCH),
    NavItem("/map", "nav.map", Permission.EVENT_READ),
    NavItem("/dashboard", "nav.dashboard", Permission.ANALYTICS_READ),
    NavItem("/penalty-cases", "nav.penalty", Permission.PENALTY_READ),
    NavItem("/laws", "nav.laws", Permission.LEGAL_READ),
    NavItem("/m/", "nav.mobile", Permission.EVIDENCE_WRITE),
    NavItem("/admin", "nav.admin", Permission.USERS_READ),
]


# -- the logged-in user ----------------------------------------------------------------------------


def _from_access_cookie(request: Request, session: DbSession, settings: Settings) -> Principal | None:
    token = web_session.queued(request, web_session.ACCESS_COOKIE)
    if not token:
        return None
    try:
        return auth_service.authenticate_token(session, settings, token)
    except Unauthorized:
        return None  # expired or revoked: try the refresh token


def _refreshed(request: Request, session: DbSession, settings: Settings) -> Principal:
    """Trade the refresh cookie for a new pair, committed at once (like the API's refresh): a
    page that fails afterwards must not leave the browser holding tokens that were never stored."""
    refresh = request.cookies.get(web_session.REFRESH_COOKIE)
    pair = None
    if refresh:
        with unit_of_work(get_sessionmaker(request)) as own:
            pair = auth_service.rotate_refresh(own, settings, refresh)
    if pair is None:
        web_session.end(request)
        raise Unauthorized("login required / 请先登录")
    web_session.start(request, pair)
    return auth_service.authenticate_token(session, settings, pair.access_token)


def page_user(request: Request, session: DbSession, settings: Settings = Depends(get_settings)) -> Principal:
    """The user behind the session cookies; the database session then acts as that user and sees
    only their organisation's subtree, as in the API."""
    principal = _from_access_cookie(request, session, settings) or _refreshed(request, session, settings)
    if principal.kind != "person":
        raise Forbidden("system accounts have no web session / 系统账户不能登录网页")
    scoping.bind(session, principal.actor(client_ip(request)), principal.scope)
    return principal


PageUser = Annotated[Principal, Depends(page_user)]


def needs(user: Principal, permission: Permission) -> None:
    if not user.can(permission):
        raise Forbidden(f"your roles lack the permission {permission} / 无此操作权限")


# -- rendering ---------------------------------------------------------------------------------------


def _local(value: dt.datetime | None, tz: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return "" if value is None else value.astimezone(tz).strftime(fmt)


def _hours(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _json(value: Any) -> Markup:
    """JSON for a ``<script type="application/json">`` block (``</`` cannot end it early)."""
    return Markup(json.dumps(value, ensure_ascii=False).replace("</", "<\\/"))


templates.env.filters.update(hours=_hours, json=_json)


def role_names(t: Translator, roles: frozenset[Role]) -> str:
    return "、".join(t.pick(*ROLE_LABELS[r]) for r in sorted(roles))


def render(
    request: Request, name: str, user: Principal | None = None, *, status: int = 200, **context: Any
) -> Response:
    settings: Settings = request.app.state.settings
    lang = language_of(request)
    t = Translator(lang)
    csrf = web_session.queued(request, web_session.CSRF_COOKIE)
    if not web_session.csrf_token_valid(settings, csrf):
        csrf = web_session.new_csrf_token(settings)
        web_session.queue_cookie(request, web_session.CSRF_COOKIE, csrf)
    shared = {
        "t": t,
        "lang": lang,
        "languages": LANGUAGES,
        "csrf_token": csrf,
        "user": user,
        "roles": role_names(t, user.roles) if user else "",
        "nav": [item for item in NAV if user is not None and user.can(item.permission)],
        "path": request.url.path,
        "local": lambda value, fmt="%Y-%m-%d %H:%M": _local(value, settings.tz, fmt),
    }
    return templates.TemplateResponse(request, name, {**shared, **context}, status_code=status)
