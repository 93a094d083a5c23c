"""The HTTP routes every flow has, made once for each kind of case: the actions a user may take
now, taking one, the approvals, and the timeline with node durations and lights."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from chengguan.auth.deps import DbSession, get_settings, require
from chengguan.auth.principal import Principal
from chengguan.auth.roles import Permission
from chengguan.calendar import service as calendar_service
from chengguan.cases import service as cases_service
from chengguan.cases import workflow
from chengguan.cases.flow import Action
from chengguan.cases.schemas import (
    ActionIn,
    ActionOut,
    ActionResult,
    DecisionIn,
    FieldOut,
    RequestOut,
    StepOut,
    TimelineOut,
)
from chengguan.config import Settings
from chengguan.db import utcnow
from chengguan.errors import Invalid

Loader = Callable[[Session, int, bool], Any]  # (session, id, for_update) → the case, or NotFound


def action_out(action: Action) -> ActionOut:
    fields = [
        FieldOut(
            name=f.name,
            type=f.type,
            required=f.required,
            zh=f.zh,
            choices=list(f.choices),
            minimum=f.minimum,
            maximum=f.maximum,
        )
        for f in action.fields
    ]
    return ActionOut(
        key=action.key,
        zh=action.zh,
        en=action.en,
        fields=fields,
        attachments=action.attachments,
        needs_approval=action.needs_approval,
        approval_roles=sorted(action.approval),
    )


def result_out(outcome: workflow.Outcome) -> ActionResult:
    return ActionResult(
        state=outcome.state,
        steps=[StepOut.model_validate(s) for s in outcome.steps],
        request=RequestOut.model_validate(outcome.request) if outcome.request is not None else None,
    )


def timeline_out(session: Session, binding: workflow.Binding, case: Any) -> TimelineOut:
    calendar = calendar_service.get_calendar(session)
    holder = case.holder_id if case.holder_id is not None else binding.unit(case)
    pending = workflow.pending_request(session, binding, case)
    nodes = cases_service.nodes(session, calendar, binding.key, case, case.id, holder, utcnow())
    return TimelineOut(
        number=case.number,
        state=case.status,
        nodes=nodes,
        steps=[StepOut.model_validate(s) for s in cases_service.steps(session, binding.key, case.id)],
        pending=RequestOut.model_validate(pending) if pending is not None else None,
    )


def flow_router(prefix: str, binding: workflow.Binding, load: Loader, read: Permission, tag: str) -> APIRouter:
    """``{prefix}/{id}/actions``, ``…/actions/{action}``, ``…/timeline``, ``…/requests`` and
    ``…/requests/{request_id}/approve|reject`` for the cases ``load`` finds."""
    router = APIRouter(prefix=prefix, tags=[tag])
    reader = Depends(require(read))

    @router.get("/{case_id}/actions", response_model=list[ActionOut])
    def actions(case_id: int, session: DbSession, principal: Principal = reader) -> list[ActionOut]:
        case = load(session, case_id, False)
        return [action_out(a) for a in workflow.available(session, binding, case, principal)]

    @router.post("/{case_id}/actions/{action}", response_model=ActionResult)
    def take_action(
        case_id: int,
        action: str,
        body: ActionIn,
        session: DbSession,
        settings: Settings = Depends(get_settings),
        principal: Principal = reader,
    ) -> ActionResult:
        case = load(session, case_id, True)
        outcome = workflow.take(
            session,
            binding,
            case,
            action,
            principal,
            body.fields,
            evidence_ids=body.evidence_ids,
            note=body.note,
            settings=settings,
        )
        return result_out(outcome)

    @router.get("/{case_id}/timeline", response_model=TimelineOut)
    def timeline(case_id: int, session: DbSession, _: Principal = reader) -> TimelineOut:
        return timeline_out(session, binding, load(session, case_id, False))

    @router.get("/{case_id}/requests", response_model=list[RequestOut])
    def requests(case_id: int, session: DbSession, _: Principal = reader) -> list[RequestOut]:
        case = load(session, case_id, False)
        return [RequestOut.model_validate(r) for r in cases_service.requests(session, binding.key, case.id)]

    @router.post("/{case_id}/requests/{request_id}/{decision}", response_model=ActionResult)
    def decide(
        case_id: int,
        request_id: int,
        decision: str,
        body: DecisionIn,
        session: DbSession,
        settings: Settings = Depends(get_settings),
        principal: Principal = reader,
    ) -> ActionResult:
        if decision not in ("approve", "reject"):
            raise Invalid("decide with approve or reject", field="decision")
        case = load(session, case_id, True)
        request = cases_service.get_request(session, binding.key, case.id, request_id)
        outcome = workflow.decide(
            session, binding, case, request, principal, approve=decision == "approve", note=body.note, settings=settings
        )
        return result_out(outcome)

    return router
