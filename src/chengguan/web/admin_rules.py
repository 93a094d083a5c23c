"""The responsibility list (权责清单): its rules filtered by category, area, basis and state, and
the list file's import (the dispatch importer: all or nothing, each bad line named)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from chengguan.auth.deps import DbSession
from chengguan.auth.principal import Principal
from chengguan.auth.roles import Permission
from chengguan.dispatch import service
from chengguan.dispatch.models import BASIS_LABELS, Basis
from chengguan.errors import ChengguanError
from chengguan.kit.paging import MAX_LIMIT
from chengguan.kit.uploads import TABLE_SUFFIXES
from chengguan.orgs import service as orgs_service
from chengguan.orgs.models import AREA_KINDS
from chengguan.web.admin_forms import RowError, admin_page, allowed, row_errors, upload_of
from chengguan.web.desk import Form
from chengguan.web.i18n import Translator, language_of
from chengguan.web.pages import PageUser
from chengguan.web.routing import Rendered, WebRoute, redirect

router = APIRouter(route_class=WebRoute, include_in_schema=False)
WRITE = Permission.RESPONSIBILITY_WRITE
PAGE = 100


def _list_page(
    request: Request,
    session: Session,
    user: Principal,
    filters: dict[str, str],
    offset: int = 0,
    *,
    problems: list[RowError] | None = None,
    status: int = 200,
) -> Response:
    t = Translator(language_of(request))
    active = {"true": True, "false": False}.get(filters.get("active", ""))
    rules, total = service.list_rules(
        session,
        org_id=int(filters["org_id"]) if filters.get("org_id", "").isdigit() else None,
        category=filters.get("category") or None,
        basis=Basis(filters["basis"]) if filters.get("basis") in set(Basis) else None,
        active=active,
        limit=PAGE,
        offset=offset,
    )
    categories, orgs = service.labels(session, rules)
    areas, _ = orgs_service.list_orgs(session, limit=MAX_LIMIT)
    return admin_page(
        request,
        "admin/rules.html",
        user,
        status=status,
        rules=rules,
        categories=categories,
        orgs=orgs,
        total=total,
        offset=offset,
        page_size=PAGE,
        filters=filters,
        query=urlencode({k: v for k, v in filters.items() if v}),
        areas=[(o.id, f"{'—' * o.depth} {o.name}") for o in areas if o.kind in AREA_KINDS],
        bases=[(b.value, BASIS_LABELS[b] if t.lang == "zh" else b.value) for b in Basis],
        states=[("true", t("admin.active")), ("false", t("admin.inactive"))],
        basis_names={b.value: BASIS_LABELS[b] if t.lang == "zh" else b.value for b in Basis},
        imported={k: request.query_params.get(k) for k in ("created", "updated")},
        problems=problems or [],
    )


@router.get("/admin/rules")
def rules(
    request: Request,
    session: DbSession,
    user: PageUser,
    category: str = Query("", max_length=8),
    org_id: str = "",
    basis: str = "",
    active: str = "",
    offset: int = Query(0, ge=0),
) -> Response:
    allowed(user, WRITE)
    filters = {"category": category.strip(), "org_id": org_id, "basis": basis, "active": active}
    return _list_page(request, session, user, filters, offset)


@router.post("/admin/rules/import")
def import_rules(request: Request, session: DbSession, user: PageUser, form: Form) -> Response:
    """The API's import (``POST /api/responsibility/import``): same reader, same service."""
    allowed(user, WRITE)
    try:
        data, name = upload_of(form, "file", request.app.state.settings.max_upload_mb, TABLE_SUFFIXES)
        result = service.import_file(session, data, name)
    except ChengguanError as exc:
        problems = row_errors(exc, Translator(language_of(request)))
        raise Rendered(_list_page(request, session, user, {}, problems=problems, status=exc.status)) from exc
    return redirect(request, f"/admin/rules?created={result.created}&updated={result.updated}")
