"""Organisations: the tree as the user's scope shows it, add a unit, edit it, deactivate it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from chengguan.auth.deps import DbSession
from chengguan.auth.principal import Principal
from chengguan.auth.roles import Permission
from chengguan.errors import ChengguanError
from chengguan.kit.paging import MAX_LIMIT
from chengguan.orgs import service
from chengguan.orgs.models import Organisation, OrgKind
from chengguan.orgs.schemas import OrgIn, OrgPatch
from chengguan.web.admin_forms import admin_page, allowed, errors_of, optional, parsed, text, values_of
from chengguan.web.desk import Form
from chengguan.web.i18n import Translator, language_of
from chengguan.web.pages import PageUser
from chengguan.web.routing import Rendered, WebRoute, redirect

router = APIRouter(route_class=WebRoute, include_in_schema=False)
WRITE = Permission.ORGS_WRITE
NEW_KINDS = [k for k in OrgKind if k != OrgKind.CITY]  # the root is made by the platform (CLI)


def writable(user: Principal, org: Organisation) -> bool:
    """Inside the user's subtree (the chain above it is visible but not theirs to change)."""
    return user.org_path is not None and org.path.startswith(user.org_path)


def _tree_page(
    request: Request,
    session: Session,
    user: Principal,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> Response:
    t = Translator(language_of(request))
    orgs, total = service.list_orgs(session, limit=MAX_LIMIT)
    mine = [o for o in orgs if writable(user, o)]
    return admin_page(
        request,
        "admin/orgs.html",
        user,
        status=status,
        orgs=orgs,
        total=total,
        editable={o.id for o in mine},
        parents=[(o.id, f"{'—' * o.depth} {o.name}") for o in mine],
        kinds=[(k.value, t(f"admin.kind.{k.value}")) for k in NEW_KINDS],
        values=values or {},
        errors=errors or {},
        saved=request.query_params.get("saved"),
    )


@router.get("/admin/orgs")
def org_tree(request: Request, session: DbSession, user: PageUser) -> Response:
    allowed(user, WRITE)
    return _tree_page(request, session, user)


@router.post("/admin/orgs")
def create_org(request: Request, session: DbSession, user: PageUser, form: Form) -> Response:
    allowed(user, WRITE)
    try:
        data = parsed(
            OrgIn,
            {
                "code": text(form, "code"),
                "name": text(form, "name"),
                "name_en": optional(form, "name_en"),
                "kind": text(form, "kind"),
                "function": optional(form, "function"),
                "parent_id": optional(form, "parent_id"),
                "phone": optional(form, "phone"),
            },
        )
        org = service.create(session, data)
    except ChengguanError as exc:
        errors = errors_of(exc, language_of(request))
        raise Rendered(
            _tree_page(request, session, user, values=values_of(form), errors=errors, status=exc.status)
        ) from exc
    return redirect(request, f"/admin/orgs?saved={org.code}#org-{org.id}")


def _edit_page(
    request: Request,
    session: Session,
    user: Principal,
    org: Organisation,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> Response:
    shown = values or {
        "name": org.name,
        "name_en": org.name_en or "",
        "function": org.function or "",
        "phone": org.phone or "",
    }
    chain: Sequence[Organisation] = service.ancestors(session, org)
    return admin_page(
        request,
        "admin/org_edit.html",
        user,
        status=status,
        org=org,
        chain=chain,
        can_edit=writable(user, org),
        values=shown,
        errors=errors or {},
    )


@router.get("/admin/orgs/{org_id}")
def edit_org_page(request: Request, org_id: int, session: DbSession, user: PageUser) -> Response:
    allowed(user, WRITE)
    return _edit_page(request, session, user, service.get(session, org_id))


def _patched(
    request: Request, session: Session, user: Principal, org: Organisation, form: Form, patch: dict[str, object]
) -> Response:
    """Apply ``patch`` through the service; on a refusal the edit page again with its errors."""
    try:
        service.update_org(session, org, parsed(OrgPatch, patch))
    except ChengguanError as exc:
        errors = errors_of(exc, language_of(request))
        values = values_of(form) if "name" in form else None
        raise Rendered(
            _edit_page(request, session, user, org, values=values, errors=errors, status=exc.status)
        ) from exc
    return redirect(request, f"/admin/orgs?saved={org.code}#org-{org.id}")


@router.post("/admin/orgs/{org_id}")
def edit_org(request: Request, org_id: int, session: DbSession, user: PageUser, form: Form) -> Response:
    allowed(user, WRITE)
    org = service.get(session, org_id)
    patch: dict[str, object] = {
        "name": text(form, "name"),
        "name_en": optional(form, "name_en"),
        "function": optional(form, "function"),
        "phone": optional(form, "phone"),
    }
    return _patched(request, session, user, org, form, patch)


@router.post("/admin/orgs/{org_id}/active")
def set_org_active(request: Request, org_id: int, session: DbSession, user: PageUser, form: Form) -> Response:
    """停用 keeps the unit and its history (a deleted one would orphan its cases); 启用 undoes it."""
    allowed(user, WRITE)
    org = service.get(session, org_id)
    return _patched(request, session, user, org, form, {"active": text(form, "active") == "true"})
