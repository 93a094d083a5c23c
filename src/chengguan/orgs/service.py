"""Organisation tree operations. Plain functions, session first; they never commit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, literal, select, update
from sqlalchemy.orm import Session

from chengguan.errors import Conflict, Forbidden, Invalid, NotFound
from chengguan.kit.geojson import parse_geometry
from chengguan.orgs.models import ALLOWED_PARENTS, AREA_KINDS, Organisation, OrgKind, Scope
from chengguan.orgs.schemas import OrgIn, OrgPatch

# Share of a child's area allowed outside its parent (floating-point slivers at shared edges).
CONTAINMENT_TOLERANCE = 0.001


def session_scope(session: Session) -> Scope | None:
    scope = session.info.get("scope")
    return scope if isinstance(scope, Scope) else None


def get(session: Session, org_id: int) -> Organisation:
    org = session.get(Organisation, org_id)
    if org is None:
        raise NotFound(f"organisation {org_id} not found")
    return org


def get_by_code(session: Session, code: str) -> Organisation:
    org = session.scalar(select(Organisation).where(Organisation.code == code))
    if org is None:
        raise NotFound(f"organisation {code!r} not found", field="code")
    return org


def require_writable(session: Session, org: Organisation) -> None:
    """Writes are allowed inside the caller's subtree only, not on the chain above it."""
    scope = session_scope(session)
    if scope is not None and not (scope.root_path and org.path.startswith(scope.root_path)):
        raise Forbidden(f"organisation {org.code} is outside your jurisdiction / 超出本单位管辖范围")


def list_orgs(
    session: Session,
    *,
    kind: OrgKind | None = None,
    parent_id: int | None = None,
    q: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[Sequence[Organisation], int]:
    stmt = select(Organisation)
    if kind is not None:
        stmt = stmt.where(Organisation.kind == kind)
    if parent_id is not None:
        stmt = stmt.where(Organisation.parent_id == parent_id)
    if q:
        stmt = stmt.where(Organisation.name.contains(q, autoescape=True) | (Organisation.code == q))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(Organisation.path).limit(limit).offset(offset)).all()
    return rows, total


def ancestors(session: Session, org: Organisation) -> list[Organisation]:
    """The chain above ``org``, root first: every organisation whose path is a prefix of its path."""
    return list(
        session.scalars(
            select(Organisation)
            .where(literal(org.path).startswith(Organisation.path), Organisation.id != org.id)
            .order_by(Organisation.depth)
        )
    )


def subtree(session: Session, org: Organisation) -> Sequence[Organisation]:
    return session.scalars(
        select(Organisation).where(Organisation.path.startswith(org.path, autoescape=True)).order_by(Organisation.path)
    ).all()


def _check_parent(kind: OrgKind, parent: Organisation | None) -> None:
    allowed = ALLOWED_PARENTS[kind]
    if parent is None:
        if allowed:
            raise Invalid(f"a {kind} needs a parent of kind {', '.join(sorted(allowed))}", field="parent_id")
        return
    if OrgKind(parent.kind) not in allowed:
        raise Invalid(
            f"a {kind} cannot sit under a {parent.kind}; allowed: {', '.join(sorted(allowed)) or 'none (root)'}",
            field="parent_id",
        )


def _check_geometry(geom: BaseGeometry, parent: Organisation | None) -> None:
    if parent is None or parent.geometry is None:
        return
    outside = geom.difference(parent.geometry).area
    if geom.area > 0 and outside / geom.area > CONTAINMENT_TOLERANCE:
        raise Invalid(
            f"geometry lies {outside / geom.area:.1%} outside the parent {parent.code} ({parent.name})",
            field="geometry",
        )


def _resolve_parent(session: Session, parent_id: int | None) -> Organisation | None:
    if parent_id is None:
        return None
    parent = session.get(Organisation, parent_id)
    if parent is None:
        raise Invalid(f"unknown parent organisation {parent_id}", field="parent_id")
    return parent


def _place(org: Organisation, parent: Organisation | None) -> None:
    org.path = f"{parent.path if parent else '/'}{org.code}/"
    org.depth = parent.depth + 1 if parent else 0


def create(session: Session, data: OrgIn) -> Organisation:
    parent = _resolve_parent(session, data.parent_id)
    _check_parent(data.kind, parent)
    if parent is not None:
        require_writable(session, parent)
    elif session_scope(session) is not None:
        raise Forbidden("a root organisation is created by the platform (chengguan CLI), not through the API")
    geom = parse_geometry(data.geometry) if data.geometry is not None else None
    if geom is not None:
        if data.kind not in AREA_KINDS and data.kind != OrgKind.SQUAD:
            raise Invalid(f"a {data.kind} has no jurisdiction geometry", field="geometry")
        _check_geometry(geom, parent)
    if (
        session.scalar(select(Organisation.id).where(Organisation.code == data.code).execution_options(skip_scope=True))
        is not None
    ):
        raise Conflict(f"organisation code {data.code!r} already exists", field="code")
    org = Organisation(
        code=data.code,
        name=data.name,
        name_en=data.name_en,
        kind=data.kind,
        function=data.function,
        parent_id=parent.id if parent else None,
        phone=data.phone,
        geometry=geom,
    )
    _place(org, parent)
    session.add(org)
    session.flush()
    return org


def update_org(session: Session, org: Organisation, patch: OrgPatch) -> Organisation:
    require_writable(session, org)
    changes: dict[str, Any] = patch.model_dump(exclude_unset=True)
    if "parent_id" in changes and changes["parent_id"] != org.parent_id:
        _move(session, org, _resolve_parent(session, changes.pop("parent_id")))
    changes.pop("parent_id", None)
    if "geometry" in changes:
        raw = changes.pop("geometry")
        geom = parse_geometry(raw) if raw is not None else None
        if geom is not None:
            _check_geometry(geom, org.parent)
        org.geometry = geom
    for key, value in changes.items():
        if key in {"name"} and value is None:
            raise Invalid("name cannot be empty", field=key)
        setattr(org, key, value)
    return org


def _move(session: Session, org: Organisation, new_parent: Organisation | None) -> None:
    _check_parent(OrgKind(org.kind), new_parent)
    if new_parent is not None:
        require_writable(session, new_parent)
        if new_parent.path.startswith(org.path):
            raise Invalid("cannot move an organisation under itself", field="parent_id")
    old_path = org.path
    org.parent_id = new_parent.id if new_parent else None
    _place(org, new_parent)
    depth_shift = org.depth - old_path.count("/") + 2
    session.execute(
        update(Organisation)
        .where(Organisation.path.startswith(old_path, autoescape=True), Organisation.id != org.id)
        .values(
            path=org.path + func.substr(Organisation.path, len(old_path) + 1),
            depth=Organisation.depth + depth_shift,
        )
        .execution_options(synchronize_session="fetch")
    )


def delete(session: Session, org: Organisation) -> None:
    require_writable(session, org)
    if session.scalar(select(func.count()).where(Organisation.parent_id == org.id)):
        raise Conflict(f"organisation {org.code} still has child organisations", field="id")
    session.delete(org)
    session.flush()
