"""The event flow's runtime (``cases/flows/event.json``): its effects, guards and holders.

It lives with dispatch because 派遣 is one of its effects: the engine in ``cases.workflow`` is
shared with the enforcement case, which knows nothing of responsibility lists.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from chengguan import outbox
from chengguan.cases import clock
from chengguan.cases.flow import Limit
from chengguan.cases.models import Event
from chengguan.cases.workflow import Binding, Context, Effect, Guard
from chengguan.dispatch import assign
from chengguan.dispatch.planning import DEFAULT_AREA_CLASS
from chengguan.dispatch.resolver import rulebook
from chengguan.kit.workcal import Unit
from chengguan.orgs.models import Organisation

CLOSED = "event.closed"  # the outbox topic: reporters are told by the intake domain's sender

# -- effects -------------------------------------------------------------------------------------


def _dispatch(ctx: Context) -> None:
    """By the responsibility list: to the owner with its 处置时限, or to 会商."""
    actor = ctx.principal.user_id if ctx.principal else None
    assign.auto_dispatch(ctx.session, ctx.case, actor_id=actor, at=ctx.now)
    ctx.target = ctx.case.status
    ctx.due = ctx.case.deadline_at
    ctx.data["unit_id"] = ctx.case.unit_id
    ctx.data["reason"] = ctx.case.dispatch_reason


def _assign(ctx: Context) -> None:
    """To the unit the dispatcher names, the list's choice and the reason kept."""
    actor = ctx.principal.user_id if ctx.principal else None
    assign.assign(ctx.session, ctx.case, ctx.values["unit_id"], ctx.values["reason"], actor_id=actor, at=ctx.now)
    ctx.due = ctx.case.deadline_at


def _rework(ctx: Context) -> None:
    """返工: back to the same unit with a fresh 处置时限."""
    ctx.case.rework_count += 1


def _release(ctx: Context) -> None:
    """回退: the unit hands the event back to the centre."""
    ctx.data["released_unit_id"] = ctx.case.unit_id
    ctx.case.unit_id = None


def _extend(ctx: Context) -> None:
    case: Event = ctx.case
    start = case.deadline_at or ctx.now
    ctx.due = ctx.calendar.deadline(start, ctx.values["amount"], ctx.values["unit"])
    ctx.data["old_deadline_at"] = None if case.deadline_at is None else case.deadline_at.isoformat()
    ctx.data["new_deadline_at"] = ctx.due.isoformat()


def _pause(ctx: Context) -> None:
    """挂账 stops the clock; what was left of the node's working time waits for the resumption."""
    case: Event = ctx.case
    case.paused_from, case.paused_left_s = case.status, clock.working_left(ctx.calendar, case, ctx.now)


def _unpause(ctx: Context) -> None:
    case: Event = ctx.case
    left = case.paused_left_s
    ctx.due = None if left is None else clock.due_after(ctx.calendar, ctx.now, left)
    case.paused_from, case.paused_left_s = None, None


def _supervise(ctx: Context) -> None:
    ctx.case.supervision_count += 1


def _close(ctx: Context) -> None:
    """结案: the event is done; everyone who reported it is told (the outbox, after commit)."""
    event: Event = ctx.case
    event.closed_at = ctx.now
    payload = {"event_id": event.id, "number": event.number, "result": ctx.values.get("result", "")}
    outbox.add(ctx.session, [{"topic": CLOSED, "org_id": event.org_id, "payload": payload}])


EFFECTS: dict[str, Effect] = {
    "dispatch": _dispatch,
    "assign": _assign,
    "rework": _rework,
    "release": _release,
    "extend": _extend,
    "pause": _pause,
    "unpause": _unpause,
    "supervise": _supervise,
    "close": _close,
}


# -- guards ---------------------------------------------------------------------------------------


def _categorised(ctx: Context) -> str | None:
    return None if ctx.case.category_key else "the event has no 小类 yet / 尚未分类"


def _placed(ctx: Context) -> str | None:
    return None if ctx.case.cell_id is not None else "the event is not placed in a unit grid cell / 未定位到单元网格"


def _held_by_me(ctx: Context) -> str | None:
    """The acting user belongs to the unit holding the node (or to an organisation above it)."""
    principal, holder_id = ctx.principal, ctx.case.holder_id or ctx.case.unit_id
    if principal is None or holder_id is None:
        return None
    if principal.org_id is not None and _within(ctx.session, holder_id, principal.org_id):
        return None
    return "only the unit holding the event may do this / 仅承办单位可操作"


def _within(session: Session, org_id: int, ancestor_id: int) -> bool:
    """Whether ``org_id`` is ``ancestor_id`` or below it: up the rule book's copy of the tree (no
    query per transition); past a unit deactivated since, by the organisations' paths."""
    orgs = rulebook(session).orgs
    current: int | None = org_id
    while current is not None:
        if current == ancestor_id:
            return True
        if current not in orgs:
            org, above = (
                session.get(Organisation, i, execution_options={"skip_scope": True}) for i in (current, ancestor_id)
            )
            return org is not None and above is not None and org.path.startswith(above.path)
        current = orgs[current].parent_id
    return False


GUARDS: dict[str, Guard] = {"categorised": _categorised, "placed": _placed, "held_by_me": _held_by_me}


# -- holders and limits -----------------------------------------------------------------------------


def _centre(session: Session, event: Event) -> int | None:
    """The command centre of the event's district (or the city's); else the area itself. The
    chain up the tree is read from the rule book's copy of the organisations (no query per
    node change)."""
    book = rulebook(session)
    chain: list[int] = []
    org_id: int | None = event.org_id
    while org_id is not None and org_id in book.orgs:
        chain.append(org_id)
        org_id = book.orgs[org_id].parent_id
    centre = book.consultation_centre(chain)
    return centre.id if centre is not None else event.district_id or event.org_id


def _category_limit(session: Session, event: Event) -> Limit | None:
    if not event.category_key:
        return None
    found = rulebook(session).time_limit(event.category_key, event.area_class or DEFAULT_AREA_CLASS)
    return None if found is None else Limit(float(found[0]), Unit(found[1]))


EVENT_FLOW = Binding(
    key="event",
    effects=EFFECTS,
    guards=GUARDS,
    centre=_centre,
    unit=lambda event: event.unit_id,
    category_limit=_category_limit,
)


def dispatches_on_arrival(session: Session) -> bool:
    """Whether a new event goes straight to its unit: the city's event flow files (立案) and
    dispatches (派遣) automatically. The intake paths write such events in bulk already
    dispatched rather than stepping each through the engine."""
    switches = EVENT_FLOW.flow(session).switches
    return bool(switches.get("auto_register") and switches.get("auto_dispatch"))
