from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from chengguan.geo.models import AreaClass

GEOMETRY_HELP = "GeoJSON Polygon/MultiPolygon (object or text) or WKT, WGS-84 lon/lat"


class CellIn(BaseModel):
    code: str = Field(
        min_length=1, max_length=32, description="15 digits: the community's 12-digit code + a 3-digit serial"
    )
    name: str = Field(min_length=1, max_length=100)
    area_class: AreaClass
    geometry: dict[str, Any] | str = Field(description=GEOMETRY_HELP)
    community_code: str | None = Field(
        None, max_length=32, description="optional; when given it must be the first 12 digits of code"
    )


class CellPatch(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=100)
    area_class: AreaClass | None = None
    geometry: dict[str, Any] | str | None = Field(None, description=GEOMETRY_HELP)
    active: bool | None = None


class CellOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    area_class: AreaClass
    org_id: int
    area_m2: float
    active: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    geometry: dict[str, Any] | None = Field(None, description="GeoJSON, WGS-84")


class ImportReport(BaseModel):
    created: int
    communities: int
    area_m2: float
    by_area_class: dict[str, int]
    grid_revision: int


class OrgRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str


class DutyRef(BaseModel):
    kind: str
    code: str
    name: str
    owner_org_id: int


class LocationOut(BaseModel):
    lon: float = Field(description="WGS-84")
    lat: float = Field(description="WGS-84")
    cell_code: str
    cell_name: str
    area_class: AreaClass
    community: OrgRef
    street: OrgRef | None
    district: OrgRef | None
    duties: list[DutyRef] = Field(description="responsibility grids containing the cell, one per kind")


class ResponsibilityIn(BaseModel):
    code: str = Field(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z_.\-]+$")
    name: str = Field(min_length=1, max_length=100)
    kind: str = Field(
        pattern=r"^[a-z][a-z0-9_]{0,31}$", description="whose duty: enforcement, sanitation, greening, water …"
    )
    org_id: int = Field(description="the area organisation (district, street, community) the cells lie in")
    owner_org_id: int = Field(description="the responsible unit (squad, department, enterprise …)")
    cell_codes: list[str] = Field(default_factory=list, max_length=10_000)


class ResponsibilityPatch(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=100)
    owner_org_id: int | None = None
    cell_codes: list[str] | None = Field(None, max_length=10_000, description="replaces the member cells")
    active: bool | None = None


class ResponsibilityOut(BaseModel):
    id: int
    code: str
    name: str
    kind: str
    org_id: int
    owner_org_id: int
    active: bool
    cell_codes: list[str]
    area_m2: float
