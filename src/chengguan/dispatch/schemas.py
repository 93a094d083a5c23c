from __future__ import annotations

from pydantic import BaseModel, Field

from chengguan.dispatch.models import Basis

CELL_CODE = Field(
    None, pattern=r"^\d{15}$", description="one unit grid cell (15 digits); its community scopes the rule"
)


class RuleIn(BaseModel):
    row_no: int = Field(ge=1, le=999_999, description="row number in the published list, shown in dispatch reasons")
    category: str = Field(min_length=2, max_length=8, description="category key: a 小类 (E0502) or a 大类 (E05)")
    org_id: int | None = Field(None, description="area covered: district/street/town/community; omit for city-wide")
    cell_code: str | None = Field(None, pattern=r"^\d{15}$", description="one unit grid cell (its community scopes it)")
    basis: Basis
    unit_id: int = Field(description="the owning unit (organisation id)")
    priority: int = Field(0, ge=-1000, le=1000, description="higher wins among otherwise equal rules")
    note: str | None = Field(None, max_length=500)
    active: bool = True


class RulePatch(BaseModel):
    """The place a rule covers is fixed (it decides who sees the rule); delete and re-create to move it."""

    row_no: int | None = Field(None, ge=1, le=999_999)
    category: str | None = Field(None, min_length=2, max_length=8)
    basis: Basis | None = None
    unit_id: int | None = None
    priority: int | None = Field(None, ge=-1000, le=1000)
    note: str | None = Field(None, max_length=500)
    active: bool | None = None


class RuleOut(BaseModel):
    id: int
    row_no: int
    category: str
    category_name: str
    org_id: int
    org_name: str
    cell_code: str | None
    basis: Basis
    unit_id: int
    unit_code: str
    unit_name: str
    priority: int
    note: str | None
    active: bool


class UnitOut(BaseModel):
    id: int
    code: str
    name: str


class ResolutionOut(BaseModel):
    category: str
    unit: UnitOut | None = Field(description="the owner; with needs_consultation, the centre that arranges 会商")
    rule_id: int | None
    row_no: int | None
    basis: Basis | None
    reason: str
    candidates: list[UnitOut]
    needs_consultation: bool
