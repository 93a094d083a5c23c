"""The case desk: the inbox by deadline and the event page (map, photos, merged reports, the
timeline of nodes, the dispatch reason, the actions with their forms, pending approvals).

The photos a report came with (a citizen's, a hotline's) are the report's attachments, not the
case's evidence: the event page, the officer's task page and the clerk's queue show them beside
the evidence, served by ``/files/reports/…``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, BinaryIO

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask
from starlette.datastructures import FormData
from starlette.responses import Response

from chengguan.auth.deps import DbSession
from chengguan.auth.models import User
from chengguan.auth.principal import Principal
from chengguan.auth.roles import Permission
from chengguan.calendar import service as calendar_service
from chengguan.cases import clock, flow_routes
from chengguan.cases import service as cases_service
from chengguan.cases.flow import Action, Flow
from chengguan.cases.models import Event, EventStatus
from chengguan.cases.schemas import StepOut
from chengguan.db import utcnow
from chengguan.dispatch import assign
from chengguan.dispatch.flow import EVENT_FLOW
from chengguan.errors import Invalid, NotFound
from chengguan.evidence import service as evidence_service
from chengguan.evidence.models import EvidenceItem
from chengguan.evidence.storage import blob_store
from chengguan.geo.models import GridCell
from chengguan.intake import service as intake_service
from chengguan.intake.channels import CHANNELS
from chengguan.intake.models import Attachment, Report
from chengguan.kit.geojson import to_geojson
from chengguan.orgs.models import Organisation, OrgKind
from chengguan.taxonomy.models import Category
from chengguan.web import case_pages
from chengguan.web.case_pages import CaseKind
from chengguan.web.i18n import Translator, language_of
from chengguan.web.pages import PageUser, needs, render
from chengguan.web.routing import WebRoute, redirect

router = APIRouter(route_class=WebRoute, include_in_schema=False)
INBOX_PAGE = 50
# the units an event can be assigned to (指定派遣)
HANDLING_KINDS = (OrgKind.SQUAD, OrgKind.DEPARTMENT, OrgKind.ENTERPRISE, OrgKind.STREET, OrgKind.TOWN)
VIEWS = {"desk": "/events/{id}", "mobile": "/m/events/{id}"}  # where a form returns to


async def form_data(request: Request) -> FormData:
    return await request.form()


Form = Annotated[FormData, Depends(form_data)]


# -- shared by the pages that list events ---------------------------------------------------------


@dataclass(frozen=True)
class EventRow:
    event: Event
    state: str
    light: str | None


def state_label(t: Translator, flow: Flow, key: str) -> str:
    state = flow.states.get(key)
    return t.pick(state.zh, state.en) if state else key


def channel_names(t: Translator) -> dict[str, str]:
    """Each intake channel's name in the page's language, by code, in the registry's order."""
    return {c.code: t.pick(c.name_zh, c.name_en) for c in CHANNELS.values()}


def event_rows(session: Session, t: Translator, events: Iterable[Event]) -> list[EventRow]:
    """Each event with its state's name and its light now (computed: the stored one is only as
    fresh as the last sweep)."""
    flow, calendar, now = EVENT_FLOW.flow(session), calendar_service.get_calendar(session), utcnow()
    rows = []
    for event in events:
        light = clock.light_at(calendar, event, now)
        rows.append(EventRow(event, state_label(t, flow, event.status), None if light is None else light.value))
    return rows


def org_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Names of the organisations a case passed through; names are reference data, shown even
    for a holder outside the reader's subtree (the district centre, seen from a squad)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    stmt = select(Organisation.id, Organisation.name).where(Organisation.id.in_(wanted))
    return {row.id: row.name for row in session.execute(stmt, execution_options={"skip_scope": True})}


def my_tasks(session: Session, user: Principal, limit: int, offset: int = 0) -> tuple[list[Event], int]:
    """The inbox: open events held by the user's organisation or one below it."""
    if user.org_path is None:
        return [], 0
    return cases_service.inbox(session, user.org_path, limit=limit, offset=offset)


# -- the inbox ----------------------------------------------------------------------------------------


@router.get("/inbox")
def inbox(request: Request, session: DbSession, user: PageUser, offset: int = Query(0, ge=0)) -> Response:
    needs(user, Permission.EVENT_READ)
    t = Translator(language_of(request))
    events, total = my_tasks(session, user, INBOX_PAGE, offset)
    return render(
        request,
        "inbox.html",
        user,
        rows=event_rows(session, t, events),
        total=total,
        offset=offset,
        page_size=INBOX_PAGE,
    )


# -- the event page -------------------------------------------------------------------------------------


def photos_of(session: Session, event: Event) -> list[EvidenceItem]:
    items, _ = evidence_service.list_evidence(session, "event", str(event.id), limit=200)
    return list(items)


def report_photos(session: Session, report_ids: Iterable[int]) -> dict[int, list[Attachment]]:
    """The photos sent with each report, by report id, oldest first (one query)."""
    wanted = set(report_ids)
    if not wanted:
        return {}
    stmt = (
        select(Attachment)
        .where(Attachment.report_id.in_(wanted), Attachment.content_type.startswith("image/"))
        .order_by(Attachment.id)
    )
    found: dict[int, list[Attachment]] = {}
    for attachment in session.scalars(stmt):
        found.setdefault(attachment.report_id, []).append(attachment)
    return found


def reported_photos(session: Session, reports: Sequence[Report], photos: Sequence[EvidenceItem]) -> list[Attachment]:
    """The photos the event's reports came with, each file once and none already on the case as
    evidence (an officer's 上报 puts its photos in both places)."""
    seen = {p.sha256 for p in photos}
    by_report = report_photos(session, [r.id for r in reports])
    shown = []
    for attachment in (a for r in reports for a in by_report.get(r.id, [])):
        if attachment.sha256 not in seen:
            seen.add(attachment.sha256)
            shown.append(attachment)
    return shown


def handling_units(session: Session, actions: Sequence[Action]) -> list[Organisation]:
    """The units an 指定派遣 may name (only read when some action asks for a unit)."""
    if not any(f.type == "org" for a in actions for f in a.fields):
        return []
    stmt = select(Organisation).where(Organisation.kind.in_(HANDLING_KINDS)).order_by(Organisation.path)
    return list(session.scalars(stmt))


def _load(session: Session, event_id: int, for_update: bool) -> Event:
    return cases_service.get_event(session, event_id, for_update=for_update)


EVENTS = CaseKind(EVENT_FLOW, _load, "/events/{id}", photos_of, handling_units)


def map_data(session: Session, event: Event) -> dict[str, Any]:
    cell = session.get(GridCell, event.cell_id) if event.cell_id is not None else None
    return {
        "point": None if event.lon is None or event.lat is None else [event.lat, event.lon],
        "cell": None if cell is None else to_geojson(cell.geometry),
        "cell_name": None if cell is None else f"{cell.name} ({cell.code})",
    }


def with_dispatches(session: Session, event: Event, steps: list[StepOut]) -> list[StepOut]:
    """The timeline's steps with the dispatches no step records: the intake's by the list,
    automatic (on the event row or as a record) or on a clerk's accepting the report. A dispatch
    that was a workflow action is a step already, at the record's instant."""
    stepped = {step.at for step in steps if step.action in ("dispatch", "assign")}
    records = [r for r in assign.history(session, event) if r.at not in stepped]
    ids = {r.actor_id for r in records if r.actor_id is not None}
    # automatic dispatches name no one: no query for them (the event page's usual case)
    named = session.execute(select(User.id, User.username).where(User.id.in_(ids))) if ids else ()
    actors = {uid: name for uid, name in named}
    dispatches = [
        StepOut(
            id=0,
            action="dispatch",
            from_state=EventStatus.REGISTERED,
            to_state=EventStatus.DISPATCHED,
            actor_id=record.actor_id,
            actor_name=actors.get(record.actor_id or 0, "platform"),  # ids start at 1
            automatic=record.actor_id is None,
            note="",
            data={"reason": record.reason},
            at=record.at,
        )
        for record in records
    ]
    return sorted([*dispatches, *steps], key=lambda step: step.at)


def event_context(session: Session, t: Translator, event: Event, user: Principal) -> dict[str, Any]:
    """Everything the event page and the officer's task page show."""
    flow, calendar = EVENT_FLOW.flow(session), calendar_service.get_calendar(session)
    timeline = flow_routes.timeline_out(session, EVENT_FLOW, event)
    photos = photos_of(session, event)
    reports = intake_service.reports_of_event(session, event.id)
    light = clock.light_at(calendar, event, utcnow())
    category = session.get(Category, event.category_id) if event.category_id else None
    return {
        "event": event,
        "category_name": t.pick(category.name, category.name_en or category.name) if category else None,
        "channels": channel_names(t),
        "state": state_label(t, flow, event.status),
        "light": None if light is None else light.value,
        "final": flow.state(event.status).final,
        "nodes": timeline.nodes,
        "steps": with_dispatches(session, event, timeline.steps),
        "state_names": {key: t.pick(s.zh, s.en) for key, s in flow.states.items()},
        "action_names": {key: t.pick(a.zh, a.en) for key, a in flow.actions.items()},
        "orgs": org_names(session, [event.unit_id, *(n.holder_id for n in timeline.nodes)]),
        "photos": photos,
        "reports": reports,
        "reported": reported_photos(session, reports, photos),
        "forms": case_pages.action_forms(session, t, EVENTS, event, user, photos),
        "pending": case_pages.pending_view(session, t, EVENTS, flow, event, user),
        "map": map_data(session, event),
    }


@router.get("/events/{event_id}")
def event_page(request: Request, event_id: int, session: DbSession, user: PageUser) -> Response:
    needs(user, Permission.EVENT_READ)
    t = Translator(language_of(request))
    event = cases_service.get_event(session, event_id)
    return render(request, "event.html", user, **event_context(session, t, event, user))


def _back(form: FormData, event: Event) -> str:
    view = str(form.get("view", "desk"))
    if view not in VIEWS:
        raise Invalid("view must be desk or mobile", field="view")
    return VIEWS[view].format(id=event.id)


@router.post("/events/{event_id}/actions/{key}")
def take_action(request: Request, event_id: int, key: str, session: DbSession, user: PageUser, form: Form) -> Response:
    needs(user, Permission.EVENT_READ)
    event = cases_service.get_event(session, event_id, for_update=True)
    back = _back(form, event)
    case_pages.take_from_form(request, session, user, form, EVENTS, event, key)
    return redirect(request, back)


@router.post("/events/{event_id}/requests/{request_id}/{decision}")
def decide(
    request: Request, event_id: int, request_id: int, decision: str, session: DbSession, user: PageUser, form: Form
) -> Response:
    needs(user, Permission.EVENT_READ)
    event = cases_service.get_event(session, event_id, for_update=True)
    case_pages.decide_from_form(request, session, user, form, EVENTS, event, request_id, decision)
    return redirect(request, _back(form, event))


@router.get("/files/evidence/{evidence_id}")
def evidence_file(request: Request, evidence_id: int, session: DbSession, user: PageUser) -> Response:
    """A photo of a case, for the pages (the API's file route wants a bearer token)."""
    needs(user, Permission.EVIDENCE_READ)
    item = evidence_service.get_evidence(session, evidence_id)
    return _file(evidence_service.open_file(blob_store(request.app.state.settings), item), item.media_type)


def _report_visible(session: Session, report_id: int) -> bool:
    """A report the reader sees, or one merged into an event the reader sees (a report placed in
    a neighbour's area)."""
    if session.scalar(select(Report.id).where(Report.id == report_id)) is not None:
        return True
    event_id = session.scalar(
        select(Report.event_id).where(Report.id == report_id), execution_options={"skip_scope": True}
    )
    return event_id is not None and session.scalar(select(Event.id).where(Event.id == event_id)) is not None


@router.get("/files/reports/{attachment_id}")
def report_file(request: Request, attachment_id: int, session: DbSession, user: PageUser) -> Response:
    """A photo sent with a report, for the pages that show the report or its event."""
    needs(user, Permission.EVIDENCE_READ)
    attachment = session.get(Attachment, attachment_id)
    store = blob_store(request.app.state.settings)
    if attachment is None or not _report_visible(session, attachment.report_id) or not store.exists(attachment.sha256):
        raise NotFound(f"attachment {attachment_id} not found", field="attachment_id")
    return _file(store.open(attachment.sha256), attachment.content_type)


def _file(stream: BinaryIO, media_type: str) -> StreamingResponse:
    return StreamingResponse(
        iter(lambda: stream.read(1 << 20), b""),
        media_type=media_type,
        headers={"Cache-Control": "private, max-age=3600"},
        background=BackgroundTask(stream.close),
    )
