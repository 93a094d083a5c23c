from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from chengguan.legal.discretion import Harm, Mitigation, Party, Verdict
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


# -- discretion (自由裁量) ---------------------------------------------------------------------------

MAX_CONCURRENT_CAUSES = 5
Money = Annotated[Decimal, Field(gt=0, max_digits=16, decimal_places=2)]


class SchemeTierIO(BaseModel):
    name: str = Field(min_length=1, max_length=20, description="轻微, 一般, 较重, 严重 …")
    lower: int = Field(ge=0, le=100, description="per cent of the statutory range where the tier starts")
    upper: int = Field(ge=0, le=100, description="per cent where it ends")


class SchemeIn(BaseModel):
    """Tiers in ascending order, contiguous from 0 % to 100 % (checked; the field at fault named)."""

    tiers: list[SchemeTierIO] = Field(max_length=10)
    hearing_citizen: int = Field(ge=0, description="较大数额 for a citizen: a larger fine carries the hearing right")
    hearing_organisation: int = Field(ge=0, description="较大数额 for an organisation")
    published_as: str = Field("", max_length=200, description="the published benchmark's document number (法34)")


class SchemeOut(BaseModel):
    org_id: int | None = Field(description="the agency whose scheme this is; null: the platform default")
    org_name: str | None
    source: str
    tiers: list[SchemeTierIO]
    hearing_citizen: int
    hearing_organisation: int
    published_as: str
    updated_at: dt.datetime | None


class HistoryIn(BaseModel):
    prior_penalties: int = Field(0, ge=0, description="penalties for the same cause within the window")
    last_penalty_on: dt.date | None = None
    window_days: int = Field(365, ge=1, le=3650)


class CauseFactsIn(BaseModel):
    """One cause the act falls under, with the facts only that cause needs."""

    cause_code: str = Field(min_length=1, max_length=16)
    builtin_tier: str | None = Field(None, max_length=60, description="the statute's own tier the facts establish")
    quantity: Money | None = Field(None, description="m², vehicles, animals … for a per-unit fine")
    construction_cost: Money | None = Field(None, description="yuan, for a fine on the construction cost")


class RecommendIn(BaseModel):
    causes: list[CauseFactsIn] = Field(min_length=1, max_length=MAX_CONCURRENT_CAUSES)
    org_id: int | None = Field(None, description="the deciding agency; default: the caller's organisation")
    tier: str = Field(min_length=1, max_length=20, description="the scheme's tier the facts fit")
    party: Party = Party.CITIZEN
    mitigating: list[Mitigation] = Field(default_factory=list, max_length=len(Mitigation))
    reduce: bool = Field(False, description="减轻 (below the range) instead of 从轻; needs a mitigating fact")
    aggravating: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=10
    )
    minor: bool = False
    corrected: bool = False
    harm: Harm = Harm.SERIOUS
    no_fault_proven: bool = False
    age: int | None = Field(None, ge=0, le=150)
    lacks_capacity: bool = False
    history: HistoryIn = Field(default_factory=HistoryIn)


class DecisionIn(RecommendIn):
    amount: int = Field(ge=0, description="the fine decided, yuan; 0: no penalty")
    reason: str | None = Field(None, max_length=2000, description="required when the amount leaves the band")


class LineOut(BaseModel):
    text: str
    refs: list[str]
    citations: list[str] = Field(description="the refs as canonical citations, where they resolve")


class RangeOut(BaseModel):
    low: int
    high: int


class NoPenaltyOut(BaseModel):
    ground: str = Field(description="under_14 | incapable | no_fault | minor | first_offence")
    mandatory: bool = Field(description="true: must not punish; false: may decline (首违不罚)")
    text: str
    ref: str


class RecommendationOut(BaseModel):
    cause_code: str
    cause_name: str
    fine_basis: FineBasis
    fine_min: int | None = Field(description="the statute's rate as recorded: yuan, yuan per unit or per cent")
    fine_max: int | None
    builtin_tier: str | None
    tier: str
    applicable: RangeOut | None = Field(description="the statutory range for these circumstances, yuan")
    reduced: RangeOut | None = Field(description="the 减轻-lowered range, when chosen")
    band: RangeOut | None = Field(description="the scheme tier's share of the range")
    amount: int | None = Field(description="recommended fine, yuan; null: no fine")
    no_penalty: NoPenaltyOut | None
    simple_procedure: bool = Field(description="法51: may be decided on the spot")
    hearing: bool = Field(description="法63: the party must be told of the hearing right")
    hearing_threshold: int
    rounding: str
    lines: list[LineOut]
    provisions: list[ProvisionOut]


class AdviceOut(BaseModel):
    scheme: SchemeOut
    applies: RecommendationOut = Field(description="the one fine 法29 allows")
    concurrence: list[LineOut] = Field(description="why it applies, when several causes were given")
    recommendations: list[RecommendationOut]
    rules: list[ResolvedRefOut] = Field(description="texts of the general articles the rationale cites")


class DecisionOut(BaseModel):
    verdict: Verdict
    amount: int
    deviation: int = Field(description="yuan beyond the recommended band (negative: below)")
    simple_procedure: bool
    hearing: bool
    lines: list[LineOut]
    recommendation: RecommendationOut
