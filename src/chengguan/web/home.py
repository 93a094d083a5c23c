"""Login, logout, the language switch and the role-aware home page."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.responses import RedirectResponse, Response

from chengguan.auth import api as auth_api
from chengguan.auth import service as auth_service
from chengguan.auth.deps import DbSession, get_sessionmaker, get_settings
from chengguan.auth.roles import Permission, Role
from chengguan.auth.service import TokenPair
from chengguan.cases import service as cases_service
from chengguan.cases.models import OPEN_STATUSES, Event, EventStatus
from chengguan.config import Settings
from chengguan.db import utcnow
from chengguan.errors import ChengguanError
from chengguan.intake import service as intake_service
from chengguan.web import session as web_session
from chengguan.web.desk import Form, event_rows, my_tasks
from chengguan.web.i18n import LANG_COOKIE, LANGUAGES, Translator, language_of, localise_error
from chengguan.web.pages import PageUser, render
from chengguan.web.routing import WebRoute, redirect

router = APIRouter(route_class=WebRoute, include_in_schema=False)
SECTION_SIZE = 8


def safe_next(target: str | None) -> str:
    """Only a path on this site: ``next=//evil.example`` must not send a user away."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


# -- login and logout ------------------------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", next=safe_next(next), username="", error=None)


@router.post("/login")
def login(
    request: Request,
    form: Form,
    factory: sessionmaker[Session] = Depends(get_sessionmaker),
    settings: Settings = Depends(get_settings),
) -> Response:
    """The API's password login (throttling, the attempt's record, the audit entry), its tokens
    put into the session cookies."""
    username, target = str(form.get("username", "")).strip(), safe_next(str(form.get("next", "/")))
    password = str(form.get("password", ""))
    credentials = OAuth2PasswordRequestForm(
        grant_type="password", username=username, password=password, scope="", client_id=None, client_secret=None
    )
    try:
        tokens = auth_api.login(request, credentials, factory, settings)
    except ChengguanError as exc:  # wrong password (401), too many attempts (429)
        error = localise_error(exc.message, language_of(request))
        return render(request, "login.html", status=exc.status, next=target, username=username, error=error)
    web_session.start(request, TokenPair(tokens.access_token, tokens.refresh_token, tokens.expires_in))
    web_session.queue_cookie(request, web_session.CSRF_COOKIE, web_session.new_csrf_token(settings))
    return redirect(request, target)


@router.post("/logout")
def logout(request: Request, session: DbSession, settings: Settings = Depends(get_settings)) -> Response:
    """Revokes the refresh token's family (every token rotated from this login)."""
    refresh = request.cookies.get(web_session.REFRESH_COOKIE)
    if refresh:
        auth_service.logout(session, refresh)
    web_session.end(request)
    web_session.queue_cookie(request, web_session.CSRF_COOKIE, web_session.new_csrf_token(settings))
    return redirect(request, "/login")


@router.get("/lang/{lang}")
def switch_language(lang: str, next: str = "/") -> Response:
    """A preference, not an action: a plain link in the header sets it."""
    response = RedirectResponse(safe_next(next), status_code=303)
    if lang in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, path="/", samesite="lax")
    return response


# -- home ---------------------------------------------------------------------------------------------------


def overdue(session: Session, limit: int) -> list[Event]:
    """Open events past their node's deadline, the longest overdue first (督察 starts here)."""
    stmt = select(Event).where(Event.status.in_(OPEN_STATUSES), Event.deadline_at < utcnow())
    return list(session.scalars(stmt.order_by(Event.deadline_at).limit(limit)))


def to_dispatch(session: Session, limit: int) -> list[Event]:
    """会商 first (ownership unclear, the clock runs), then filed events waiting for a unit."""
    out: list[Event] = []
    for status in (EventStatus.CONSULTATION, EventStatus.REGISTERED):
        rows, _ = cases_service.list_events(session, status=status, limit=limit)
        out += rows
    return out[:limit]


@router.get("/")
def home(request: Request, session: DbSession, user: PageUser) -> Response:
    """What each role does first: the clerk's queue, the dispatcher's 会商 and unassigned events,
    the supervisor's overdue events, everyone's own tasks. An officer goes to the phone view."""
    if user.roles == {Role.OFFICER}:
        return RedirectResponse("/m", status_code=303)
    t = Translator(language_of(request))
    sections = []
    if user.can(Permission.REPORT_REVIEW):
        reports, total = intake_service.pending(session, limit=SECTION_SIZE)
        sections.append({"key": "home.queue", "reports": reports, "total": total})
    if user.can(Permission.DISPATCH):
        sections.append({"key": "home.dispatch", "rows": event_rows(session, t, to_dispatch(session, SECTION_SIZE))})
    if user.can(Permission.AUDIT_READ):
        sections.append({"key": "home.overdue", "rows": event_rows(session, t, overdue(session, SECTION_SIZE))})
    if user.can(Permission.EVENT_READ):
        events, total = my_tasks(session, user, SECTION_SIZE)
        sections.append({"key": "home.tasks", "rows": event_rows(session, t, events), "total": total})
    return render(request, "home.html", user, sections=sections)
