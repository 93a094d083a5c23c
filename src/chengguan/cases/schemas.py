from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


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
    holder_id: int | None
    node_at: dt.datetime | None
    light: str | None
    supervision_count: int
    rework_count: int


class FieldOut(BaseModel):
    name: str
    type: str
    required: bool
    zh: str
    choices: list[str]
    minimum: float | None
    maximum: float | None


class ActionOut(BaseModel):
    key: str
    zh: str
    en: str
    fields: list[FieldOut]
    attachments: int
    needs_approval: bool
    approval_roles: list[str]


class ActionIn(BaseModel):
    fields: dict[str, Any] = Field(default_factory=dict, description="the action's fields (GET …/actions lists them)")
    evidence_ids: list[int] = Field(default_factory=list, description="evidence items of this case to attach")
    note: str = Field("", max_length=2000)


class StepOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    action: str
    from_state: str
    to_state: str
    actor_id: int | None
    actor_name: str
    automatic: bool
    note: str
    data: dict[str, Any]
    at: dt.datetime


class NodeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    state: str
    holder_id: int | None
    entered_at: dt.datetime
    left_at: dt.datetime | None
    due_at: dt.datetime | None
    working_hours: float
    limit_hours: float | None
    light: str | None
    action: str | None


class RequestOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    action: str
    state: str
    data: dict[str, Any]
    status: str
    requested_by: int | None
    requested_at: dt.datetime
    decided_by: int | None
    decided_at: dt.datetime | None
    decision_note: str | None


class DecisionIn(BaseModel):
    note: str = Field("", max_length=500)


class ActionResult(BaseModel):
    state: str
    steps: list[StepOut]
    request: RequestOut | None


class TimelineOut(BaseModel):
    number: str
    state: str
    nodes: list[NodeOut]  # every node passed through, the current one last (left_at empty)
    steps: list[StepOut]
    pending: RequestOut | None


class CauseFacts(BaseModel):
    cause_code: str = Field(min_length=1, max_length=16)
    builtin_tier: str | None = Field(None, max_length=60)
    quantity: float | None = Field(None, ge=0)
    construction_cost: float | None = Field(None, ge=0)


class PenaltyCaseIn(BaseModel):
    """A new enforcement case (案件来源); 立案 is the flow's first action."""

    agency_id: int = Field(description="the enforcement agency that files and decides it")
    org_id: int | None = Field(None, description="the area where it happened; default: the agency's area")
    event_id: int | None = None
    source: str = Field(pattern="^(inspection|complaint|hotline|transfer|event|supervision)$")
    title: str = Field(min_length=2, max_length=200)
    facts: str = Field("", max_length=8000)
    causes: list[CauseFacts] = Field(min_length=1, max_length=5)
    circumstances: dict[str, Any] = Field(
        default_factory=dict, description="discretion facts: mitigating, minor, corrected, harm …"
    )
    party_type: str = Field(pattern="^(citizen|organisation)$")
    party_name: str = Field(min_length=1, max_length=200)
    party_id_no: str | None = Field(None, max_length=40)
    party_address: str | None = Field(None, max_length=300)
    party_phone: str | None = Field(None, max_length=40)
    act_at: dt.datetime
    act_end_at: dt.datetime | None = None
    discovered_at: dt.datetime
    serious_harm: bool = False
    officers: list[int] = Field(default_factory=list, max_length=10, description="user ids of the officers")


class PenaltyCaseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    number: str
    status: str
    agency_id: int
    org_id: int
    event_id: int | None
    source: str
    procedure: str
    title: str
    facts: str
    causes: list[dict[str, Any]]
    party_type: str
    party_name: str
    act_at: dt.datetime
    discovered_at: dt.datetime
    officers: list[int]
    measures: list[dict[str, Any]]
    filed_at: dt.datetime | None
    decision_due_at: dt.datetime | None
    extensions: list[dict[str, Any]]
    legal_review: bool
    collective: bool
    recommendation: dict[str, Any] | None
    penalty_kind: str | None
    intended_yuan: int | None
    hearing_right: bool
    notified_at: dt.datetime | None
    hearing_at: dt.datetime | None
    outcome: str | None
    fine_yuan: int | None
    flagged: bool
    decided_at: dt.datetime | None
    served_at: dt.datetime | None
    payment_due_at: dt.datetime | None
    paid_at: dt.datetime | None
    paid_yuan: float | None
    surcharge_yuan: float | None
    demand_served_at: dt.datetime | None
    court_applied_at: dt.datetime | None
    closed_at: dt.datetime | None
    deadline_at: dt.datetime | None
    light: str | None
    holder_id: int | None
