"""Loading texts and causes: idempotent, a changed text updates its document, one audit entry per load."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chengguan.audit import AuditEntry
from chengguan.errors import Invalid
from chengguan.legal import service
from chengguan.legal.loader import LAWS_DIR
from chengguan.legal.models import CaseCause, CauseProvision, LawArticle, LawDocument, LawItem, LawParagraph

SCRATCH = "# 测试市市容测试条例\n\n2020年1月1日 测试通过\n\n<!-- INFO END -->\n\n## 第一章 总则\n\n"


def _counts(session: Session) -> tuple[int, ...]:
    tables = (LawDocument, LawArticle, LawParagraph, LawItem, CaseCause, CauseProvision)
    return tuple(session.scalar(select(func.count()).select_from(t)) or 0 for t in tables)


def test_the_shipped_texts_are_all_loaded(session: Session) -> None:
    documents, _total = service.list_documents(session)
    shipped = {d for d in documents if d.source_file.endswith(".md") and (LAWS_DIR / d.source_file).exists()}
    assert len(shipped) == 31 == len(list(LAWS_DIR.glob("*.md")))
    assert sum(d.article_count for d in shipped) == 2499
    penalty_law = next(d for d in documents if d.title == "中华人民共和国行政处罚法")
    assert penalty_law.article_count == 86 and "法" in penalty_law.aliases and "P1" in penalty_law.aliases
    assert {d.level for d in shipped} == {"law", "administrative_regulation", "local_regulation", "local_rule"}


def test_reloading_the_same_texts_and_causes_changes_nothing(session: Session) -> None:
    before = _counts(session)
    audits = session.scalar(select(func.count()).select_from(AuditEntry)) or 0
    started = time.perf_counter()
    report = service.load_laws(session)
    assert service.load_causes(session) == 0
    assert time.perf_counter() - started < 5
    assert (report.documents_added, report.documents_updated, report.documents_unchanged) == (0, 0, 31)
    assert report.articles_added == report.articles_updated == report.articles_removed == 0
    assert _counts(session) == before
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == audits


def test_a_changed_text_updates_its_document_in_place(session: Session, scratch_laws: Path) -> None:
    path = scratch_laws / "测试市市容测试条例(2020-01-01).md"
    path.write_text(
        SCRATCH + "第一条 甲。\n\n第二条 乙：\n\n（一）丙；\n\n（二）丁。\n\n第三条 戊。\n", encoding="utf-8"
    )
    first = service.load_laws(session, scratch_laws)
    assert (first.documents_added, first.articles_added) == (1, 3)
    audit = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()
    assert audit.action == "legal.laws_loaded" and audit.after is not None and audit.after["articles_added"] == 3
    second_article = service.lookup(session, "测试市市容测试条例 2")
    article_id = second_article.article.id

    path.write_text(
        SCRATCH + "第一条 甲。\n\n第二条 乙：\n\n（一）丙；\n\n（二）己。\n\n第四条 庚。\n", encoding="utf-8"
    )
    report = service.load_laws(session, scratch_laws)
    assert (report.documents_updated, report.articles_added, report.articles_updated, report.articles_removed) == (
        1,
        1,
        1,
        1,
    )
    changed = service.lookup(session, "测试市市容测试条例 2(二)")
    assert changed.article.id == article_id  # an article keeps its id across versions: links survive
    assert changed.text == "（二）己。"
    assert service.lookup(session, "测试市市容测试条例 第四条").text == "庚。"
    with pytest.raises(Invalid) as exc:
        service.lookup(session, "测试市市容测试条例 3")
    assert exc.value.field == "ref.article"
    assert service.load_laws(session, scratch_laws).documents_unchanged == 1


def test_a_bad_folder_is_refused_whole(session: Session, scratch_laws: Path) -> None:
    (scratch_laws / "a.md").write_text(SCRATCH.replace("市容", "绿化") + "第一条 甲。\n", encoding="utf-8")
    (scratch_laws / "b.md").write_text(SCRATCH + "散句。\n\n第一条 甲。\n", encoding="utf-8")
    before = _counts(session)
    with pytest.raises(Invalid) as exc:
        service.load_laws(session, scratch_laws)
    assert [e.field for e in exc.value.errors] == ["b.md line 9"]
    assert "nothing was loaded" in exc.value.message
    assert _counts(session) == before
    with pytest.raises(Invalid) as missing:
        service.load_laws(session, scratch_laws / "nowhere")
    assert missing.value.field == "directory"
