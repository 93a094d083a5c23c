"""The 会商 queue: events whose owner the responsibility list could not decide (no rule, or several
rows tied), each with its place and category, the candidate units and the list's reason; a
dispatcher names the owning unit with a reason.

A UI over the dispatcher's desk API: the list is ``dispatch.assign.list_consultations`` (scoped to
the user's subtree like every query) and the form posts through ``dispatch.desk_api.resolve``
itself (the event flow's 指定派遣, recorded as a 会商 decision)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from chengguan.auth.deps import DbSession
from chengguan.auth.principal import Principal
from chengguan.auth.roles import Permission
from chengguan.cases.models import Event, event_number
from chengguan.dispatch import assign, desk_api
from chengguan.dispatch.flow import EVENT_FLOW
from chengguan.dispatch.models import Consultation
from chengguan.dispatch.resolver import RuleBook, rulebook
from chengguan.errors import ChengguanError
from chengguan.web.desk import Form, handling_units
from chengguan.web.i18n import Translator, language_of
from chengguan.web.pages import PageUser, needs, render
from chengguan.web.queues import FormRefusal, category_name, form_refusal
from chengguan.web.routing import Rendered, WebRoute, is_htmx, redirect

router = APIRouter(route_class=WebRoute, include_in_schema=False)
PAGE = 20
FIELDS = ("unit_id", "note")
# the engine names the 指定派遣's reason "reason"; the form calls it the note, as the API does
ALIASES = {"reason": "note"}


@dataclass(frozen=True)
class ConsultationItem:
    consultation: Consultation
    event: Event | None  # None when the event lies outside the reader's subtree
    number: str
    category: str
    area: str
    candidates: list[tuple[int, str]]  # (unit id, name)
    map: dict[str, Any]
    values: Mapping[str, str] = field(default_factory=dict)
    refusal: FormRefusal | None = None

    @property
    def dom_id(self) -> str:
        return f"consultation-{self.consultation.id}"


def _item(book: RuleBook, consultation: Consultation, event: Event | None, **shown: Any) -> ConsultationItem:
    area = book.orgs.get(event.org_id) if event else None
    placed = event is not None and event.lon is not None and event.lat is not None
    return ConsultationItem(
        consultation=consultation,
        event=event,
        number=event_number(consultation.event_id),
        category=f"{event.category_key} {category_name(book, event.category_key)}" if event else "—",
        area=area.name if area else "—",
        candidates=[(i, book.orgs[i].name) for i in consultation.candidate_ids if i in book.orgs],
        map={"report": [event.lat, event.lon] if placed and event else None, "events": [], "area": None},
        **shown,
    )


def _events(session: Session, rows: Sequence[Consultation]) -> dict[int, Event]:
    ids = {c.event_id for c in rows}
    return {e.id: e for e in session.scalars(select(Event).where(Event.id.in_(ids)))} if ids else {}


def units(session: Session) -> list[tuple[int, str]]:
    """The units a 会商 may name: those the event page's 指定派遣 offers."""
    assign_action = EVENT_FLOW.flow(session).action("assign")
    return [(o.id, o.name) for o in handling_units(session, [assign_action])]


def _render(request: Request, session: Session, user: Principal, name: str, **context: Any) -> Response:
    """A page or an item: the unit select only for those who may resolve."""
    may_resolve = user.can(Permission.DISPATCH)
    return render(request, name, user, units=units(session) if may_resolve else [], **context)


def _page(
    request: Request,
    session: Session,
    user: Principal,
    offset: int,
    *,
    shown: ConsultationItem | None = None,
    status: int = 200,
) -> Response:
    rows, total = assign.list_consultations(session, limit=PAGE, offset=offset)
    book, events = rulebook(session), _events(session, rows)
    items = [shown if shown and shown.consultation.id == c.id else _item(book, c, events.get(c.event_id)) for c in rows]
    context = {"items": items, "total": total, "offset": offset, "page_size": PAGE}
    return _render(request, session, user, "queue/consultations.html", status=status, **context)


@router.get("/consultations")
def consultations_page(request: Request, session: DbSession, user: PageUser, offset: int = Query(0, ge=0)) -> Response:
    """The open 会商 of the user's subtree, the oldest first."""
    needs(user, Permission.EVENT_READ)
    return _page(request, session, user, offset)


def _offset(form: Mapping[str, Any]) -> int:
    offset = str(form.get("offset", ""))
    return int(offset) if offset.isdigit() else 0


@router.post("/consultations/{consultation_id}/resolve")
def resolve(request: Request, consultation_id: int, session: DbSession, user: PageUser, form: Form) -> Response:
    needs(user, Permission.DISPATCH)
    consultation = assign.get_consultation(session, consultation_id)  # 404 outside the user's subtree
    typed = {name: str(form.get(name, "")).strip() for name in FIELDS}
    try:
        body = desk_api.ResolveIn.model_validate({k: v or None for k, v in typed.items()})
        record = desk_api.resolve(consultation_id, body, session, user)
    except (ChengguanError, ValidationError) as exc:
        t = Translator(language_of(request))
        refusal = form_refusal(exc, t, FIELDS, ALIASES)
        event = _events(session, [consultation]).get(consultation.event_id)
        item = _item(rulebook(session), consultation, event, values=typed, refusal=refusal)
        if is_htmx(request):
            context = {"item": item, "offset": _offset(form)}
            response = _render(request, session, user, "queue/_consultation.html", status=422, **context)
        else:
            response = _page(request, session, user, _offset(form), shown=item, status=422)
        raise Rendered(response) from exc
    if is_htmx(request):
        unit = rulebook(session).orgs.get(record.unit_id)
        number, name = event_number(consultation.event_id), unit.name if unit else "—"
        return render(
            request, "queue/_consultation_done.html", user, consultation=consultation, number=number, unit=name
        )
    offset = _offset(form)
    return redirect(request, f"/consultations?offset={offset}" if offset else "/consultations")
