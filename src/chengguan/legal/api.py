"""/api/legal: laws, articles, keyword search, citation lookup (掌上查), case causes (案由) and
discretion (自由裁量: recommended fines and the agencies' tier schemes)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from chengguan.auth.deps import DbSession, require
from chengguan.auth.principal import Principal
from chengguan.auth.roles import Permission
from chengguan.kit.paging import MAX_LIMIT, Page
from chengguan.legal import discretion, service
from chengguan.legal.models import CaseCause, LawArticle, Verification
from chengguan.legal.parser import Level
from chengguan.legal.resolve import ResolvedRef
from chengguan.legal.schemas import (
    AdviceOut,
    ArticleOut,
    CauseDetailOut,
    CauseIn,
    CauseOut,
    CausePatch,
    DecisionIn,
    DecisionOut,
    DocumentDetailOut,
    DocumentOut,
    LineOut,
    NoPenaltyOut,
    ParagraphOut,
    ProvisionOut,
    RangeOut,
    RecommendationOut,
    RecommendIn,
    ResolvedRefOut,
    SchemeIn,
    SchemeOut,
    SchemeTierIO,
    SearchHitOut,
    SearchOut,
)
from chengguan.orgs import service as orgs_service

router = APIRouter(prefix="/api/legal", tags=["legal"])
READ = Depends(require(Permission.LEGAL_READ))
WRITE = Depends(require(Permission.LEGAL_WRITE, citywide=True))  # causes are shared by the whole city
AGENCY_WRITE = Depends(require(Permission.LEGAL_WRITE))  # an agency's own discretion scheme


def resolved_out(resolved: ResolvedRef) -> ResolvedRefOut:
    return ResolvedRefOut(
        ref=resolved.ref,
        citation=resolved.citation,
        document_id=resolved.document.id,
        document_title=resolved.document.title,
        article_id=resolved.article.id,
        article_label=resolved.article.label,
        paragraph_no=resolved.paragraph.number if resolved.paragraph is not None else None,
        item_no=resolved.item.number if resolved.item is not None else None,
        text=resolved.text,
    )


def article_out(article: LawArticle) -> ArticleOut:
    return ArticleOut(
        id=article.id,
        document_id=article.document_id,
        document_title=article.document.title,
        label=article.label,
        number=article.number,
        suffix=article.suffix,
        part=article.part,
        chapter=article.chapter,
        section=article.section,
        text=article.text,
        paragraphs=[ParagraphOut.model_validate(p) for p in article.paragraphs],
    )


def provisions_out(session: Session, cause: CaseCause) -> list[ProvisionOut]:
    provisions = []
    for pt in service.provision_texts(session, cause):
        p, r = pt.provision, pt.resolved
        provisions.append(
            ProvisionOut(
                role=p.role,
                ref=p.ref,
                document_id=p.document_id,
                document_title=r.document.title if r else None,
                article_id=p.article_id,
                article_label=r.article.label if r else None,
                paragraph_no=p.paragraph_no,
                item_no=p.item_no,
                citation=r.citation if r else None,
                text=r.text if r else None,
            )
        )
    return provisions


def cause_detail(session: Session, cause: CaseCause) -> CauseDetailOut:
    return CauseDetailOut(**CauseOut.model_validate(cause).model_dump(), provisions=provisions_out(session, cause))


@router.get("/documents", response_model=Page[DocumentOut], summary="Law documents (法律法规库)")
def list_documents(
    session: DbSession,
    level: Level | None = None,
    q: str | None = Query(None, max_length=100, description="part of the title"),
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
    _: Principal = READ,
) -> Page[DocumentOut]:
    rows, total = service.list_documents(session, level=level, q=q, limit=limit, offset=offset)
    return Page(items=[DocumentOut.model_validate(d) for d in rows], total=total, limit=limit, offset=offset)


@router.get("/documents/{document_id}", response_model=DocumentDetailOut, summary="A document with its outline")
def get_document(document_id: int, session: DbSession, _: Principal = READ) -> DocumentDetailOut:
    document = service.get_document(session, document_id)
    return DocumentDetailOut(
        **DocumentOut.model_validate(document).model_dump(),
        preamble=document.preamble,
        outline=service.outline(session, document),
    )


@router.get("/articles/{article_id}", response_model=ArticleOut, summary="An article with its 款 and 项")
def get_article(article_id: int, session: DbSession, _: Principal = READ) -> ArticleOut:
    return article_out(service.get_article(session, article_id))


@router.get("/search", response_model=SearchOut, summary="Keyword search over article texts")
def search(
    session: DbSession,
    q: str = Query(..., min_length=1, max_length=100, description="words separated by spaces; all must occur"),
    document_id: int | None = None,
    limit: int = Query(20, ge=1, le=100),
    _: Principal = READ,
) -> SearchOut:
    results = service.search(session, q, document_id=document_id, limit=limit)
    hits = [
        SearchHitOut(
            article_id=h.article.id,
            document_id=h.article.document_id,
            document_title=h.article.document.title,
            label=h.article.label,
            chapter=h.article.chapter,
            score=h.score,
            snippet=h.snippet,
        )
        for h in results.hits
    ]
    return SearchOut(query=q, total=results.total, items=hits)


@router.get("/lookup", response_model=ResolvedRefOut, summary="Resolve a citation to its exact text")
def lookup(
    session: DbSession,
    ref: str = Query(..., min_length=1, max_length=200, description="e.g. BJ市容 35 para 5, 噪声法 77(二), 法 51"),
    _: Principal = READ,
) -> ResolvedRefOut:
    return resolved_out(service.lookup(session, ref))


@router.get("/causes", response_model=Page[CauseOut], summary="Case causes (案由)")
def list_causes(
    session: DbSession,
    q: str | None = Query(None, max_length=100, description="part of the code, name or description"),
    document_id: int | None = Query(None, description="causes citing this law document"),
    verification: Verification | None = None,
    active: bool | None = None,
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
    _: Principal = READ,
) -> Page[CauseOut]:
    rows, total = service.list_causes(
        session, q=q, document_id=document_id, verification=verification, active=active, limit=limit, offset=offset
    )
    return Page(items=[CauseOut.model_validate(c) for c in rows], total=total, limit=limit, offset=offset)


@router.get("/causes/{code}", response_model=CauseDetailOut, summary="A case cause with the texts it cites")
def get_cause(code: str, session: DbSession, _: Principal = READ) -> CauseDetailOut:
    return cause_detail(session, service.get_cause(session, code))


@router.post("/causes", response_model=CauseDetailOut, status_code=201, summary="Add a city's own case cause")
def create_cause(body: CauseIn, session: DbSession, _: Principal = WRITE) -> CauseDetailOut:
    return cause_detail(session, service.create_cause(session, body))


@router.patch("/causes/{code}", response_model=CauseDetailOut, summary="Change a case cause")
def patch_cause(code: str, body: CausePatch, session: DbSession, _: Principal = WRITE) -> CauseDetailOut:
    return cause_detail(session, service.update_cause(session, service.get_cause(session, code), body))


# -- discretion (自由裁量) ----------------------------------------------------------------------------


def scheme_out(effective: service.EffectiveScheme) -> SchemeOut:
    row, scheme = effective.row, effective.scheme
    return SchemeOut(
        org_id=row.org_id if row else None,
        org_name=effective.org_name,
        source=scheme.source,
        tiers=[SchemeTierIO(name=t.name, lower=t.lower, upper=t.upper) for t in scheme.tiers],
        hearing_citizen=scheme.hearing_citizen,
        hearing_organisation=scheme.hearing_organisation,
        published_as=row.published_as if row else "",
        updated_at=row.updated_at if row else None,
    )


def lines_out(lines: list[discretion.Line], resolved: dict[str, ResolvedRef]) -> list[LineOut]:
    return [
        LineOut(
            text=line.text, refs=list(line.refs), citations=[resolved[r].citation for r in line.refs if r in resolved]
        )
        for line in lines
    ]


def range_out(value: discretion.Range | None) -> RangeOut | None:
    return RangeOut(low=value.low, high=value.high) if value else None


def recommendation_out(
    session: Session, cause: CaseCause, rec: discretion.Recommendation, resolved: dict[str, ResolvedRef]
) -> RecommendationOut:
    ground = rec.no_penalty
    return RecommendationOut(
        cause_code=cause.code,
        cause_name=cause.name,
        fine_basis=rec.cause.basis,
        fine_min=cause.fine_min,
        fine_max=cause.fine_max,
        builtin_tier=rec.builtin_tier,
        tier=rec.tier,
        applicable=range_out(rec.applicable),
        reduced=range_out(rec.reduced),
        band=range_out(rec.band),
        amount=rec.amount,
        no_penalty=NoPenaltyOut(ground=ground.ground, mandatory=ground.mandatory, text=ground.text, ref=ground.ref)
        if ground
        else None,
        simple_procedure=rec.simple_procedure,
        hearing=rec.hearing,
        hearing_threshold=rec.hearing_threshold,
        rounding=rec.rounding,
        lines=lines_out(rec.lines, resolved),
        provisions=provisions_out(session, cause),
    )


def _resolved(session: Session, advice: service.Advice, *more: discretion.Line) -> dict[str, ResolvedRef]:
    """Every ref the rationale cites, resolved once per request."""
    lines = [*advice.concurrence.lines, *more, *(line for _c, rec in advice.recommendations for line in rec.lines)]
    return service.resolve_refs(session, service.cited_refs(lines))


def advice_out(session: Session, advice: service.Advice) -> AdviceOut:
    resolved = _resolved(session, advice)
    own = {p.ref for cause, _rec in advice.recommendations for p in cause.provisions}
    recommendations = [recommendation_out(session, c, rec, resolved) for c, rec in advice.recommendations]
    return AdviceOut(
        scheme=scheme_out(advice.scheme),
        applies=recommendations[advice.recommendations.index(advice.applies)],
        concurrence=lines_out(advice.concurrence.lines, resolved) if len(recommendations) > 1 else [],
        recommendations=recommendations,
        rules=[resolved_out(r) for ref, r in resolved.items() if ref not in own],
    )


def _org_path(session: Session, org_id: int | None, principal: Principal) -> str | None:
    if org_id is None:
        return principal.org_path
    return orgs_service.get(session, org_id).path


@router.post("/discretion/recommend", response_model=AdviceOut, summary="Recommended fine with rationale (自由裁量)")
def recommend(body: RecommendIn, session: DbSession, principal: Principal = READ) -> AdviceOut:
    return advice_out(session, service.recommend(session, body, _org_path(session, body.org_id, principal)))


@router.post("/discretion/check", response_model=DecisionOut, summary="Check a decided fine against the recommendation")
def check_decision(body: DecisionIn, session: DbSession, principal: Principal = READ) -> DecisionOut:
    advice, check = service.check_decision(session, body, _org_path(session, body.org_id, principal))
    resolved = _resolved(session, advice, *check.lines)
    return DecisionOut(
        verdict=check.verdict,
        amount=check.amount,
        deviation=check.deviation,
        simple_procedure=check.simple_procedure,
        hearing=check.hearing,
        lines=lines_out(check.lines, resolved),
        recommendation=recommendation_out(session, *advice.applies, resolved),
    )


@router.get("/discretion/schemes", response_model=list[SchemeOut], summary="Every agency's published scheme (法34)")
def list_schemes(session: DbSession, _: Principal = READ) -> list[SchemeOut]:
    return [
        scheme_out(service.EffectiveScheme(service.scheme_of(row, name), row, name))
        for row, name in service.list_schemes(session)
    ]


@router.get("/discretion/schemes/citywide", response_model=SchemeOut, summary="The city-wide scheme")
def get_citywide_scheme(session: DbSession, _: Principal = READ) -> SchemeOut:
    return scheme_out(service.effective_scheme(session, None))


@router.put("/discretion/schemes/citywide", response_model=SchemeOut, summary="Set the city-wide scheme")
def put_citywide_scheme(body: SchemeIn, session: DbSession, principal: Principal = WRITE) -> SchemeOut:
    city = orgs_service.get(session, principal.org_id or 0)  # a city-level account belongs to the root
    service.put_scheme(session, city, body)
    return scheme_out(service.effective_scheme(session, city.path))


@router.get("/discretion/schemes/orgs/{org_id}", response_model=SchemeOut, summary="The scheme an agency works under")
def get_org_scheme(org_id: int, session: DbSession, _: Principal = READ) -> SchemeOut:
    return scheme_out(service.effective_scheme(session, orgs_service.get(session, org_id).path))


@router.put("/discretion/schemes/orgs/{org_id}", response_model=SchemeOut, summary="Set an agency's own scheme")
def put_org_scheme(org_id: int, body: SchemeIn, session: DbSession, _: Principal = AGENCY_WRITE) -> SchemeOut:
    org = orgs_service.get(session, org_id)
    service.put_scheme(session, org, body)
    return scheme_out(service.effective_scheme(session, org.path))


@router.delete("/discretion/schemes/orgs/{org_id}", status_code=204, summary="Back to the scheme above")
def delete_org_scheme(org_id: int, session: DbSession, _: Principal = AGENCY_WRITE) -> None:
    service.delete_scheme(session, orgs_service.get(session, org_id))
