"""The clerk's queue (待受理上报): reports the intake pipeline could not settle alone (the classifier
not confident: its top-3 offered as choices; a possible duplicate in the grey band: the candidate
event, its score and why; no place) and the clerk's decision on each.

A UI over the intake API, not a second implementation: the page reads ``intake.service`` and
posts each decision through ``intake.api.decide`` itself, so the checks, the messages and the
dispatch that follows are the API's. A refused decision comes back (422) with the message next to
the field it names; htmx swaps a settled item for a one-line result, and without JavaScript the
form posts and the page reloads. ``FormRefusal`` is shared with the 会商 page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import Response

from chengguan.auth.deps import DbSession
from chengguan.auth.principal import Principal
from chengguan.auth.roles import Permission
from chengguan.cases.models import Event, event_number
from chengguan.dispatch.resolver import RuleBook, rulebook
from chengguan.errors import ChengguanError
from chengguan.intake import api as intake_api
from chengguan.intake import service as intake_service
from chengguan.intake.channels import CHANNELS
from chengguan.intake.models import Attachment, PendingReason, Report
from chengguan.intake.schemas import DuplicateOut
from chengguan.orgs.models import Organisation
from chengguan.web.desk import Form, report_photos
from chengguan.web.forms import FIELD_PREFIX
from chengguan.web.i18n import Translator, language_of, localise_error
from chengguan.web.pages import PageUser, needs, render
from chengguan.web.routing import Rendered, WebRoute, is_htmx, redirect

router = APIRouter(route_class=WebRoute, include_in_schema=False)
QUEUE_PAGE = 20
DECISIONS = ("new", "merge", "reject")
# what each decision's form posts, besides the decision itself
DECISION_FIELDS = ("category_key", "category_other", "lon", "lat", "event_id", "reason")
# the API names the category "key" when the taxonomy does not know it
QUEUE_ALIASES = {"key": "category_key"}


# -- a refused form, from a domain error or the API model's validation ------------------------------


@dataclass(frozen=True)
class FormRefusal:
    fields: dict[str, str] = field(default_factory=dict)  # form field → message in the page's language
    form: str | None = None  # what names no field of the form (the state, a permission)


def _validation_message(t: Translator, error: Mapping[str, Any]) -> str:
    kind, ctx = str(error["type"]), error.get("ctx") or {}
    if error.get("input") is None or kind == "missing":
        return t("queue.error.required")
    if kind == "string_too_short":
        return t("queue.error.too_short", n=ctx.get("min_length", ""))
    if kind == "string_too_long":
        return t("queue.error.too_long", n=ctx.get("max_length", ""))
    if kind in ("int_parsing", "float_parsing"):
        return t("queue.error.number")
    if kind in ("greater_than_equal", "less_than_equal"):
        return t("queue.error.range")
    return t("queue.error.invalid")


def form_refusal(
    exc: ChengguanError | ValidationError, t: Translator, known: Sequence[str], aliases: Mapping[str, str]
) -> FormRefusal:
    """Each error next to the form field it names (``known``; the engine's ``fields.x`` and the
    API's own names via ``aliases``); whatever names none of them above the form."""
    named: list[tuple[str, str]]
    if isinstance(exc, ValidationError):
        named = [(".".join(str(p) for p in e["loc"]), _validation_message(t, e)) for e in exc.errors()]
    else:
        named = [(e.field, localise_error(e.message, t.lang)) for e in exc.errors]
    fields: dict[str, str] = {}
    for name, message in named:
        name = name.removeprefix(FIELD_PREFIX)
        name = aliases.get(name, name)
        if name in known:
            fields.setdefault(name, message)
    if fields:
        return FormRefusal(fields)
    return FormRefusal(form=localise_error(exc.message, t.lang) if isinstance(exc, ChengguanError) else named[0][1])


# -- the items ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    key: str
    name: str
    probability: float | None  # None: the category the source named, not a guess


@dataclass(frozen=True)
class Candidate:
    event_id: int
    number: str
    title: str | None  # None when the event lies outside the reader's subtree
    score: float
    reason: str


@dataclass(frozen=True)
class QueueItem:
    report: Report
    channel: str
    reasons: list[str]
    choices: list[Choice]
    candidates: list[Candidate]
    map: dict[str, Any]
    needs_place: bool
    photos: Sequence[Attachment]  # sent with the report
    values: Mapping[str, str] = field(default_factory=dict)  # a refused form's input, shown again
    refusal: FormRefusal | None = None
    failed: str | None = None  # the decision whose form was refused: it opens

    @property
    def dom_id(self) -> str:
        return f"report-{self.report.id}"


def category_name(book: RuleBook, key: str | None) -> str:
    category = book.categories.get(key) if key else None
    return category.name if category else "—"


def _in_language(t: Translator, text: str) -> str:
    """The dedup's reasons read "English / 中文": the part in the page's language."""
    english, sep, chinese = text.partition(" / ")
    return t.pick(chinese, english) if sep else text


def _choices(book: RuleBook, report: Report) -> list[Choice]:
    if report.category_top3:
        return [Choice(str(k), category_name(book, str(k)), float(p)) for k, p in report.category_top3]
    if report.category_key:  # named by the source, or a confident guess held back by a duplicate
        guessed = report.category_probability if report.category_source == "model" else None
        return [Choice(report.category_key, category_name(book, report.category_key), guessed)]
    return []


def _area_bounds(session: Session, org_id: int) -> list[list[float]] | None:
    """Where to look for a report with no place: its receiver's area, [[south, west], [north, east]]."""
    geometry = session.scalar(select(Organisation.geometry).where(Organisation.id == org_id))
    if geometry is None:
        return None
    west, south, east, north = geometry.bounds
    return [[south, west], [north, east]]


def _map(
    session: Session, report: Report, candidates: Sequence[Candidate], events: Mapping[int, Event]
) -> dict[str, Any]:
    points = [
        [events[c.event_id].lat, events[c.event_id].lon, c.number]
        for c in candidates
        if c.event_id in events and events[c.event_id].lat is not None
    ]
    placed = report.lon is not None and report.lat is not None
    return {
        "report": [report.lat, report.lon] if placed else None,
        "events": points,
        "area": None if placed or points else _area_bounds(session, report.org_id),
    }


def _item(
    session: Session,
    t: Translator,
    book: RuleBook,
    report: Report,
    suggested: Suggested,
    photos: Sequence[Attachment],
    **shown: Any,
) -> QueueItem:
    suggestions, events = suggested
    candidates = [
        Candidate(
            s.event_id,
            event_number(s.event_id),
            events[s.event_id].title if s.event_id in events else None,
            s.score,
            _in_language(t, s.reason),
        )
        for s in suggestions.get(report.id, [])
    ]
    channel = CHANNELS.get(report.channel)
    return QueueItem(
        report=report,
        channel=t.pick(channel.name_zh, channel.name_en) if channel else report.channel,
        reasons=list(report.pending_reasons or []),
        choices=_choices(book, report),
        candidates=candidates,
        map=_map(session, report, candidates, events),
        needs_place=report.lon is None or report.lat is None,
        photos=photos,
        **shown,
    )


# each report's duplicate suggestions (as the API's outcome reads them), and the suggested events
# the reader may see (scoped: a neighbour's event is named by its number, not shown)
Suggested = tuple[dict[int, list[DuplicateOut]], dict[int, Event]]


def _suggested(session: Session, reports: Sequence[Report]) -> Suggested:
    # only a report waiting as a possible duplicate has suggestions: the others cost no lookup
    waiting = [r for r in reports if PendingReason.DUPLICATE in (r.pending_reasons or [])]
    suggestions = {r.id: intake_service.outcome(session, r).suggestions for r in waiting}
    ids = {s.event_id for found in suggestions.values() for s in found}
    events = {e.id: e for e in session.scalars(select(Event).where(Event.id.in_(ids)))} if ids else {}
    return suggestions, events


def queue_items(session: Session, t: Translator, reports: Sequence[Report]) -> list[QueueItem]:
    book, suggested = rulebook(session), _suggested(session, reports)
    photos = report_photos(session, [r.id for r in reports])
    return [_item(session, t, book, r, suggested, photos.get(r.id, [])) for r in reports]


def subcategories(book: RuleBook) -> list[tuple[str, str]]:
    """Every 小类 (key, name): the "another 小类" field offers them."""
    return sorted((c.key, c.name) for c in book.categories.values() if c.parent_id is not None)


# -- the page --------------------------------------------------------------------------------------


def queue_url(reason: str | None, offset: int) -> str:
    query = {k: v for k, v in (("reason", reason or ""), ("offset", str(offset) if offset else "")) if v}
    return "/queue" + (f"?{urlencode(query)}" if query else "")


def _page(
    request: Request,
    session: Session,
    user: Principal,
    reason: PendingReason | None,
    offset: int,
    *,
    shown: QueueItem | None = None,
    status: int = 200,
) -> Response:
    t = Translator(language_of(request))
    reports, total = intake_service.pending(session, reason=reason, limit=QUEUE_PAGE, offset=offset)
    items = [shown if shown and shown.report.id == i.report.id else i for i in queue_items(session, t, reports)]
    return render(
        request,
        "queue/queue.html",
        user,
        status=status,
        items=items,
        total=total,
        reason=reason.value if reason else "",
        offset=offset,
        page_size=QUEUE_PAGE,
        queue_url=queue_url,
        subcategories=subcategories(rulebook(session)),
    )


@router.get("/queue")
def queue_page(
    request: Request,
    session: DbSession,
    user: PageUser,
    reason: PendingReason | None = Query(None),
    offset: int = Query(0, ge=0),
) -> Response:
    """Reports waiting for a clerk, oldest first, in the user's subtree."""
    needs(user, Permission.REPORT_REVIEW)
    return _page(request, session, user, reason, offset)


def _decision_body(action: str, typed: Mapping[str, str]) -> dict[str, Any]:
    """The API's DecisionIn from the form: blanks are absent, "another 小类" beats the choices."""
    body: dict[str, Any] = {"action": action if action in DECISIONS else "reject"}
    category = typed["category_other"] or typed["category_key"]
    values = {**typed, "category_key": category.upper()}
    for name in ("category_key", "lon", "lat", "event_id", "reason"):
        if values[name]:
            body[name] = values[name]
    return body


def _fields_shown(item: QueueItem) -> list[str]:
    """The fields the item's forms have: an error naming another one is shown above them."""
    return [
        "category_key",
        "reason",
        *(["lon", "lat"] if item.needs_place else []),
        *(["event_id"] if item.candidates else []),
    ]


def _back(form: FormData) -> tuple[PendingReason | None, int]:
    """The filter and page the form was posted from (a bad value falls back to the whole queue)."""
    reason, offset = str(form.get("filter", "")), str(form.get("offset", ""))
    valid = reason in {r.value for r in PendingReason}
    return (PendingReason(reason) if valid else None), int(offset) if offset.isdigit() else 0


@router.post("/queue/{report_id}/decision")
def decide(request: Request, report_id: int, session: DbSession, user: PageUser, form: Form) -> Response:
    needs(user, Permission.REPORT_REVIEW)
    report = intake_service.get_report(session, report_id)  # 404 outside the user's subtree
    action, (reason, offset) = str(form.get("action", "")), _back(form)
    typed = {name: str(form.get(name, "")).strip() for name in DECISION_FIELDS}
    try:
        body = intake_api.DecisionIn.model_validate(_decision_body(action, typed))
        outcome = intake_api.decide(report_id, body, session, request.app.state.settings, user)
    except (ChengguanError, ValidationError) as exc:
        t = Translator(language_of(request))
        photos = report_photos(session, [report.id]).get(report.id, [])
        item = _item(session, t, rulebook(session), report, _suggested(session, [report]), photos, values=typed)
        refusal = form_refusal(exc, t, _fields_shown(item), QUEUE_ALIASES)
        item = replace(item, refusal=refusal, failed=action)
        if is_htmx(request):
            context = {"reason": reason.value if reason else "", "offset": offset}
            response = render(request, "queue/_item.html", user, status=422, item=item, **context)
        else:
            response = _page(request, session, user, reason, offset, shown=item, status=422)
        raise Rendered(response) from exc
    if is_htmx(request):
        return render(request, "queue/_done.html", user, report=report, outcome=outcome)
    return redirect(request, queue_url(reason.value if reason else None, offset))
