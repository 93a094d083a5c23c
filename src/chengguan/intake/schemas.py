from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from chengguan.kit.coords import CRS

MAX_TEXT = 4000


class ReportIn(BaseModel):
    """One report from any channel. Give coordinates (``lon``/``lat``, in ``crs`` or the
    channel's default), or an ``address``, or neither (it then waits for a clerk to place it)."""

    channel: str = Field(min_length=1, max_length=32, description="a code from the channel registry")
    external_id: str | None = Field(None, min_length=1, max_length=128, description="the source's own id")
    title: str | None = Field(None, max_length=200)
    description: str = Field(min_length=1, max_length=MAX_TEXT)
    category_key: str | None = Field(None, max_length=8, description="the 小类 the source names, e.g. E0501")
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    crs: CRS | None = None
    address: str | None = Field(None, max_length=300)
    submitted_at: AwareDatetime | None = None
    closed_at: AwareDatetime | None = Field(None, description="history imports only: when the source closed it")
    reporter_name: str | None = Field(None, max_length=64)
    reporter_phone: str | None = Field(None, max_length=32, pattern=r"^[0-9+\- ]*$")
    attributes: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _both_coordinates_or_none(self) -> ReportIn:
        if (self.lon is None) != (self.lat is None):
            missing = "lat" if self.lat is None else "lon"
            raise ValueError(f"{missing} is missing: send both lon and lat, or an address")
        return self


class BatchIn(BaseModel):
    reports: list[ReportIn] = Field(min_length=1, max_length=1000)


class UnitOut(BaseModel):
    id: int
    code: str
    name: str


class DispatchOut(BaseModel):
    unit: UnitOut | None
    deadline_at: dt.datetime | None
    reason: str
    consultation: bool


class CategoryOut(BaseModel):
    key: str | None
    source: str | None  # source | model | clerk
    probability: float | None
    top3: list[tuple[str, float]] | None


class DuplicateOut(BaseModel):
    event_id: int
    score: float
    reason: str


class LocationOut(BaseModel):
    lon: float | None
    lat: float | None
    source: str
    cell_code: str | None
    area_class: str | None
    org_id: int


class ReportOutcome(BaseModel):
    report_id: int
    status: str
    repeated: bool = Field(False, description="this (channel, external_id) was received before: nothing new was made")
    event_id: int | None
    event_number: str | None
    merged: bool
    pending_reasons: list[str]
    category: CategoryOut
    location: LocationOut
    duplicate: DuplicateOut | None = None
    suggestions: list[DuplicateOut] = []
    dispatch: DispatchOut | None = None


class ItemError(BaseModel):
    index: int
    field: str
    message: str


class BatchOut(BaseModel):
    outcomes: list[ReportOutcome | None]
    errors: list[ItemError]
