from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from chengguan.calendar.models import DayKind, YearStatus
from chengguan.kit.workcal import Unit


class DayIn(BaseModel):
    kind: DayKind
    name: str = Field(min_length=1, max_length=40, description="e.g. 春节, 春节调休上班")
    source: str | None = Field(None, max_length=80, description="notice number, e.g. 国办发明电〔2025〕7号")


class DayOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    date: dt.date = Field(validation_alias="day")
    kind: DayKind
    name: str
    source: str | None


class YearIn(BaseModel):
    status: YearStatus
    notice: str | None = Field(None, max_length=80, description="required for an official year")
    note: str | None = Field(None, max_length=400)


class YearOut(BaseModel):
    year: int
    status: YearStatus | None = Field(description="null: no schedule loaded, only weekends count")
    notice: str | None
    note: str | None
    revision: int
    days: list[DayOut]


class PeriodIO(BaseModel):
    start: dt.time = Field(examples=["09:00"])
    end: dt.time = Field(examples=["12:00"])


class WorkingHoursIO(BaseModel):
    periods: list[PeriodIO] = Field(min_length=1, max_length=8)


class DeadlineOut(BaseModel):
    start: dt.datetime
    amount: float
    unit: Unit
    deadline: dt.datetime = Field(description="the instant the period ends, in the city's time zone")
    last_day: dt.date = Field(description="the day on which the period runs out (期间届满日)")
    working_days: list[dt.date] = Field(description="working days after the start day up to the last day")
    years: dict[int, YearStatus | None] = Field(description="schedule status of every year the period touches")
