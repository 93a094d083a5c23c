"""The responsibility list: rules, their bulk import, and the place a resolution starts from.
Plain functions, session first; they never commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from chengguan.dispatch.models import Basis, ResponsibilityRule
from chengguan.dispatch.schemas import RuleIn, RulePatch
from chengguan.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from chengguan.geo.models import GridCell
from chengguan.kit.tabular import Row, read_table
from chengguan.kit.uploads import RowErrors, invalid, parse_flag, validation_errors
from chengguan.orgs import service as orgs_service
from chengguan.orgs.models import AREA_KINDS, Organisation, OrgKind
from chengguan.taxonomy.models import Category
from chengguan.taxonomy.schemas import ImportResult

# Template columns of the list; the names of category, area and unit are for people and ignored.
FIELD_COLUMNS = {
    "row_no": "序号",
    "category": "分类代码",
    "org_id": "区域",
    "cell_code": "网格",
    "basis": "依据",
    "unit_id": "责任单位",
    "priority": "优先级",
    "note": "备注",
    "active": "启用",
}
REQUIRED = ("序号", "分类代码", "依据", "责任单位")
BASIS_WORDS = {"属主": Basis.OWNER, "属地": Basis.TERRITORY, **{b.value: b for b in Basis}}


class _Lookup:
    """Cached lookups for one call: an import names the same categories and units on many rows.

    Areas and cells are looked up in the caller's scope (a rule goes where its author may write);
    units in any scope, since a street's rule may name a district department as the owner."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._categories: dict[str, Category | None] = {}
        self._areas: dict[int | str, Organisation | None] = {}
        self._units: dict[int | str, Organisation | None] = {}

    def category(self, key: str) -> Category | None:
        if key not in self._categories:
            self._categories[key] = self.session.scalar(select(Category).where(Category.key == key.upper()))
        return self._categories[key]

    def area(self, ref: int | str) -> Organisation | None:
        if ref not in self._areas:
            column = Organisation.id if isinstance(ref, int) else Organisation.code
            self._areas[ref] = self.session.scalar(select(Organisation).where(column == ref))
        return self._areas[ref]

    def unit(self, ref: int | str) -> Organisation | None:
        if ref not in self._units:
            column = Organisation.id if isinstance(ref, int) else Organisation.code
            stmt = select(Organisation).where(column == ref).execution_options(skip_scope=True)
            self._units[ref] = self.session.scalar(stmt)
        return self._units[ref]

    def cell(self, code: str) -> GridCell | None:
        return self.session.scalar(select(GridCell).where(GridCell.code == code))

    def city(self) -> Organisation | None:
        roots = self.session.scalars(
            select(Organisation)
            .where(Organisation.parent_id.is_(None), Organisation.kind == OrgKind.CITY)
            .execution_options(skip_scope=True)
        ).all()
        return roots[0] if len(roots) == 1 else None


@dataclass(frozen=True)
class _Target:
    category: Category
    org: Organisation  # the area the rule covers, which scopes it
    unit: Organisation


def _area(lookup: _Lookup, org_id: int | None, cell_code: str | None) -> Organisation | FieldError:
    """The area a rule covers: the given one, the cell's community, or the city root."""
    given = lookup.area(org_id) if org_id is not None else None
    if org_id is not None and given is None:
        return FieldError("org_id", f"unknown organisation {org_id} / 区域不存在")
    if cell_code:
        cell = lookup.cell(cell_code)
        community = lookup.area(cell.org_id) if cell is not None else None
        if community is None:
            return FieldError("cell_code", f"grid cell {cell_code} not found / 单元网格不存在")
        if given is not None and not community.path.startswith(given.path):
            return FieldError("cell_code", f"grid cell {cell_code} is not inside {given.name} / 网格不在该区域内")
        return community
    if given is None:
        city = lookup.city()
        return city or FieldError("org_id", "no single city root organisation; name the area / 请指定区域")
    if OrgKind(given.kind) not in AREA_KINDS:
        return FieldError("org_id", f"{given.name} is a {given.kind}, not an area (district, street, town, community)")
    return given


def _checked(lookup: _Lookup, data: RuleIn) -> _Target | list[FieldError]:
    errors: list[FieldError] = []
    category = lookup.category(data.category)
    if category is None:
        errors.append(FieldError("category", f"unknown category {data.category!r} / 无此分类"))
    area = _area(lookup, data.org_id, data.cell_code)
    if isinstance(area, FieldError):
        errors.append(area)
    unit = lookup.unit(data.unit_id)
    if unit is None or not unit.active:
        errors.append(FieldError("unit_id", f"unknown or inactive unit {data.unit_id} / 责任单位不存在或已停用"))
    if errors or category is None or unit is None or isinstance(area, FieldError):
        return errors
    return _Target(category, area, unit)


def _writable(session: Session, org: Organisation) -> bool:
    try:
        orgs_service.require_writable(session, org)
    except Forbidden:
        return False
    return True


def _row_taken(session: Session, org_id: int, row_no: int, rule_id: int | None = None) -> bool:
    stmt = select(ResponsibilityRule.id).where(ResponsibilityRule.org_id == org_id, ResponsibilityRule.row_no == row_no)
    found = session.scalar(stmt)
    return found is not None and found != rule_id


def _apply(rule: ResponsibilityRule, data: RuleIn, target: _Target) -> None:
    rule.row_no = data.row_no
    rule.category_id = target.category.id
    rule.org_id = target.org.id
    rule.cell_code = data.cell_code
    rule.basis = data.basis
    rule.unit_id = target.unit.id
    rule.priority = data.priority
    rule.note = data.note
    rule.active = data.active


# -- reading ----------------------------------------------------------------------------------------


def get_rule(session: Session, rule_id: int) -> ResponsibilityRule:
    rule = session.scalar(select(ResponsibilityRule).where(ResponsibilityRule.id == rule_id))
    if rule is None:
        raise NotFound(f"responsibility rule {rule_id} not found / 权责清单条目不存在")
    return rule


def list_rules(
    session: Session,
    *,
    org_id: int | None = None,
    category: str | None = None,
    basis: Basis | None = None,
    unit_id: int | None = None,
    active: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[Sequence[ResponsibilityRule], int]:
    stmt = select(ResponsibilityRule)
    if org_id is not None:
        stmt = stmt.where(ResponsibilityRule.org_id == org_id)
    if category:
        stmt = stmt.join(Category, Category.id == ResponsibilityRule.category_id).where(
            Category.key == category.upper()
        )
    if basis is not None:
        stmt = stmt.where(ResponsibilityRule.basis == basis)
    if unit_id is not None:
        stmt = stmt.where(ResponsibilityRule.unit_id == unit_id)
    if active is not None:
        stmt = stmt.where(ResponsibilityRule.active.is_(active))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(ResponsibilityRule.org_id, ResponsibilityRule.row_no).limit(limit).offset(offset)
    )
    return rows.all(), total


def labels(
    session: Session, rules: Sequence[ResponsibilityRule]
) -> tuple[dict[int, Category], dict[int, Organisation]]:
    """The categories and organisations (areas and units, in any scope) the rules name."""
    categories = {
        c.id: c for c in session.scalars(select(Category).where(Category.id.in_({r.category_id for r in rules})))
    }
    ids = {r.org_id for r in rules} | {r.unit_id for r in rules}
    stmt = select(Organisation).where(Organisation.id.in_(ids)).execution_options(skip_scope=True)
    return categories, {o.id: o for o in session.scalars(stmt)}


# -- writing ----------------------------------------------------------------------------------------


def _target_or_refuse(lookup: _Lookup, data: RuleIn) -> _Target:
    target = _checked(lookup, data)
    if isinstance(target, list):
        raise invalid(target)
    orgs_service.require_writable(lookup.session, target.org)
    return target


def create_rule(session: Session, data: RuleIn) -> ResponsibilityRule:
    target = _target_or_refuse(_Lookup(session), data)
    if _row_taken(session, target.org.id, data.row_no):
        raise Conflict(f"row {data.row_no} already exists for {target.org.name} / 序号重复", field="row_no")
    rule = ResponsibilityRule()
    _apply(rule, data, target)
    session.add(rule)
    session.flush()
    return rule


def _current(rule: ResponsibilityRule, category_key: str) -> dict[str, Any]:
    return {
        "row_no": rule.row_no,
        "category": category_key,
        "org_id": rule.org_id,
        "cell_code": rule.cell_code,
        "basis": rule.basis,
        "unit_id": rule.unit_id,
        "priority": rule.priority,
        "note": rule.note,
        "active": rule.active,
    }


def update_rule(session: Session, rule: ResponsibilityRule, patch: RulePatch) -> ResponsibilityRule:
    category = session.get_one(Category, rule.category_id)
    try:
        data = RuleIn.model_validate({**_current(rule, category.key), **patch.model_dump(exclude_unset=True)})
    except ValidationError as exc:
        raise invalid(validation_errors(exc)) from exc
    target = _target_or_refuse(_Lookup(session), data)
    if _row_taken(session, target.org.id, data.row_no, rule.id):
        raise Conflict(f"row {data.row_no} already exists for {target.org.name} / 序号重复", field="row_no")
    _apply(rule, data, target)
    session.flush()
    return rule


def delete_rule(session: Session, rule: ResponsibilityRule) -> None:
    orgs_service.require_writable(session, orgs_service.get(session, rule.org_id))
    session.delete(rule)
    session.flush()


# -- import -----------------------------------------------------------------------------------------


def import_file(session: Session, data: bytes, filename: str) -> ImportResult:
    """Create or update rules from a list file (CSV/XLSX): a row updates the rule with the same
    序号 in the same area. All or nothing."""
    rows = read_table(data, filename, required=REQUIRED)
    if not rows:
        raise Invalid("the file has no rows / 文件无数据", field="file")
    return import_rows(session, rows)


def _parse(lookup: _Lookup, row: Row, errors: RowErrors) -> RuleIn | None:
    """A list row as rule input, its codes turned into ids; faults go to ``errors`` by column."""
    before = len(errors)
    area = lookup.area(row.get("区域")) if row.get("区域") else None
    if row.get("区域") and area is None:
        errors.add(row.line, "区域", f"unknown area {row.get('区域')!r} / 区域不存在")
    unit = lookup.unit(row.get("责任单位"))
    if unit is None:
        errors.add(row.line, "责任单位", f"unknown unit {row.get('责任单位')!r} / 责任单位不存在")
    basis = BASIS_WORDS.get(row.get("依据").lower())
    if basis is None:
        errors.add(row.line, "依据", f"依据 must be 属主 or 属地, not {row.get('依据')!r}")
    active = parse_flag(row.get("启用"))
    if active is None:
        errors.add(row.line, "启用", f"启用 must be 是 or 否, not {row.get('启用')!r}")
    if len(errors) > before or unit is None:
        return None
    try:
        return RuleIn.model_validate(
            {
                "row_no": row.get("序号"),
                "category": row.get("分类代码"),
                "org_id": area.id if area else None,
                "cell_code": row.get("网格") or None,
                "basis": basis,
                "unit_id": unit.id,
                "priority": row.get("优先级") or 0,
                "note": row.get("备注") or None,
                "active": active,
            }
        )
    except ValidationError as exc:
        for e in validation_errors(exc):
            errors.add(row.line, FIELD_COLUMNS.get(e.field.split(".")[0], e.field), e.message)
        return None


def import_rows(session: Session, rows: Sequence[Row]) -> ImportResult:
    lookup = _Lookup(session)
    errors = RowErrors()
    accepted: dict[tuple[int, int], tuple[int, RuleIn, _Target]] = {}
    for row in rows:
        data = _parse(lookup, row, errors)
        if data is None:
            continue
        target = _checked(lookup, data)
        if isinstance(target, list):
            for e in target:
                errors.add(row.line, FIELD_COLUMNS[e.field], e.message)
            continue
        key = (target.org.id, data.row_no)
        if not _writable(session, target.org):
            errors.add(row.line, "区域", f"{target.org.name} is outside your jurisdiction / 超出本单位管辖范围")
        elif key in accepted:
            errors.add(row.line, "序号", f"row {data.row_no} of {target.org.name} repeats line {accepted[key][0]}")
        else:
            accepted[key] = (row.line, data, target)
    errors.raise_if_any()
    return _upsert(session, accepted)


def _upsert(session: Session, accepted: dict[tuple[int, int], tuple[int, RuleIn, _Target]]) -> ImportResult:
    orgs = {org_id for org_id, _row in accepted}
    existing = {
        (r.org_id, r.row_no): r
        for r in session.scalars(select(ResponsibilityRule).where(ResponsibilityRule.org_id.in_(orgs)))
    }
    created = 0
    for key, (_line, data, target) in accepted.items():
        rule = existing.get(key)
        if rule is None:
            rule = ResponsibilityRule()
            session.add(rule)
            created += 1
        _apply(rule, data, target)
    session.flush()
    return ImportResult(created=created, updated=len(accepted) - created)


# -- places -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """Where a problem is, as the resolver takes it."""

    area_chain: list[int]  # community … city
    cell_code: str | None
    area_class: str | None


def area_chain(session: Session, org: Organisation) -> list[int]:
    """Ids of the area organisations from ``org`` up to the city root, most specific first."""
    stmt = (
        select(Organisation.id)
        .where(literal(org.path).startswith(Organisation.path), Organisation.kind.in_(AREA_KINDS))
        .order_by(Organisation.depth.desc())
    )
    return list(session.scalars(stmt))


def place_of(session: Session, org_id: int | None = None, cell_code: str | None = None) -> Place:
    """The place named by an area organisation, a grid cell, or both (the cell must lie in the area)."""
    lookup = _Lookup(session)
    if org_id is None and not cell_code:
        raise Invalid("give an area organisation or a grid cell / 请指定区域或网格", field="org")
    area = _area(lookup, org_id, cell_code)
    if isinstance(area, FieldError):  # named after the query parameters
        raise Invalid(area.message, field={"org_id": "org", "cell_code": "cell"}[area.field])
    cell = lookup.cell(cell_code) if cell_code else None
    return Place(area_chain(session, area), cell_code or None, cell.area_class if cell else None)
