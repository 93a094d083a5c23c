"""/api/responsibility: the responsibility list (权责清单) and its owner resolver."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Depends, File, Query, UploadFile
from sqlalchemy.orm import Session

from chengguan.auth.deps import DbSession, get_settings, require
from chengguan.auth.principal import Principal
from chengguan.auth.roles import Permission
from chengguan.config import Settings
from chengguan.dispatch import service
from chengguan.dispatch.models import Basis, ResponsibilityRule
from chengguan.dispatch.resolver import Resolution, Unit, resolve_owner
from chengguan.dispatch.schemas import ResolutionOut, RuleIn, RuleOut, RulePatch, UnitOut
from chengguan.kit.paging import MAX_LIMIT, Page
from chengguan.kit.uploads import read_upload
from chengguan.taxonomy.schemas import ImportResult

router = APIRouter(prefix="/api/responsibility", tags=["responsibility"])
READ = Depends(require(Permission.REFERENCE_READ))
WRITE = Depends(require(Permission.RESPONSIBILITY_WRITE))


def rules_out(session: Session, rules: Sequence[ResponsibilityRule]) -> list[RuleOut]:
    categories, orgs = service.labels(session, rules)
    return [
        RuleOut(
            id=r.id,
            row_no=r.row_no,
            category=categories[r.category_id].key,
            category_name=categories[r.category_id].name,
            org_id=r.org_id,
            org_name=orgs[r.org_id].name,
            cell_code=r.cell_code,
            basis=Basis(r.basis),
            unit_id=r.unit_id,
            unit_code=orgs[r.unit_id].code,
            unit_name=orgs[r.unit_id].name,
            priority=r.priority,
            note=r.note,
            active=r.active,
        )
        for r in rules
    ]


def unit_out(unit: Unit) -> UnitOut:
    return UnitOut(id=unit.id, code=unit.code, name=unit.name)


def resolution_out(res: Resolution) -> ResolutionOut:
    return ResolutionOut(
        category=res.category_key,
        unit=unit_out(res.unit) if res.unit else None,
        rule_id=res.rule_id,
        row_no=res.row_no,
        basis=res.basis,
        reason=res.reason,
        candidates=[unit_out(c) for c in res.candidates],
        needs_consultation=res.needs_consultation,
    )


@router.get("", response_model=Page[RuleOut])
def list_rules(
    session: DbSession,
    org_id: int | None = Query(None, description="the area a rule covers"),
    category: str | None = Query(None, max_length=8, description="category key, e.g. E0502"),
    basis: Basis | None = None,
    unit_id: int | None = None,
    active: bool | None = None,
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
    _: Principal = READ,
) -> Page[RuleOut]:
    rows, total = service.list_rules(
        session,
        org_id=org_id,
        category=category,
        basis=basis,
        unit_id=unit_id,
        active=active,
        limit=limit,
        offset=offset,
    )
    return Page(items=rules_out(session, rows), total=total, limit=limit, offset=offset)


@router.get("/resolve", response_model=ResolutionOut, summary="Who owns a category's problem at a place")
def resolve(
    session: DbSession,
    category: str = Query(..., max_length=8, description="category key, e.g. C0101 or E0502"),
    org: int | None = Query(None, description="area organisation id (community, street, district)"),
    cell: str | None = Query(None, max_length=32, description="unit grid cell code"),
    _: Principal = READ,
) -> ResolutionOut:
    place = service.place_of(session, org_id=org, cell_code=cell)
    return resolution_out(
        resolve_owner(session, category, place.area_chain, place.cell_code, area_class=place.area_class)
    )


@router.get("/{rule_id}", response_model=RuleOut)
def get_rule(rule_id: int, session: DbSession, _: Principal = READ) -> RuleOut:
    return rules_out(session, [service.get_rule(session, rule_id)])[0]


@router.post("", response_model=RuleOut, status_code=201)
def create_rule(body: RuleIn, session: DbSession, _: Principal = WRITE) -> RuleOut:
    return rules_out(session, [service.create_rule(session, body)])[0]


@router.patch("/{rule_id}", response_model=RuleOut)
def patch_rule(rule_id: int, body: RulePatch, session: DbSession, _: Principal = WRITE) -> RuleOut:
    return rules_out(session, [service.update_rule(session, service.get_rule(session, rule_id), body)])[0]


@router.delete("/{rule_id}", status_code=204)
def delete_rule(rule_id: int, session: DbSession, _: Principal = WRITE) -> None:
    service.delete_rule(session, service.get_rule(session, rule_id))


@router.post("/import", response_model=ImportResult, summary="Import a list file (CSV/XLSX), all or nothing")
def import_rules(
    session: DbSession,
    file: UploadFile = File(...),
    settings: Settings = Depends(get_settings),
    _: Principal = WRITE,
) -> ImportResult:
    data = read_upload(file.file, file.filename or "", settings.max_upload_mb)
    return service.import_file(session, data, file.filename or "upload")
