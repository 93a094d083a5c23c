from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from chengguan.evidence.models import EvidenceType
from chengguan.evidence.schemas import SUBJECT_TYPE

# Field values stay loosely typed here: kinds.check_fields judges them and names each fault.
FieldValues = dict[str, Any]


class FieldOut(BaseModel):
    name: str
    label: str
    required: bool


class KindOut(BaseModel):
    key: str
    title: str
    word: str = Field(description="the word of the 文号, e.g. 罚决 in 京城管东罚决字〔2026〕第00012号")
    basis: str = Field(description="the law that fixes the document's content")
    evidence_type: EvidenceType = Field(description="what the issued PDF is filed as")
    fields: list[FieldOut]


class PreviewIn(BaseModel):
    kind: str
    agency_org_id: int | None = Field(None, description="issuing agency; default: the caller's organisation")
    fields: FieldValues


class IssueIn(BaseModel):
    kind: str
    agency_org_id: int = Field(description="the issuing agency (its numbers, its name on the document)")
    subject_type: str = Field("case", pattern=SUBJECT_TYPE)
    subject_id: str = Field(min_length=1, max_length=64, pattern=r"^\S+$", description="e.g. the case number")
    fields: FieldValues


class DocumentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    org_id: int
    kind: str
    number: str
    year: int
    seq: int
    subject_type: str
    subject_id: str
    fields: FieldValues
    evidence_id: int
    sha256: str
    size: int
    issued_at: dt.datetime
    issued_by_id: int | None
    issued_by_name: str


class AgencyIn(BaseModel):
    abbreviation: str = Field(min_length=1, max_length=30, description="e.g. 京城管东")
    number_format: str | None = Field(
        None, max_length=120, description="e.g. {abbr}{word}字〔{year}〕第{seq:05d}号 (the default when unset)"
    )


class AgencyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    org_id: int
    abbreviation: str
    number_format: str | None
    example: str = Field(description="行政处罚决定书 no. 12 of 2026 in this format")
