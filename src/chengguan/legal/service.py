"""Law texts and case causes: loading, citation lookup, keyword search, cause administration.
Plain functions, session first; they never commit."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import reduce
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, and_, desc, func, or_, select
from sqlalchemy.orm import Session

from chengguan import audit
from chengguan.errors import Conflict, Invalid, NotFound
from chengguan.legal import causes, loader
from chengguan.legal.loader import LoadReport
from chengguan.legal.models import CaseCause, CauseProvision, LawArticle, LawDocument, Verification
from chengguan.legal.parser import Level
from chengguan.legal.resolve import ResolvedRef, Resolver
from chengguan.legal.schemas import ArticleBrief, CauseIn, CausePatch, OutlineNode

MAX_TERMS = 5
SNIPPET_CHARS = 80
REF_COLUMNS = frozenset(column for column, _role in causes.REF_ROLES)
DIVISIONS = {"part": LawArticle.part, "chapter": LawArticle.chapter, "section": LawArticle.section}


# -- loading --------------------------------------------------------------------------------------


def load_laws(session: Session, directory: Path | None = None) -> LoadReport:
    """Load the statute texts of ``directory`` (default: the shipped ones). Idempotent: an
    unchanged file is skipped, a changed one updates its document. One audit entry per load."""
    source = directory or loader.LAWS_DIR
    report = loader.write(session, loader.read_laws(source), loader.read_aliases())
    if report.changed:
        session.expire_all()  # the bulk writes went past the identity map
        relinked = causes.relink(session)
        summary = {**asdict(report), "directory": str(source), "provisions_relinked": relinked}
        audit.record(session, "legal.laws_loaded", "law_documents", after=summary)
    return report


def load_causes(session: Session) -> int:
    """Load the shipped 案由 table; the number of causes added or rewritten (0 when nothing changed)."""
    written = causes.write(session, causes.read_shipped())
    if written:
        session.expire_all()
        audit.record(
            session, "legal.causes_loaded", "case_causes", after={"written": written, "file": causes.CAUSES_FILE.name}
        )
    return written


# -- texts ------------------------------------------------------------------------------------------


def lookup(session: Session, ref: str) -> ResolvedRef:
    """The document, article, 款 and 项 a citation names, with their text; ``Invalid`` (422)
    naming ``ref.document``, ``ref.article``, ``ref.paragraph`` or ``ref.item`` otherwise."""
    return Resolver(session).resolve(ref)


def list_documents(
    session: Session, *, level: Level | None = None, q: str | None = None, limit: int = 100, offset: int = 0
) -> tuple[Sequence[LawDocument], int]:
    stmt = select(LawDocument)
    if level is not None:
        stmt = stmt.where(LawDocument.level == level)
    if q:
        stmt = stmt.where(LawDocument.title.contains(q, autoescape=True))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(LawDocument.level, LawDocument.title).limit(limit).offset(offset)).all()
    return rows, total


def get_document(session: Session, document_id: int) -> LawDocument:
    document = session.get(LawDocument, document_id)
    if document is None:
        raise NotFound(f"law document {document_id} not found")
    return document


def outline(session: Session, document: LawDocument) -> OutlineNode:
    """The document's 编/章/节 tree with each article under the division it sits in."""
    root = OutlineNode(kind="document", label=document.title)
    rows = session.execute(
        select(LawArticle.id, LawArticle.label, LawArticle.number, LawArticle.suffix, *DIVISIONS.values())
        .where(LawArticle.document_id == document.id)
        .order_by(LawArticle.number, LawArticle.suffix)
    )
    for row in rows:
        node = root
        for kind in DIVISIONS:
            label = getattr(row, kind)
            if label is None:
                continue
            if not node.children or node.children[-1].label != label:
                node.children.append(OutlineNode(kind=kind, label=label))
            node = node.children[-1]
        node.articles.append(ArticleBrief(id=row.id, label=row.label, number=row.number, suffix=row.suffix))
    return root


def get_article(session: Session, article_id: int) -> LawArticle:
    article = session.get(LawArticle, article_id)
    if article is None:
        raise NotFound(f"law article {article_id} not found")
    return article


@dataclass(frozen=True)
class SearchHit:
    article: LawArticle
    score: int
    snippet: str


@dataclass(frozen=True)
class SearchResults:
    total: int
    hits: list[SearchHit]


def _terms(q: str) -> list[str]:
    terms = list(dict.fromkeys(q.split()))
    if not terms:
        raise Invalid("give a word to search for / 请输入关键词", field="q")
    if len(terms) > MAX_TERMS:
        raise Invalid(f"at most {MAX_TERMS} words per search", field="q")
    return terms


def snippet(text: str, terms: list[str]) -> str:
    """About ``SNIPPET_CHARS`` characters of ``text`` around the first term found."""
    flat = text.replace("\n", " ")
    at = min((i for term in terms if (i := flat.find(term)) >= 0), default=0)
    start = max(0, min(at - SNIPPET_CHARS // 4, len(flat) - SNIPPET_CHARS))
    end = start + SNIPPET_CHARS
    return ("…" if start else "") + flat[start:end] + ("…" if end < len(flat) else "")


def search(session: Session, q: str, document_id: int | None = None, limit: int = 20) -> SearchResults:
    """Articles containing every word of ``q``, the most occurrences first (SQL LIKE: the same on
    SQLite and PostgreSQL, a few milliseconds over the ~2,500 shipped articles)."""
    terms = _terms(q)
    text = LawArticle.text
    # occurrences of a term = how much shorter the text gets without it, in term lengths
    counts = [(func.length(text) - func.length(func.replace(text, t, ""))) // len(t) for t in terms]
    score = reduce(operator.add, counts)
    match: ColumnElement[bool] = and_(*(text.contains(t, autoescape=True) for t in terms))
    if document_id is not None:
        match = and_(match, LawArticle.document_id == document_id)
    total = session.scalar(select(func.count()).select_from(LawArticle).where(match)) or 0
    rows = session.execute(
        select(LawArticle, score.label("score"))
        .where(match)
        .order_by(desc("score"), LawArticle.document_id, LawArticle.number, LawArticle.suffix)
        .limit(limit)
    ).all()
    return SearchResults(total, [SearchHit(article, int(n), snippet(article.text, terms)) for article, n in rows])


# -- case causes ----------------------------------------------------------------------------------


def get_cause(session: Session, code: str) -> CaseCause:
    cause = session.scalar(select(CaseCause).where(CaseCause.code == code))
    if cause is None:
        raise NotFound(f"case cause {code!r} not found / 案由不存在", field="code")
    return cause


def list_causes(
    session: Session,
    *,
    q: str | None = None,
    document_id: int | None = None,
    verification: Verification | None = None,
    active: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[Sequence[CaseCause], int]:
    """Causes by code; ``q`` in code, names or description, ``document_id``: citing that document."""
    stmt = select(CaseCause)
    if q:
        fields = (CaseCause.code, CaseCause.name, CaseCause.name_en, CaseCause.description)
        stmt = stmt.where(or_(*(f.contains(q, autoescape=True) for f in fields)))
    if document_id is not None:
        citing = select(CauseProvision.cause_id).where(CauseProvision.document_id == document_id)
        stmt = stmt.where(CaseCause.id.in_(citing))
    if verification is not None:
        stmt = stmt.where(CaseCause.verification == verification)
    if active is not None:
        stmt = stmt.where(CaseCause.active.is_(active))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    return session.scalars(stmt.order_by(CaseCause.code).limit(limit).offset(offset)).all(), total


def create_cause(session: Session, data: CauseIn) -> CaseCause:
    """A city's own cause; every cited provision must resolve to a loaded text (422 otherwise)."""
    if session.scalar(select(CaseCause.id).where(CaseCause.code == data.code)) is not None:
        raise Conflict(f"case cause code {data.code} is taken", field="code")
    rows = causes.provision_rows(Resolver(session), causes.refs_of(data), strict=True)
    cause = CaseCause(**causes.cause_values(data), provisions=[CauseProvision(**row) for row in rows])
    session.add(cause)
    session.flush()
    return cause


def _as_input(cause: CaseCause) -> dict[str, Any]:
    data = {name: getattr(cause, name) for name in CauseIn.model_fields if name not in REF_COLUMNS}
    for column, role in causes.REF_ROLES:
        data[column] = [p.ref for p in cause.provisions if p.role == role]
    return data


def update_cause(session: Session, cause: CaseCause, patch: CausePatch) -> CaseCause:
    """Apply ``patch``; the merged cause is checked whole and new refs must resolve."""
    changes = patch.model_dump(exclude_unset=True)
    merged = causes.validated({**_as_input(cause), **changes})
    for key, value in causes.cause_values(merged).items():
        if getattr(cause, key) != value:
            setattr(cause, key, value)
    refs = {column: getattr(merged, column) for column in changes if column in REF_COLUMNS}
    if refs:
        rows = causes.provision_rows(Resolver(session), refs, strict=True)
        replaced = {role for column, role in causes.REF_ROLES if column in refs}
        kept = [p for p in cause.provisions if p.role not in replaced]
        cause.provisions = kept + [CauseProvision(**row) for row in rows]
    session.flush()
    return cause


@dataclass(frozen=True)
class ProvisionText:
    provision: CauseProvision
    resolved: ResolvedRef | None  # None: the citation names no loaded text


def provision_texts(session: Session, cause: CaseCause) -> list[ProvisionText]:
    """Each provision of ``cause`` with the exact words it cites (what a case pushes to officers)."""
    ids = {p.article_id for p in cause.provisions if p.article_id is not None}
    articles = {a.id: a for a in session.scalars(select(LawArticle).where(LawArticle.id.in_(ids)))}
    return [ProvisionText(p, _resolved(p, articles.get(p.article_id or 0))) for p in cause.provisions]


def _resolved(provision: CauseProvision, article: LawArticle | None) -> ResolvedRef | None:
    if article is None:
        return None
    paragraph = article.paragraphs[provision.paragraph_no - 1] if provision.paragraph_no else None
    item = paragraph.items[provision.item_no - 1] if paragraph is not None and provision.item_no else None
    return ResolvedRef(provision.ref, article.document, article, paragraph, item)


def unlinked_provisions(session: Session) -> list[tuple[str, CauseProvision]]:
    """(cause code, provision) for every cited provision that names no loaded text."""
    rows = session.execute(
        select(CaseCause.code, CauseProvision)
        .join(CauseProvision, CauseProvision.cause_id == CaseCause.id)
        .where(CauseProvision.article_id.is_(None))
        .order_by(CaseCause.code, CauseProvision.role, CauseProvision.position)
    ).all()
    return [(code, provision) for code, provision in rows]
