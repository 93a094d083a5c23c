"""`chengguan case actions|act|approve|reject|timeline`: every flow action from the command line,
taken as a named user (their roles and their organisation's scope), through the same engine."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from chengguan.audit import Actor
from chengguan.auth import scoping
from chengguan.auth import service as auth_service
from chengguan.auth.models import User
from chengguan.auth.principal import Principal
from chengguan.cases import service as cases_service
from chengguan.cases import workflow
from chengguan.cases.flow import document as flow_doc
from chengguan.cases.flow_routes import timeline_out
from chengguan.config import get_settings
from chengguan.console import cli_session, reports_errors
from chengguan.dispatch.flow_api import BINDINGS
from chengguan.errors import Invalid, NotFound

app = typer.Typer(
    help="Case workflows / 案件流程: events (event) and enforcement cases (penalty)", no_args_is_help=True
)
AS = typer.Option(..., "--as", help="the username to act as (their roles and scope apply)")


def _load(session: Session, flow: str, case_id: int, lock: bool = False) -> Any:
    if flow == "event":
        return cases_service.get_event(session, case_id, for_update=lock)
    return cases_service.get_penalty_case(session, case_id, for_update=lock)


def _binding(flow: str) -> workflow.Binding:
    found = BINDINGS.get(flow)
    if found is None:
        raise Invalid(f"no flow {flow!r}; flows: {', '.join(BINDINGS)}", field="flow")
    return found


@contextmanager
def _acting(command: str, username: str) -> Iterator[tuple[Session, Principal]]:
    """A command's transaction acting as ``username``, audited as that user on the CLI."""
    with cli_session(command) as session:
        user = session.scalars(select(User).where(User.username == username)).first()
        if user is None or not user.active:
            raise NotFound(f"no active user {username!r}", field="as")
        principal = auth_service.principal_of(session, user)
        actor = Actor(kind="user", name=f"{username} (cli)", id=user.id, org_id=user.org_id)
        scoping.bind(session, actor, principal.scope)
        yield session, principal


def _values(pairs: list[str]) -> dict[str, Any]:
    """``key=value`` pairs; a value that reads as JSON (a number, true) is taken as such."""
    values: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise Invalid(f"{pair!r} is not key=value", field="field")
        try:
            values[key] = json.loads(raw)
        except json.JSONDecodeError:
            values[key] = raw
    return values


def _echo_outcome(outcome: workflow.Outcome) -> None:
    if outcome.request is not None and not outcome.steps:
        typer.echo(f"request {outcome.request.id} ({outcome.request.action}) waits for approval")
    for step in outcome.steps:
        who = "platform" if step.automatic else step.actor_name
        typer.echo(f"{step.action}: {step.from_state} → {step.to_state} ({who})")
    typer.echo(f"state: {outcome.state}")


@app.command("flows")
def flows() -> None:
    """Every shipped flow as Markdown tables (states, limits, actions, roles, guards)."""
    typer.echo(flow_doc(), nl=False)


@app.command("actions")
@reports_errors
def actions(flow: str, case_id: int, username: str = AS) -> None:
    """The actions the user may take on the case now, with their fields."""
    binding = _binding(flow)
    with _acting("case actions", username) as (session, principal):
        case = _load(session, flow, case_id)
        for action in workflow.available(session, binding, case, principal):
            fields = ", ".join(f"{f.name}{'' if f.required else '?'}:{f.type}" for f in action.fields)
            approval = f"  (approval: {', '.join(sorted(action.approval))})" if action.needs_approval else ""
            typer.echo(f"{action.key:<22} {action.zh}  [{fields}]{approval}")


@app.command("act")
@reports_errors
def act(
    flow: str,
    case_id: int,
    action: str,
    username: str = AS,
    field: list[str] = typer.Option([], "--field", "-f", help="key=value, repeatable"),
    evidence: list[int] = typer.Option([], "--evidence", "-e", help="evidence item id, repeatable"),
    note: str = typer.Option("", help="a note on the timeline"),
) -> None:
    """Take an action (an action needing approval is filed as a request)."""
    binding = _binding(flow)
    with _acting(f"case act {flow} {case_id} {action}", username) as (session, principal):
        case = _load(session, flow, case_id, lock=True)
        outcome = workflow.take(
            session,
            binding,
            case,
            action,
            principal,
            _values(field),
            evidence_ids=evidence,
            note=note,
            settings=get_settings(),
        )
    _echo_outcome(outcome)


def _decide(flow: str, case_id: int, request_id: int, username: str, note: str, approve: bool) -> None:
    binding = _binding(flow)
    with _acting(f"case {'approve' if approve else 'reject'} {flow} {case_id}", username) as (session, principal):
        case = _load(session, flow, case_id, lock=True)
        request = cases_service.get_request(session, binding.key, case.id, request_id)
        outcome = workflow.decide(
            session, binding, case, request, principal, approve=approve, note=note, settings=get_settings()
        )
    _echo_outcome(outcome)


@app.command("approve")
@reports_errors
def approve(flow: str, case_id: int, request_id: int, username: str = AS, note: str = "") -> None:
    """Approve a pending request: its action is taken as asked."""
    _decide(flow, case_id, request_id, username, note, True)


@app.command("reject")
@reports_errors
def reject(flow: str, case_id: int, request_id: int, username: str = AS, note: str = "") -> None:
    """Reject a pending request."""
    _decide(flow, case_id, request_id, username, note, False)


@app.command("timeline")
@reports_errors
def timeline(flow: str, case_id: int, username: str = AS) -> None:
    """Every node with its holder, working hours against its limit and light; then every step."""
    binding = _binding(flow)
    with _acting("case timeline", username) as (session, _):
        out = timeline_out(session, binding, _load(session, flow, case_id))
    typer.echo(f"{out.number}  {out.state}")
    for node in out.nodes:
        limit = "-" if node.limit_hours is None else f"{node.limit_hours:.1f}h"
        typer.echo(
            f"  {node.state:<14} {node.entered_at:%Y-%m-%d %H:%M}  {node.working_hours:6.1f}h / {limit:>7}  "
            f"{node.light or '-':<6} holder {node.holder_id}"
        )
    for step in out.steps:
        typer.echo(
            f"  {step.at:%Y-%m-%d %H:%M} {step.action:<20} {step.from_state} → {step.to_state}  {step.actor_name}"
        )
