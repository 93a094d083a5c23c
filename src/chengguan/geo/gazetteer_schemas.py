"""Gazetteer entries and geocoding results in and out of the API."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from chengguan.geo.models import EntryKind
from chengguan.geo.schemas import LocationOut, OrgRef
from chengguan.kit.coords import CRS

DataKind = Literal["road", "poi"]  # the kinds that are data; the others mirror organisations
LINE_HELP = "roads only: GeoJSON LineString/MultiLineString (object or text) or WKT, in `crs`"
ORG_CODE_HELP = "code of the district, street or community it lies in (the city's, for a road across districts)"


class EntryIn(BaseModel):
    kind: DataKind
    name: str = Field(min_length=1, max_length=100)
    aliases: list[str] = Field(default_factory=list, max_length=20)
    lon: float | None = Field(None, ge=-180, le=180, description="in `crs`; may be left out for a road with a line")
    lat: float | None = Field(None, ge=-90, le=90)
    crs: CRS = Field(CRS.WGS84, description="coordinate system of lon/lat and line; stored as WGS-84")
    org_code: str = Field(min_length=1, max_length=32, description=ORG_CODE_HELP)
    line: dict[str, Any] | str | None = Field(None, description=LINE_HELP)


class EntryPatch(BaseModel):
    """Roads and POIs change freely; an entry that mirrors an organisation takes aliases only."""

    name: str | None = Field(None, min_length=1, max_length=100)
    aliases: list[str] | None = Field(None, max_length=20)
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    crs: CRS = Field(CRS.WGS84, description="coordinate system of a new lon/lat or line")
    org_code: str | None = Field(None, min_length=1, max_length=32)
    line: dict[str, Any] | str | None = Field(None, description=LINE_HELP)
    active: bool | None = None


class EntryOut(BaseModel):
    id: int
    kind: EntryKind
    name: str
    aliases: list[str]
    org_id: int = Field(description="the most specific area organisation it lies in")
    lon: float = Field(description="WGS-84")
    lat: float = Field(description="WGS-84")
    line: dict[str, Any] | None = Field(None, description="GeoJSON, WGS-84")
    derived: bool = Field(description="mirrors a district, street or community organisation")
    active: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class GazetteerImportReport(BaseModel):
    created: int
    replaced: int = Field(description="roads and POIs removed first (replace=true)")
    by_kind: dict[str, int]
    gazetteer_revision: int


class RefreshReport(BaseModel):
    created: int
    updated: int
    removed: int
    entries: int = Field(description="entries that mirror an organisation, after the refresh")


class GeocodeOut(BaseModel):
    address: str
    lon: float = Field(description="WGS-84")
    lat: float = Field(description="WGS-84")
    level: EntryKind = Field(description="the kind of place the point comes from")
    entry_id: int
    names: list[str] = Field(description="the places matched, broadest first")
    district: OrgRef | None
    street: OrgRef | None
    community: OrgRef | None
    confidence: float = Field(ge=0, le=1)
    reason: str
    location: LocationOut | None = Field(
        None, description="the unit grid cell at the point, when it lies in one you can see"
    )
