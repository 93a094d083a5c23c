"""Unit grid cells (单元网格), responsibility grids (责任网格) and the grid revision counter."""

from __future__ import annotations

import datetime as dt
import enum

from shapely.geometry.base import BaseGeometry
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chengguan.db import Base, Geometry, UTCDateTime, utcnow
from chengguan.orgs.models import OrgScoped


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


class GridRevision(Base):
    """One row counting changes to the cells. Every process caches its point → cell index keyed
    on ``token`` and rebuilds when another process has changed it. The token is random, not the
    counter, so an index built inside a transaction that later rolled back can never be mistaken
    for the state another process commits next."""

    __tablename__ = "grid_revision"
    __audit__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    revision: Mapped[int]
    token: Mapped[str] = mapped_column(String(32))
