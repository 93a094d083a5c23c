"""The responsibility list (权责清单): for a category at a place, which unit owns the problem."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chengguan.db import Base, UTCDateTime, utcnow
from chengguan.orgs.models import OrgScoped


class Basis(enum.StrEnum):
    OWNER = "owner"  # 属主: the unit that owns the facility or the function
    TERRITORY = "territory"  # 属地: the unit in charge of the place


BASIS_LABELS = {Basis.OWNER: "属主", Basis.TERRITORY: "属地"}


class ResponsibilityRule(OrgScoped, Base):
    """One row of the list. ``org_id`` is the area the rule covers (the city root for a city-wide
    rule, the community for a single grid cell ``cell_code``) and scopes who sees and edits it.
    ``category_id`` is a 小类, or a 大类 that then covers all its 小类. Row numbers are unique per
    area: an import updates the rows it names."""

    __tablename__ = "responsibility_rules"
    __audit_exclude__ = frozenset({"updated_at"})
    __table_args__ = (
        UniqueConstraint("org_id", "row_no"),
        Index("ix_responsibility_rules_category_active", "category_id", "active"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    row_no: Mapped[int]
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="RESTRICT"))
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)
    cell_code: Mapped[str | None] = mapped_column(String(32), index=True)
    basis: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)
    priority: Mapped[int] = mapped_column(default=0)  # higher wins among otherwise equal rules
    note: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
