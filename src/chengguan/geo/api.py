"""/api/grids (unit grid cells, import, point location), /api/responsibility-grids, and the
gazetteer: /api/geo/geocode (address → point → cell) and /api/geo/gazetteer."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, UploadFile
from sqlalchemy.orm import Session

from chengguan.auth.deps import DbSession, get_settings, require
from chengguan.auth.principal import Principal
from chengguan.auth.roles import Permission
from chengguan.config import Settings
from chengguan.errors import Invalid, NotFound
from chengguan.geo import gazetteer_service, importer, service
from chengguan.geo.gazetteer_schemas import (
    EntryIn,
    EntryOut,
    EntryPatch,
    GazetteerImportReport,
    GeocodeOut,
    RefreshReport,
)
from chengguan.geo.models import AreaClass, EntryKind, GazetteerEntry, GridCell, ResponsibilityGrid
from chengguan.geo.schemas import (
    CellIn,
    CellOut,
    CellPatch,
    DutyRef,
    ImportReport,
    LocationOut,
    OrgRef,
    ResponsibilityIn,
    ResponsibilityOut,
    ResponsibilityPatch,
)
from chengguan.kit.coords import CRS, convert_point
from chengguan.kit.geojson import feature, feature_collection, to_geojson
from chengguan.kit.paging import MAX_LIMIT, Page
from chengguan.kit.uploads import read_upload

router = APIRouter(tags=["grids"])
READ = Depends(require(Permission.REFERENCE_READ))
WRITE = Depends(require(Permission.GRIDS_WRITE))
CITY_WRITE = Depends(require(Permission.GRIDS_WRITE, citywide=True))  # the gazetteer serves the whole city
MAX_FEATURES = 5000  # a map view of the whole city at cell level is more than anyone can read
BBOX_HELP = "min lon,min lat,max lon,max lat (WGS-84): cells whose bounding box meets it"


def parse_bbox(text: str | None) -> service.Bbox | None:
    if text is None:
        return None
    try:
        min_lon, min_lat, max_lon, max_lat = (float(v) for v in text.split(","))
    except ValueError:
        raise Invalid("bbox is four numbers: min lon,min lat,max lon,max lat", field="bbox") from None
    if not (min_lon <= max_lon and min_lat <= max_lat):
        raise Invalid("bbox minimum exceeds its maximum", field="bbox")
    return min_lon, min_lat, max_lon, max_lat


def cell_out(cell: GridCell) -> CellOut:
    return CellOut(
        id=cell.id,
        code=cell.code,
        name=cell.name,
        area_class=AreaClass(cell.area_class),
        org_id=cell.org_id,
        area_m2=round(cell.area_m2, 1),
        active=cell.active,
        created_at=cell.created_at,
        updated_at=cell.updated_at,
        geometry=to_geojson(cell.geometry),
    )


def cell_feature(cell: GridCell) -> dict[str, Any]:
    return feature(cell.geometry, cell_out(cell).model_dump(mode="json", exclude={"geometry"}), fid=cell.code)


# -- unit grid cells ----------------------------------------------------------------------------


@router.get("/api/grids", response_model=Page[CellOut])
def list_cells(
    session: DbSession,
    org_id: int | None = Query(None, description="cells in this organisation's subtree"),
    area_class: AreaClass | None = None,
    bbox: str | None = Query(None, description=BBOX_HELP),
    active: bool | None = None,
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
    _: Principal = READ,
) -> Page[CellOut]:
    rows, total = service.list_cells(
        session, org_id=org_id, area_class=area_class, bbox=parse_bbox(bbox), active=active, limit=limit, offset=offset
    )
    return Page(items=[cell_out(c) for c in rows], total=total, limit=limit, offset=offset)


@router.get(
    "/api/grids/features",
    summary="Cells as a GeoJSON FeatureCollection",
    response_description="FeatureCollection; 'truncated' is true when more cells matched than 'limit'",
)
def cell_features(
    session: DbSession,
    bbox: str | None = Query(None, description=BBOX_HELP),
    org_id: int | None = None,
    area_class: AreaClass | None = None,
    limit: int = Query(MAX_FEATURES, ge=1, le=MAX_FEATURES),
    _: Principal = READ,
) -> dict[str, Any]:
    rows, total = service.list_cells(
        session, org_id=org_id, area_class=area_class, bbox=parse_bbox(bbox), active=True, limit=limit
    )
    return {**feature_collection(cell_feature(c) for c in rows), "total": total, "truncated": total > len(rows)}


@router.get(
    "/api/grids/locate", response_model=LocationOut, summary="The cell, community, street and district at a point"
)
def locate(
    session: DbSession,
    lon: float = Query(ge=-180, le=180),
    lat: float = Query(ge=-90, le=90),
    crs: CRS = Query(CRS.WGS84, description="coordinate system of lon/lat; the answer is in WGS-84"),
    _: Principal = READ,
) -> LocationOut:
    lon, lat = convert_point(lon, lat, crs, CRS.WGS84)
    where = service.locate(session, lon, lat)
    if where is None:
        raise NotFound("no grid cell of your jurisdiction at this point / 该位置不在您辖区的单元网格内", field="lon")
    return location_out(where)


def location_out(where: service.Location) -> LocationOut:
    return LocationOut(
        lon=where.lon,
        lat=where.lat,
        cell_code=where.cell.code,
        cell_name=where.cell.name,
        area_class=AreaClass(where.cell.area_class),
        community=OrgRef.model_validate(where.community),
        street=OrgRef.model_validate(where.street) if where.street else None,
        district=OrgRef.model_validate(where.district) if where.district else None,
        duties=[DutyRef(kind=g.kind, code=g.code, name=g.name, owner_org_id=g.owner_org_id) for g in where.duties],
    )


@router.post(
    "/api/grids/import",
    response_model=ImportReport,
    status_code=201,
    summary="Import cells from GeoJSON, CSV or XLSX (all or nothing)",
)
def import_cells(
    file: UploadFile,
    session: DbSession,
    settings: Settings = Depends(get_settings),
    _: Principal = WRITE,
) -> ImportReport:
    name = file.filename or ""
    parsed = importer.read_cells(read_upload(file.file, name, settings.max_upload_mb, importer.SUFFIXES), name)
    return service.import_cells(session, parsed.cells, parsed.labels, refused=parsed.errors)


@router.get("/api/grids/{code}", response_model=CellOut)
def get_cell(code: str, session: DbSession, _: Principal = READ) -> CellOut:
    return cell_out(service.get_cell(session, code))


@router.post("/api/grids", response_model=CellOut, status_code=201)
def create_cell(body: CellIn, session: DbSession, _: Principal = WRITE) -> CellOut:
    return cell_out(service.create_cell(session, body))


@router.patch("/api/grids/{code}", response_model=CellOut)
def patch_cell(code: str, body: CellPatch, session: DbSession, _: Principal = WRITE) -> CellOut:
    return cell_out(service.update_cell(session, service.get_cell(session, code), body))


@router.delete("/api/grids/{code}", status_code=204)
def delete_cell(code: str, session: DbSession, _: Principal = WRITE) -> None:
    service.delete_cell(session, service.get_cell(session, code))


# -- responsibility grids -----------------------------------------------------------------------


def responsibility_out(session: Session, grid: ResponsibilityGrid) -> ResponsibilityOut:
    members = service.member_cells(session, grid)
    return ResponsibilityOut(
        id=grid.id,
        code=grid.code,
        name=grid.name,
        kind=grid.kind,
        org_id=grid.org_id,
        owner_org_id=grid.owner_org_id,
        active=grid.active,
        cell_codes=[code for code, _geom, _area in members],
        area_m2=round(sum(area for _code, _geom, area in members), 1),
    )


@router.get("/api/responsibility-grids", response_model=Page[ResponsibilityOut], tags=["responsibility grids"])
def list_responsibility(
    session: DbSession,
    kind: str | None = Query(None, max_length=32),
    owner_org_id: int | None = None,
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
    _: Principal = READ,
) -> Page[ResponsibilityOut]:
    rows, total = service.list_responsibility(session, kind=kind, owner_org_id=owner_org_id, limit=limit, offset=offset)
    return Page(items=[responsibility_out(session, g) for g in rows], total=total, limit=limit, offset=offset)


@router.get(
    "/api/responsibility-grids/features",
    summary="Responsibility grids (union of their cells) as a GeoJSON FeatureCollection",
    tags=["responsibility grids"],
)
def responsibility_features(
    session: DbSession,
    kind: str | None = Query(None, max_length=32),
    owner_org_id: int | None = None,
    limit: int = Query(MAX_LIMIT, ge=1, le=MAX_LIMIT),
    _: Principal = READ,
) -> dict[str, Any]:
    rows, total = service.list_responsibility(session, kind=kind, owner_org_id=owner_org_id, limit=limit)
    features = (
        feature(
            service.responsibility_geometry(session, g),
            responsibility_out(session, g).model_dump(exclude={"cell_codes"}),
            fid=g.code,
        )
        for g in rows
    )
    return {**feature_collection(features), "total": total, "truncated": total > len(rows)}


@router.get("/api/responsibility-grids/{code}", response_model=ResponsibilityOut, tags=["responsibility grids"])
def get_responsibility(code: str, session: DbSession, _: Principal = READ) -> ResponsibilityOut:
    return responsibility_out(session, service.get_responsibility(session, code))


@router.post(
    "/api/responsibility-grids", response_model=ResponsibilityOut, status_code=201, tags=["responsibility grids"]
)
def create_responsibility(body: ResponsibilityIn, session: DbSession, _: Principal = WRITE) -> ResponsibilityOut:
    return responsibility_out(session, service.create_responsibility(session, body))


@router.patch("/api/responsibility-grids/{code}", response_model=ResponsibilityOut, tags=["responsibility grids"])
def patch_responsibility(
    code: str, body: ResponsibilityPatch, session: DbSession, _: Principal = WRITE
) -> ResponsibilityOut:
    grid = service.update_responsibility(session, service.get_responsibility(session, code), body)
    return responsibility_out(session, grid)


@router.delete("/api/responsibility-grids/{code}", status_code=204, tags=["responsibility grids"])
def delete_responsibility(code: str, session: DbSession, _: Principal = WRITE) -> None:
    service.delete_responsibility(session, service.get_responsibility(session, code))


# -- the gazetteer ------------------------------------------------------------------------------


def entry_out(entry: GazetteerEntry) -> EntryOut:
    return EntryOut(
        id=entry.id,
        kind=EntryKind(entry.kind),
        name=entry.name,
        aliases=entry.aliases,
        org_id=entry.org_id,
        lon=entry.lon,
        lat=entry.lat,
        line=to_geojson(entry.line),
        derived=entry.derived,
        active=entry.active,
        created_at=entry.created_at,
        updated_at=entry.updated_at,
    )


@router.get(
    "/api/geo/geocode",
    response_model=GeocodeOut,
    tags=["gazetteer"],
    summary="The point an address names, and the unit grid cell, community, street and district there",
)
def geocode(
    session: DbSession,
    address: str = Query(min_length=1, max_length=200, description="e.g. 北京市海淀区中关村大街27号"),
    within_org_id: int | None = Query(None, description="only places inside (or above) this organisation"),
    _: Principal = READ,
) -> GeocodeOut:
    match = gazetteer_service.resolve_address(session, address, within_org_id=within_org_id)
    if match is None:
        raise NotFound("the address names no place the gazetteer knows / 地址未能匹配到地名", field="address")
    district, street, community = gazetteer_service.implied_orgs(session, match)
    where = service.locate(session, match.lon, match.lat)
    return GeocodeOut(
        address=address,
        lon=match.lon,
        lat=match.lat,
        level=match.level,
        entry_id=match.entry_id,
        names=list(match.names),
        district=OrgRef.model_validate(district) if district else None,
        street=OrgRef.model_validate(street) if street else None,
        community=OrgRef.model_validate(community) if community else None,
        confidence=match.confidence,
        reason=match.reason,
        location=location_out(where) if where else None,
    )


@router.get("/api/geo/gazetteer", response_model=Page[EntryOut], tags=["gazetteer"])
def search_gazetteer(
    session: DbSession,
    q: str | None = Query(None, max_length=100, description="part of a name or alias"),
    kind: EntryKind | None = None,
    org_id: int | None = Query(None, description="entries in this organisation's subtree"),
    active: bool | None = None,
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
    _: Principal = READ,
) -> Page[EntryOut]:
    rows, total = gazetteer_service.search_entries(
        session, q=q, kind=kind, org_id=org_id, active=active, limit=limit, offset=offset
    )
    return Page(items=[entry_out(e) for e in rows], total=total, limit=limit, offset=offset)


@router.post("/api/geo/gazetteer", response_model=EntryOut, status_code=201, tags=["gazetteer"])
def create_gazetteer_entry(body: EntryIn, session: DbSession, _: Principal = CITY_WRITE) -> EntryOut:
    return entry_out(gazetteer_service.create_entry(session, body))


@router.post(
    "/api/geo/gazetteer/import",
    response_model=GazetteerImportReport,
    status_code=201,
    tags=["gazetteer"],
    summary="Import roads and POIs from CSV or XLSX (all or nothing)",
)
def import_gazetteer(
    file: UploadFile,
    session: DbSession,
    crs: CRS = Query(CRS.WGS84, description="coordinate system of rows without a crs column"),
    replace: bool = Query(False, description="remove every road and POI first"),
    settings: Settings = Depends(get_settings),
    _: Principal = CITY_WRITE,
) -> GazetteerImportReport:
    name = file.filename or ""
    parsed = gazetteer_service.read_entries(read_upload(file.file, name, settings.max_upload_mb), name, crs)
    return gazetteer_service.import_entries(session, parsed, replace=replace)


@router.post(
    "/api/geo/gazetteer/refresh",
    response_model=RefreshReport,
    tags=["gazetteer"],
    summary="Rebuild the district/street/community entries from the organisation tree",
)
def refresh_gazetteer(session: DbSession, _: Principal = CITY_WRITE) -> RefreshReport:
    return gazetteer_service.refresh_area_entries(session)


@router.get("/api/geo/gazetteer/{entry_id}", response_model=EntryOut, tags=["gazetteer"])
def get_gazetteer_entry(entry_id: int, session: DbSession, _: Principal = READ) -> EntryOut:
    return entry_out(gazetteer_service.get_entry(session, entry_id))


@router.patch("/api/geo/gazetteer/{entry_id}", response_model=EntryOut, tags=["gazetteer"])
def patch_gazetteer_entry(entry_id: int, body: EntryPatch, session: DbSession, _: Principal = CITY_WRITE) -> EntryOut:
    entry = gazetteer_service.update_entry(session, gazetteer_service.get_entry(session, entry_id), body)
    return entry_out(entry)


@router.delete("/api/geo/gazetteer/{entry_id}", status_code=204, tags=["gazetteer"])
def delete_gazetteer_entry(entry_id: int, session: DbSession, _: Principal = CITY_WRITE) -> None:
    gazetteer_service.delete_entry(session, gazetteer_service.get_entry(session, entry_id))
