"""/api/taxonomy: the 部件/事件 categories, their conditions and time limits; template import/export."""

from __future__ import annotations

import enum

from fastapi import APIRouter, Body, Depends, File, Query, Response, UploadFile
from pydantic import BaseModel

from chengguan.auth.deps import DbSession, get_settings, require
from chengguan.auth.principal import Principal
from chengguan.auth.roles import Permission
from chengguan.config import Settings
from chengguan.geo.models import AreaClass
from chengguan.kit.paging import MAX_LIMIT, Page
from chengguan.kit.uploads import read_upload
from chengguan.taxonomy import service
from chengguan.taxonomy.models import Category, CategoryKind, CategoryLevel, LimitUnit
from chengguan.taxonomy.schemas import (
    AttributeIn,
    AttributeOut,
    CategoryDetail,
    CategoryIn,
    CategoryOut,
    CategoryPatch,
    FilingConditionOut,
    ImportResult,
    TimeLimitOut,
)

router = APIRouter(prefix="/api/taxonomy", tags=["taxonomy"])
READ = Depends(require(Permission.REFERENCE_READ))
WRITE = Depends(require(Permission.TAXONOMY_WRITE))


class View(enum.StrEnum):
    FLAT = "flat"
    TREE = "tree"


class DeleteOut(BaseModel):
    key: str
    outcome: str  # "deleted" | "deactivated"


def category_out(category: Category, children: list[Category] | None = None) -> CategoryOut:
    return CategoryOut(
        key=category.key,
        kind=CategoryKind(category.kind),
        level=CategoryLevel(category.level),
        code=category.code,
        name=category.name,
        name_en=category.name_en,
        keywords=category.keyword_list,
        description=category.description,
        owner_function=category.owner_function,
        parent_key=category.parent.key if category.parent else None,
        active=category.active,
        sort_order=category.sort_order,
        children=None if children is None else [category_out(c) for c in children],
    )


def category_detail(category: Category) -> CategoryDetail:
    return CategoryDetail(
        **category_out(category).model_dump(exclude={"children"}),
        note=category.note,
        filing_conditions=[FilingConditionOut(code=c.code, text=c.text) for c in category.filing_conditions],
        closing_condition=category.closing_condition,
        time_limits={
            AreaClass(t.area_class): TimeLimitOut(amount=t.amount, unit=LimitUnit(t.unit), label=t.label)
            for t in category.time_limits
        },
        cause_codes=category.cause_codes,
        attributes=[AttributeOut.model_validate(a, from_attributes=True) for a in category.attributes],
    )


@router.get("/categories", response_model=Page[CategoryOut])
def list_categories(
    session: DbSession,
    kind: CategoryKind | None = None,
    level: CategoryLevel | None = Query(None, description="flat view only"),
    q: str | None = Query(None, max_length=60, description="name, English name, keyword, code or key"),
    active: bool | None = None,
    view: View = Query(View.FLAT, description="tree: 大类 with their 小类 as children, paged by 大类"),
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
    _: Principal = READ,
) -> Page[CategoryOut]:
    if view is View.TREE:
        nodes, total = service.tree(session, kind=kind, q=q, active=active, limit=limit, offset=offset)
        items = [category_out(major, children) for major, children in nodes]
    else:
        rows, total = service.list_categories(
            session, kind=kind, level=level, q=q, active=active, limit=limit, offset=offset
        )
        items = [category_out(c) for c in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


@router.get("/categories/{key}", response_model=CategoryDetail)
def get_category(key: str, session: DbSession, _: Principal = READ) -> CategoryDetail:
    return category_detail(service.get_by_key(session, key))


@router.post("/categories", response_model=CategoryDetail, status_code=201)
def create_category(body: CategoryIn, session: DbSession, _: Principal = WRITE) -> CategoryDetail:
    return category_detail(service.create(session, body))


@router.patch("/categories/{key}", response_model=CategoryDetail)
def patch_category(key: str, body: CategoryPatch, session: DbSession, _: Principal = WRITE) -> CategoryDetail:
    return category_detail(service.update(session, service.get_by_key(session, key), body))


@router.put("/categories/{key}/form", response_model=CategoryDetail, summary="Replace a 小类's report form")
def put_form(
    key: str, session: DbSession, body: list[AttributeIn] = Body(max_length=30), _: Principal = WRITE
) -> CategoryDetail:
    """The questions a reporter answers beyond the description, asked in the order given
    (Open311 publishes them as the service definition)."""
    return category_detail(service.set_form(session, service.get_by_key(session, key), body))


@router.delete("/categories/{key}", response_model=DeleteOut)
def delete_category(key: str, session: DbSession, _: Principal = WRITE) -> DeleteOut:
    """Deletes a category nothing refers to; a referenced one (by its 小类, a responsibility rule,
    a case) is deactivated instead, and a 大类 takes its 小类 with it."""
    category = service.get_by_key(session, key)
    deleted = service.delete(session, category)
    return DeleteOut(key=category.key, outcome="deleted" if deleted else "deactivated")


@router.post("/import", response_model=ImportResult, summary="Import a template file (CSV/XLSX), all or nothing")
def import_categories(
    session: DbSession,
    file: UploadFile = File(...),
    settings: Settings = Depends(get_settings),
    _: Principal = WRITE,
) -> ImportResult:
    data = read_upload(file.file, file.filename or "", settings.max_upload_mb)
    return service.import_file(session, data, file.filename or "upload")


@router.get("/export.csv", summary="Every category in the import template format", response_class=Response)
def export_categories(session: DbSession, _: Principal = READ) -> Response:
    return Response(
        service.export_csv(session),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="taxonomy.csv"'},
    )
