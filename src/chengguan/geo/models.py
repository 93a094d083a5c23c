"""Unit grid cells (单元网格), responsibility grids (责任网格), the grid revision counter and the
gazetteer (地名地址库) the address resolver reads."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    CheckConstraint,
    Connection,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    delete,
    event,
    insert,
    update,
)
from sqlalchemy.orm import Mapped, Session, UOWTransaction, mapped_column, relationship

from chengguan.db import Base, Geometry, UTCDateTime, utcnow
from chengguan.orgs.models import Organisation, OrgKind, OrgScoped


class AreaClass(enum.StrEnum):
    """Management class of a cell: disposal time limits differ by class (CJ/T 315 A/B/C)."""

    A = "A"  # 核心区
    B = "B"
    C = "C"  # 一般区


class GridCell(OrgScoped, Base):
    """One unit grid cell. ``org_id`` is the community it lies in; the code is that community's
    12-digit code plus a 3-digit serial (GB/T 30428.1 / CJ/T 213)."""

    __tablename__ = "grid_cells"
    __audit_exclude__ = frozenset({"min_lon", "min_lat", "max_lon", "max_lat", "updated_at"})
    __table_args__ = (
        CheckConstraint("area_class IN ('A', 'B', 'C')", name="area_class"),
        # bbox filters without a spatial extension: min_lon/max_lon bound the scan, the rest filter
        Index("ix_grid_cells_bbox", "min_lon", "max_lon", "min_lat", "max_lat"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(15), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)
    area_class: Mapped[str] = mapped_column(String(1), index=True)
    geometry: Mapped[BaseGeometry] = mapped_column(Geometry)
    area_m2: Mapped[float]
    min_lon: Mapped[float]
    min_lat: Mapped[float]
    max_lon: Mapped[float]
    max_lat: Mapped[float]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ResponsibilityGrid(OrgScoped, Base):
    """A 责任网格: cells whose ``kind`` of duty (enforcement, sanitation, greening …) one unit
    owns. ``org_id`` is the area organisation the cells lie in; the owning unit sees it too."""

    __tablename__ = "responsibility_grids"
    __audit_exclude__ = frozenset({"updated_at"})
    __scope_columns__ = ("org_id", "owner_org_id")

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)
    owner_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    members: Mapped[list[ResponsibilityMember]] = relationship(
        back_populates="grid", cascade="all, delete-orphan", lazy="selectin"
    )


class ResponsibilityMember(Base):
    """A cell in a responsibility grid. ``kind`` repeats the grid's kind so the database itself
    keeps a cell in at most one grid of each kind."""

    __tablename__ = "responsibility_members"
    __table_args__ = (UniqueConstraint("cell_id", "kind"),)

    grid_id: Mapped[int] = mapped_column(ForeignKey("responsibility_grids.id", ondelete="CASCADE"), primary_key=True)
    cell_id: Mapped[int] = mapped_column(ForeignKey("grid_cells.id", ondelete="RESTRICT"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))

    grid: Mapped[ResponsibilityGrid] = relationship(back_populates="members")


# -- the gazetteer ------------------------------------------------------------------------------


class EntryKind(enum.StrEnum):
    """What a gazetteer entry names, broadest first; also the level an address resolves to."""

    DISTRICT = "district"  # 区
    STREET = "street"  # 街道/乡镇
    COMMUNITY = "community"  # 社区/村
    ROAD = "road"  # 道路、街巷、胡同
    POI = "poi"  # 地标、商圈、单位、公园、车站 …


# Entries of these kinds mirror an area organisation (one entry per organisation, kept in step by
# the listener below); roads and POIs are data, imported or edited by hand.
AREA_ENTRY_KINDS: dict[OrgKind, EntryKind] = {
    OrgKind.DISTRICT: EntryKind.DISTRICT,
    OrgKind.STREET: EntryKind.STREET,
    OrgKind.TOWN: EntryKind.STREET,
    OrgKind.COMMUNITY: EntryKind.COMMUNITY,
}
DERIVED_KINDS = frozenset(AREA_ENTRY_KINDS.values())
ALIAS_SEPARATOR = "|"
MAX_ALIAS_TEXT = 1000


class GazetteerEntry(Base):
    """A name the city's addresses use, with a WGS-84 point (and a line for roads that have one).

    ``org_id`` is the most specific area organisation the entry lies in (a district, street or
    community; the city for a road that crosses districts); for a district, street or community
    entry it is that organisation itself. City-wide reference data: everyone reads it, the city
    edits it."""

    __tablename__ = "gazetteer_entries"
    __revision__ = "gazetteer"  # cached by the address resolver
    __audit_exclude__ = frozenset({"updated_at"})
    __table_args__ = (CheckConstraint("kind IN ('district', 'street', 'community', 'road', 'poi')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    # "|"-separated: plain text searches the same way on SQLite and PostgreSQL
    alias_text: Mapped[str] = mapped_column(String(MAX_ALIAS_TEXT), default="")
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    lon: Mapped[float]
    lat: Mapped[float]
    line: Mapped[BaseGeometry | None] = mapped_column(Geometry)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def aliases(self) -> list[str]:
        return [a for a in self.alias_text.split(ALIAS_SEPARATOR) if a]

    @property
    def derived(self) -> bool:
        return self.kind in DERIVED_KINDS


def area_point(geometry: BaseGeometry) -> tuple[float, float]:
    """Where an area is on the map: its centroid when that lies inside it, else a point that
    surely does (a crescent's centroid lies outside)."""
    centroid = geometry.centroid
    point = centroid if geometry.covers(centroid) else geometry.representative_point()
    return float(point.x), float(point.y)


def area_entry_row(org: Organisation) -> dict[str, Any] | None:
    """The derived entry of an area organisation; None when it has none (not an area below the
    city, or no jurisdiction polygon to place it)."""
    kind = AREA_ENTRY_KINDS.get(OrgKind(org.kind))
    if kind is None or org.geometry is None or org.geometry.is_empty:
        return None
    lon, lat = area_point(org.geometry)
    return {"kind": kind, "name": org.name, "org_id": org.id, "lon": lon, "lat": lat, "active": org.active}


def sync_area_entry(connection: Connection, org: Organisation) -> None:
    """Bring the derived entry of ``org`` in line with it: create, update or remove it. Aliases
    added by hand survive. Core statements: the organisation's own change is what is audited."""
    row = area_entry_row(org)
    derived = GazetteerEntry.org_id == org.id, GazetteerEntry.kind.in_(DERIVED_KINDS)
    if row is None:
        connection.execute(delete(GazetteerEntry).where(*derived))
        return
    changes = {k: v for k, v in row.items() if k != "org_id"}
    if connection.execute(update(GazetteerEntry).where(*derived).values(updated_at=utcnow(), **changes)).rowcount:
        return
    connection.execute(insert(GazetteerEntry).values(alias_text="", line=None, **row))


@event.listens_for(Session, "after_flush")
def _follow_organisations(session: Session, _ctx: UOWTransaction) -> None:
    """Area organisations created or changed in this flush carry their gazetteer entry along
    (deleted ones take it with them through the foreign key). The organisations' own revision,
    bumped in the same flush, tells every process to rebuild its resolver index."""
    changed = [o for o in (*session.new, *session.dirty) if isinstance(o, Organisation) and o.kind in AREA_ENTRY_KINDS]
    if changed:
        connection = session.connection()
        for org in changed:
            sync_area_entry(connection, org)
