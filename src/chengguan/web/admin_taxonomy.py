"""Taxonomy and time limits: the 大类 with their 小类 and each 小类's 处置时限 per area class
(A/B/C); a city-level administrator renames a category, changes its limits or deactivates it,
or adds categories by importing the template file (downloaded from the same page)."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from chengguan.auth.deps import DbSession
from chengguan.auth.principal import Principal
from chengguan.auth.roles import Permission
from chengguan.errors import ChengguanError
from chengguan.geo.models import AreaClass
from chengguan.kit.downloads import content_disposition
from chengguan.kit.paging import MAX_LIMIT
from chengguan.kit.uploads import TABLE_SUFFIXES
from chengguan.taxonomy import service
from chengguan.taxonomy.models import UNIT_LABELS, Category, CategoryKind, CategoryLevel, LimitUnit
from chengguan.taxonomy.schemas import CategoryPatch
from chengguan.web.admin_forms import (
    RowError,
    admin_page,
    allowed,
    errors_of,
    may,
    parsed,
    row_errors,
    text,
    upload_of,
    values_of,
)
from chengguan.web.desk import Form
from chengguan.web.i18n import Translator, language_of
from chengguan.web.pages import PageUser
from chengguan.web.routing import Rendered, WebRoute, redirect

router = APIRouter(route_class=WebRoute, include_in_schema=False)
WRITE = Permission.TAXONOMY_WRITE


def _kinds(t: Translator) -> list[tuple[str, str]]:
    return [(k.value, t(f"admin.taxonomy.kind.{k.value}")) for k in CategoryKind]


def _list_page(
    request: Request,
    session: Session,
    user: Principal,
    kind: CategoryKind | None = None,
    q: str = "",
    *,
    problems: list[RowError] | None = None,
    status: int = 200,
) -> Response:
    t = Translator(language_of(request))
    nodes, total = service.tree(session, kind=kind, q=q.strip() or None, limit=MAX_LIMIT)
    return admin_page(
        request,
        "admin/taxonomy.html",
        user,
        status=status,
        nodes=nodes,
        total=total,
        kinds=_kinds(t),
        filters={"kind": kind.value if kind else "", "q": q},
        area_classes=list(AreaClass),
        can_edit=may(user, WRITE, citywide=True),
        saved=request.query_params.get("saved"),
        imported={k: request.query_params.get(k) for k in ("created", "updated")},
        problems=problems or [],
    )


@router.get("/admin/taxonomy")
def categories(
    request: Request, session: DbSession, user: PageUser, kind: CategoryKind | None = None, q: str = ""
) -> Response:
    allowed(user, WRITE)
    return _list_page(request, session, user, kind, q)


@router.get("/admin/taxonomy/export.csv")
def export_categories(session: DbSession, user: PageUser) -> Response:
    """Every category in the import template's columns: download, edit, import again."""
    allowed(user, WRITE)
    disposition = content_disposition("部件事件分类.csv", "taxonomy.csv")
    return Response(
        service.export_csv(session),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": disposition},
    )


@router.post("/admin/taxonomy/import")
def import_categories(request: Request, session: DbSession, user: PageUser, form: Form) -> Response:
    """The API's import (``POST /api/taxonomy/import``): new 大类/小类 and changed limits from a
    template file, all or nothing."""
    allowed(user, WRITE, citywide=True)
    try:
        data, name = upload_of(form, "file", request.app.state.settings.max_upload_mb, TABLE_SUFFIXES)
        result = service.import_file(session, data, name)
    except ChengguanError as exc:
        problems = row_errors(exc, Translator(language_of(request)))
        raise Rendered(_list_page(request, session, user, problems=problems, status=exc.status)) from exc
    return redirect(request, f"/admin/taxonomy?created={result.created}&updated={result.updated}")


def _current(category: Category) -> dict[str, str]:
    values = {"name": category.name, "name_en": category.name_en or "", "active": str(category.active).lower()}
    for limit in category.time_limits:
        values[f"time_limits.{limit.area_class}.amount"] = str(limit.amount)
        values[f"time_limits.{limit.area_class}.unit"] = limit.unit
    return values


def _edit_page(
    request: Request,
    user: Principal,
    category: Category,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> Response:
    t = Translator(language_of(request))
    return admin_page(
        request,
        "admin/category_edit.html",
        user,
        status=status,
        category=category,
        minor=category.level == CategoryLevel.MINOR,
        area_classes=list(AreaClass),
        units=[(u.value, UNIT_LABELS[u] if t.lang == "zh" else u.value.replace("_", " ")) for u in LimitUnit],
        values=values or _current(category),
        errors=errors or {},
    )


@router.get("/admin/taxonomy/{key}")
def edit_category_page(request: Request, key: str, session: DbSession, user: PageUser) -> Response:
    allowed(user, WRITE, citywide=True)
    return _edit_page(request, user, service.get_by_key(session, key))


def _patch(form: Form, minor: bool) -> dict[str, object]:
    """Name and state; a 小类's limits too (a 大类 has none: the service would refuse them)."""
    patch: dict[str, object] = {"name": text(form, "name"), "name_en": text(form, "name_en") or None}
    patch["active"] = text(form, "active") == "true"
    if minor:
        patch["time_limits"] = {
            cls.value: {
                "amount": text(form, f"time_limits.{cls}.amount"),
                "unit": text(form, f"time_limits.{cls}.unit"),
            }
            for cls in AreaClass
        }
    return patch


@router.post("/admin/taxonomy/{key}")
def edit_category(request: Request, key: str, session: DbSession, user: PageUser, form: Form) -> Response:
    allowed(user, WRITE, citywide=True)
    category = service.get_by_key(session, key)
    try:
        patch = parsed(CategoryPatch, _patch(form, category.level == CategoryLevel.MINOR))
        service.update(session, category, patch)
    except ChengguanError as exc:
        errors = errors_of(exc, language_of(request))
        raise Rendered(
            _edit_page(request, user, category, values=values_of(form), errors=errors, status=exc.status)
        ) from exc
    return redirect(request, f"/admin/taxonomy?saved={category.key}#cat-{category.key}")
