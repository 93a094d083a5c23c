"""What the analytics API answers: a table (column names and rows), ready for a chart."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from chengguan.analytics.metrics import Result


class MetricOut(BaseModel):
    metric: str
    columns: list[str]
    rows: list[list[Any]]
    meta: dict[str, Any]

    @classmethod
    def of(cls, metric: str, result: Result) -> MetricOut:
        return cls(metric=metric, columns=list(result.columns), rows=[list(r) for r in result.rows], meta=result.meta)


class MetricInfo(BaseModel):
    name: str
    title: str


class ThresholdIn(BaseModel):
    """Three-colour warning thresholds for an area subtree (none: the city) and a category (none: all)."""

    org_id: int | None = None
    category_key: str | None = Field(None, max_length=32)
    yellow_z: float = Field(2.0, gt=0)
    red_z: float = Field(3.0, gt=0)
    min_count: int = Field(5, ge=0)
    baseline_weeks: int = Field(8, ge=3, le=52)


class ThresholdOut(ThresholdIn):
    model_config = ConfigDict(from_attributes=True)

    id: int


class ShiftIn(BaseModel):
    name: str = Field(max_length=40)
    start: int = Field(ge=0, le=23, description="first hour")
    end: int = Field(ge=0, le=23, description="hour it ends (exclusive); at or before start: past midnight")


class DutyIn(BaseModel):
    """勤务跟着高峰走: officers on duty per area (org id → officers) shared among the shifts."""

    start: dt.date = Field(description="the first day to deploy (its history ends the day before)")
    days: int = Field(1, ge=1, le=14)
    area_by: str = Field("street", description="district or street")
    officers: dict[str, int] = Field(min_length=1)
    shifts: list[ShiftIn] = Field(min_length=1, max_length=12)
    minimum: int = Field(1, ge=0, description="officers every shift gets whatever its forecast")
