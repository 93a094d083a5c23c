"""Resolving a citation against the loaded texts: which document, article, 款 and 项, and their words."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from chengguan.errors import Invalid
from chengguan.legal.citation import LAST, Citation, normalise_name, parse_citation
from chengguan.legal.models import LawArticle, LawDocument, LawItem, LawParagraph
from chengguan.legal.parser import article_label, int_to_cn, item_label, item_text, paragraph_text


@dataclass(frozen=True)
class ResolvedRef:
    ref: str
    document: LawDocument
    article: LawArticle
    paragraph: LawParagraph | None = None
    item: LawItem | None = None

    @property
    def citation(self) -> str:
        """The canonical Chinese citation: 北京市市容环境卫生条例第三十五条第五款."""
        out = f"{self.document.title}{self.article.label}"
        if self.paragraph is not None:
            out += f"第{int_to_cn(self.paragraph.number)}款"
        if self.item is not None:
            out += f"第{int_to_cn(self.item.number)}项"
        return out

    @property
    def text(self) -> str:
        """The exact words of the most specific part cited."""
        if self.item is not None:
            return item_text(self.item.number, self.item.text)
        if self.paragraph is not None:
            return paragraph_full_text(self.paragraph)
        return self.article.text


def paragraph_full_text(paragraph: LawParagraph) -> str:
    return paragraph_text(paragraph.text, [item_text(i.number, i.text) for i in paragraph.items])


def document_names(document: LawDocument) -> list[str]:
    return [document.title, document.short_title, *document.aliases]


def _in_order(name: str, title: str) -> bool:
    rest = iter(title)
    return all(ch in rest for ch in name)  # each `in` consumes the iterator up to the match


class Resolver:
    """Resolves many citations against one snapshot of the document list (a load resolves hundreds)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.documents: Sequence[LawDocument] = session.scalars(select(LawDocument).order_by(LawDocument.id)).all()
        self.by_name: dict[str, list[LawDocument]] = defaultdict(list)
        for doc in self.documents:
            for name in {normalise_name(n) for n in document_names(doc)}:
                self.by_name[name].append(doc)

    def resolve(self, ref: str) -> ResolvedRef:
        citation = parse_citation(ref)
        document = self.document(citation)
        article = self.article(document, citation)
        paragraph, item = self.item(document, article, self.paragraph(document, article, citation), citation)
        return ResolvedRef(ref, document, article, paragraph, item)

    def document(self, citation: Citation) -> LawDocument:
        """By exact title or alias; else by part of the title; else by the title's characters in
        order, as people shorten titles (城市道路条例 → 城市道路管理条例)."""
        name = citation.document
        normalised = [(d, normalise_name(d.title)) for d in self.documents]
        found = (
            self.by_name.get(name)
            or [d for d, title in normalised if name in title]
            or [d for d, title in normalised if _in_order(name, title)]
        )
        if citation.year is not None:
            dated = [d for d in found if d.version_date is not None and d.version_date.year == citation.year]
            if found and not dated:
                versions = ", ".join(f"{d.title} ({d.version_date or 'undated'})" for d in found)
                raise Invalid(f"no {citation.year} version of {name!r} is loaded: {versions}", field="ref.document")
            found = dated
        if not found:
            raise Invalid(f"no law document is called or abbreviated {name!r}", field="ref.document")
        if len(found) > 1:
            titles = sorted(d.title for d in found)
            raise Invalid(
                f"{name!r} is ambiguous: it matches {len(found)} documents ({', '.join(titles)})",
                field="ref.document",
                candidates=titles,
            )
        return found[0]

    def article(self, document: LawDocument, citation: Citation) -> LawArticle:
        article = self.session.scalar(
            select(LawArticle).where(
                LawArticle.document_id == document.id,
                LawArticle.number == citation.article,
                LawArticle.suffix == citation.suffix,
            )
        )
        if article is None:
            label = article_label(citation.article, citation.suffix)
            raise Invalid(
                f"{document.title} has no {label}; it has {document.article_count} articles", field="ref.article"
            )
        return article

    def paragraph(self, document: LawDocument, article: LawArticle, citation: Citation) -> LawParagraph | None:
        if citation.paragraph is None:
            return None
        paragraphs = article.paragraphs
        if citation.paragraph == LAST:
            return paragraphs[-1]
        if citation.paragraph > len(paragraphs):
            raise Invalid(
                f"{document.title}{article.label} has {len(paragraphs)} paragraph(s) (款), "
                f"not 第{int_to_cn(citation.paragraph)}款",
                field="ref.paragraph",
            )
        return paragraphs[citation.paragraph - 1]

    def item(
        self, document: LawDocument, article: LawArticle, paragraph: LawParagraph | None, citation: Citation
    ) -> tuple[LawParagraph | None, LawItem | None]:
        """The cited 项 with its 款; one cited without its 款 is taken from the first 款 listing that many."""
        if citation.item is None:
            return paragraph, None
        number = citation.item
        candidates = [paragraph] if paragraph is not None else article.paragraphs
        for candidate in candidates:
            if number <= len(candidate.items):
                return candidate, candidate.items[number - 1]
        where = f"{article.label}第{int_to_cn(paragraph.number)}款" if paragraph is not None else article.label
        raise Invalid(f"{document.title}{where} has no item {item_label(number)}", field="ref.item")
