"""执法办案 screens: the enforcement cases by deadline, a new case (案件来源), and the case page:
each stage's form from the flow, the discretion's recommendation with its rationale and the texts
of the articles the causes cite, the documents to preview and download, the evidence with its
standing in the evidence log, and the timeline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from chengguan.auth.deps import DbSession
from chengguan.auth.models import User
from chengguan.auth.principal import Principal
from chengguan.auth.roles import Permission, Role
from chengguan.calendar import service as calendar_service
from chengguan.cases import clock, flow_routes, penalty
from chengguan.cases import service as cases_service
from chengguan.cases.flow import Action
from chengguan.cases.models import PenaltyCase
from chengguan.cases.penalty import PENALTY_FLOW
from chengguan.cases.schemas import PenaltyCaseIn
from chengguan.config import Settings
from chengguan.db import utcnow
from chengguan.documents import service as documents_service
from chengguan.documents.kinds import KINDS
from chengguan.documents.models import Document
from chengguan.errors import ChengguanError, FieldError, Invalid
from chengguan.evidence import service as evidence_service
from chengguan.evidence import standing
from chengguan.evidence.models import EvidenceItem, EvidenceType
from chengguan.evidence.schemas import EvidenceIn
from chengguan.evidence.storage import blob_store
from chengguan.kit.downloads import content_disposition
from chengguan.legal import service as legal_service
from chengguan.legal.models import CaseCause
from chengguan.orgs.models import Organisation, OrgKind
from chengguan.web import case_pages
from chengguan.web.case_pages import CaseKind
from chengguan.web.desk import Form, org_names, state_label
from chengguan.web.forms import LOCAL_INPUT
from chengguan.web.i18n import Translator, language_of, localise_error
from chengguan.web.pages import PageUser, needs, render
from chengguan.web.routing import Rendered, WebRoute, redirect

router = APIRouter(route_class=WebRoute, include_in_schema=False)
LIST_PAGE = 50
AGENCY_KINDS = (OrgKind.SQUAD, OrgKind.STREET, OrgKind.TOWN, OrgKind.DEPARTMENT)
SOURCES = ("inspection", "complaint", "hotline", "transfer", "event", "supervision")
PARTY_TYPES = ("citizen", "organisation")
BEFORE_NOTICE = ("investigating", "legal_review", "discussion", "deciding")  # the states a tier is still open in
FILE_FIELD = "file"


def _load(session: Session, case_id: int, for_update: bool) -> PenaltyCase:
    return cases_service.get_penalty_case(session, case_id, for_update=for_update)


def evidence_of(session: Session, case: PenaltyCase) -> list[EvidenceItem]:
    items, _ = evidence_service.list_evidence(session, "penalty", str(case.id), limit=500)
    return list(items)


def _no_units(session: Session, actions: Sequence[Action]) -> list[Organisation]:
    return []  # no action of the penalty flow names a unit to pick


PENALTY = CaseKind(PENALTY_FLOW, _load, "/penalty-cases/{id}", evidence_of, _no_units)


@dataclass(frozen=True)
class CaseRow:
    case: PenaltyCase
    state: str
    light: str | None
    unit: str  # the agency


# -- the list ---------------------------------------------------------------------------------------


@router.get("/penalty-cases")
def case_list(request: Request, session: DbSession, user: PageUser, offset: int = Query(0, ge=0)) -> Response:
    needs(user, Permission.PENALTY_READ)
    t = Translator(language_of(request))
    cases: list[PenaltyCase] = []
    total = 0
    if user.org_path is not None:
        cases, total = cases_service.penalty_inbox(session, user.org_path, limit=LIST_PAGE, offset=offset)
    flow, calendar, now = PENALTY_FLOW.flow(session), calendar_service.get_calendar(session), utcnow()
    agencies = org_names(session, [c.agency_id for c in cases])
    rows = []
    for case in cases:
        light = None if (found := clock.light_at(calendar, case, now)) is None else found.value
        rows.append(CaseRow(case, state_label(t, flow, case.status), light, agencies.get(case.agency_id, "—")))
    may_create = user.can(Permission.PENALTY_CREATE)
    return render(
        request, "penalty/list.html", user, rows=rows, total=total, offset=offset, page_size=LIST_PAGE,
        may_create=may_create,
    )  # fmt: skip


# -- a new case -------------------------------------------------------------------------------------


def case_choices(session: Session, t: Translator, user: Principal) -> dict[str, Any]:
    """The new-case form's options: (value, label) pairs."""
    agencies = session.scalars(
        select(Organisation).where(Organisation.kind.in_(AGENCY_KINDS), Organisation.active.is_(True))
        .order_by(Organisation.path)
    ).all()  # fmt: skip
    causes = session.scalars(select(CaseCause).where(CaseCause.active.is_(True)).order_by(CaseCause.code)).all()
    users = _colleagues(session, user)
    return {
        "agencies": [(str(o.id), o.name) for o in agencies],
        "causes": [(c.code, f"{c.code} {t.pick(c.name, c.name_en or '')}") for c in causes],
        "sources": [(s, t(f"penalty.source.{s}")) for s in SOURCES],
        "party_types": [(p, t(f"penalty.party.{p}")) for p in PARTY_TYPES],
        "officers": [u for u in users if Role.OFFICER in u.role_names],
    }


def _colleagues(session: Session, user: Principal) -> list[User]:
    """Officers who may be named to handle a case with the user: those of the unit above the
    user's and below it (a squad's officers beside a street's), whatever the user's own scope.
    Only their names are shown."""
    if user.org_path is None:
        return []
    above = user.org_path.rstrip("/").rsplit("/", 1)[0] + "/"
    orgs = select(Organisation.id).where(Organisation.path.startswith(above, autoescape=True))
    stmt = (
        select(User)
        .where(User.active.is_(True), User.id != user.user_id, User.org_id.in_(orgs))
        .order_by(User.display_name, User.id)
        .execution_options(skip_scope=True)
    )
    return list(session.scalars(stmt))


def _local_time(text: str, tz: dt.tzinfo) -> str | None:
    """A datetime-local field as ISO 8601 in the city's zone; as typed when it does not parse, so
    that validation names the field."""
    if not text:
        return None
    try:
        return dt.datetime.strptime(text, LOCAL_INPUT).replace(tzinfo=tz).isoformat()
    except ValueError:
        return text


def _case_input(form: FormData, tz: dt.tzinfo) -> dict[str, Any]:
    """The form as ``PenaltyCaseIn`` takes it; a field left empty is left out, so that validation
    calls it missing rather than malformed."""
    text = {k: str(form.get(k, "")).strip() for k in ("title", "facts", "party_name", "party_address")}
    optional = {k: (str(form.get(k, "")).strip() or None) for k in ("party_id_no", "party_phone", "agency_id")}
    fields = {
        **text,
        **optional,
        "source": str(form.get("source", "")),
        "party_type": str(form.get("party_type", "")),
        "act_at": _local_time(str(form.get("act_at", "")), tz),
        "discovered_at": _local_time(str(form.get("discovered_at", "")), tz),
        "officers": [int(v) for v in form.getlist("officers") if isinstance(v, str) and v.isdigit()],
    }
    return {k: v for k, v in fields.items() if v is not None} | {
        "causes": [{"cause_code": str(form.get("cause_code", ""))}]
    }


# the pydantic error types a person can act on, in their words; anything else: "填写有误"
_PYDANTIC_MESSAGES = {
    "missing": "new.required",
    "string_too_short": "new.required",
    "string_too_long": "new.too_long",
    "string_pattern_mismatch": "new.choose",
    "int_parsing": "new.choose",
    "int_type": "new.choose",
    "datetime_parsing": "new.bad_time",
    "datetime_from_date_parsing": "new.bad_time",
    "datetime_type": "new.bad_time",
}


def _form_field(field: str) -> str:
    """The form's name for a field an error names (``causes.0.cause_code`` → ``cause_code``)."""
    return field.rsplit(".", 1)[-1] if field.startswith("causes.") else field.split(".", 1)[0]


def pydantic_errors(t: Translator, exc: ValidationError) -> dict[str, str]:
    out: dict[str, str] = {}
    for error in exc.errors():
        field = _form_field(".".join(str(p) for p in error["loc"]))
        out.setdefault(field, t(_PYDANTIC_MESSAGES.get(error["type"], "new.invalid")))
    return out


def domain_errors(t: Translator, exc: ChengguanError) -> dict[str, str]:
    found = [FieldError(exc.field or "", exc.message), *(exc.errors or [])]
    return {_form_field(e.field): localise_error(e.message, t.lang) for e in found}


def _new_page(
    request: Request, session: Session, user: Principal, values: FormData | None, errors: dict[str, str]
) -> Response:
    shown = {k: str(v) for k, v in values.items() if isinstance(v, str)} if values is not None else {}
    chosen = {int(v) for v in values.getlist("officers") if isinstance(v, str) and v.isdigit()} if values else set()
    return render(
        request, "penalty/new.html", user, status=422 if errors else 200, values=shown, chosen=chosen,
        errors=errors, **case_choices(session, Translator(language_of(request)), user),
    )  # fmt: skip


@router.get("/penalty-cases/new")
def new_case(request: Request, session: DbSession, user: PageUser) -> Response:
    needs(user, Permission.PENALTY_CREATE)
    return _new_page(request, session, user, None, {})


@router.post("/penalty-cases")
def create_case(request: Request, session: DbSession, user: PageUser, form: Form) -> Response:
    needs(user, Permission.PENALTY_CREATE)
    settings: Settings = request.app.state.settings
    t = Translator(language_of(request))
    try:
        data = PenaltyCaseIn.model_validate(_case_input(form, settings.tz))
        case = cases_service.create_penalty_case(session, calendar_service.get_calendar(session), data, user)
    except ValidationError as exc:
        raise Rendered(_new_page(request, session, user, form, pydantic_errors(t, exc))) from exc
    except ChengguanError as exc:
        raise Rendered(_new_page(request, session, user, form, domain_errors(t, exc))) from exc
    return redirect(request, PENALTY.url(case))


# -- the case page ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceRow:
    item: EvidenceItem
    standing: standing.ItemStanding


def _advice(session: Session, case: PenaltyCase) -> list[penalty.TierAdvice]:
    """Before 告知 the officer chooses a tier: every tier's recommendation. After it, the one
    recorded on the case is shown instead."""
    if case.recommendation is not None or case.status not in BEFORE_NOTICE:
        return []
    try:
        return penalty.advice_by_tier(session, case, utcnow())
    except ChengguanError:
        return []  # e.g. a per-unit fine whose quantity is not recorded yet: the form's check says so


def case_context(session: Session, t: Translator, case: PenaltyCase, user: Principal) -> dict[str, Any]:
    flow, calendar = PENALTY_FLOW.flow(session), calendar_service.get_calendar(session)
    timeline = flow_routes.timeline_out(session, PENALTY_FLOW, case)
    items = evidence_of(session, case)
    standings = standing.standing_of(session, items)
    light = clock.light_at(calendar, case, utcnow())
    causes = [legal_service.get_cause(session, c["cause_code"]) for c in case.causes]
    documents, _ = documents_service.list_documents(session, "penalty", str(case.id), limit=200)
    return {
        "case": case,
        "state": state_label(t, flow, case.status),
        "light": None if light is None else light.value,
        "nodes": timeline.nodes,
        "steps": timeline.steps,
        "state_names": {key: t.pick(s.zh, s.en) for key, s in flow.states.items()},
        "action_names": {key: t.pick(a.zh, a.en) for key, a in flow.actions.items()},
        "orgs": org_names(session, [case.agency_id, case.org_id, *(n.holder_id for n in timeline.nodes)]),
        "causes": [(cause, legal_service.provision_texts(session, cause)) for cause in causes],
        "advice": _advice(session, case),
        "documents": documents,
        "kinds": {key: t.pick(kind.title, key.replace("_", " ")) for key, kind in KINDS.items()},
        "evidence": [EvidenceRow(item, standings[item.id]) for item in items],
        "evidence_types": list(EvidenceType),
        "forms": case_pages.action_forms(session, t, PENALTY, case, user, items),
        "pending": case_pages.pending_view(session, t, PENALTY, flow, case, user),
        "upload_error": None,
    }


@router.get("/penalty-cases/{case_id}")
def case_page(request: Request, case_id: int, session: DbSession, user: PageUser) -> Response:
    needs(user, Permission.PENALTY_READ)
    t = Translator(language_of(request))
    case = _load(session, case_id, False)
    return render(request, "penalty/case.html", user, **case_context(session, t, case, user))


@router.post("/penalty-cases/{case_id}/actions/{key}")
def take_action(request: Request, case_id: int, key: str, session: DbSession, user: PageUser, form: Form) -> Response:
    needs(user, Permission.PENALTY_READ)
    case = _load(session, case_id, True)
    case_pages.take_from_form(request, session, user, form, PENALTY, case, key)
    return redirect(request, PENALTY.url(case))


@router.post("/penalty-cases/{case_id}/requests/{request_id}/{decision}")
def decide(
    request: Request, case_id: int, request_id: int, decision: str, session: DbSession, user: PageUser, form: Form
) -> Response:
    needs(user, Permission.PENALTY_READ)
    case = _load(session, case_id, True)
    case_pages.decide_from_form(request, session, user, form, PENALTY, case, request_id, decision)
    return redirect(request, PENALTY.url(case))


@router.post("/penalty-cases/{case_id}/evidence")
def upload_evidence(request: Request, case_id: int, session: DbSession, user: PageUser, form: Form) -> Response:
    """One evidence file of the case, with its kind (法46) and a description."""
    needs(user, Permission.EVIDENCE_WRITE)
    settings: Settings = request.app.state.settings
    case = _load(session, case_id, False)
    upload = form.get(FILE_FIELD)
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise Invalid("choose a file first / 请选择文件", field=FILE_FIELD)
        meta = _evidence_meta(case, form)
        limit = settings.evidence_max_mb * 2**20
        store = blob_store(settings)
        evidence_service.add_evidence(session, store, upload.file, upload.filename, meta, max_bytes=limit)
    except ChengguanError as exc:
        t = Translator(language_of(request))
        context = {**case_context(session, t, case, user), "upload_error": localise_error(exc.message, t.lang)}
        raise Rendered(render(request, "penalty/case.html", user, status=exc.status, **context)) from exc
    return redirect(request, PENALTY.url(case, "#evidence"))


def _evidence_meta(case: PenaltyCase, form: FormData) -> EvidenceIn:
    raw = {
        "subject_type": "penalty",
        "subject_id": str(case.id),
        "evidence_type": str(form.get("evidence_type", "")),
        "description": str(form.get("description", "")).strip() or None,
    }
    try:
        return EvidenceIn.model_validate({k: v for k, v in raw.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        raise Invalid(f"{first['msg']} / 请选择证据种类", field=".".join(str(p) for p in first["loc"])) from None


@router.get("/files/documents/{document_id}")
def document_file(
    request: Request, document_id: int, session: DbSession, user: PageUser, download: bool = False
) -> Response:
    """An issued document's PDF as filed: shown in the browser (preview) or saved (download)."""
    needs(user, Permission.PENALTY_READ)
    document: Document = documents_service.get_document(session, document_id)
    stream = documents_service.open_pdf(session, request.app.state.settings, document)
    return StreamingResponse(
        iter(lambda: stream.read(1 << 20), b""),
        media_type="application/pdf",
        headers={
            "Content-Disposition": content_disposition(
                f"{document.number}.pdf", f"document-{document.id}.pdf", inline=not download
            ),
            "Cache-Control": "private, max-age=3600",
        },
        background=BackgroundTask(stream.close),
    )
