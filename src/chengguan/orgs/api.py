"""/api/orgs: the organisation tree, GeoJSON out, CRUD for administrators."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from chengguan.auth.deps import DbSession, require
from chengguan.auth.principal import Principal
from chengguan.auth.roles import Permission
from chengguan.kit.geojson import feature, feature_collection
from chengguan.kit.paging import MAX_LIMIT, Page
from chengguan.orgs import service
from chengguan.orgs.models import Organisation, OrgKind
from chengguan.orgs.schemas import OrgIn, OrgOut, OrgPatch

router = APIRouter(prefix="/api/orgs", tags=["organisations"])
READ = Depends(require(Permission.REFERENCE_READ))
WRITE = Depends(require(Permission.ORGS_WRITE))


def org_out(org: Organisation) -> OrgOut:
    out = OrgOut.model_validate(org)
    out.has_geometry = org.geometry is not None
    return out


def org_feature(org: Organisation) -> dict[str, Any]:
    props = org_out(org).model_dump(exclude={"has_geometry"})
    return feature(org.geometry, props, fid=org.code)


@router.get("", response_model=Page[OrgOut])
def list_orgs(
    session: DbSession,
    kind: OrgKind | None = None,
    parent_id: int | None = None,
    q: str | None = Query(None, max_length=100),
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
    _: Principal = READ,
) -> Page[OrgOut]:
    rows, total = service.list_orgs(session, kind=kind, parent_id=parent_id, q=q, limit=limit, offset=offset)
    return Page(items=[org_out(o) for o in rows], total=total, limit=limit, offset=offset)


@router.get(
    "/features",
    summary="Organisations with jurisdiction geometry as a GeoJSON FeatureCollection",
    response_description="application/geo+json FeatureCollection",
)
def org_features(
    session: DbSession,
    kind: OrgKind | None = None,
    parent_id: int | None = None,
    limit: int = Query(MAX_LIMIT, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
    _: Principal = READ,
) -> dict[str, Any]:
    rows, _total = service.list_orgs(session, kind=kind, parent_id=parent_id, limit=limit, offset=offset)
    return feature_collection(org_feature(o) for o in rows if o.geometry is not None)


@router.get("/{org_id}", response_model=OrgOut)
def get_org(org_id: int, session: DbSession, _: Principal = READ) -> OrgOut:
    return org_out(service.get(session, org_id))


@router.get("/{org_id}/feature", summary="One organisation as a GeoJSON Feature")
def get_org_feature(org_id: int, session: DbSession, _: Principal = READ) -> dict[str, Any]:
    return org_feature(service.get(session, org_id))


@router.get("/{org_id}/ancestors", response_model=list[OrgOut])
def get_ancestors(org_id: int, session: DbSession, _: Principal = READ) -> list[OrgOut]:
    return [org_out(o) for o in service.ancestors(session, service.get(session, org_id))]


@router.post("", response_model=OrgOut, status_code=201)
def create_org(body: OrgIn, session: DbSession, _: Principal = WRITE) -> OrgOut:
    return org_out(service.create(session, body))


@router.patch("/{org_id}", response_model=OrgOut)
def patch_org(org_id: int, body: OrgPatch, session: DbSession, _: Principal = WRITE) -> OrgOut:
    return org_out(service.update_org(session, service.get(session, org_id), body))


@router.delete("/{org_id}", status_code=204)
def delete_org(org_id: int, session: DbSession, _: Principal = WRITE) -> None:
    service.delete(session, service.get(session, org_id))
