"""The organisation tree: 市 → 区 → 街道/乡镇 → 社区, plus centres, squads, departments and
public-service enterprises that own components and receive dispatched work."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import ClassVar

from shapely.geometry.base import BaseGeometry
from sqlalchemy import ColumnElement, ForeignKey, Select, String, false, literal, or_, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chengguan.db import Base, Geometry, UTCDateTime, utcnow


class OrgKind(enum.StrEnum):
    CITY = "city"  # 市
    DISTRICT = "district"  # 区
    STREET = "street"  # 街道
    TOWN = "town"  # 乡镇
    COMMUNITY = "community"  # 社区/村
    CENTRE = "centre"  # 指挥中心/监督中心
    SQUAD = "squad"  # 执法队
    DEPARTMENT = "department"  # 专业部门 (水务、环卫、园林绿化、交通、住建、市场监管 …)
    ENTERPRISE = "enterprise"  # 公服企业 (燃气、供电、供热、自来水 …)


AREA_KINDS = frozenset({OrgKind.CITY, OrgKind.DISTRICT, OrgKind.STREET, OrgKind.TOWN, OrgKind.COMMUNITY})

# Which kinds may sit under which: the tree a 市/区/街 enforcement system actually has.
ALLOWED_PARENTS: dict[OrgKind, frozenset[OrgKind]] = {
    OrgKind.CITY: frozenset(),
    OrgKind.DISTRICT: frozenset({OrgKind.CITY}),
    OrgKind.STREET: frozenset({OrgKind.DISTRICT}),
    OrgKind.TOWN: frozenset({OrgKind.DISTRICT}),
    OrgKind.COMMUNITY: frozenset({OrgKind.STREET, OrgKind.TOWN}),
    OrgKind.CENTRE: frozenset({OrgKind.CITY, OrgKind.DISTRICT}),
    OrgKind.SQUAD: frozenset({OrgKind.CITY, OrgKind.DISTRICT, OrgKind.STREET, OrgKind.TOWN}),
    OrgKind.DEPARTMENT: frozenset({OrgKind.CITY, OrgKind.DISTRICT}),
    OrgKind.ENTERPRISE: frozenset({OrgKind.CITY, OrgKind.DISTRICT}),
}


class Organisation(Base):
    __tablename__ = "organisations"
    __revision__ = "orgs"  # cached by the dispatch rule book
    __audit_exclude__ = frozenset({"path", "depth", "updated_at"})

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str | None] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16), index=True)
    function: Mapped[str | None] = mapped_column(String(32), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)
    # Materialised path of the (immutable) codes, "/110000000000/110108000000/": a subtree is
    # one indexed prefix range, and the path is known before the row is inserted.
    path: Mapped[str] = mapped_column(String(255), index=True, default="")
    depth: Mapped[int] = mapped_column(default=0)
    geometry: Mapped[BaseGeometry | None] = mapped_column(Geometry)
    phone: Mapped[str | None] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    parent: Mapped[Organisation | None] = relationship(remote_side=[id], lazy="raise_on_sql")

    @property
    def audit_org_id(self) -> int:
        return self.id

    @property
    def audit_org_path(self) -> str:
        return self.path

    @classmethod
    def scope_condition(cls, scope: Scope) -> ColumnElement[bool]:
        """An organisation is visible inside the subtree and along the chain above it."""
        if scope.root_path is None:
            return false()
        return or_(
            cls.path.startswith(scope.root_path, autoescape=True),
            literal(scope.root_path).startswith(cls.path),
        )


org_table = Organisation.__table__


@dataclass(frozen=True)
class Scope:
    """What a principal may see: the subtree under ``root_path`` (None: nothing org-scoped)."""

    root_path: str | None


def subtree_ids(root_path: str) -> Select[tuple[int]]:
    """Ids of the organisations under (and including) the one with ``root_path``.

    Core table, not the ORM entity, so the scoping criteria never recurse into it."""
    return select(org_table.c.id).where(org_table.c.path.startswith(root_path, autoescape=True))


class OrgScoped:
    """Mixin for rows that belong to an organisation and are visible only inside its subtree.

    The scoping listener in ``chengguan.auth.scoping`` adds :meth:`scope_condition` to every ORM
    query of a subclass, so no endpoint filters by hand. Set ``__scope_columns__`` when a row is
    visible to more than one organisation (an event seen by its street and by the unit it was
    sent to).
    """

    __scope_columns__: ClassVar[tuple[str, ...]] = ("org_id",)

    @classmethod
    def scope_condition(cls, scope: Scope) -> ColumnElement[bool]:
        if scope.root_path is None:
            return false()
        visible = subtree_ids(scope.root_path)
        return or_(*(getattr(cls, col).in_(visible) for col in cls.__scope_columns__))
