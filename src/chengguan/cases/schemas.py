from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    number: str
    status: str
    category_key: str | None
    title: str
    description: str
    address: str | None
    lon: float | None
    lat: float | None
    cell_id: int | None
    area_class: str | None
    org_id: int
    street_id: int | None
    district_id: int | None
    unit_id: int | None
    source: str
    report_count: int
    first_reported_at: dt.datetime
    last_reported_at: dt.datetime
    deadline_at: dt.datetime | None
    dispatched_at: dt.datetime | None
    dispatch_reason: str | None
    closed_at: dt.datetime | None
