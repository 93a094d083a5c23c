"""/api/legal: laws, articles, keyword search, citation lookup (掌上查) and case causes (案由)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from chengguan.auth.deps import DbSession, require
from chengguan.auth.principal import Principal
from chengguan.auth.roles import Permission
from chengguan.kit.paging import MAX_LIMIT, Page
from chengguan.legal import service
from chengguan.legal.models import CaseCause, LawArticle, Verification
from chengguan.legal.parser import Level
from chengguan.legal.resolve import ResolvedRef
from chengguan.legal.schemas import (
    ArticleOut,
    CauseDetailOut,
    CauseIn,
    CauseOut,
    CausePatch,
    DocumentDetailOut,
    DocumentOut,
    ParagraphOut,
    ProvisionOut,
    ResolvedRefOut,
    SearchHitOut,
    SearchOut,
)

router = APIRouter(prefix="/api/legal", tags=["legal"])
READ = Depends(require(Permission.LEGAL_READ))
WRITE = Depends(require(Permission.LEGAL_WRITE, citywide=True))  # causes are shared by the whole city


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


def cause_detail(session: Session, cause: CaseCause) -> CauseDetailOut:
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
    return CauseDetailOut(**CauseOut.model_validate(cause).model_dump(), provisions=provisions)


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
