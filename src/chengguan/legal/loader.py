"""Loading statute texts into the store in bulk: all files parsed before anything is written, an
unchanged file skipped, a changed one updated article by article so that article ids (which
case causes link to) survive a new version of the text."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from chengguan.db import utcnow
from chengguan.errors import FieldError, Invalid
from chengguan.kit.tabular import read_table
from chengguan.legal.citation import normalise_name
from chengguan.legal.models import LawArticle, LawDocument, LawItem, LawParagraph
from chengguan.legal.parser import Article, LawText, parse_file

DATA_DIR = Path(__file__).parent / "data"
LAWS_DIR = DATA_DIR / "laws"
ALIASES_FILE = DATA_DIR / "aliases.csv"
ARTICLE_COLUMNS = ("number", "suffix", "label", "part", "chapter", "section", "text")


@dataclass
class LoadReport:
    documents_added: int = 0
    documents_updated: int = 0
    documents_unchanged: int = 0
    articles_added: int = 0
    articles_updated: int = 0
    articles_removed: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.documents_added or self.documents_updated)


# -- reading ----------------------------------------------------------------------------------------


def read_laws(directory: Path) -> list[LawText]:
    """Every ``*.md`` text in ``directory``; ``Invalid`` listing each unreadable line of any file."""
    if not directory.is_dir():
        raise Invalid(f"{directory} is not a directory", field="directory")
    paths = sorted(directory.glob("*.md"))
    if not paths:
        raise Invalid(f"no .md law texts in {directory}", field="directory")
    texts: list[LawText] = []
    errors: list[FieldError] = []
    for path in paths:
        try:
            texts.append(parse_file(path))
        except Invalid as exc:
            errors.extend(exc.errors)
    repeated = [title for title, n in Counter(t.title for t in texts).items() if n > 1]
    errors.extend(FieldError("directory", f"two files carry the title {title}") for title in repeated)
    if errors:
        raise Invalid(f"{len(errors)} problem(s) in the law texts in {directory}; nothing was loaded", errors=errors)
    return texts


def read_aliases(path: Path = ALIASES_FILE) -> dict[str, list[str]]:
    """Title → the abbreviations it is cited by; an abbreviation may stand for one title only."""
    aliases: dict[str, list[str]] = {}
    seen: dict[str, int] = {}
    errors: list[FieldError] = []
    for row in read_table(path.read_bytes(), path.name, required=("alias", "title")):
        alias, key = row.get("alias"), normalise_name(row.get("alias"))
        if key in seen:
            errors.append(FieldError(f"line {row.line}: alias", f"alias {alias!r} repeats line {seen[key]}"))
        seen[key] = row.line
        aliases.setdefault(row.get("title"), []).append(alias)
    if errors:
        raise Invalid(f"{path.name}: {len(errors)} bad row(s)", errors=errors)
    return aliases


# -- writing ----------------------------------------------------------------------------------------


def _document_values(law: LawText, aliases: list[str]) -> dict[str, Any]:
    return {
        "title": law.title,
        "short_title": law.short_title,
        "aliases": aliases,
        "level": law.level.value,
        "version_date": law.version_date,
        "source_file": law.source_file,
        "digest": law.digest,
        "preamble": law.preamble,
        "article_count": len(law.articles),
        "updated_at": utcnow(),
    }


def _article_values(article: Article) -> dict[str, Any]:
    return {
        "number": article.number,
        "suffix": article.suffix,
        "label": article.label,
        "part": article.part,
        "chapter": article.chapter,
        "section": article.section,
        "text": article.text,
    }


def _insert_paragraphs(session: Session, pairs: Sequence[tuple[int, Article]]) -> None:
    paragraphs = [(article_id, p) for article_id, article in pairs for p in article.paragraphs]
    if not paragraphs:
        return
    ids = session.scalars(
        insert(LawParagraph).returning(LawParagraph.id, sort_by_parameter_order=True),
        [{"article_id": article_id, "number": p.number, "text": p.text} for article_id, p in paragraphs],
    ).all()
    items = [
        {"paragraph_id": pid, "number": i.number, "text": i.text}
        for pid, (_aid, p) in zip(ids, paragraphs, strict=True)
        for i in p.items
    ]
    if items:
        session.execute(insert(LawItem), items)


def _insert_articles(session: Session, document_id: int, articles: Sequence[Article]) -> None:
    if not articles:
        return
    ids = session.scalars(
        insert(LawArticle).returning(LawArticle.id, sort_by_parameter_order=True),
        [{"document_id": document_id, **_article_values(a)} for a in articles],
    ).all()
    _insert_paragraphs(session, list(zip(ids, articles, strict=True)))


def _add(session: Session, law: LawText, aliases: list[str], report: LoadReport) -> None:
    document_id = session.execute(
        insert(LawDocument).values(**_document_values(law, aliases)).returning(LawDocument.id)
    ).scalar_one()
    _insert_articles(session, document_id, law.articles)
    report.documents_added += 1
    report.articles_added += len(law.articles)


def _update(session: Session, document_id: int, law: LawText, aliases: list[str], report: LoadReport) -> None:
    """Articles matched by number: changed ones rewritten in place, new ones added, gone ones removed."""
    session.execute(update(LawDocument).where(LawDocument.id == document_id).values(**_document_values(law, aliases)))
    columns = [getattr(LawArticle, c) for c in ARTICLE_COLUMNS]
    current = {
        (row.number, row.suffix): row
        for row in session.execute(select(LawArticle.id, *columns).where(LawArticle.document_id == document_id))
    }
    new: list[Article] = []
    changed: list[tuple[int, Article]] = []
    for article in law.articles:
        row = current.pop((article.number, article.suffix), None)
        if row is None:
            new.append(article)
        elif tuple(row[1:]) != tuple(_article_values(article).values()):
            changed.append((row.id, article))
    if changed:
        session.execute(update(LawArticle), [{"id": aid, **_article_values(a)} for aid, a in changed])
        changed_ids = [aid for aid, _a in changed]
        session.execute(delete(LawParagraph).where(LawParagraph.article_id.in_(changed_ids)))
        _insert_paragraphs(session, changed)
    if current:
        session.execute(delete(LawArticle).where(LawArticle.id.in_([row.id for row in current.values()])))
    _insert_articles(session, document_id, new)
    report.documents_updated += 1
    report.articles_added += len(new)
    report.articles_updated += len(changed)
    report.articles_removed += len(current)


def write(session: Session, texts: Sequence[LawText], aliases: dict[str, list[str]]) -> LoadReport:
    report = LoadReport()
    existing = {
        row.title: row
        for row in session.execute(select(LawDocument.id, LawDocument.title, LawDocument.digest, LawDocument.aliases))
    }
    for law in texts:
        names = aliases.get(law.title, [])
        row = existing.get(law.title)
        if row is None:
            _add(session, law, names, report)
        elif row.digest != law.digest or row.aliases != names:
            _update(session, row.id, law, names, report)
        else:
            report.documents_unchanged += 1
    return report
