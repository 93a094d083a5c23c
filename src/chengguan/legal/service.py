"""Law texts and case causes: loading, citation lookup, keyword search, cause administration.
Plain functions, session first; they never commit."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import reduce
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, and_, desc, func, literal, or_, select
from sqlalchemy.orm import Session

from chengguan import audit
from chengguan.errors import Conflict, Invalid, NotFound
from chengguan.legal import causes, discretion, loader
from chengguan.legal.loader import LoadReport
from chengguan.legal.models import (
    CaseCause,
    CauseProvision,
    DiscretionScheme,
    FineBasis,
    LawArticle,
    LawDocument,
    ProvisionRole,
    Verification,
)
from chengguan.legal.parser import Level
from chengguan.legal.resolve import ResolvedRef, Resolver
from chengguan.legal.schemas import (
    ArticleBrief,
    CauseFactsIn,
    CauseIn,
    CausePatch,
    DecisionIn,
    OutlineNode,
    RecommendIn,
    SchemeIn,
)
from chengguan.orgs import service as orgs_service
from chengguan.orgs.models import Organisation, org_table

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


# -- discretion (自由裁量) ----------------------------------------------------------------------------

# Fields of one cause's facts (and get_cause's "code"), as named under ``causes.<i>.`` in the request
PER_CAUSE_FIELDS = {f: f for f in ("cause_code", "builtin_tier", "quantity", "construction_cost")} | {
    "code": "cause_code"
}


@dataclass(frozen=True)
class EffectiveScheme:
    scheme: discretion.Scheme
    row: DiscretionScheme | None  # None: no agency above has one, the platform default applies
    org_name: str | None


def scheme_of(row: DiscretionScheme, org_name: str) -> discretion.Scheme:
    tiers = tuple(discretion.SchemeTier(t["name"], t["lower"], t["upper"]) for t in row.tiers)
    source = f"{org_name}{row.published_as or '裁量基准'}"
    return discretion.Scheme(tiers, row.hearing_citizen, row.hearing_organisation, source)


def effective_scheme(session: Session, org_path: str | None) -> EffectiveScheme:
    """The scheme of the nearest agency at or above ``org_path`` (None: the city root's); the
    platform default when none has one. Core table for the organisations: a citizen sees none."""
    stmt = select(DiscretionScheme, org_table.c.name).join(org_table, org_table.c.id == DiscretionScheme.org_id)
    if org_path:
        stmt = stmt.where(literal(org_path).startswith(org_table.c.path))
    else:
        stmt = stmt.where(org_table.c.parent_id.is_(None))
    found = session.execute(stmt.order_by(org_table.c.depth.desc(), org_table.c.id).limit(1)).first()
    if found is None:
        return EffectiveScheme(discretion.DEFAULT_SCHEME, None, None)
    row, name = found
    return EffectiveScheme(scheme_of(row, name), row, name)


def list_schemes(session: Session) -> Sequence[tuple[DiscretionScheme, str]]:
    """Every stored scheme with its agency's name, the city's first (published: 法34)."""
    stmt = select(DiscretionScheme, org_table.c.name).join(org_table, org_table.c.id == DiscretionScheme.org_id)
    return [(row, name) for row, name in session.execute(stmt.order_by(org_table.c.path))]


def put_scheme(session: Session, org: Organisation, data: SchemeIn) -> DiscretionScheme:
    """Set ``org``'s own scheme (the root organisation's is the city-wide one)."""
    tiers = [discretion.SchemeTier(t.name, t.lower, t.upper) for t in data.tiers]
    discretion.check_tiers(tiers)
    orgs_service.require_writable(session, org)
    row = session.scalar(select(DiscretionScheme).where(DiscretionScheme.org_id == org.id))
    if row is None:
        row = DiscretionScheme(org_id=org.id)
        session.add(row)
    row.tiers = [asdict(t) for t in tiers]
    row.hearing_citizen = data.hearing_citizen
    row.hearing_organisation = data.hearing_organisation
    row.published_as = data.published_as
    session.flush()
    return row


def delete_scheme(session: Session, org: Organisation) -> None:
    """``org`` goes back to the scheme of the agencies above it."""
    orgs_service.require_writable(session, org)
    row = session.scalar(select(DiscretionScheme).where(DiscretionScheme.org_id == org.id))
    if row is None:
        raise NotFound(f"organisation {org.code} has no scheme of its own / 本单位未设裁量基准", field="org_id")
    session.delete(row)
    session.flush()


def cause_terms(cause: CaseCause) -> discretion.CauseTerms:
    tiers = tuple(discretion.StatuteTier(t["when"], t.get("min"), t.get("max")) for t in cause.tiers)
    penalty = tuple(p.ref for p in cause.provisions if p.role == ProvisionRole.PENALTY)
    return discretion.CauseTerms(
        code=cause.code,
        name=cause.name,
        basis=FineBasis(cause.fine_basis),
        fine_min=cause.fine_min,
        fine_max=cause.fine_max,
        tiers=tiers,
        penalty_refs=penalty,
        measures=cause.measures,
    )


def _circumstances(data: RecommendIn, facts: CauseFactsIn) -> discretion.Circumstances:
    return discretion.Circumstances(
        tier=data.tier,
        builtin_tier=facts.builtin_tier,
        party=data.party,
        quantity=facts.quantity,
        construction_cost=facts.construction_cost,
        mitigating=frozenset(data.mitigating),
        reduce=data.reduce,
        aggravating=tuple(data.aggravating),
        minor=data.minor,
        corrected=data.corrected,
        harm=data.harm,
        no_fault_proven=data.no_fault_proven,
        age=data.age,
        lacks_capacity=data.lacks_capacity,
    )


def _history(data: RecommendIn) -> discretion.History:
    h = data.history
    return discretion.History(h.prior_penalties, h.last_penalty_on, h.window_days)


@dataclass(frozen=True)
class Advice:
    scheme: EffectiveScheme
    concurrence: discretion.Concurrence
    recommendations: list[tuple[CaseCause, discretion.Recommendation]]

    @property
    def applies(self) -> tuple[CaseCause, discretion.Recommendation]:
        return next(pair for pair in self.recommendations if pair[1] is self.concurrence.applies)


def _recommend_one(
    session: Session, position: int, data: RecommendIn, history: discretion.History, scheme: discretion.Scheme
) -> tuple[CaseCause, discretion.Recommendation]:
    """One cause's recommendation; a per-cause field at fault is named ``causes.<position>.<field>``."""
    facts = data.causes[position]
    try:
        cause = get_cause(session, facts.cause_code)
        if not cause.active:
            raise Invalid(f"case cause {cause.code} is inactive / 案由已停用", field="cause_code")
        return cause, discretion.recommend(cause_terms(cause), _circumstances(data, facts), history, scheme)
    except (Invalid, NotFound) as exc:
        if exc.field not in PER_CAUSE_FIELDS:
            raise
        raise type(exc)(exc.message, field=f"causes.{position}.{PER_CAUSE_FIELDS[exc.field]}", **exc.extra) from exc


def recommend(session: Session, data: RecommendIn, org_path: str | None) -> Advice:
    """The recommended fine for each cause the act falls under and the one 法29 lets apply,
    under the scheme of the agency at ``org_path``."""
    scheme = effective_scheme(session, org_path)
    history = _history(data)
    pairs = [_recommend_one(session, i, data, history, scheme.scheme) for i in range(len(data.causes))]
    return Advice(scheme, discretion.one_fine([rec for _cause, rec in pairs]), pairs)


def check_decision(session: Session, data: DecisionIn, org_path: str | None) -> tuple[Advice, discretion.DecisionCheck]:
    """The decided ``amount`` judged against the recommendation that applies (see
    ``discretion.check_decision``)."""
    advice = recommend(session, data, org_path)
    return advice, discretion.check_decision(advice.concurrence.applies, data.amount, data.reason)


def cited_refs(lines: Sequence[discretion.Line]) -> list[str]:
    return list(dict.fromkeys(ref for line in lines for ref in line.refs))


def resolve_refs(session: Session, refs: Sequence[str]) -> dict[str, ResolvedRef]:
    """The refs that resolve to a loaded text; the others (a text a city has not loaded) are left out."""
    resolver = Resolver(session)
    resolved = {}
    for ref in refs:
        try:
            resolved[ref] = resolver.resolve(ref)
        except Invalid:
            continue
    return resolved
