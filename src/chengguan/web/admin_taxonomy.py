"""Taxonomy and time limits: the 大类 with their 小类 and each 小类's 处置时限 per area class
(A/B/C); a city-level administrator renames a category, changes its limits or deactivates it."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Request
from starlette.responses import Response

from chengguan.auth.deps import DbSession
from chengguan.auth.principal import Principal
from chengguan.auth.roles import Permission
from chengguan.errors import ChengguanError
from chengguan.geo.models import AreaClass
from chengguan.kit.paging import MAX_LIMIT
from chengguan.taxonomy import service
from chengguan.taxonomy.models import UNIT_LABELS, Category, CategoryKind, CategoryLevel, LimitUnit
from chengguan.taxonomy.schemas import CategoryPatch
from chengguan.web.admin_forms import admin_page, allowed, errors_of, may, parsed, text, values_of
from chengguan.web.desk import Form
from chengguan.web.i18n import Translator, language_of
from chengguan.web.pages import PageUser
from chengguan.web.routing import Rendered, WebRoute, redirect

router = APIRouter(route_class=WebRoute, include_in_schema=False)
WRITE = Permission.TAXONOMY_WRITE


def _kinds(t: Translator) -> list[tuple[str, str]]:
    return [(k.value, t(f"admin.taxonomy.kind.{k.value}")) for k in CategoryKind]


@router.get("/admin/taxonomy")
def categories(
    request: Request, session: DbSession, user: PageUser, kind: CategoryKind | None = None, q: str = ""
) -> Response:
    allowed(user, WRITE)
    t = Translator(language_of(request))
    nodes, total = service.tree(session, kind=kind, q=q.strip() or None, limit=MAX_LIMIT)
    return admin_page(
        request,
        "admin/taxonomy.html",
        user,
        nodes=nodes,
        total=total,
        kinds=_kinds(t),
        filters={"kind": kind.value if kind else "", "q": q},
        area_classes=list(AreaClass),
        can_edit=may(user, WRITE, citywide=True),
        saved=request.query_params.get("saved"),
    )


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
