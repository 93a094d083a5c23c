"""The officer's phone view (执法城管通): my tasks, a task with its navigation link, photos taken
on the spot (with the phone's GPS and time when it gives them) and 处理反馈. Installable: the
manifest and the service worker live under ``/m/`` so that their scope is this view only; the
service worker keeps the shell for offline use and queues photos taken without a network."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response

from chengguan.auth.deps import DbSession
from chengguan.auth.roles import Permission
from chengguan.cases import service as cases_service
from chengguan.config import Settings
from chengguan.errors import ChengguanError, Invalid
from chengguan.evidence import service as evidence_service
from chengguan.evidence.models import EvidenceItem, EvidenceType
from chengguan.evidence.schemas import EvidenceIn
from chengguan.evidence.storage import blob_store
from chengguan.kit.uploads import invalid, validation_errors
from chengguan.web.desk import Form, event_context, event_rows, my_tasks
from chengguan.web.i18n import Translator, language_of, localise_error
from chengguan.web.pages import PageUser, needs, render
from chengguan.web.routing import Rendered, WebRoute, is_htmx

router = APIRouter(route_class=WebRoute, include_in_schema=False)
# The installable app's own files: public (a browser fetches them without cookies) and outside
# WebRoute (they are not pages).
assets = APIRouter(include_in_schema=False)
STATIC = Path(__file__).parent / "static"
TASKS_SHOWN = 100
PHOTO_FIELD = "photo"


@router.get("/m/")
def tasks(request: Request, session: DbSession, user: PageUser) -> Response:
    needs(user, Permission.EVENT_READ)
    t = Translator(language_of(request))
    events, total = my_tasks(session, user, TASKS_SHOWN)
    return render(request, "m/tasks.html", user, rows=event_rows(session, t, events), total=total)


@router.get("/m/events/{event_id}")
def task(request: Request, event_id: int, session: DbSession, user: PageUser) -> Response:
    needs(user, Permission.EVENT_READ)
    t = Translator(language_of(request))
    event = cases_service.get_event(session, event_id)
    return render(request, "m/task.html", user, photo_error=None, **event_context(session, t, event, user))


def photo_meta(subject_type: str, subject_id: int, form: Any, user_agent: str) -> EvidenceIn:
    """A photo's record: GPS and time as the phone gave them (the page fills them in when the
    photo is taken), else the time of the upload and no place. Shared by every phone form that
    takes photos (a task's, a new report's, an on-the-spot penalty's)."""
    raw = {
        "subject_type": subject_type,
        "subject_id": str(subject_id),
        "evidence_type": EvidenceType.AUDIOVISUAL,
        "collected_at": form.get("collected_at") or None,
        "lon": form.get("lon") or None,
        "lat": form.get("lat") or None,
        "device": user_agent[:120] or None,
    }
    try:
        return EvidenceIn.model_validate({k: v for k, v in raw.items() if v is not None})
    except ValidationError as exc:
        raise invalid(validation_errors(exc)) from None


def save_photo(session: Session, settings: Settings, photo: UploadFile, meta: EvidenceIn) -> EvidenceItem:
    return evidence_service.add_evidence(
        session, blob_store(settings), photo.file, photo.filename or "photo", meta,
        max_bytes=settings.evidence_max_mb * 2**20,
    )  # fmt: skip


@router.post("/m/events/{event_id}/photos")
def upload_photo(request: Request, event_id: int, session: DbSession, user: PageUser, form: Form) -> Response:
    needs(user, Permission.EVIDENCE_WRITE)
    settings: Settings = request.app.state.settings
    event = cases_service.get_event(session, event_id)
    photo = form.get(PHOTO_FIELD)
    try:
        if not isinstance(photo, UploadFile) or not photo.filename:
            raise Invalid("take or choose a photo first / 请先拍照或选择照片", field=PHOTO_FIELD)
        save_photo(session, settings, photo, photo_meta("event", event.id, form, request.headers.get("User-Agent", "")))
    except ChengguanError as exc:
        error = localise_error(exc.message, language_of(request))
        raise Rendered(render(request, "m/_photo_form.html", user, status=422, event=event, photo_error=error)) from exc
    back = f"/m/events/{event.id}"
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Refresh": "true"})
    return RedirectResponse(back, status_code=303)


@assets.get("/m/sw.js")
def service_worker() -> FileResponse:
    # no-cache: a new version of the worker must reach phones on their next visit
    return FileResponse(STATIC / "sw.js", media_type="text/javascript", headers={"Cache-Control": "no-cache"})


@assets.get("/m/manifest.webmanifest")
def manifest() -> FileResponse:
    return FileResponse(STATIC / "manifest.webmanifest", media_type="application/manifest+json")
