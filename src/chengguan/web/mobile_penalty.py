"""简易程序 on the phone: a warning or a small fine decided on the spot (法51-52). One short form
opens the case, files its photo as evidence and takes the flow's ``summary`` action, all in one
request: a refusal (a fine above 法51's threshold, 当场收缴 above 法68's 100 元, one officer
alone) rolls the whole unit of work back, so no case is left half-written, and the form comes
back with the reason next to its field. The 当场处罚决定书 the action issues is then shown and
downloaded as a PDF on the phone.

The form's case part is the desk's new-case form cut to what the street needs: the agency is the
officer's own unit, the act is happening now, the title is the cause. The penalty part is the
flow's own fields for ``summary`` (``web.forms``), so the phone and the desk cannot disagree."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from chengguan.auth.deps import DbSession
from chengguan.auth.principal import Principal
from chengguan.auth.roles import Permission
from chengguan.calendar import service as calendar_service
from chengguan.cases import service as cases_service
from chengguan.cases import workflow
from chengguan.cases.flow import Action
from chengguan.cases.models import PenaltyCase
from chengguan.cases.penalty import PENALTY_FLOW
from chengguan.cases.schemas import PenaltyCaseIn
from chengguan.config import Settings
from chengguan.db import utcnow
from chengguan.documents import service as documents_service
from chengguan.documents.kinds import KINDS
from chengguan.errors import ChengguanError
from chengguan.web import forms
from chengguan.web.desk import Form, state_label
from chengguan.web.i18n import Translator, language_of, localise_error
from chengguan.web.mobile import photo_meta, save_photo
from chengguan.web.pages import PageUser, needs, render
from chengguan.web.penalty import case_choices, domain_errors, pydantic_errors
from chengguan.web.routing import Rendered, WebRoute, redirect

router = APIRouter(route_class=WebRoute, include_in_schema=False)
ACTION = "summary"
SOURCE = "inspection"  # found by the officer on patrol (案件来源: 检查发现)
PHOTO_FIELD = "photo"
CASE_FIELDS = ("party_type", "party_name", "party_id_no", "party_address", "cause_code", "facts", "officers")
# the engine's names for what this form calls otherwise
GUARD_FIELDS = {"guards.two_officers": "officers"}


def _summary(session: Session) -> Action:
    return PENALTY_FLOW.flow(session).action(ACTION)


def _page(
    request: Request,
    session: Session,
    user: Principal,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    t = Translator(language_of(request))
    choices = case_choices(session, t, user)
    fields = [
        forms.field_view(t, spec, (), values.get(spec.name, ""), errors.get(spec.name))
        for spec in _summary(session).fields
    ]
    return render(
        request, "m/penalty_new.html", user, status=status, values=values, errors=errors, fields=fields,
        causes=choices["causes"], party_types=choices["party_types"],
        officers_options=[(str(u.id), u.display_name) for u in choices["officers"]],
    )  # fmt: skip


def _typed(session: Session, form: FormData) -> dict[str, str]:
    """What was typed, to show again with the errors (a browser cannot refill the photo)."""
    return {name: str(form.get(name, "")) for name in CASE_FIELDS} | forms.submitted(_summary(session), form)


def _case_input(form: FormData, user: Principal, causes: dict[str, str]) -> dict[str, Any]:
    """The form as ``PenaltyCaseIn`` takes it; an empty optional field is left out."""
    now = utcnow().isoformat()
    code, second = str(form.get("cause_code", "")), str(form.get("officers", ""))
    optional = {k: str(form.get(k, "")).strip() for k in ("party_id_no", "party_address")}
    return {
        "agency_id": user.org_id,
        "source": SOURCE,
        "title": causes.get(code, "当场处罚"),  # an unknown cause is refused by its own field
        "facts": str(form.get("facts", "")).strip(),
        "causes": [{"cause_code": code}],
        "party_type": str(form.get("party_type", "")),
        "party_name": str(form.get("party_name", "")).strip(),
        **{k: v for k, v in optional.items() if v},
        "act_at": now,
        "discovered_at": now,
        "officers": [int(second)] if second.isdigit() else [],
    }


def _photo_of(form: FormData) -> UploadFile | None:
    photo = form.get(PHOTO_FIELD)
    return photo if isinstance(photo, UploadFile) and photo.filename else None


def _flow_errors(exc: ChengguanError, lang: str) -> dict[str, str]:
    """The engine's refusal placed on the phone's form: a field of ``summary`` by its name, the
    attached photo on the photo, a guard on the field it concerns, anything else above the form."""
    found = forms.errors_of(exc, lang)
    out = dict(found.fields)
    if found.evidence:
        out[PHOTO_FIELD] = found.evidence
    if found.form:
        out[GUARD_FIELDS.get(exc.field or "", "")] = found.form
    return out


def decide_on_the_spot(request: Request, session: Session, user: Principal, form: FormData) -> PenaltyCase:
    """Open the case, file the photo, take ``summary``. Every refusal raises ``Rendered`` with the
    form and its errors, and the unit of work rolls back."""
    settings: Settings = request.app.state.settings
    t = Translator(language_of(request))
    typed = _typed(session, form)

    def refused(errors: dict[str, str]) -> Rendered:
        return Rendered(_page(request, session, user, typed, errors, 422))

    data, errors = None, {}
    try:
        data = PenaltyCaseIn.model_validate(_case_input(form, user, dict(case_choices(session, t, user)["causes"])))
    except ValidationError as exc:
        errors = pydantic_errors(t, exc)
    photo = _photo_of(form)
    if photo is None:
        errors[PHOTO_FIELD] = t("mobile.photo_required")
    if data is None or photo is None:
        raise refused(errors)
    agent = request.headers.get("User-Agent", "")
    try:
        case = cases_service.create_penalty_case(session, calendar_service.get_calendar(session), data, user)
    except ChengguanError as exc:
        raise refused(domain_errors(t, exc)) from exc
    try:
        item = save_photo(session, settings, photo, photo_meta("penalty", case.id, form, agent))
    except ChengguanError as exc:  # not a photo, too large
        raise refused({PHOTO_FIELD: localise_error(exc.message, t.lang)}) from exc
    action = _summary(session)
    try:
        values = forms.field_values(action, forms.submitted(action, form), settings.tz)
        workflow.take(session, PENALTY_FLOW, case, ACTION, user, values, evidence_ids=[item.id], settings=settings)
    except ChengguanError as exc:
        raise refused(_flow_errors(exc, t.lang)) from exc
    return case


@router.get("/m/penalty/new")
def new_penalty(request: Request, session: DbSession, user: PageUser) -> Response:
    needs(user, Permission.PENALTY_CREATE)
    return _page(request, session, user, {"collected": "no"}, {})


@router.post("/m/penalty")
def create_penalty(request: Request, session: DbSession, user: PageUser, form: Form) -> Response:
    needs(user, Permission.PENALTY_CREATE)
    needs(user, Permission.EVIDENCE_WRITE)
    case = decide_on_the_spot(request, session, user, form)
    return redirect(request, f"/m/penalty/{case.id}")


@router.get("/m/penalty/{case_id}")
def decided(request: Request, case_id: int, session: DbSession, user: PageUser) -> Response:
    """The case decided on the spot and its 当场处罚决定书, to show the party and to download."""
    needs(user, Permission.PENALTY_READ)
    t = Translator(language_of(request))
    case = cases_service.get_penalty_case(session, case_id)
    documents, _ = documents_service.list_documents(session, "penalty", str(case.id), limit=20)
    state = state_label(t, PENALTY_FLOW.flow(session), case.status)
    kinds = {key: t.pick(kind.title, key.replace("_", " ")) for key, kind in KINDS.items()}
    return render(request, "m/penalty_done.html", user, case=case, state=state, documents=documents, kinds=kinds)
