"""Unit grids: the cells of an area with a map preview, and a GeoJSON (or CSV/XLSX) upload that
writes every cell or none, listing each bad feature with its number and field."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from chengguan.auth.deps import DbSession
from chengguan.auth.principal import Principal
from chengguan.auth.roles import Permission
from chengguan.errors import ChengguanError
from chengguan.geo import importer, service
from chengguan.kit.geojson import feature, feature_collection
from chengguan.kit.paging import MAX_LIMIT
from chengguan.orgs import service as orgs_service
from chengguan.orgs.models import AREA_KINDS
from chengguan.web.admin_forms import RowError, admin_page, allowed, row_errors, upload_of
from chengguan.web.desk import Form
from chengguan.web.i18n import Translator, language_of
from chengguan.web.pages import PageUser
from chengguan.web.routing import Rendered, WebRoute, redirect

router = APIRouter(route_class=WebRoute, include_in_schema=False)
WRITE = Permission.GRIDS_WRITE
PAGE = 200  # cells listed and drawn at once; an area with more is paged


def _grid_page(
    request: Request,
    session: Session,
    user: Principal,
    org_id: int | None,
    offset: int,
    *,
    problems: list[RowError] | None = None,
    status: int = 200,
) -> Response:
    areas, _ = orgs_service.list_orgs(session, limit=MAX_LIMIT)
    cells, total = service.list_cells(session, org_id=org_id, limit=PAGE, offset=offset)
    preview = feature_collection(
        feature(c.geometry, {"code": c.code, "name": c.name, "area_class": c.area_class}, fid=c.code) for c in cells
    )
    return admin_page(
        request,
        "admin/grids.html",
        user,
        status=status,
        areas=[(o.id, f"{'—' * o.depth} {o.name}") for o in areas if o.kind in AREA_KINDS],
        org_id=org_id,
        cells=cells,
        total=total,
        offset=offset,
        page_size=PAGE,
        preview=preview,
        imported=request.query_params.get("imported"),
        problems=problems or [],
    )


@router.get("/admin/grids")
def grid_cells(
    request: Request,
    session: DbSession,
    user: PageUser,
    org_id: int | None = None,
    offset: int = Query(0, ge=0),
) -> Response:
    allowed(user, WRITE)
    return _grid_page(request, session, user, org_id, offset)


@router.post("/admin/grids/import")
def import_cells(request: Request, session: DbSession, user: PageUser, form: Form) -> Response:
    """The API's import (``POST /api/grids/import``) from a page: the same reader and service."""
    allowed(user, WRITE)
    settings = request.app.state.settings
    try:
        data, name = upload_of(form, "file", settings.max_upload_mb, importer.SUFFIXES)
        cells = importer.read_cells(data, name)
        report = service.import_cells(session, cells.cells, cells.labels, refused=cells.errors)
    except ChengguanError as exc:
        problems = row_errors(exc, Translator(language_of(request)))
        raise Rendered(_grid_page(request, session, user, None, 0, problems=problems, status=exc.status)) from exc
    return redirect(request, f"/admin/grids?imported={report.created}")
