"""Who owns a problem: the responsibility list applied to a category at a place.

部件先属主后属地, 事件先属地后属主: rules of the preferred basis come first; then the most specific
place (cell > community > street > district > city), then the most specific category (小类 > 大类),
then the higher priority. Two different units tied at the top, or no rule at all, go to the
district's command centre for 会商 (consultation).

The place comes in as the chain of area organisations from the community up to the city (the
geo domain turns a point into it), so this module needs no map to be tested or used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from chengguan.dispatch.models import BASIS_LABELS, Basis, ResponsibilityRule
from chengguan.orgs.models import Organisation, OrgKind
from chengguan.taxonomy import service as taxonomy_service
from chengguan.taxonomy.models import KIND_LABELS, Category, CategoryKind

PREFERRED_BASIS = {CategoryKind.COMPONENT: Basis.OWNER, CategoryKind.EVENT: Basis.TERRITORY}
Rank = tuple[int, int, int, int]


@dataclass(frozen=True)
class Unit:
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class Resolution:
    category_key: str
    unit: Unit | None  # the owner, or the centre for 会商 (None: no centre configured either)
    rule_id: int | None
    row_no: int | None
    basis: Basis | None
    reason: str
    candidates: list[Unit]
    needs_consultation: bool


def _unit(org: Organisation) -> Unit:
    return Unit(org.id, org.code, org.name)


def _orgs(session: Session, ids: Sequence[int]) -> dict[int, Organisation]:
    """Organisations by id, whatever the caller's scope: owners often sit outside it."""
    stmt = select(Organisation).where(Organisation.id.in_(set(ids))).execution_options(skip_scope=True)
    return {o.id: o for o in session.scalars(stmt)}


def _matching(
    session: Session, category: Category, area_chain: Sequence[int], cell_code: str | None
) -> list[ResponsibilityRule]:
    categories = [category.id] if category.parent_id is None else [category.id, category.parent_id]
    places: ColumnElement[bool] = ResponsibilityRule.org_id.in_(area_chain) & ResponsibilityRule.cell_code.is_(None)
    if cell_code:
        places = or_(places, ResponsibilityRule.cell_code == cell_code)
    stmt = (
        select(ResponsibilityRule)
        .join(Organisation, Organisation.id == ResponsibilityRule.unit_id)
        .where(
            ResponsibilityRule.category_id.in_(categories),
            ResponsibilityRule.active.is_(True),
            Organisation.active.is_(True),
            places,
        )
        .execution_options(skip_scope=True)  # a street's case follows the city's and district's rules too
    )
    return list(session.scalars(stmt))


def _rank(rule: ResponsibilityRule, category: Category, area_chain: Sequence[int]) -> Rank:
    basis = 0 if rule.basis == PREFERRED_BASIS[CategoryKind(category.kind)] else 1
    place = 0 if rule.cell_code else 1 + list(area_chain).index(rule.org_id)
    return basis, place, 0 if rule.category_id == category.id else 1, -rule.priority


def _basis_reason(kind: CategoryKind, basis: Basis) -> str:
    preferred = PREFERRED_BASIS[kind]
    other = Basis.TERRITORY if preferred is Basis.OWNER else Basis.OWNER
    label = KIND_LABELS[kind]
    if basis is preferred:
        return f"{label}先{BASIS_LABELS[preferred]}"
    return f"{label}先{BASIS_LABELS[preferred]}后{BASIS_LABELS[other]}(无{BASIS_LABELS[preferred]}规则)"


def _place(
    orgs: dict[int, Organisation], area_chain: Sequence[int], cell_code: str | None, area_class: str | None
) -> str:
    if cell_code:
        return f"网格 {cell_code}" + (f" {area_class}类" if area_class else "")
    first = orgs.get(area_chain[0]) if area_chain else None
    return first.name if first else "未知区域"


def consultation_centre(session: Session, orgs: dict[int, Organisation], area_chain: Sequence[int]) -> Unit | None:
    """The district's command centre (a city centre when the district has none)."""
    areas = [orgs[i] for i in area_chain if i in orgs]
    for kind in (OrgKind.DISTRICT, OrgKind.CITY):
        for area in (a for a in areas if a.kind == kind):
            centre = session.scalar(
                select(Organisation)
                .where(Organisation.parent_id == area.id, Organisation.kind == OrgKind.CENTRE)
                .where(Organisation.active.is_(True))
                .order_by(Organisation.function != "command", Organisation.id)  # 指挥中心 before 监督中心
                .limit(1)
                .execution_options(skip_scope=True)
            )
            if centre is not None:
                return _unit(centre)
    return None


def resolve_owner(
    session: Session,
    category_key: str,
    area_chain: Sequence[int],
    cell_code: str | None = None,
    *,
    area_class: str | None = None,
) -> Resolution:
    """The unit that owns a ``category_key`` problem at a place: ``area_chain`` lists the area
    organisation ids from the most specific (community) up to the city; ``cell_code`` is the
    unit grid cell, if known, and ``area_class`` its class (only for the reason text)."""
    category = taxonomy_service.get_by_key(session, category_key)
    ranked = sorted(
        ((_rank(r, category, area_chain), r.row_no, r) for r in _matching(session, category, area_chain, cell_code)),
        key=lambda item: item[:2],
    )
    top = [rule for rank, _row, rule in ranked if rank == ranked[0][0]] if ranked else []
    orgs = _orgs(session, [*area_chain, *(r.unit_id for r in top)])
    where = _place(orgs, area_chain, cell_code, area_class)
    units = [_unit(orgs[i]) for i in dict.fromkeys(r.unit_id for r in top)]
    if len(units) == 1:
        best = top[0]
        basis = Basis(best.basis)
        return Resolution(
            category_key=category.key,
            unit=units[0],
            rule_id=best.id,
            row_no=best.row_no,
            basis=basis,
            reason=f"{where}; 清单第{best.row_no}行; {_basis_reason(CategoryKind(category.kind), basis)}",
            candidates=units,
            needs_consultation=False,
        )
    centre = consultation_centre(session, orgs, area_chain)
    if units:
        rows = "、".join(str(r.row_no) for r in top)
        why = f"清单第{rows}行并列({' / '.join(u.name for u in units)})"
    else:
        why = f"清单无适用于{category.key} {category.name}的规则"
    to = f"提交{centre.name}会商" if centre else "未设指挥中心, 请人工派遣"
    return Resolution(
        category_key=category.key,
        unit=centre,
        rule_id=None,
        row_no=None,
        basis=None,
        reason=f"{where}; {why}; {to}",
        candidates=units,
        needs_consultation=True,
    )
