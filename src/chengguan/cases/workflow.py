"""The engine that runs every flow: check an action, take it, record it, run what follows.

A flow is data (``cases.flow``); what differs per kind of case is a :class:`Binding`: the row
type, the effects its actions name, and who holds a node. Taking an action checks, in order:
the state (409 naming the allowed actions), the role (403), the fields and attachments (422),
the guards (422); only then does anything change, so a refused action leaves the case as it
was. An action that needs approval becomes a :class:`CaseRequest`; approving it takes the
action. After a transition the switched-on automatic actions out of the new state run, as the
platform, as long as their guards pass (auto-立案 → auto-派遣 …). Every step is written to the
case's timeline and to the evidence log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chengguan import revisions
from chengguan.auth.principal import Principal
from chengguan.auth.roles import Role
from chengguan.calendar import service as calendar_service
from chengguan.cases import clock
from chengguan.cases.flow import CATEGORY_LIMIT, Action, Flow, Limit, State, check_fields, load_shipped, parse
from chengguan.cases.models import CaseRequest, CaseStep, FlowDefinition, RequestStatus
from chengguan.config import Settings
from chengguan.db import utcnow
from chengguan.errors import Conflict, Forbidden, Invalid
from chengguan.evidence import ledger
from chengguan.evidence.models import EvidenceItem
from chengguan.kit.workcal import WorkCalendar

TRANSITION = "case.transition"  # the evidence log's kind for a step
MAX_AUTOMATIC = 8  # automatic steps in a row; a flow that loops is stopped here
FLOWS = "flows"  # the revision counter of FlowDefinition


@dataclass
class Context:
    """One action being taken: effects read it and may set ``target`` and ``due``."""

    session: Session
    binding: Binding
    flow: Flow
    case: Any
    action: Action
    values: dict[str, Any]
    principal: Principal | None  # None: the platform itself
    calendar: WorkCalendar
    now: dt.datetime
    note: str = ""
    settings: Settings | None = None  # for effects that store files (documents)
    target: str | None = None  # set by an effect of an action with several targets
    due: dt.datetime | None = None  # set by an effect that fixes the new node's deadline
    data: dict[str, Any] = field(default_factory=dict)  # what the effect wants on the timeline


Effect = Callable[[Context], None]
Guard = Callable[[Context], str | None]  # None: passes; else the reason it does not


@dataclass(frozen=True)
class Binding:
    """A flow's runtime: ``centre`` names the organisation holding a "centre" node of a case,
    ``category_limit`` the limit of a "category" node; ``unit`` the unit holding a "unit" node."""

    key: str
    effects: Mapping[str, Effect]
    guards: Mapping[str, Guard]
    centre: Callable[[Session, Any], int | None]
    unit: Callable[[Any], int | None]
    category_limit: Callable[[Session, Any], Limit | None]

    def flow(self, session: Session) -> Flow:
        return current_flow(session, self)


@dataclass(frozen=True)
class Outcome:
    state: str
    steps: tuple[CaseStep, ...]
    request: CaseRequest | None = None


# -- flows --------------------------------------------------------------------------------------

_flows: dict[tuple[str, str, str], Flow] = {}


def definition(session: Session, key: str) -> dict[str, Any]:
    """The flow a city runs: its own stored version, else the shipped one."""
    row = session.get(FlowDefinition, key)
    return dict(row.definition) if row is not None else load_shipped(key)


def current_flow(session: Session, binding: Binding) -> Flow:
    """Parsed once per process and revision of the stored flows."""
    (token,) = revisions.tokens(session, FLOWS)
    cache_key = (str(session.get_bind().engine.url), binding.key, token)
    flow = _flows.get(cache_key)
    if flow is None:
        flow = parse(definition(session, binding.key), list(binding.effects), list(binding.guards))
        _flows[cache_key] = flow
    return flow


def store_flow(session: Session, binding: Binding, document: Mapping[str, Any]) -> Flow:
    """Replace the city's version of a flow after checking it, keeping its key and states:
    cases already in a state must still find it."""
    flow = parse(document, list(binding.effects), list(binding.guards))
    shipped = parse(load_shipped(binding.key))
    if flow.key != binding.key:
        raise Invalid(f"this is the {binding.key} flow; its key cannot change", field="key")
    missing = set(shipped.states) - set(flow.states)
    if missing:
        raise Invalid(f"states cannot be removed (cases may be in them): {', '.join(sorted(missing))}", field="states")
    row = session.get(FlowDefinition, binding.key)
    if row is None:
        session.add(FlowDefinition(key=binding.key, definition=dict(document)))
    else:
        row.definition = dict(document)
    session.flush()
    return flow


# -- checks ---------------------------------------------------------------------------------------


def may_take(principal: Principal | None, action: Action) -> bool:
    return principal is None or bool(principal.roles & action.roles)


def available(session: Session, binding: Binding, case: Any, principal: Principal) -> list[Action]:
    """The actions ``principal`` may take on ``case`` now (state and role; guards are checked
    when taken, since some depend on the fields given)."""
    flow = binding.flow(session)
    return [a for a in flow.from_state(case.status) if may_take(principal, a)]


def _check_state(flow: Flow, case: Any, action: Action, principal: Principal | None) -> None:
    if case.status in action.sources:
        return
    state = flow.states.get(case.status)
    name = f"{state.zh} ({case.status})" if state else case.status
    allowed = [a.key for a in flow.from_state(case.status) if may_take(principal, a)]
    raise Conflict(
        f"{case.number} is {name}: {action.key} ({action.zh}) is not allowed there; "
        f"allowed: {', '.join(allowed) or 'none'} / 当前状态不允许此操作",
        field="action",
        state=case.status,
        allowed=allowed,
    )


def _check_role(action: Action, principal: Principal | None, roles: frozenset[Role] | None = None) -> None:
    needed = roles if roles is not None else action.roles
    if principal is not None and not principal.roles & needed:
        names = ", ".join(sorted(needed))
        raise Forbidden(f"{action.key} ({action.zh}) needs one of the roles {names} / 无此操作权限", field="action")


def _check_attachments(ctx: Context, evidence_ids: list[int]) -> None:
    need = ctx.action.attachments
    if not need and not evidence_ids:
        return
    if len(set(evidence_ids)) < need:
        raise Invalid(
            f"{ctx.action.zh} needs at least {need} attached evidence item(s) / 请上传照片或材料", field="evidence_ids"
        )
    found = ctx.session.scalar(
        select(func.count())
        .select_from(EvidenceItem)
        .where(
            EvidenceItem.id.in_(set(evidence_ids)),
            EvidenceItem.subject_type == ctx.binding.key,
            EvidenceItem.subject_id == str(ctx.case.id),
        )
    )
    if found != len(set(evidence_ids)):
        raise Invalid(f"every evidence item must be one of {ctx.case.number}'s", field="evidence_ids")
    ctx.data["evidence_ids"] = sorted(set(evidence_ids))


def _check_guards(ctx: Context) -> None:
    for name in ctx.action.guards:
        reason = ctx.binding.guards[name](ctx)
        if reason is not None:
            raise Invalid(f"{ctx.action.zh}: {reason}", field=f"guards.{name}")


# -- taking actions -------------------------------------------------------------------------------


def take(
    session: Session,
    binding: Binding,
    case: Any,
    action_key: str,
    principal: Principal | None,
    values: Mapping[str, Any] | None = None,
    *,
    evidence_ids: list[int] | None = None,
    note: str = "",
    now: dt.datetime | None = None,
    settings: Settings | None = None,
) -> Outcome:
    """Take ``action_key`` on ``case`` as ``principal`` (None: the platform), in the caller's
    transaction. An action needing approval is recorded as a request instead."""
    flow = binding.flow(session)
    action = flow.action(action_key)
    _check_state(flow, case, action, principal)
    _check_role(action, principal)
    ctx = _context(session, binding, flow, case, action, values or {}, principal, now, note)
    ctx.settings = settings
    _check_attachments(ctx, evidence_ids or [])
    _check_guards(ctx)
    if action.needs_approval and principal is not None:
        return Outcome(case.status, (), _request(ctx))
    return _apply_and_follow(ctx)


def _context(
    session: Session,
    binding: Binding,
    flow: Flow,
    case: Any,
    action: Action,
    values: Mapping[str, Any],
    principal: Principal | None,
    now: dt.datetime | None,
    note: str,
) -> Context:
    return Context(
        session=session,
        binding=binding,
        flow=flow,
        case=case,
        action=action,
        values=check_fields(action, values),
        principal=principal,
        calendar=calendar_service.get_calendar(session),
        now=now or utcnow(),
        note=note.strip(),
    )


def _apply_and_follow(ctx: Context) -> Outcome:
    steps = [_apply(ctx)]
    if not ctx.action.no_auto:
        steps += _follow(ctx)
    return Outcome(ctx.case.status, tuple(steps))


def _follow(ctx: Context) -> list[CaseStep]:
    """The automatic actions out of each new state, while one of them passes its guards."""
    steps: list[CaseStep] = []
    for _ in range(MAX_AUTOMATIC):
        for action in ctx.flow.automatic(ctx.case.status):
            auto = Context(ctx.session, ctx.binding, ctx.flow, ctx.case, action, {}, None, ctx.calendar, ctx.now)
            auto.settings = ctx.settings
            if all(ctx.binding.guards[g](auto) is None for g in action.guards):
                steps.append(_apply(auto))
                break
        else:
            return steps
    return steps


def _apply(ctx: Context) -> CaseStep:
    """Leave the node (an action with targets always moves on), run the effect, enter the next."""
    case, action, before = ctx.case, ctx.action, ctx.case.status
    if action.targets:
        clock.leave(
            ctx.session,
            ctx.calendar,
            case,
            subject=ctx.binding.key,
            subject_id=case.id,
            org_id=case.org_id,
            holder_id=case.holder_id or _holder(ctx, ctx.flow.state(before)),
            action=action.key,
            at=ctx.now,
        )
    if action.effect is not None:
        ctx.binding.effects[action.effect](ctx)
    if action.targets:
        target = ctx.target or action.targets[0]
        if target not in action.targets:
            raise RuntimeError(f"the effect of {action.key} chose {target!r}, not one of {action.targets}")
        state = ctx.flow.state(target)
        clock.enter(
            ctx.calendar,
            case,
            state,
            holder_id=_holder(ctx, state),
            limit=_limit(ctx, state),
            due=ctx.due,
            at=ctx.now,
        )
    elif ctx.due is not None:
        clock.set_due(ctx.calendar, case, ctx.due, ctx.now)
    return _step(ctx, before, case.status)


def _holder(ctx: Context, state: State) -> int | None:
    if state.holder == "unit":
        return ctx.binding.unit(ctx.case)
    if state.holder == "centre":
        return ctx.binding.centre(ctx.session, ctx.case)
    return None


def _limit(ctx: Context, state: State) -> Limit | None:
    if state.limit == CATEGORY_LIMIT:
        return ctx.binding.category_limit(ctx.session, ctx.case)
    return state.limit if isinstance(state.limit, Limit) else None


def _step(ctx: Context, before: str, after: str) -> CaseStep:
    principal = ctx.principal
    row = {
        "subject": ctx.binding.key,
        "subject_id": ctx.case.id,
        "org_id": ctx.case.org_id,
        "action": ctx.action.key,
        "from_state": before,
        "to_state": after,
        "actor_id": principal.user_id if principal else None,
        "actor_name": principal.username if principal else "platform",
        "automatic": principal is None,
        "note": ctx.note,
        "data": {**ctx.values, **ctx.data},
        "at": ctx.now,
    }
    step = CaseStep(**row)
    ctx.session.add(step)
    entry = transition_entry(ctx.binding.key, ctx.case.number, row, ctx.now)
    ledger.append(
        ctx.session, TRANSITION, entry, subject=f"{ctx.binding.key}:{ctx.case.number}", org_id=ctx.case.org_id
    )
    return step


def transition_entry(flow: str, number: str, step: Mapping[str, Any], at: dt.datetime) -> dict[str, Any]:
    """What the evidence log keeps of a step (the columns of its ``CaseStep`` row)."""
    return {
        "flow": flow,
        "case": number,
        "action": step["action"],
        "from": step["from_state"],
        "to": step["to_state"],
        "actor": step["actor_name"],
        "at": at.astimezone(dt.UTC).isoformat(),
        "data": step["data"],
    }


# -- approvals -------------------------------------------------------------------------------------


def pending_request(session: Session, binding: Binding, case: Any) -> CaseRequest | None:
    return session.scalars(
        select(CaseRequest).where(
            CaseRequest.subject == binding.key,
            CaseRequest.subject_id == case.id,
            CaseRequest.status == RequestStatus.PENDING,
        )
    ).first()


def _request(ctx: Context) -> CaseRequest:
    if pending_request(ctx.session, ctx.binding, ctx.case) is not None:
        raise Conflict(f"{ctx.case.number} already has a request waiting for approval / 已有待审批申请", field="action")
    assert ctx.principal is not None
    request = CaseRequest(
        subject=ctx.binding.key,
        subject_id=ctx.case.id,
        org_id=ctx.case.org_id,
        action=ctx.action.key,
        state=ctx.case.status,
        data={"values": ctx.values, "note": ctx.note, **ctx.data},
        requested_by=ctx.principal.user_id,
        requested_at=ctx.now,
    )
    ctx.session.add(request)
    ctx.session.flush()
    return request


def decide(
    session: Session,
    binding: Binding,
    case: Any,
    request: CaseRequest,
    principal: Principal,
    *,
    approve: bool,
    note: str = "",
    now: dt.datetime | None = None,
    settings: Settings | None = None,
) -> Outcome:
    """Approve (take the requested action as asked) or reject a pending request."""
    if request.status != RequestStatus.PENDING:
        raise Conflict(f"request {request.id} is already {request.status}", field="request")
    flow = binding.flow(session)
    action = flow.action(request.action)
    _check_role(action, principal, action.approval)
    request.status = RequestStatus.APPROVED if approve else RequestStatus.REJECTED
    request.decided_by, request.decided_at, request.decision_note = principal.user_id, now or utcnow(), note or None
    if not approve:
        return Outcome(case.status, (), request)
    if case.status != request.state:
        raise Conflict(
            f"{case.number} moved to {case.status} since the request; it no longer applies / 案件状态已变化",
            field="request",
        )
    stored = request.data
    ctx = _context(
        session, binding, flow, case, action, stored.get("values", {}), principal, now, stored.get("note", "")
    )
    ctx.settings = settings
    ctx.data.update({k: v for k, v in stored.items() if k not in ("values", "note")})
    ctx.data["requested_by"] = request.requested_by
    # the guards were checked when it was asked, and the state has not moved since
    outcome = _apply_and_follow(ctx)
    return Outcome(outcome.state, outcome.steps, request)
