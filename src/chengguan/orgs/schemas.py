from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from chengguan.orgs.models import OrgKind


class OrgIn(BaseModel):
    code: str = Field(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z_.\-]+$")
    name: str = Field(min_length=1, max_length=100)
    name_en: str | None = Field(None, max_length=120)
    kind: OrgKind
    function: str | None = Field(None, max_length=32, description="e.g. water, sanitation, greening, gas")
    parent_id: int | None = None
    phone: str | None = Field(None, max_length=40)
    geometry: dict[str, Any] | None = Field(None, description="GeoJSON Polygon/MultiPolygon, WGS-84")


class OrgPatch(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=100)
    name_en: str | None = Field(None, max_length=120)
    function: str | None = Field(None, max_length=32)
    parent_id: int | None = None
    phone: str | None = Field(None, max_length=40)
    geometry: dict[str, Any] | None = None
    active: bool | None = None


class OrgOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    name_en: str | None
    kind: OrgKind
    function: str | None
    parent_id: int | None
    depth: int
    phone: str | None
    active: bool
    has_geometry: bool = False
