"""Unit grid cells, responsibility grids and point location. Plain functions, session first;
they never commit.

Every function that changes cells bumps the grid revision in the same transaction, so each
process's cached :class:`GridIndex` (see :func:`grid_index`) is rebuilt on its next use.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry.base import BaseGeometry
from sqlalchemy import ColumnElement, Select, func, insert, select
from sqlalchemy.orm import Session

from chengguan import audit, revisions
from chengguan.errors import ChengguanError, Conflict, FieldError, Invalid, NotFound
from chengguan.geo.grid import GridIndex, areas_m2
from chengguan.geo.models import GridCell, ResponsibilityGrid, ResponsibilityMember
from chengguan.geo.schemas import CellIn, CellPatch, ImportReport, ResponsibilityIn, ResponsibilityPatch
from chengguan.kit.geojson import parse_geometry, parse_wkt
from chengguan.orgs import service as orgs_service
from chengguan.orgs.models import AREA_KINDS, Organisation, OrgKind, subtree_ids

CODE_PATTERN = re.compile(r"^[0-9]{15}$")
COMMUNITY_DIGITS = 12
# Share of a cell allowed outside its community, and of the smaller of two cells allowed to
# overlap: floating-point slivers along shared edges, nothing a person could see.
CONTAINMENT_TOLERANCE = orgs_service.CONTAINMENT_TOLERANCE
OVERLAP_TOLERANCE = 0.001
CODE_CHUNK = 1000  # codes per IN (...) lookup, well inside every driver's parameter limit

Bbox = tuple[float, float, float, float]
GRID = "grid"  # the revision counter of the cells: every process keys its point → cell index on it

# -- grid revision and the per-process index ----------------------------------------------------


def grid_revision(session: Session) -> int:
    return revisions.counter(session, GRID)


def _bump_revision(session: Session) -> int:
    """Count one more change. The row lock also queues concurrent grid writers on PostgreSQL,
    so two imports cannot both pass the overlap check against each other's cells."""
    return revisions.bump(session, GRID)


class _IndexCache:
    """The current :class:`GridIndex` per database, rebuilt when the revision token moves."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[str, GridIndex]] = {}

    def get(self, session: Session) -> GridIndex:
        key = session.get_bind().engine.url.render_as_string(hide_password=True)
        (token,) = revisions.tokens(session, GRID)
        with self._lock:  # one build at a time: concurrent requests wait for it rather than repeat it
            entry = self._entries.get(key)
            if entry is None or entry[0] != token:
                entry = (token, _build_index(session))
                self._entries[key] = entry
            return entry[1]


_index_cache = _IndexCache()


def grid_index(session: Session) -> GridIndex:
    """The point → cell index of all active cells (every organisation's), as this session sees
    them; cached per process and rebuilt after any change to the cells."""
    return _index_cache.get(session)


def _build_index(session: Session) -> GridIndex:
    rows = session.execute(
        select(GridCell.id, GridCell.code, GridCell.geometry)
        .where(GridCell.active.is_(True))
        .execution_options(skip_scope=True)
    ).all()
    return GridIndex([r.id for r in rows], [r.code for r in rows], [r.geometry for r in rows])


# -- reading cells ----------------------------------------------------------------------------


def get_cell(session: Session, code: str) -> GridCell:
    cell = session.scalar(select(GridCell).where(GridCell.code == code))
    if cell is None:
        raise NotFound(f"grid cell {code!r} not found / 单元网格不存在", field="code")
    return cell


def _cell_filter(
    session: Session,
    org_id: int | None,
    area_class: str | None,
    bbox: Bbox | None,
    active: bool | None,
) -> Select[GridCell]:
    stmt = select(GridCell)
    if org_id is not None:
        stmt = stmt.where(GridCell.org_id.in_(subtree_ids(orgs_service.get(session, org_id).path)))
    if area_class is not None:
        stmt = stmt.where(GridCell.area_class == area_class)
    if bbox is not None:
        stmt = stmt.where(*_bbox_meets(bbox))
    if active is not None:
        stmt = stmt.where(GridCell.active.is_(active))
    return stmt


def _bbox_meets(bbox: Bbox) -> list[ColumnElement[bool]]:
    min_lon, min_lat, max_lon, max_lat = bbox
    return [
        GridCell.max_lon >= min_lon,
        GridCell.min_lon <= max_lon,
        GridCell.max_lat >= min_lat,
        GridCell.min_lat <= max_lat,
    ]


def list_cells(
    session: Session,
    *,
    org_id: int | None = None,
    area_class: str | None = None,
    bbox: Bbox | None = None,
    active: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[Sequence[GridCell], int]:
    """Cells under ``org_id`` (its whole subtree) whose bounding box meets ``bbox``, by code."""
    stmt = _cell_filter(session, org_id, area_class, bbox, active)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(GridCell.code).limit(limit).offset(offset)).all()
    return rows, total


# -- checking cells -----------------------------------------------------------------------------


@dataclass
class _Batch:
    """Cells being written, checked together; ``labels`` say where each came from in a file."""

    codes: Sequence[str]
    labels: Sequence[str | None]
    geoms: list[BaseGeometry | None] = field(default_factory=list)
    communities: list[Organisation | None] = field(default_factory=list)
    errors: list[ChengguanError] = field(default_factory=list)
    bad: set[int] = field(default_factory=set)

    def refuse(self, i: int, kind: type[ChengguanError], column: str, message: str) -> None:
        label = self.labels[i]
        self.errors.append(kind(message, field=f"{label}: {column}" if label else column))
        self.bad.add(i)

    def good(self) -> Iterator[int]:
        return (i for i in range(len(self.codes)) if i not in self.bad)


def parse_cell_geometry(value: dict[str, Any] | str, column: str = "geometry") -> BaseGeometry:
    """A valid Polygon/MultiPolygon from GeoJSON (object or text) or WKT."""
    if isinstance(value, str) and not value.lstrip().startswith("{"):
        return parse_wkt(value, field=column)
    return parse_geometry(value, field=column)


def _check_codes(session: Session, batch: _Batch, cells: Sequence[CellIn]) -> None:
    seen: dict[str, int] = {}
    for i, cell in enumerate(cells):
        if not CODE_PATTERN.match(cell.code):
            batch.refuse(i, Invalid, "code", f"{cell.code!r} is not 15 digits (community code 12 + serial 3)")
        elif cell.code in seen:
            first = batch.labels[seen[cell.code]] or "another cell"
            batch.refuse(i, Invalid, "code", f"code {cell.code} appears twice (also at {first})")
        else:
            seen[cell.code] = i
        if cell.community_code is not None and cell.community_code != cell.code[:COMMUNITY_DIGITS]:
            batch.refuse(i, Invalid, "community_code", f"code {cell.code} does not start with {cell.community_code}")
    taken = _existing_codes(session, list(seen))
    for code in taken:
        batch.refuse(seen[code], Conflict, "code", f"grid cell {code} already exists / 网格编码已存在")


def _existing_codes(session: Session, codes: list[str]) -> set[str]:
    """Codes already in the database, in any organisation (the caller's scope does not hide them)."""
    found: set[str] = set()
    for start in range(0, len(codes), CODE_CHUNK):
        chunk = codes[start : start + CODE_CHUNK]
        found.update(
            session.scalars(
                select(GridCell.code).where(GridCell.code.in_(chunk)).execution_options(skip_scope=True)
            ).all()
        )
    return found


def _check_communities(session: Session, batch: _Batch, cells: Sequence[CellIn]) -> None:
    """The community named by each code prefix: visible to the caller and writable by them."""
    prefixes = {c.code[:COMMUNITY_DIGITS] for c in cells}
    known = {o.code: o for o in session.scalars(select(Organisation).where(Organisation.code.in_(prefixes)))}
    for community in known.values():
        if community.kind == OrgKind.COMMUNITY:
            orgs_service.require_writable(session, community)
    for i, cell in enumerate(cells):
        column = "community_code" if cell.community_code else "code"
        org = known.get(cell.code[:COMMUNITY_DIGITS]) if i not in batch.bad else None
        batch.communities.append(org)
        if i in batch.bad:
            continue
        if org is None:
            batch.refuse(i, Invalid, column, f"unknown community {cell.code[:COMMUNITY_DIGITS]} / 社区不存在")
        elif org.kind != OrgKind.COMMUNITY:
            batch.refuse(i, Invalid, column, f"{org.code} ({org.name}) is a {org.kind}, not a community")


def _parse_geometries(batch: _Batch, cells: Sequence[CellIn]) -> None:
    for i, cell in enumerate(cells):
        try:
            batch.geoms.append(parse_cell_geometry(cell.geometry))
        except ChengguanError as exc:
            batch.geoms.append(None)
            batch.refuse(i, Invalid, "geometry", exc.message)


def _check_inside(session: Session, batch: _Batch) -> None:
    """Each cell within its community, give or take :data:`CONTAINMENT_TOLERANCE`."""
    todo = [i for i in batch.good() if batch.communities[i] is not None and batch.geoms[i] is not None]
    shares = _outside_shares(session, batch, todo)
    outside = [i for i, share in zip(todo, shares, strict=True) if share > CONTAINMENT_TOLERANCE]
    districts = _district_union(session) if outside else None
    for i, share in zip(todo, shares, strict=True):
        org = batch.communities[i]
        if share <= CONTAINMENT_TOLERANCE or org is None:
            continue
        if districts is not None and not districts.intersects(batch.geoms[i]):
            batch.refuse(i, Invalid, "geometry", "lies outside every district / 网格不在任何区内")
        else:
            message = f"lies {share:.1%} outside its community {org.code} ({org.name}) / 网格超出所属社区"
            batch.refuse(i, Invalid, "geometry", message)


def _outside_shares(session: Session, batch: _Batch, todo: list[int]) -> NDArray[np.float64]:
    """Share of each cell's area outside the nearest of its community and its ancestors that
    has a jurisdiction geometry (0 when none has)."""
    shares = np.zeros(len(todo))
    containers = [_jurisdiction(session, batch.communities[i]) for i in todo]
    cells = np.array([batch.geoms[i] for i in todo], dtype=object)
    outer = np.array(containers, dtype=object)
    has = np.array([c is not None for c in containers], dtype=bool)
    if not has.any():
        return shares
    shapely.prepare(outer[has])
    covered = shapely.covers(outer[has], cells[has])
    check = np.flatnonzero(has)[~covered]
    if check.size:
        outside = shapely.area(shapely.difference(cells[check], outer[check]))
        shares[check] = outside / shapely.area(cells[check])
    return shares


def _jurisdiction(session: Session, org: Organisation | None) -> BaseGeometry | None:
    if org is None or org.geometry is not None:
        return None if org is None else org.geometry
    for ancestor in reversed(orgs_service.ancestors(session, org)):
        if ancestor.geometry is not None:
            return ancestor.geometry
    return None


def _district_union(session: Session) -> BaseGeometry | None:
    districts = session.scalars(
        select(Organisation.geometry)
        .where(Organisation.kind == OrgKind.DISTRICT, Organisation.geometry.is_not(None))
        .execution_options(skip_scope=True)
    ).all()
    return shapely.union_all(districts) if districts else None


def _check_overlaps(session: Session, batch: _Batch, replacing: int | None = None) -> None:
    """No cell may overlap an active cell (in the database or the batch) beyond the tolerance."""
    todo = [i for i in batch.good() if batch.geoms[i] is not None]
    if not todo:
        return
    new = np.array([batch.geoms[i] for i in todo], dtype=object)
    near = session.execute(
        select(GridCell.code, GridCell.geometry)
        .where(GridCell.active.is_(True), GridCell.id != (replacing or -1), *_bbox_meets(shapely.total_bounds(new)))
        .execution_options(skip_scope=True)
    ).all()
    old = np.array([r.geometry for r in near], dtype=object)
    for a, b in _overlapping_pairs(new, old):
        batch.refuse(todo[a], Invalid, "geometry", f"overlaps grid cell {near[b].code} / 与已有网格重叠")
    for a, b in _overlapping_pairs(new, new):
        if a < b:
            other = batch.labels[todo[a]] or batch.codes[todo[a]]
            batch.refuse(todo[b], Invalid, "geometry", f"overlaps the cell at {other} / 与同批网格重叠")


def _overlapping_pairs(left: NDArray[np.object_], right: NDArray[np.object_]) -> list[tuple[int, int]]:
    """Pairs (i, j), i ≠ j when both sides are the same array, whose overlap is more than
    :data:`OVERLAP_TOLERANCE` of the smaller one. Prepared predicates find the few interiors
    that meet; only those pay for an intersection."""
    if not len(left) or not len(right):
        return []
    tree = shapely.STRtree(right)
    pairs = np.unique(
        np.concatenate([tree.query(left, predicate=p) for p in ("overlaps", "contains", "within")], axis=1), axis=1
    )
    if left is right:
        pairs = pairs[:, pairs[0] != pairs[1]]
    a, b = left[pairs[0]], right[pairs[1]]
    shared = shapely.area(shapely.intersection(a, b))
    big = shared > OVERLAP_TOLERANCE * np.minimum(shapely.area(a), shapely.area(b))
    return [(int(i), int(j)) for i, j in pairs[:, big].T]


def _check(session: Session, cells: Sequence[CellIn], labels: Sequence[str | None]) -> _Batch:
    batch = _Batch([c.code for c in cells], labels)
    _check_codes(session, batch, cells)
    _check_communities(session, batch, cells)
    _parse_geometries(batch, cells)
    _check_inside(session, batch)
    _check_overlaps(session, batch)
    return batch


def _refuse(errors: list[ChengguanError], summary: str) -> ChengguanError:
    """One error carrying every field error; its class (status) is that of the first."""
    return type(errors[0])(summary, errors=[e for err in errors for e in err.errors])


# -- writing cells ------------------------------------------------------------------------------


def _geometry_columns(geom: BaseGeometry) -> dict[str, float]:
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    area = float(areas_m2([geom])[0])
    return {"area_m2": area, "min_lon": min_lon, "min_lat": min_lat, "max_lon": max_lon, "max_lat": max_lat}


def create_cell(session: Session, data: CellIn) -> GridCell:
    _bump_revision(session)
    batch = _check(session, [data], [None])
    if batch.errors:
        raise _refuse(batch.errors, batch.errors[0].message)
    geom, org = batch.geoms[0], batch.communities[0]
    assert geom is not None and org is not None
    cell = GridCell(
        code=data.code,
        name=data.name,
        org_id=org.id,
        area_class=data.area_class,
        geometry=geom,
        **_geometry_columns(geom),
    )
    session.add(cell)
    session.flush()
    return cell


def import_cells(
    session: Session,
    cells: Sequence[CellIn],
    labels: Sequence[str] | None = None,
    *,
    refused: Sequence[FieldError] = (),
) -> ImportReport:
    """Insert many new cells at once, all or nothing: every row is checked (code, community,
    geometry, containment, overlaps with the database and with each other) and every bad row is
    reported with its label (``line 7``, ``feature 3``). ``refused`` carries errors the caller
    already found while reading the file, so they are reported together."""
    names = list(labels) if labels is not None else [f"row {i + 1}" for i in range(len(cells))]
    revision = _bump_revision(session)
    batch = _check(session, cells, names)
    errors = list(refused) + [e for err in batch.errors for e in err.errors]
    if errors:
        raise Invalid(f"{len(errors)} problem(s) found; nothing was imported / 导入失败，未写入任何数据", errors=errors)
    if not cells:
        raise Invalid("no cells to import / 没有网格", field="file")
    geoms = np.array(batch.geoms, dtype=object)
    rows = _cell_rows(cells, batch, geoms)
    session.execute(insert(GridCell), rows)
    report = _report(rows, revision)
    # filed under the importer's own organisation, where its administrators read the audit trail
    actor = session.info.get("actor")
    audit.record(
        session,
        "grid_cells.import",
        "grid_cells",
        after=report.model_dump(),
        org_id=actor.org_id if isinstance(actor, audit.Actor) else None,
    )
    return report


def _cell_rows(cells: Sequence[CellIn], batch: _Batch, geoms: NDArray[np.object_]) -> list[dict[str, Any]]:
    bounds = shapely.bounds(geoms)
    areas = areas_m2(geoms)
    rows = []
    for i, cell in enumerate(cells):
        org = batch.communities[i]
        assert org is not None
        rows.append(
            {
                "code": cell.code,
                "name": cell.name,
                "org_id": org.id,
                "area_class": cell.area_class,
                "geometry": geoms[i],
                "area_m2": float(areas[i]),
                "min_lon": float(bounds[i, 0]),
                "min_lat": float(bounds[i, 1]),
                "max_lon": float(bounds[i, 2]),
                "max_lat": float(bounds[i, 3]),
                "active": True,
            }
        )
    return rows


def _report(rows: list[dict[str, Any]], revision: int) -> ImportReport:
    by_class: dict[str, int] = {}
    for row in rows:
        by_class[str(row["area_class"])] = by_class.get(str(row["area_class"]), 0) + 1
    return ImportReport(
        created=len(rows),
        communities=len({row["org_id"] for row in rows}),
        area_m2=round(sum(row["area_m2"] for row in rows), 1),
        by_area_class=dict(sorted(by_class.items())),
        grid_revision=revision,
    )


def update_cell(session: Session, cell: GridCell, patch: CellPatch) -> GridCell:
    """Rename, reclassify, reshape or (de)activate a cell. A new shape, or a cell coming back
    into use, is checked like a new cell (inside its community, no overlaps)."""
    community = orgs_service.get(session, cell.org_id)
    orgs_service.require_writable(session, community)
    _bump_revision(session)
    changes = patch.model_dump(exclude_unset=True)
    for key in ("name", "area_class", "active", "geometry"):
        if key in changes and changes[key] is None:
            raise Invalid(f"{key} cannot be empty", field=key)
    geom = parse_cell_geometry(changes.pop("geometry")) if "geometry" in changes else cell.geometry
    if "geometry" in patch.model_fields_set or (changes.get("active") and not cell.active):
        _check_shape(session, cell, community, geom)
        cell.geometry = geom
        for key, value in _geometry_columns(geom).items():
            setattr(cell, key, value)
    for key, value in changes.items():
        setattr(cell, key, value)
    session.flush()
    return cell


def _check_shape(session: Session, cell: GridCell, community: Organisation, geom: BaseGeometry) -> None:
    batch = _Batch([cell.code], [None], geoms=[geom], communities=[community])
    _check_inside(session, batch)
    _check_overlaps(session, batch, replacing=cell.id)
    if batch.errors:
        raise _refuse(batch.errors, batch.errors[0].message)


def delete_cell(session: Session, cell: GridCell) -> None:
    """Delete a cell no responsibility grid holds (one in use is deactivated, not deleted)."""
    orgs_service.require_writable(session, orgs_service.get(session, cell.org_id))
    grids = session.scalars(
        select(ResponsibilityGrid.code)
        .join(ResponsibilityMember, ResponsibilityMember.grid_id == ResponsibilityGrid.id)
        .where(ResponsibilityMember.cell_id == cell.id)
        .execution_options(skip_scope=True)
    ).all()
    if grids:
        raise Conflict(
            f"cell {cell.code} belongs to responsibility grid(s) {', '.join(grids)}; remove it there or deactivate it",
            field="code",
        )
    _bump_revision(session)
    session.delete(cell)
    session.flush()


# -- locating points ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Location:
    """Where a point is: cell → community → street → district, and who is on duty there."""

    lon: float
    lat: float
    cell: GridCell
    community: Organisation
    street: Organisation | None
    district: Organisation | None
    duties: Sequence[ResponsibilityGrid]


def locate_ids(session: Session, lon: ArrayLike, lat: ArrayLike) -> NDArray[np.int64]:
    """Cell ids for many WGS-84 points at once (-1 outside every active cell), in any
    organisation: the bulk path for intake and analytics, which apply their own scope."""
    index = grid_index(session)
    return np.append(index.ids, -1)[index.locate(lon, lat)]  # position -1 picks the appended -1


def locate(session: Session, lon: float, lat: float) -> Location | None:
    """The cell a WGS-84 point lies in, with its community, street and district; None when the
    point is outside every active cell the session can see."""
    cell_id = int(locate_ids(session, np.array([lon]), np.array([lat]))[0])
    cell = session.get(GridCell, cell_id) if cell_id >= 0 else None
    if cell is None:
        return None
    community = orgs_service.get(session, cell.org_id)
    chain = orgs_service.ancestors(session, community)
    return Location(
        lon=lon,
        lat=lat,
        cell=cell,
        community=community,
        street=_nearest(chain, {OrgKind.STREET, OrgKind.TOWN}),
        district=_nearest(chain, {OrgKind.DISTRICT}),
        duties=_duties_of(session, cell),
    )


def _nearest(chain: list[Organisation], kinds: set[OrgKind]) -> Organisation | None:
    return next((o for o in reversed(chain) if o.kind in kinds), None)


def _duties_of(session: Session, cell: GridCell) -> Sequence[ResponsibilityGrid]:
    """Active responsibility grids holding the cell: whoever sees a cell may know who is on duty
    there, also when the grid is kept by a district above the caller's street."""
    return session.scalars(
        select(ResponsibilityGrid)
        .join(ResponsibilityMember, ResponsibilityMember.grid_id == ResponsibilityGrid.id)
        .where(ResponsibilityMember.cell_id == cell.id, ResponsibilityGrid.active.is_(True))
        .order_by(ResponsibilityGrid.kind)
        .execution_options(skip_scope=True)
    ).all()


# -- responsibility grids -----------------------------------------------------------------------


def get_responsibility(session: Session, code: str) -> ResponsibilityGrid:
    grid = session.scalar(select(ResponsibilityGrid).where(ResponsibilityGrid.code == code))
    if grid is None:
        raise NotFound(f"responsibility grid {code!r} not found / 责任网格不存在", field="code")
    return grid


def list_responsibility(
    session: Session,
    *,
    kind: str | None = None,
    owner_org_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[Sequence[ResponsibilityGrid], int]:
    stmt = select(ResponsibilityGrid)
    if kind is not None:
        stmt = stmt.where(ResponsibilityGrid.kind == kind)
    if owner_org_id is not None:
        stmt = stmt.where(ResponsibilityGrid.owner_org_id == owner_org_id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(ResponsibilityGrid.code).limit(limit).offset(offset)).all()
    return rows, total


def member_cells(session: Session, grid: ResponsibilityGrid) -> list[tuple[str, BaseGeometry, float]]:
    """(code, geometry, area) of a grid's cells. Whoever sees the grid sees all of its shape,
    also the owning unit whose own subtree does not hold the cells."""
    rows = session.execute(
        select(GridCell.code, GridCell.geometry, GridCell.area_m2)
        .join(ResponsibilityMember, ResponsibilityMember.cell_id == GridCell.id)
        .where(ResponsibilityMember.grid_id == grid.id)
        .order_by(GridCell.code)
        .execution_options(skip_scope=True)
    ).all()
    return [(r.code, r.geometry, r.area_m2) for r in rows]


def responsibility_geometry(session: Session, grid: ResponsibilityGrid) -> BaseGeometry | None:
    geoms = [g for _code, g, _area in member_cells(session, grid)]
    return shapely.union_all(geoms) if geoms else None


def _org_by_id(session: Session, org_id: int, column: str) -> Organisation:
    """Any organisation, also one outside the caller's subtree: a district department may own a
    street's grid, and naming it reads nothing of its data."""
    org = session.scalar(select(Organisation).where(Organisation.id == org_id).execution_options(skip_scope=True))
    if org is None:
        raise Invalid(f"unknown organisation {org_id}", field=column)
    return org


def _writable_area(session: Session, org_id: int) -> Organisation:
    """The area organisation a responsibility grid belongs to, which the caller must be able to
    write (an owning unit sees its grids but does not redraw them)."""
    org = _org_by_id(session, org_id, "org_id")
    if org.kind not in AREA_KINDS:
        raise Invalid(f"{org.code} ({org.name}) is a {org.kind}, not a district, street or community", field="org_id")
    orgs_service.require_writable(session, org)
    return org


def _member_ids(session: Session, grid: ResponsibilityGrid, area: Organisation, codes: Sequence[str]) -> list[int]:
    """Ids of the cells named by ``codes``: visible, inside ``area``, not yet in another grid
    of the same kind."""
    wanted = list(dict.fromkeys(codes))
    found = {
        c.code: c
        for c in session.scalars(
            select(GridCell).where(GridCell.code.in_(wanted), GridCell.org_id.in_(subtree_ids(area.path)))
        )
    }
    missing = [c for c in wanted if c not in found]
    if missing:
        raise Invalid(f"no such cell in {area.name}: {', '.join(missing[:20])}", field="cell_codes")
    ids = [found[c].id for c in wanted]
    taken = session.execute(
        select(GridCell.code, ResponsibilityGrid.code)
        .join(ResponsibilityMember, ResponsibilityMember.cell_id == GridCell.id)
        .join(ResponsibilityGrid, ResponsibilityGrid.id == ResponsibilityMember.grid_id)
        .where(
            ResponsibilityMember.cell_id.in_(ids),
            ResponsibilityMember.kind == grid.kind,
            ResponsibilityMember.grid_id != grid.id,
        )
        .execution_options(skip_scope=True)
    ).all()
    if taken:
        pairs = ", ".join(f"{cell} → {other}" for cell, other in taken[:20])
        raise Conflict(f"cells already in a {grid.kind} responsibility grid: {pairs}", field="cell_codes")
    return ids


def _set_members(session: Session, grid: ResponsibilityGrid, area: Organisation, codes: Sequence[str]) -> None:
    ids = _member_ids(session, grid, area, codes)
    keep = set(ids)
    grid.members = [m for m in grid.members if m.cell_id in keep]
    present = {m.cell_id for m in grid.members}
    grid.members += [ResponsibilityMember(cell_id=i, kind=grid.kind) for i in ids if i not in present]


def create_responsibility(session: Session, data: ResponsibilityIn) -> ResponsibilityGrid:
    area = _writable_area(session, data.org_id)
    owner = _org_by_id(session, data.owner_org_id, "owner_org_id")
    if (
        session.scalar(
            select(ResponsibilityGrid.id).where(ResponsibilityGrid.code == data.code).execution_options(skip_scope=True)
        )
        is not None
    ):
        raise Conflict(f"responsibility grid {data.code!r} already exists", field="code")
    grid = ResponsibilityGrid(code=data.code, name=data.name, kind=data.kind, org_id=area.id, owner_org_id=owner.id)
    session.add(grid)
    session.flush()
    _set_members(session, grid, area, data.cell_codes)
    session.flush()
    return grid


def update_responsibility(session: Session, grid: ResponsibilityGrid, patch: ResponsibilityPatch) -> ResponsibilityGrid:
    area = _writable_area(session, grid.org_id)
    changes = patch.model_dump(exclude_unset=True)
    for key in ("name", "owner_org_id", "cell_codes", "active"):
        if key in changes and changes[key] is None:
            raise Invalid(f"{key} cannot be empty", field=key)
    if "owner_org_id" in changes:
        grid.owner_org_id = _org_by_id(session, changes.pop("owner_org_id"), "owner_org_id").id
    if "cell_codes" in changes:
        _set_members(session, grid, area, changes.pop("cell_codes"))
    for key, value in changes.items():
        setattr(grid, key, value)
    session.flush()
    return grid


def delete_responsibility(session: Session, grid: ResponsibilityGrid) -> None:
    _writable_area(session, grid.org_id)
    session.delete(grid)
    session.flush()
