"""Where an evidence item stands on a case page: logged, then anchored under a signed tree head
(its inclusion proof checked), and altered once its row no longer reads as its log entry."""

from __future__ import annotations

import io

from sqlalchemy import text

from chengguan.audit import platform_actor
from chengguan.evidence import sth
from chengguan.evidence.schemas import EvidenceIn
from chengguan.evidence.service import add_evidence
from chengguan.evidence.standing import Standing, standing_of
from chengguan.kit.blobstore import BlobStore
from tests.evidence.conftest import case_number, photo


def test_logged_then_anchored_then_altered(app, city, settings, store: BlobStore) -> None:
    session = app.state.sessionmaker()
    session.info["actor"] = platform_actor("tests")
    try:
        meta = EvidenceIn(subject_id=case_number(), evidence_type="audiovisual", org_id=city.org["A1"])
        item = add_evidence(session, store, io.BytesIO(photo()), "a.jpg", meta, max_bytes=2**20)
        assert standing_of(session, [item])[item.id].standing is Standing.LOGGED
        head = sth.issue_sth(session, settings)
        anchored = standing_of(session, [item])[item.id]
        assert anchored.standing is Standing.ANCHORED and anchored.tree_size == head.tree_size
        # an intruder edits the row behind the log's back (the append-only trigger removed first)
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("ALTER TABLE evidence_items DISABLE TRIGGER USER"))
        else:
            session.execute(text("DROP TRIGGER evidence_items_no_update"))
        session.execute(text("UPDATE evidence_items SET description = 'edited' WHERE id = :id"), {"id": item.id})
        session.expire_all()
        item = session.get(type(item), item.id)
        assert standing_of(session, [item])[item.id].standing is Standing.ALTERED
    finally:
        session.rollback()
        session.close()
