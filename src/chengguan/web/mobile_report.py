"""上报 from the officer's phone (执法城管通): a problem seen on patrol, with its category, a
description, photos and the phone's GPS and time, taken by the intake pipeline as the patrol
channel; the result page says what it became (a new event, merged into an open one, or waiting
for a clerk).

The form carries its own id (``submission``, the report's ``external_id``): a form queued by the
service worker while offline and sent again later, or tapped twice, makes one report. Its photos
go to the report as attachments (what a clerk sees when placing it) and, once there is an event,
onto the event as evidence with their GPS and time, where the task page shows them."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from itertools import groupby

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from chengguan.auth.deps import DbSession
from chengguan.auth.principal import Principal
from chengguan.auth.roles import Permission
from chengguan.cases.models import Event
from chengguan.config import Settings
from chengguan.db import utcnow
from chengguan.errors import ChengguanError, FieldError
from chengguan.intake import pipeline
from chengguan.intake import service as intake_service
from chengguan.intake.model_store import active_classifier
from chengguan.intake.models import Report
from chengguan.intake.schemas import ReportIn, ReportOutcome
from chengguan.kit.coords import CRS
from chengguan.portal import service as portal
from chengguan.web.desk import Form
from chengguan.web.i18n import language_of, localise_error
from chengguan.web.mobile import photo_meta, save_photo
from chengguan.web.pages import PageUser, needs, render
from chengguan.web.routing import Rendered, WebRoute, redirect

router = APIRouter(route_class=WebRoute, include_in_schema=False)
CHANNEL = "patrol"
PHOTOS_FIELD = "photos"
# where the pipeline's refusals belong on the form (a place it cannot use, a category it does not know)
REFUSED_FIELDS = {"lon": "location", "lat": "location", "category_key": "category", "description": "description"}


def _typed(form: FormData) -> portal.ReportForm:
    """The form as typed; the citizen portal's form has the same fields and the same checks (the
    officer sends no phone number: the account says who reported)."""
    text = {name: form.get(name) for name in ("description", "lon", "lat", "address", "category", "submission")}
    return portal.ReportForm(**{k: v if isinstance(v, str) else "" for k, v in text.items()})


def _photos(form: FormData) -> list[tuple[UploadFile, portal.Photo]]:
    return [
        (v, portal.Photo(v.file, v.filename, v.size))
        for v in form.getlist(PHOTOS_FIELD)
        if isinstance(v, UploadFile) and v.filename
    ]


def _groups(session: Session) -> list[tuple[str, list[tuple[str, str]]]]:
    rows = portal.categories(session)
    return [(group or "", [(key, name) for key, name, _ in items]) for group, items in groupby(rows, lambda r: r[2])]


def _page(
    request: Request, session: Session, user: Principal, typed: portal.ReportForm, errors: dict[str, str], status: int
) -> Response:
    return render(
        request, "m/report.html", user, status=status, form=typed, errors=errors, groups=_groups(session),
        max_photos=portal.MAX_PHOTOS,
    )  # fmt: skip


def _messages(errors: Sequence[FieldError], lang: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for error in errors:
        out.setdefault(error.field, localise_error(error.message, lang))
    return out


def _report_in(typed: portal.ReportForm, now: dt.datetime) -> ReportIn:
    """A checked form (``portal.form_errors``) as the pipeline takes it. The phone's GPS is WGS-84,
    whatever the patrol channel's devices speak by default."""
    placed = bool(typed.lon.strip())
    return ReportIn(
        channel=CHANNEL,
        external_id=f"m:{typed.submission}" if portal.SUBMISSION.fullmatch(typed.submission) else None,
        description=typed.description.strip(),
        category_key=typed.category or None,
        lon=float(typed.lon) if placed else None,
        lat=float(typed.lat) if placed else None,
        crs=CRS.WGS84 if placed else None,
        address=typed.address.strip() or None,
        submitted_at=now,
    )


def submit(
    session: Session, settings: Settings, user: Principal, typed: portal.ReportForm, user_agent: str, form: FormData
) -> ReportOutcome:
    """The report through the pipeline, then its photos; a repeated form adds nothing."""
    ctx = pipeline.context(session, classifier=active_classifier(settings), auto_dispatch=settings.auto_dispatch)
    report_in = _report_in(typed, utcnow())
    outcomes, refused = intake_service.submit(session, [report_in], ctx, reporter_user_id=user.user_id)
    if refused:
        error = refused[0].error
        field = REFUSED_FIELDS.get(error.field.split(",")[0], "form")
        raise ChengguanError(error.message, status=refused[0].status, field=field)
    outcome = outcomes[0]
    assert outcome is not None
    if outcome.repeated:
        return outcome
    report = session.get(Report, outcome.report_id, execution_options={"skip_scope": True})
    assert report is not None
    for upload, _ in _photos(form):
        intake_service.add_attachment(session, settings, report, upload.file, upload.filename)
        if outcome.event_id is not None:
            upload.file.seek(0)
            save_photo(session, settings, upload, photo_meta("event", outcome.event_id, form, user_agent))
    return outcome


@router.get("/m/report")
def report_form(request: Request, session: DbSession, user: PageUser) -> Response:
    needs(user, Permission.REPORT_CREATE)
    return _page(request, session, user, portal.ReportForm(submission=secrets.token_urlsafe(18)), {}, 200)


@router.post("/m/report")
def submit_report(request: Request, session: DbSession, user: PageUser, form: Form) -> Response:
    needs(user, Permission.REPORT_CREATE)
    settings: Settings = request.app.state.settings
    lang, typed = language_of(request), _typed(form)
    errors = portal.form_errors(session, typed, [photo for _, photo in _photos(form)])
    if errors:
        return _page(request, session, user, typed, _messages(errors, lang), 422)
    try:
        outcome = submit(session, settings, user, typed, request.headers.get("User-Agent", ""), form)
    except ChengguanError as exc:
        found = exc.errors or [FieldError("form", exc.message)]
        raise Rendered(_page(request, session, user, typed, _messages(found, lang), exc.status)) from exc
    return redirect(request, f"/m/reports/{outcome.report_id}")


@router.get("/m/reports/{report_id}")
def report_result(request: Request, report_id: int, session: DbSession, user: PageUser) -> Response:
    """What the report became. The event's page is linked when the officer may see it (an event
    dispatched to another area is the other area's)."""
    needs(user, Permission.REPORT_CREATE)
    report = intake_service.report_of_submitter(session, report_id, user.user_id)
    outcome = intake_service.outcome(session, report)
    visible = outcome.event_id is not None and session.get(Event, outcome.event_id) is not None
    names = portal.category_names(session)
    category = names.get(outcome.category.key or "", outcome.category.key)
    return render(request, "m/report_result.html", user, o=outcome, visible=visible, category=category)
