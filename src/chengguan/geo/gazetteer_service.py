"""The gazetteer in the database: entries, their import, and address resolution through a
per-process index. Plain functions, session first; they never commit.

Entries of kind district/street/community mirror the area organisations and follow them by
themselves (see ``geo.models``); :func:`refresh_area_entries` rebuilds them all, for a database
that predates the gazetteer. Roads and POIs are data: imported from a file or edited one by
one, each placed in the most specific area organisation that covers it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import shapely
from pydantic import ValidationError
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from chengguan import audit, revisions
from chengguan.errors import Conflict, FieldError, Invalid, NotFound
from chengguan.geo.gazetteer import AddressMatch, GazetteerIndex, Place
from chengguan.geo.gazetteer_schemas import EntryIn, EntryPatch, GazetteerImportReport, RefreshReport
from chengguan.geo.models import (
    ALIAS_SEPARATOR,
    AREA_ENTRY_KINDS,
    DERIVED_KINDS,
    MAX_ALIAS_TEXT,
    EntryKind,
    GazetteerEntry,
    area_entry_row,
)
from chengguan.kit.coords import CRS, convert_geometry, convert_point
from chengguan.kit.geojson import parse_geometry, parse_wkt
from chengguan.kit.tabular import read_table
from chengguan.kit.uploads import RowErrors, invalid, require_suffix
from chengguan.orgs.models import AREA_KINDS, Organisation, OrgKind, subtree_ids

REVISIONS = ("gazetteer", "orgs")  # the index reads entries and the organisation tree
LINEAR = frozenset({"LineString", "MultiLineString"})
MAX_ALIAS = 50
NAME_CHUNK = 1000  # names per IN (...) lookup
COLUMNS = ("name", "kind", "org_code")
KIND_WORDS = {
    "road": "road",
    "poi": "poi",
    "道路": "road",
    "街巷": "road",
    "兴趣点": "poi",
    "地点": "poi",
    "地标": "poi",
}
ALIAS_SEPARATORS = (ALIAS_SEPARATOR, "、", ";", "；")

Problems = list[tuple[str, str]]  # (column, message)

# -- the per-process index ------------------------------------------------------------------------


class _IndexCache:
    """The current :class:`GazetteerIndex` per database, rebuilt when the gazetteer or the
    organisation tree has changed (in any process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[tuple[str, ...], GazetteerIndex]] = {}

    def get(self, session: Session) -> GazetteerIndex:
        key = session.get_bind().engine.url.render_as_string(hide_password=True)
        tokens = revisions.tokens(session, *REVISIONS)
        with self._lock:  # one build at a time: concurrent requests wait for it rather than repeat it
            entry = self._entries.get(key)
            if entry is None or entry[0] != tokens:
                entry = (tokens, GazetteerIndex(load_places(session)))
                self._entries[key] = entry
            return entry[1]


_index_cache = _IndexCache()


def gazetteer_index(session: Session) -> GazetteerIndex:
    """Every active entry, whatever the session's scope, cached per process."""
    return _index_cache.get(session)


def load_places(session: Session) -> list[Place]:
    """The active entries as the matcher sees them, each with its organisation's path and its
    district, street and community."""
    areas = session.execute(
        select(Organisation.id, Organisation.code, Organisation.kind, Organisation.path)
        .where(Organisation.kind.in_(AREA_KINDS))
        .execution_options(skip_scope=True)
    ).all()
    kinds: dict[str, tuple[int, str]] = {}
    paths: dict[int, str] = {}
    for org_id, code, kind, path in areas:
        kinds[code] = (org_id, kind)
        paths[org_id] = path
    entries = session.scalars(select(GazetteerEntry).where(GazetteerEntry.active.is_(True)))
    return [_place(e, paths[e.org_id], kinds) for e in entries if e.org_id in paths]


def _place(entry: GazetteerEntry, path: str, kinds: dict[str, tuple[int, str]]) -> Place:
    ids: dict[EntryKind, int] = {}
    for code in path.strip("/").split("/"):
        org_id, org_kind = kinds.get(code, (0, OrgKind.CITY))
        kind = AREA_ENTRY_KINDS.get(OrgKind(org_kind))
        if kind is not None:
            ids[kind] = org_id
    return Place(
        id=entry.id,
        kind=EntryKind(entry.kind),
        name=entry.name,
        lon=entry.lon,
        lat=entry.lat,
        path=path,
        aliases=tuple(entry.aliases),
        district_id=ids.get(EntryKind.DISTRICT),
        street_id=ids.get(EntryKind.STREET),
        community_id=ids.get(EntryKind.COMMUNITY),
        line=entry.line,
    )


# -- resolving addresses --------------------------------------------------------------------------


def resolve_address(session: Session, text: str, *, within_org_id: int | None = None) -> AddressMatch | None:
    """The gazetteer place an address names (a WGS-84 point with the organisations it implies),
    or None. ``within_org_id`` keeps only places inside that organisation or above it."""
    return gazetteer_index(session).resolve(text, _within(session, within_org_id))


def resolve_many(
    session: Session, texts: Iterable[str], *, within_org_id: int | None = None
) -> list[AddressMatch | None]:
    """:func:`resolve_address` for a batch: the bulk intake path (one cache check per batch)."""
    return gazetteer_index(session).resolve_many(texts, _within(session, within_org_id))


def implied_orgs(
    session: Session, match: AddressMatch
) -> tuple[Organisation | None, Organisation | None, Organisation | None]:
    """The district, street and community a match implies, whatever the session's scope."""

    def named(org_id: int | None) -> Organisation | None:
        return None if org_id is None else _any_org(session, org_id, "address")

    return named(match.district_id), named(match.street_id), named(match.community_id)


def _within(session: Session, org_id: int | None) -> str | None:
    return None if org_id is None else _any_org(session, org_id, "within_org_id").path


def _any_org(session: Session, org_id: int, column: str) -> Organisation:
    """Any organisation, also outside the caller's subtree: the gazetteer is the whole city's,
    and naming an area to narrow it reads nothing of that area's data."""
    org = session.scalar(select(Organisation).where(Organisation.id == org_id).execution_options(skip_scope=True))
    if org is None:
        raise NotFound(f"organisation {org_id} not found / 组织不存在", field=column)
    return org


# -- entries that mirror organisations ------------------------------------------------------------


def refresh_area_entries(session: Session) -> RefreshReport:
    """Make the district/street/community entries match the organisation tree exactly: one per
    area organisation with a polygon, named as it is, at a point inside it. Aliases added by
    hand survive."""
    orgs = session.scalars(
        select(Organisation).where(Organisation.kind.in_(AREA_ENTRY_KINDS)).execution_options(skip_scope=True)
    ).all()
    wanted = {row["org_id"]: row for org in orgs if (row := area_entry_row(org)) is not None}
    have = {e.org_id: e for e in session.scalars(select(GazetteerEntry).where(GazetteerEntry.kind.in_(DERIVED_KINDS)))}
    stale = [r.id for org_id, r in have.items() if org_id not in wanted]
    new = [row for org_id, row in wanted.items() if org_id not in have]
    changed = [
        (have[org_id].id, row) for org_id, row in wanted.items() if org_id in have and _differs(have[org_id], row)
    ]
    if stale:
        session.execute(delete(GazetteerEntry).where(GazetteerEntry.id.in_(stale)))
    if new:
        session.execute(insert(GazetteerEntry), [{"alias_text": "", "line": None, **row} for row in new])
    for entry_id, row in changed:
        session.execute(update(GazetteerEntry).where(GazetteerEntry.id == entry_id).values(**row))
    report = RefreshReport(created=len(new), updated=len(changed), removed=len(stale), entries=len(wanted))
    if stale or new or changed:
        revisions.bump(session, "gazetteer")
        _record(session, "gazetteer_entries.refresh", report.model_dump())
    return report


def _differs(current: GazetteerEntry, wanted: dict[str, Any]) -> bool:
    return any(getattr(current, key) != value for key, value in wanted.items())


def _record(session: Session, action: str, summary: dict[str, Any]) -> None:
    """One audit entry for a bulk change, filed under the actor's organisation (where its
    administrators read the trail)."""
    actor = session.info.get("actor")
    org_id = actor.org_id if isinstance(actor, audit.Actor) else None
    audit.record(session, action, "gazetteer_entries", after=summary, org_id=org_id)


# -- reading entries ------------------------------------------------------------------------------


def get_entry(session: Session, entry_id: int) -> GazetteerEntry:
    entry = session.get(GazetteerEntry, entry_id)
    if entry is None:
        raise NotFound(f"gazetteer entry {entry_id} not found / 地名不存在", field="entry_id")
    return entry


def search_entries(
    session: Session,
    *,
    q: str | None = None,
    kind: EntryKind | None = None,
    org_id: int | None = None,
    active: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[Sequence[GazetteerEntry], int]:
    """Entries whose name or an alias contains ``q``, of ``kind``, in ``org_id``'s subtree; by name."""
    stmt = select(GazetteerEntry)
    if q:
        needle = q.strip().lower()
        stmt = stmt.where(
            or_(
                func.lower(GazetteerEntry.name).contains(needle, autoescape=True),
                func.lower(GazetteerEntry.alias_text).contains(needle, autoescape=True),
            )
        )
    if kind is not None:
        stmt = stmt.where(GazetteerEntry.kind == kind)
    if org_id is not None:
        stmt = stmt.where(GazetteerEntry.org_id.in_(subtree_ids(_any_org(session, org_id, "org_id").path)))
    if active is not None:
        stmt = stmt.where(GazetteerEntry.active.is_(active))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(GazetteerEntry.name, GazetteerEntry.id).limit(limit).offset(offset)).all()
    return rows, total


# -- checking roads and POIs ----------------------------------------------------------------------


@dataclass
class _Draft:
    """A road or POI whose values passed every check, in WGS-84, with the organisation it was
    declared in and the most specific one found to cover it."""

    kind: EntryKind
    name: str
    aliases: list[str]
    lon: float
    lat: float
    line: BaseGeometry | None
    declared: Organisation
    org: Organisation = field(init=False)

    def __post_init__(self) -> None:
        self.org = self.declared

    def row(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "alias_text": ALIAS_SEPARATOR.join(self.aliases),
            "org_id": self.org.id,
            "lon": self.lon,
            "lat": self.lat,
            "line": self.line,
            "active": True,
        }


class _Areas:
    """Area organisations by code, looked up once per call."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._by_code: dict[str, Organisation | None] = {}

    def get(self, code: str) -> Organisation | None:
        if code not in self._by_code:
            self._by_code[code] = self.session.scalar(select(Organisation).where(Organisation.code == code))
        return self._by_code[code]


def _parse_line(value: dict[str, Any] | str, crs: CRS) -> BaseGeometry:
    if isinstance(value, str) and not value.lstrip().startswith("{"):
        geom = parse_wkt(value, field="line", allowed=LINEAR)
    else:
        geom = parse_geometry(value, field="line", allowed=LINEAR)
    return convert_geometry(geom, crs, CRS.WGS84)


def _clean_aliases(aliases: Iterable[str], problems: Problems) -> list[str]:
    cleaned = list(dict.fromkeys(a.strip() for a in aliases if a.strip()))
    for alias in cleaned:
        if len(alias) > MAX_ALIAS or ALIAS_SEPARATOR in alias:
            problems.append(("aliases", f"alias {alias!r}: at most {MAX_ALIAS} characters, no {ALIAS_SEPARATOR!r}"))
    if len(ALIAS_SEPARATOR.join(cleaned)) > MAX_ALIAS_TEXT:
        problems.append(("aliases", "too many aliases"))
    return cleaned


def _declared_org(areas: _Areas, code: str, problems: Problems) -> Organisation | None:
    org = areas.get(code)
    if org is None:
        problems.append(("org_code", f"unknown organisation {code} / 组织不存在"))
        return None
    if org.kind not in AREA_KINDS:
        problems.append(
            ("org_code", f"{org.code} ({org.name}) is a {org.kind}, not a city, district, street or community")
        )
        return None
    return org


def _point(
    lon: float | None, lat: float | None, crs: CRS, line: BaseGeometry | None, problems: Problems
) -> tuple[float, float] | None:
    """The WGS-84 point: as given, or for a road given only as a line, the middle of it."""
    if lon is not None and lat is not None:
        return convert_point(lon, lat, crs, CRS.WGS84)
    if lon is None and lat is None and line is not None:
        middle = line.interpolate(0.5, normalized=True)
        return float(middle.x), float(middle.y)
    problems.append(("lon" if lon is None else "lat", "lon and lat are required (a road may give a line instead)"))
    return None


def _inside(org: Organisation, lon: float, lat: float, problems: Problems) -> None:
    if org.geometry is not None and not org.geometry.covers(Point(lon, lat)):
        problems.append(
            (
                "lon",
                f"({lon:.6f}, {lat:.6f}) lies outside {org.name}; check the coordinates and crs / 坐标不在该区域内",
            )
        )


def _check(areas: _Areas, data: EntryIn, problems: Problems) -> _Draft | None:
    """Every check of one road or POI that needs no other row; problems are appended."""
    kind = EntryKind(data.kind)
    line = None
    if data.line is not None:
        if kind is not EntryKind.ROAD:
            problems.append(("line", "only a road has a line"))
        else:
            line = _geometry_or_problem(data.line, data.crs, problems)
    return _draft(areas, data, kind, _point(data.lon, data.lat, data.crs, line, problems), line, problems)


def _geometry_or_problem(value: dict[str, Any] | str, crs: CRS, problems: Problems) -> BaseGeometry | None:
    try:
        return _parse_line(value, crs)
    except Invalid as exc:
        problems.append(("line", exc.message))
        return None


def _draft(
    areas: _Areas,
    data: EntryIn,
    kind: EntryKind,
    point: tuple[float, float] | None,
    line: BaseGeometry | None,
    problems: Problems,
) -> _Draft | None:
    """The draft of one entry, or None when it has any problem (``problems`` is the entry's own)."""
    aliases = _clean_aliases(data.aliases, problems)
    org = _declared_org(areas, data.org_code, problems)
    if org is not None and point is not None:
        _inside(org, *point, problems)
    if problems or org is None or point is None:
        return None
    return _Draft(kind, data.name.strip(), aliases, point[0], point[1], line, org)


def _place_in_deepest(session: Session, drafts: Sequence[_Draft]) -> None:
    """Move each draft to the most specific area organisation under its declared one that covers
    it: a POI's point, a road's whole line. A road without a line stays where it was declared:
    a point on a long road says nothing about the community."""
    shapes = [(d, d.line if d.line is not None else Point(d.lon, d.lat)) for d in drafts]
    shapes = [(d, s) for d, s in shapes if d.kind is EntryKind.POI or d.line is not None]
    if not shapes:
        return
    roots = {d.declared.path for d, _ in shapes}
    areas = session.scalars(
        select(Organisation)
        .where(
            Organisation.kind.in_(AREA_ENTRY_KINDS),
            Organisation.geometry.is_not(None),
            or_(*(Organisation.path.startswith(root, autoescape=True) for root in roots)),
        )
        .execution_options(skip_scope=True)
    ).all()
    if not areas:
        return
    tree = shapely.STRtree([a.geometry for a in areas])
    pairs = tree.query([s for _, s in shapes], predicate="covered_by")
    for which, area_index in zip(pairs[0].tolist(), pairs[1].tolist(), strict=True):
        draft, area = shapes[which][0], areas[area_index]
        if area.path.startswith(draft.declared.path) and area.depth > draft.org.depth:
            draft.org = area


def _taken(session: Session, drafts: Sequence[_Draft]) -> set[tuple[str, str, int]]:
    """(kind, name, org id) of the drafts that exist already."""
    names = sorted({d.name for d in drafts})
    found: set[tuple[str, str, int]] = set()
    for start in range(0, len(names), NAME_CHUNK):
        rows = session.execute(
            select(GazetteerEntry.kind, GazetteerEntry.name, GazetteerEntry.org_id).where(
                GazetteerEntry.name.in_(names[start : start + NAME_CHUNK])
            )
        ).all()
        found.update((r.kind, r.name, r.org_id) for r in rows)
    return found


def _key(draft: _Draft) -> tuple[str, str, int]:
    return draft.kind, draft.name, draft.org.id


# -- writing one entry ----------------------------------------------------------------------------


def _refuse(problems: Problems) -> None:
    if problems:
        raise invalid([FieldError(column, message) for column, message in problems])


def create_entry(session: Session, data: EntryIn) -> GazetteerEntry:
    problems: Problems = []
    draft = _check(_Areas(session), data, problems)
    _refuse(problems)
    assert draft is not None
    _place_in_deepest(session, [draft])
    _refuse_taken(session, draft)
    entry = GazetteerEntry(**draft.row())
    session.add(entry)
    session.flush()
    return entry


def _refuse_taken(session: Session, draft: _Draft, own: tuple[str, str, int] | None = None) -> None:
    """409 when another entry has the draft's kind and name in the same organisation."""
    if _key(draft) != own and _key(draft) in _taken(session, [draft]):
        raise Conflict(f"{draft.kind} {draft.name!r} already exists in {draft.org.name} / 地名已存在", field="name")


def update_entry(session: Session, entry: GazetteerEntry, patch: EntryPatch) -> GazetteerEntry:
    """Change an entry. One that mirrors an organisation takes new aliases only (its name and
    place follow the organisation); a road or POI is checked again as a whole."""
    changes = patch.model_dump(exclude_unset=True, exclude={"crs"})
    for key in ("name", "aliases", "active"):
        if key in changes and changes[key] is None:
            raise Invalid(f"{key} cannot be empty", field=key)
    if entry.derived:
        _update_derived(entry, changes)
    else:
        _update_data(session, entry, patch, changes)
    session.flush()
    return entry


def _update_derived(entry: GazetteerEntry, changes: dict[str, Any]) -> None:
    refused = sorted(set(changes) - {"aliases"})
    if refused:
        raise Invalid(
            f"{entry.name} mirrors its organisation: change the organisation, or only the aliases here",
            field=refused[0],
        )
    if "aliases" in changes:
        problems: Problems = []
        aliases = _clean_aliases(changes["aliases"], problems)
        _refuse(problems)
        entry.alias_text = ALIAS_SEPARATOR.join(aliases)


def _update_data(session: Session, entry: GazetteerEntry, patch: EntryPatch, changes: dict[str, Any]) -> None:
    problems: Problems = []
    point, line = _patched_place(entry, patch, changes, problems)
    current = EntryIn(
        kind=entry.kind,
        name=changes.get("name", entry.name),
        aliases=changes.get("aliases", entry.aliases),
        org_code=changes.get("org_code") or _district_code(session, entry),
    )
    draft = _draft(_Areas(session), current, EntryKind(entry.kind), point, line, problems)
    _refuse(problems)
    assert draft is not None
    _place_in_deepest(session, [draft])
    _refuse_taken(session, draft, own=(entry.kind, entry.name, entry.org_id))
    for key, value in draft.row().items():
        if key != "active":
            setattr(entry, key, value)
    if "active" in changes:
        entry.active = changes["active"]


def _patched_place(
    entry: GazetteerEntry, patch: EntryPatch, changes: dict[str, Any], problems: Problems
) -> tuple[tuple[float, float] | None, BaseGeometry | None]:
    """The WGS-84 point and line after ``patch``: a new point in the patch's crs; for a road given
    a new line and no point, the middle of the line; else what the entry has."""
    line = entry.line
    if "line" in changes:
        line = None if patch.line is None else _geometry_or_problem(patch.line, patch.crs, problems)
        if line is not None and entry.kind != EntryKind.ROAD:
            problems.append(("line", "only a road has a line"))
    if "lon" in changes or "lat" in changes:
        return _point(patch.lon, patch.lat, patch.crs, line, problems), line
    if "line" in changes and line is not None:
        return _point(None, None, CRS.WGS84, line, problems), line
    return (entry.lon, entry.lat), line


def _district_code(session: Session, entry: GazetteerEntry) -> str:
    """Where a road or POI being moved may go without naming a new organisation: the district
    it is in (a point moved next door is still in its district), or its own area above that."""
    org = session.scalar(select(Organisation).where(Organisation.id == entry.org_id).execution_options(skip_scope=True))
    assert org is not None  # the foreign key holds it
    codes = org.path.strip("/").split("/")
    district = session.scalar(
        select(Organisation.code)
        .where(Organisation.code.in_(codes), Organisation.kind == OrgKind.DISTRICT)
        .execution_options(skip_scope=True)
    )
    return district or org.code


def delete_entry(session: Session, entry: GazetteerEntry) -> None:
    if entry.derived:
        raise Conflict(
            f"{entry.name} mirrors its organisation and goes when the organisation does / 该地名随组织机构维护",
            field="entry_id",
        )
    session.delete(entry)
    session.flush()


# -- importing a file -----------------------------------------------------------------------------


@dataclass
class EntryFile:
    """The roads and POIs read from a file, the line each came from, and the rows that could
    not be read."""

    entries: list[EntryIn] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    errors: RowErrors = field(default_factory=RowErrors)


def read_entries(data: bytes, filename: str, crs: CRS = CRS.WGS84) -> EntryFile:
    """Roads and POIs of a ``.csv``/``.xlsx`` file with the columns name, kind (road/poi or
    道路/兴趣点), org_code and optionally aliases (separated by | or 、), lon, lat, crs (``crs``
    when absent) and line (WKT or GeoJSON, roads only). Reading only: no database."""
    require_suffix(filename)
    out = EntryFile()
    for row in read_table(data, filename, required=COLUMNS):
        values: dict[str, Any] = {
            "name": row.get("name"),
            "kind": KIND_WORDS.get(row.get("kind").lower(), row.get("kind")),
            "org_code": row.get("org_code"),
            "aliases": _split_aliases(row.get("aliases")),
            "lon": row.get("lon") or None,
            "lat": row.get("lat") or None,
            "crs": row.get("crs").lower() or crs,
            "line": row.get("line") or None,
        }
        try:
            out.entries.append(EntryIn.model_validate(values))
            out.lines.append(row.line)
        except ValidationError as exc:
            for error in exc.errors():
                out.errors.add(row.line, str(error["loc"][0]) if error["loc"] else "row", error["msg"])
    return out


def _split_aliases(text: str) -> list[str]:
    for separator in ALIAS_SEPARATORS[1:]:
        text = text.replace(separator, ALIAS_SEPARATOR)
    return [a for a in text.split(ALIAS_SEPARATOR) if a.strip()]


def import_entries(session: Session, parsed: EntryFile, *, replace: bool = False) -> GazetteerImportReport:
    """Insert the file's roads and POIs, all or nothing: every row is checked (organisation,
    coordinates inside it, line, duplicates in the file and in the gazetteer) and every bad one
    reported by its line. ``replace`` first removes every road and POI, for a city that keeps
    its gazetteer in one file."""
    errors = parsed.errors
    areas = _Areas(session)
    drafts: list[tuple[int, _Draft]] = []
    for line, data in zip(parsed.lines, parsed.entries, strict=True):
        problems: Problems = []
        draft = _check(areas, data, problems)
        for column, message in problems:
            errors.add(line, column, message)
        if draft is not None:
            drafts.append((line, draft))
    if not parsed.entries and not len(errors):
        raise Invalid("no roads or POIs in the file / 文件中没有地名", field="file")
    _place_in_deepest(session, [d for _, d in drafts])
    _check_duplicates(session, drafts, errors, replace)
    errors.raise_if_any()
    replaced = _remove_data_entries(session) if replace else 0
    session.execute(insert(GazetteerEntry), [d.row() for _, d in drafts])
    by_kind: dict[str, int] = {}
    for _, draft in drafts:
        by_kind[draft.kind] = by_kind.get(draft.kind, 0) + 1
    report = GazetteerImportReport(
        created=len(drafts),
        replaced=replaced,
        by_kind=dict(sorted(by_kind.items())),
        gazetteer_revision=revisions.bump(session, "gazetteer"),
    )
    _record(session, "gazetteer_entries.import", report.model_dump())
    return report


def _check_duplicates(session: Session, drafts: list[tuple[int, _Draft]], errors: RowErrors, replace: bool) -> None:
    taken = set() if replace else _taken(session, [d for _, d in drafts])
    first: dict[tuple[str, str, int], int] = {}
    for line, draft in drafts:
        key = _key(draft)
        if key in first:
            errors.add(line, "name", f"{draft.name} appears twice in {draft.org.name} (also at line {first[key]})")
        elif key in taken:
            errors.add(line, "name", f"{draft.kind} {draft.name} already exists in {draft.org.name} / 地名已存在")
        first.setdefault(key, line)


def _remove_data_entries(session: Session) -> int:
    data_kinds = [EntryKind.ROAD, EntryKind.POI]
    removed = session.scalar(select(func.count()).where(GazetteerEntry.kind.in_(data_kinds))) or 0
    session.execute(delete(GazetteerEntry).where(GazetteerEntry.kind.in_(data_kinds)))
    return int(removed)
