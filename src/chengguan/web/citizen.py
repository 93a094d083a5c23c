"""The citizen portal (市民端): report a problem with a map pick and photos, no account needed (a
phone is optional and verified by an SMS code); track it by its number, read the reply and rate
it once closed; a public map of recent problems, coarsened. The logic lives in ``portal.service``.

Abuse control: every form carries the CSRF token (``WebRoute``), a request body larger than the
report form can legitimately be is refused while it is read (``CitizenRoute``), and reports and
SMS codes are rate-limited per client address (``portal.service``).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from itertools import groupby
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile
from starlette.responses import RedirectResponse, Response
from starlette.types import Message

from chengguan.audit import Actor
from chengguan.auth import scoping
from chengguan.auth.deps import DbSession, client_ip, get_settings
from chengguan.config import Settings
from chengguan.db import utcnow
from chengguan.dispatch.flow import EVENT_FLOW
from chengguan.errors import ChengguanError, ContentTooLarge, FieldError, NotFound
from chengguan.intake import pipeline
from chengguan.intake.model_store import active_classifier
from chengguan.portal import service as portal
from chengguan.portal.models import CitizenReport
from chengguan.web.desk import Form
from chengguan.web.i18n import Translator, language_of, localise_error
from chengguan.web.pages import render
from chengguan.web.routing import SAFE_METHODS, Handler, Rendered, WebRoute, is_htmx, redirect

PORTAL_ACTOR = "web:citizen"
PUBLIC_CACHE = f"public, max-age={int(portal.MAP_TTL_S)}"
# the form's own names of the fields the service's errors name
FIELD_ALIASES = {"file": "photos"}


def _limited(request: Request, limit: int) -> Request:
    """The request with a body that raises 413 once it passes ``limit`` bytes: checked on the
    declared length first, and again while a chunked body streams (nothing spools to disk)."""
    declared = request.headers.get("content-length", "")
    receive, seen = request.receive, 0

    def too_large() -> ContentTooLarge:
        mb = limit // 2**20
        return ContentTooLarge(f"the form is larger than {mb} MB / 提交内容超过{mb}MB，请减少或压缩照片", field="form")

    async def limited() -> Message:
        nonlocal seen
        if declared.isdigit() and int(declared) > limit:
            raise too_large()
        message = await receive()
        seen += len(message.get("body", b""))
        if seen > limit:
            raise too_large()
        return message

    return Request(request.scope, limited)


class CitizenRoute(WebRoute):
    """A web route whose unsafe requests may carry at most the report form's largest body."""

    def get_route_handler(self) -> Handler:
        inner = super().get_route_handler()

        async def handler(request: Request) -> Response:
            if request.method in SAFE_METHODS:
                return await inner(request)
            return await inner(_limited(request, portal.MAX_REQUEST_BYTES))

        return handler


router = APIRouter(prefix="/citizen", route_class=CitizenRoute, include_in_schema=False)
# the public map's data: JSON, not pages (no CSRF, no HTML errors)
data = APIRouter(prefix="/citizen/map", include_in_schema=False)


def public_session(request: Request, session: DbSession) -> Session:
    """The portal acts as the platform on behalf of an anonymous person (their address is on the
    audit entries); it reads unscoped, and what it shows is chosen column by column."""
    scoping.bind(session, Actor(kind="platform", name=PORTAL_ACTOR, ip=client_ip(request)), None)
    return session


PublicSession = Annotated[Session, Depends(public_session)]


# -- shared ------------------------------------------------------------------------------------------


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _errors(errors: Sequence[FieldError], lang: str) -> dict[str, str]:
    """The first message per form field, in the page's language."""
    out: dict[str, str] = {}
    for error in errors:
        out.setdefault(FIELD_ALIASES.get(error.field, error.field), localise_error(error.message, lang))
    return out


def _error_of(exc: ChengguanError, lang: str) -> dict[str, str]:
    return _errors(exc.errors or [FieldError("form", exc.message)], lang)


def _map_settings(settings: Settings) -> dict[str, Any]:
    return {"tiles": settings.map_tiles_url, "attribution": settings.map_tiles_attribution}


@router.get("")
def index(request: Request) -> Response:
    return render(request, "citizen/index.html")


# -- reporting -------------------------------------------------------------------------------------


def _typed(form: FormData) -> portal.ReportForm:
    return portal.ReportForm(**{name: _text(form, name) for name in portal.ReportForm.__dataclass_fields__})


def _photos(form: FormData) -> list[portal.Photo]:
    return [
        portal.Photo(v.file, v.filename, v.size)
        for v in form.getlist("photos")
        if isinstance(v, UploadFile) and v.filename
    ]


def _category_groups(session: Session) -> list[tuple[str, list[tuple[str, str]]]]:
    rows = portal.categories(session)
    return [(group or "", [(key, name) for key, name, _ in items]) for group, items in groupby(rows, lambda r: r[2])]


def report_page(
    request: Request,
    session: Session,
    form: portal.ReportForm,
    errors: Mapping[str, str] | None = None,
    *,
    status: int = 200,
    notice: str | None = None,
) -> Response:
    settings: Settings = request.app.state.settings
    return render(
        request,
        "citizen/report.html",
        status=status,
        form=form,
        errors=errors or {},
        notice=notice,
        groups=_category_groups(session),
        map=_map_settings(settings),
        limits={"photos": portal.MAX_PHOTOS, "mb": portal.PHOTO_MAX_MB, "text": portal.MAX_DESCRIPTION},
    )


@router.get("/report")
def report_form(request: Request, session: PublicSession) -> Response:
    # the form's own id: sent twice (a double tap, a retry), it still makes one report
    return report_page(request, session, portal.ReportForm(submission=secrets.token_urlsafe(18)))


@router.post("/report")
def submit_report(
    request: Request, session: PublicSession, form: Form, settings: Settings = Depends(get_settings)
) -> Response:
    lang, now = language_of(request), utcnow()
    client = portal.client_key(settings, client_ip(request))
    typed, photos = _typed(form), _photos(form)
    try:
        portal.check_report_rate(session, client, now)
    except ChengguanError as exc:
        return report_page(request, session, typed, _error_of(exc, lang), status=exc.status)
    errors = portal.form_errors(session, typed, photos)
    phone = typed.phone.strip()
    if not errors and phone:
        # checked only on an otherwise good form (a right code is used up); a wrong guess is
        # answered without raising, so that its count is committed
        errors = [e for e in [portal.check_code(session, settings, phone, typed.code, now)] if e]
    if errors:
        return report_page(request, session, typed, _errors(errors, lang), status=422)
    ctx = pipeline.context(session, classifier=active_classifier(settings), auto_dispatch=settings.auto_dispatch)
    try:
        row = portal.submit(session, settings, ctx, typed, photos, client=client, phone_verified=bool(phone), now=now)
    except ChengguanError as exc:
        raise Rendered(report_page(request, session, typed, _error_of(exc, lang), status=exc.status)) from exc
    return redirect(request, f"/citizen/track/{row.tracking}?new=1")


@router.post("/phone-code")
def phone_code(
    request: Request, session: PublicSession, form: Form, settings: Settings = Depends(get_settings)
) -> Response:
    """Send a code. htmx swaps the phone block only; without JavaScript the whole form comes back
    with what was typed (a browser cannot refill the photos)."""
    t = Translator(language_of(request))
    typed = _typed(form)
    phone = typed.phone.strip()
    try:
        portal.send_code(session, settings, phone, portal.client_key(settings, client_ip(request)), utcnow())
    except ChengguanError as exc:
        errors = _error_of(exc, t.lang)
        if is_htmx(request):  # 422: htmx swaps it in
            fragment = render(request, "citizen/_phone.html", status=422, form=typed, errors=errors, notice=None)
            raise Rendered(fragment) from exc
        raise Rendered(report_page(request, session, typed, errors, status=exc.status)) from exc
    notice = t("citizen.code_sent", phone=f"{phone[:3]}****{phone[-4:]}")
    if is_htmx(request):
        return render(request, "citizen/_phone.html", form=typed, errors={}, notice=notice)
    return report_page(request, session, typed, notice=notice)


# -- tracking ------------------------------------------------------------------------------------------


def _track_form(request: Request, number: str, error: str | None, status: int = 200) -> Response:
    return render(request, "citizen/track_form.html", status=status, number=number, error=error)


@router.get("/track")
def track_form(request: Request, number: str = "") -> Response:
    if not number:
        return _track_form(request, "", None)
    tracking = portal.normalise_tracking(number)
    if tracking is None:
        message = "a number has 12 letters and digits, e.g. K7QM-3XD9-WT2P / 查询编号为12位字母和数字"
        return _track_form(request, number, localise_error(message, language_of(request)), 422)
    return RedirectResponse(f"/citizen/track/{tracking}", status_code=303)


def progress_page(
    request: Request,
    session: Session,
    row: CitizenReport,
    *,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
    new: bool = False,
) -> Response:
    t = Translator(language_of(request))
    flow = EVENT_FLOW.flow(session)
    shown = portal.progress(session, row)
    return render(
        request,
        "citizen/progress.html",
        status=status,
        p=shown,
        number=portal.show_tracking(shown.tracking),
        state=t.pick(flow.states[shown.state].zh, flow.states[shown.state].en) if shown.state else None,
        steps=[
            (s.at, t.pick(flow.actions[s.action].zh, flow.actions[s.action].en), s.state)
            for s in shown.steps
            if s.action != portal.RATE_ACTION and s.action in flow.actions  # others' ratings are theirs
        ],
        state_names={key: t.pick(s.zh, s.en) for key, s in flow.states.items()},
        errors=errors or {},
        new=new,
        stars=range(5, 0, -1),
    )


@router.get("/track/{tracking}")
def track(request: Request, tracking: str, session: PublicSession, new: bool = False) -> Response:
    try:
        row = portal.by_tracking(session, tracking)
    except NotFound as exc:
        return _track_form(request, tracking, localise_error(exc.message, language_of(request)), 404)
    return progress_page(request, session, row, new=new)


@router.post("/track/{tracking}/rating")
def rate(request: Request, tracking: str, session: PublicSession, form: Form) -> Response:
    row = portal.by_tracking(session, tracking, for_update=True)
    try:
        portal.rate(session, row, _text(form, "rating"), _text(form, "comment"), utcnow())
    except ChengguanError as exc:
        errors = _error_of(exc, language_of(request))
        raise Rendered(progress_page(request, session, row, errors=errors, status=exc.status)) from exc
    return redirect(request, f"/citizen/track/{row.tracking}")


# -- the public map --------------------------------------------------------------------------------------


@router.get("/map")
def public_map(request: Request) -> Response:
    return render(request, "citizen/map.html", map=_map_settings(request.app.state.settings), days=portal.MAP_DAYS)


@data.get("/problems.json")
def problems(session: DbSession) -> JSONResponse:
    return JSONResponse(portal.recent_problems(session), headers={"Cache-Control": PUBLIC_CACHE})


@data.get("/areas.json")
def areas(session: DbSession) -> JSONResponse:
    return JSONResponse(portal.areas(session), headers={"Cache-Control": PUBLIC_CACHE})
