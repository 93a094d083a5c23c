"""The responsibility list (权责清单): for a category at a place, which unit owns the problem."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chengguan.db import Base, BigId, UTCDateTime, utcnow
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
    __revision__ = "responsibility"  # cached by the dispatch rule book
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


class DispatchRecord(OrgScoped, Base):
    """Every assignment of an event to a unit, automatic or by hand, with the reason. A manual
    override keeps the unit it replaced and why: the disagreements are training signal for the
    list and the classifier."""

    __tablename__ = "dispatch_records"
    __scope_columns__ = ("org_id", "unit_id")

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))  # the event's area
    unit_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)
    category_key: Mapped[str | None] = mapped_column(String(8))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("responsibility_rules.id", ondelete="SET NULL"))
    row_no: Mapped[int | None]
    basis: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(500))
    deadline_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    automatic: Mapped[bool]
    replaced_unit_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    override_reason: Mapped[str | None] = mapped_column(String(500))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConsultationStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class Consultation(OrgScoped, Base):
    """会商: an event whose owner the list could not decide, before the command centre with the
    candidate units until a dispatcher settles it."""

    __tablename__ = "consultations"
    __scope_columns__ = ("org_id", "centre_id")
    __table_args__ = (Index("ix_consultations_status_opened", "status", "opened_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))  # the event's area
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    candidate_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default=ConsultationStatus.OPEN)
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    resolved_unit_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    resolution_note: Mapped[str | None] = mapped_column(String(500))
