from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from chengguan.geo.models import AreaClass
from chengguan.taxonomy.models import LIST_TYPES, AttributeType, CategoryKind, CategoryLevel, LimitUnit

CODE_PATTERN = r"^\d{2}(\d{2})?$"
# Keywords are stored comma-joined, so none may contain a separator.
Keyword = Annotated[str, Field(pattern=r"^[^,，、|;；\s]{1,30}$")]
CauseCode = Annotated[str, Field(pattern=r"^AY\d{3}[a-z]?$", description="案由 code, e.g. AY025, AY037b")]


class FilingConditionIn(BaseModel):
    code: str | None = Field(None, pattern=r"^\d{6}$", description="立案明细编码 (小类 code + 2); assigned if omitted")
    text: str = Field(min_length=1, max_length=500, pattern=r"^[^|\r\n]+$", description="no | or line break")


class TimeLimitIn(BaseModel):
    amount: int = Field(ge=1, le=999)
    unit: LimitUnit


class AttributeValue(BaseModel):
    key: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$", description="what a client sends")
    name: str = Field(min_length=1, max_length=100, description="what a person reads")


class AttributeIn(BaseModel):
    """A question on a 小类's report form; list types offer their values, other types none."""

    code: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,31}$", description="unique in the 小类, e.g. noise_source")
    datatype: AttributeType
    required: bool = False
    description: str = Field(min_length=1, max_length=300, description="the question, e.g. 噪声源 / Noise source")
    datatype_description: str | None = Field(None, max_length=300, description="how to answer, e.g. a unit")
    values: list[AttributeValue] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _values_fit_the_datatype(self) -> AttributeIn:
        if self.datatype in LIST_TYPES and not self.values:
            raise ValueError(f"a {self.datatype} lists its values")
        if self.datatype not in LIST_TYPES and self.values:
            raise ValueError(f"a {self.datatype} has no list of values")
        if len({v.key for v in self.values}) != len(self.values):
            raise ValueError("value keys repeat")
        return self


class CategoryIn(BaseModel):
    """A 大类 (2-digit code) or 小类 (4-digit code, its first two digits name the 大类)."""

    kind: CategoryKind
    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1, max_length=60)
    name_en: str | None = Field(None, max_length=120)
    keywords: list[Keyword] = Field(default_factory=list, max_length=30)
    description: str | None = Field(None, max_length=2000)
    note: str | None = Field(None, max_length=2000, description="internal remark, e.g. the source of the limits")
    owner_function: str | None = Field(None, max_length=32, description="部件 小类 only: who owns it, e.g. gas")
    filing_conditions: list[FilingConditionIn] = Field(default_factory=list, max_length=20)
    closing_condition: str | None = Field(None, max_length=1000)
    time_limits: dict[AreaClass, TimeLimitIn] = Field(default_factory=dict, description="小类: one for each of A, B, C")
    cause_codes: list[CauseCode] = Field(default_factory=list, max_length=30, description="事件 小类 only: 案由 codes")
    sort_order: int | None = Field(None, description="default: the numeric code")
    active: bool = True


class CategoryPatch(BaseModel):
    """Kind and code are the public key and never change; time limits merge by area class."""

    name: str | None = Field(None, min_length=1, max_length=60)
    name_en: str | None = Field(None, max_length=120)
    keywords: list[Keyword] | None = Field(None, max_length=30)
    description: str | None = Field(None, max_length=2000)
    note: str | None = Field(None, max_length=2000)
    owner_function: str | None = Field(None, max_length=32)
    filing_conditions: list[FilingConditionIn] | None = Field(None, max_length=20)
    closing_condition: str | None = Field(None, max_length=1000)
    time_limits: dict[AreaClass, TimeLimitIn] | None = None
    cause_codes: list[CauseCode] | None = Field(None, max_length=30)
    sort_order: int | None = None
    active: bool | None = None


class FilingConditionOut(BaseModel):
    code: str
    text: str


class TimeLimitOut(BaseModel):
    amount: int
    unit: LimitUnit
    label: str = Field(description="as written in the template, e.g. 4工作时")


class CategoryOut(BaseModel):
    key: str
    kind: CategoryKind
    level: CategoryLevel
    code: str
    name: str
    name_en: str | None
    keywords: list[str]
    description: str | None
    owner_function: str | None
    parent_key: str | None
    active: bool
    sort_order: int
    children: list[CategoryOut] | None = Field(None, description="tree view: the 小类 of a 大类")


class AttributeOut(AttributeIn):
    order: int = Field(description="1 is asked first")


class CategoryDetail(CategoryOut):
    note: str | None
    filing_conditions: list[FilingConditionOut]
    closing_condition: str | None
    time_limits: dict[AreaClass, TimeLimitOut]
    cause_codes: list[str]
    attributes: list[AttributeOut] = Field(description="the report form: questions beyond the description")


class ImportResult(BaseModel):
    created: int
    updated: int

    @property
    def total(self) -> int:
        return self.created + self.updated
