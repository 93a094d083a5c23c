"""What the pages of every kind of case share: the actions' forms, the pending approval, and taking
an action or deciding a request from a posted form. An event and an enforcement case differ only
in their ``CaseKind``: the flow binding, how a case is loaded, where its page lives, which
evidence its forms may attach and which units an action may name."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from chengguan.auth.principal import Principal
from chengguan.cases import service as cases_service
from chengguan.cases import workflow
from chengguan.cases.flow import Action, Flow
from chengguan.cases.models import CaseRequest
from chengguan.config import Settings
from chengguan.errors import ChengguanError, Invalid
from chengguan.evidence.models import EvidenceItem
from chengguan.orgs.models import Organisation
from chengguan.web import forms
from chengguan.web.i18n import Translator, language_of
from chengguan.web.pages import render
from chengguan.web.routing import Rendered


@dataclass(frozen=True)
class CaseKind:
    binding: workflow.Binding
    load: Callable[[Session, int, bool], Any]  # (session, id, for_update) → the case, or NotFound
    page: str  # the case page, with {id}
    attachable: Callable[[Session, Any], list[EvidenceItem]]  # what a form may attach
    units: Callable[[Session, Sequence[Action]], list[Organisation]]  # what an org field offers

    def url(self, case: Any, suffix: str = "") -> str:
        return self.page.format(id=case.id) + suffix


def action_forms(
    session: Session, t: Translator, kind: CaseKind, case: Any, user: Principal, photos: Sequence[EvidenceItem]
) -> list[forms.ActionForm]:
    actions = workflow.available(session, kind.binding, case, user)
    units = kind.units(session, actions)
    return [forms.action_form(t, a, kind.url(case, f"/actions/{a.key}"), photos, units) for a in actions]


@dataclass(frozen=True)
class PendingView:
    request: CaseRequest
    label: str
    values: dict[str, Any]
    may_decide: bool
    url: str  # …/requests/{id}: the form posts to /approve or /reject under it


def pending_view(
    session: Session, t: Translator, kind: CaseKind, flow: Flow, case: Any, user: Principal
) -> PendingView | None:
    request = workflow.pending_request(session, kind.binding, case)
    if request is None:
        return None
    action = flow.action(request.action)
    return PendingView(
        request,
        t.pick(action.zh, action.en),
        request.data.get("values", {}),
        bool(user.roles & action.approval),
        kind.url(case, f"/requests/{request.id}"),
    )


def take_from_form(
    request: Request, session: Session, user: Principal, form: FormData, kind: CaseKind, case: Any, key: str
) -> None:
    """Take an action; on a refusal the form comes back (422) with the errors next to their fields,
    and the unit of work rolls back: nothing is half-applied."""
    settings: Settings = request.app.state.settings
    action = kind.binding.flow(session).action(key)
    typed, chosen = forms.submitted(action, form), forms.evidence_ids(form)
    try:
        values = forms.field_values(action, typed, settings.tz)
        workflow.take(session, kind.binding, case, key, user, values, evidence_ids=chosen, settings=settings)
    except ChengguanError as exc:
        t = Translator(language_of(request))
        shown = forms.action_form(
            t, action, kind.url(case, f"/actions/{key}"), kind.attachable(session, case), kind.units(session, [action]),
            values=typed, chosen=chosen, errors=forms.errors_of(exc, t.lang),
        )  # fmt: skip
        view = str(form.get("view"))
        raise Rendered(render(request, "_action_form.html", user, status=422, form=shown, view=view)) from exc


def decide_from_form(
    request: Request,
    session: Session,
    user: Principal,
    form: FormData,
    kind: CaseKind,
    case: Any,
    request_id: int,
    decision: str,
) -> None:
    if decision not in ("approve", "reject"):
        raise Invalid("decide with approve or reject", field="decision")
    pending = cases_service.get_request(session, kind.binding.key, case.id, request_id)
    settings: Settings = request.app.state.settings
    note, approve = str(form.get("note", "")), decision == "approve"
    workflow.decide(session, kind.binding, case, pending, user, approve=approve, note=note, settings=settings)
