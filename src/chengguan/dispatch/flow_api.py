"""The event flow over HTTP: the shared flow routes under ``/api/events``, the inbox, and the
city's version of each flow."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from chengguan.auth.deps import DbSession, require
from chengguan.auth.principal import Principal
from chengguan.auth.roles import Permission
from chengguan.cases import service as cases_service
from chengguan.cases import workflow
from chengguan.cases.flow_routes import flow_router
from chengguan.cases.penalty import PENALTY_FLOW
from chengguan.cases.schemas import EventOut
from chengguan.dispatch.flow import EVENT_FLOW
from chengguan.errors import Invalid
from chengguan.kit.paging import MAX_LIMIT, Page

router = APIRouter(tags=["workflow"])
READ = Depends(require(Permission.EVENT_READ))
WRITE_FLOW = Depends(require(Permission.FLOW_WRITE, citywide=True))
BINDINGS = {b.key: b for b in (EVENT_FLOW, PENALTY_FLOW)}

router.include_router(
    flow_router(
        "/api/events",
        EVENT_FLOW,
        lambda session, event_id, lock: cases_service.get_event(session, event_id, for_update=lock),
        Permission.EVENT_READ,
        "workflow",
    )
)


@router.get("/api/inbox", response_model=Page[EventOut])
def inbox(
    session: DbSession,
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
    principal: Principal = READ,
) -> Page[EventOut]:
    """Open events my organisation (or one below it) holds, the nearest deadline first."""
    if principal.org_path is None:
        return Page(items=[], total=0, limit=limit, offset=offset)
    rows, total = cases_service.inbox(session, principal.org_path, limit=limit, offset=offset)
    return Page(items=[EventOut.model_validate(e) for e in rows], total=total, limit=limit, offset=offset)


@router.get("/api/flows/{key}")
def get_flow(key: str, session: DbSession, _: Principal = READ) -> dict[str, Any]:
    """The flow the city runs (its own version, else the shipped one), as JSON."""
    return workflow.definition(session, _binding(key).key)


@router.put("/api/flows/{key}")
def put_flow(key: str, body: dict[str, Any], session: DbSession, _: Principal = WRITE_FLOW) -> dict[str, Any]:
    binding = _binding(key)
    workflow.store_flow(session, binding, body)
    return workflow.definition(session, binding.key)


def _binding(key: str) -> workflow.Binding:
    found = BINDINGS.get(key)
    if found is None:
        raise Invalid(f"no flow {key!r}; flows: {', '.join(BINDINGS)}", field="key")
    return found
