"""The 部件/事件 taxonomy (CJ/T 214, GB/T 30428.2): 大类 and 小类 with their 立案条件, 结案条件 and
处置时限 per area class (GB/T 30428.8). City-wide reference data, not owned by an organisation."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chengguan.db import Base, JsonDoc, UTCDateTime, utcnow
from chengguan.geo.models import AreaClass


class CategoryKind(enum.StrEnum):
    COMPONENT = "component"  # 部件: a physical public facility
    EVENT = "event"  # 事件: an act or condition


class CategoryLevel(enum.StrEnum):
    MAJOR = "major"  # 大类, 2-digit code
    MINOR = "minor"  # 小类, 4-digit code = 大类 + 2


class LimitUnit(enum.StrEnum):
    WORKING_HOURS = "working_hours"  # 工作时
    WORKING_DAYS = "working_days"  # 工作日
    CALENDAR_DAYS = "calendar_days"  # 自然日


class AttributeType(enum.StrEnum):
    """How a form question is answered (the datatypes of Open311 GeoReport v2)."""

    STRING = "string"  # one line
    NUMBER = "number"
    DATETIME = "datetime"  # ISO 8601 with its offset
    TEXT = "text"  # several lines
    SINGLE = "singlevaluelist"  # one of the listed values
    MULTI = "multivaluelist"  # any of the listed values


LIST_TYPES = frozenset({AttributeType.SINGLE, AttributeType.MULTI})

KIND_PREFIX = {CategoryKind.COMPONENT: "C", CategoryKind.EVENT: "E"}
KIND_LABELS = {CategoryKind.COMPONENT: "部件", CategoryKind.EVENT: "事件"}
UNIT_LABELS = {LimitUnit.WORKING_HOURS: "工作时", LimitUnit.WORKING_DAYS: "工作日", LimitUnit.CALENDAR_DAYS: "自然日"}

# Which kind of unit owns a component type; the same codes organisations carry in ``function``.
OWNER_FUNCTIONS: dict[str, str] = {
    "water": "水务",
    "water_supply": "供水",
    "drainage": "排水",
    "power": "电力",
    "lighting": "路灯照明",
    "gas": "燃气",
    "heating": "供热",
    "telecom": "通信",
    "post": "邮政",
    "roads": "市政道路",
    "traffic": "交通",
    "traffic_police": "公安交管",
    "transit": "公共交通",
    "parking": "停车管理",
    "public_security": "公安",
    "fire": "消防",
    "sanitation": "环境卫生",
    "cityscape": "市容",
    "greening": "园林绿化",
    "housing": "住房和房屋管理",
    "civil_defense": "人民防空",
    "culture": "文化和文物",
    "sports": "体育",
}


def level_of(code: str) -> CategoryLevel:
    return CategoryLevel.MINOR if len(code) == 4 else CategoryLevel.MAJOR


def category_key(kind: CategoryKind | str, code: str) -> str:
    """The public key, unique across kinds: ``C0101`` for 部件 0101, ``E0101`` for 事件 0101."""
    return f"{KIND_PREFIX[CategoryKind(kind)]}{code}"


class Category(Base):
    __tablename__ = "categories"
    __revision__ = "taxonomy"  # cached by the dispatch rule book and the intake pipeline
    __audit_exclude__ = frozenset({"updated_at"})
    __table_args__ = (UniqueConstraint("kind", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(8), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(8))
    code: Mapped[str] = mapped_column(String(4))
    name: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str | None] = mapped_column(String(120))
    keywords: Mapped[str] = mapped_column(String(500), default="")  # comma-separated, searchable with LIKE
    description: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)  # internal remark, e.g. where the time limits come from
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="RESTRICT"), index=True)
    owner_function: Mapped[str | None] = mapped_column(String(32))
    closing_condition: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)
    sort_order: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    parent: Mapped[Category | None] = relationship(remote_side=[id], lazy="selectin")
    filing_conditions: Mapped[list[FilingCondition]] = relationship(
        cascade="all, delete-orphan", order_by="FilingCondition.code", lazy="selectin"
    )
    time_limits: Mapped[list[TimeLimit]] = relationship(
        cascade="all, delete-orphan", order_by="TimeLimit.area_class", lazy="selectin"
    )
    causes: Mapped[list[CategoryCause]] = relationship(
        cascade="all, delete-orphan", order_by="CategoryCause.cause_code", lazy="selectin"
    )
    attributes: Mapped[list[CategoryAttribute]] = relationship(
        cascade="all, delete-orphan", order_by="CategoryAttribute.order", lazy="selectin"
    )

    @property
    def keyword_list(self) -> list[str]:
        return [k for k in self.keywords.split(",") if k]

    @property
    def cause_codes(self) -> list[str]:
        return [c.cause_code for c in self.causes]

    def limit_for(self, area_class: AreaClass) -> TimeLimit | None:
        return next((t for t in self.time_limits if t.area_class == area_class), None)


class FilingCondition(Base):
    """立案条件: when a report of this 小类 becomes a case (立案明细编码 + text)."""

    __tablename__ = "category_filing_conditions"
    __table_args__ = (UniqueConstraint("category_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(String(500))


class TimeLimit(Base):
    """处置时限 of a 小类 in cells of one area class."""

    __tablename__ = "category_time_limits"
    __revision__ = "taxonomy"  # cached by the dispatch rule book and the intake pipeline
    __table_args__ = (UniqueConstraint("category_id", "area_class"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"), index=True)
    area_class: Mapped[str] = mapped_column(String(1))
    amount: Mapped[int]
    unit: Mapped[str] = mapped_column(String(16))

    @property
    def label(self) -> str:
        return f"{self.amount}{UNIT_LABELS[LimitUnit(self.unit)]}"


class CategoryCause(Base):
    """An enforcement case cause (案由) that an 事件 小类 may lead to. Linked by the cause's
    public code, which the legal domain keeps unique; a linked cause cannot be deleted."""

    __tablename__ = "category_causes"

    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True)
    cause_code: Mapped[str] = mapped_column(
        ForeignKey("case_causes.code", ondelete="RESTRICT", onupdate="CASCADE"), primary_key=True, index=True
    )


class CategoryAttribute(Base):
    """A question on the report form of a 小类 (噪声源, 时段, 摊位类型 …): what a reporter is asked
    beyond the description. Published by Open311 as the service definition."""

    __tablename__ = "category_attributes"
    __table_args__ = (
        UniqueConstraint("category_id", "code"),
        CheckConstraint(f"datatype IN ({', '.join(repr(t.value) for t in AttributeType)})", name="datatype"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    datatype: Mapped[str] = mapped_column(String(16))
    required: Mapped[bool] = mapped_column(default=False)
    description: Mapped[str] = mapped_column(String(300))  # the question
    datatype_description: Mapped[str | None] = mapped_column(String(300))  # how to answer, e.g. the unit
    order: Mapped[int]  # 1 is asked first
    values: Mapped[list[dict[str, str]]] = mapped_column(JsonDoc, default=list)  # list types: [{key, name}]
