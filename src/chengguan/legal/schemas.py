from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from chengguan.legal.models import FineBasis, ProvisionRole, Verification
from chengguan.legal.parser import Level

CODE_PATTERN = r"^[0-9A-Za-z_.\-]+$"
RefText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Tier(BaseModel):
    """A tier written into the statute: 情节严重, 再次, 拒不改正 … with its range in yuan."""

    when: str = Field(min_length=1, max_length=60)
    min: int | None = Field(None, ge=0)
    max: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Tier:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"tier {self.when!r}: min {self.min} exceeds max {self.max}")
        return self


class CauseIn(BaseModel):
    code: str = Field(min_length=1, max_length=16, pattern=CODE_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    name_en: str | None = Field(None, max_length=200)
    description: str = ""
    breached_text: str = ""
    penalty_text: str = ""
    breached_refs: list[RefText] = Field(default_factory=list, max_length=30, description="e.g. ['BJ市容 35 para 1']")
    penalty_refs: list[RefText] = Field(default_factory=list, max_length=30, description="e.g. ['BJ市容 35 para 5']")
    fine_min: int | None = Field(None, ge=0, description="yuan; null where the statute sets no minimum")
    fine_max: int | None = Field(None, ge=0, description="yuan; null where the statute sets no maximum")
    fine_basis: FineBasis = FineBasis.FIXED
    fine_text: str = ""
    tiers: list[Tier] = Field(default_factory=list)
    measures: str = ""
    authority: str = ""
    verification: Verification = Verification.UNVERIFIED
    notes: str = ""
    active: bool = True

    @model_validator(mode="after")
    def _fine_range(self) -> CauseIn:
        if self.fine_min is not None and self.fine_max is not None and self.fine_min > self.fine_max:
            raise ValueError(f"fine_min {self.fine_min} exceeds fine_max {self.fine_max}")
        if self.fine_basis == FineBasis.NONE and (self.fine_min is not None or self.fine_max is not None):
            raise ValueError("fine_basis 'none' carries no fine_min or fine_max")
        return self


class CausePatch(BaseModel):
    """Fields left out stay; a list of refs replaces that role's provisions. The merged cause is
    checked as a whole (a new fine_max must still not fall below fine_min)."""

    name: str | None = Field(None, min_length=1, max_length=200)
    name_en: str | None = Field(None, max_length=200)
    description: str | None = None
    breached_text: str | None = None
    penalty_text: str | None = None
    breached_refs: list[RefText] | None = Field(None, max_length=30)
    penalty_refs: list[RefText] | None = Field(None, max_length=30)
    fine_min: int | None = Field(None, ge=0)
    fine_max: int | None = Field(None, ge=0)
    fine_basis: FineBasis | None = None
    fine_text: str | None = None
    tiers: list[Tier] | None = None
    measures: str | None = None
    authority: str | None = None
    verification: Verification | None = None
    notes: str | None = None
    active: bool | None = None


class CauseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    name_en: str | None
    description: str
    breached_text: str
    penalty_text: str
    fine_min: int | None
    fine_max: int | None
    fine_basis: FineBasis
    fine_text: str
    tiers: list[Tier]
    measures: str
    authority: str
    verification: Verification
    notes: str
    active: bool


class ProvisionOut(BaseModel):
    role: ProvisionRole
    ref: str
    document_id: int | None
    document_title: str | None
    article_id: int | None
    article_label: str | None
    paragraph_no: int | None
    item_no: int | None
    citation: str | None = Field(description="canonical Chinese citation; null when the ref cites no loaded text")
    text: str | None = Field(description="the exact words cited; null when the ref cites no loaded text")


class CauseDetailOut(CauseOut):
    provisions: list[ProvisionOut]


class DocumentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    short_title: str
    aliases: list[str]
    level: Level
    version_date: dt.date | None
    source_file: str
    article_count: int


class ArticleBrief(BaseModel):
    id: int
    label: str
    number: int
    suffix: int


class OutlineNode(BaseModel):
    """The document (root), its 编, 章 and 节, each with the articles directly under it."""

    kind: str = Field(description="document | part (编) | chapter (章) | section (节)")
    label: str
    articles: list[ArticleBrief] = Field(default_factory=list)
    children: list[OutlineNode] = Field(default_factory=list)


class DocumentDetailOut(DocumentOut):
    preamble: str
    outline: OutlineNode


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    text: str


class ParagraphOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    text: str
    items: list[ItemOut]


class ArticleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    document_id: int
    document_title: str
    label: str
    number: int
    suffix: int
    part: str | None
    chapter: str | None
    section: str | None
    text: str
    paragraphs: list[ParagraphOut]


class SearchHitOut(BaseModel):
    article_id: int
    document_id: int
    document_title: str
    label: str
    chapter: str | None
    score: int = Field(description="how often the query terms occur in the article")
    snippet: str


class SearchOut(BaseModel):
    query: str
    total: int
    items: list[SearchHitOut]


class ResolvedRefOut(BaseModel):
    ref: str
    citation: str
    document_id: int
    document_title: str
    article_id: int
    article_label: str
    paragraph_no: int | None
    item_no: int | None
    text: str
