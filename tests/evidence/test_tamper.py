"""Tampering, each caught: a changed byte in a stored file, an edited record row, an edited log
entry, a deleted leaf, two reordered leaves and a swapped signing key. Every change is made the
way an intruder with database and disk access would (dropping the append-only triggers first),
inside a transaction that is rolled back, and files are restored afterwards."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from chengguan.audit import platform_actor
from chengguan.errors import ChengguanError
from chengguan.evidence import bundle, integrity, ledger, sth, tree, verify
from chengguan.evidence.models import EvidenceItem, LogBatch, LogTile, SignedTreeHead
from chengguan.evidence.schemas import EvidenceIn
from chengguan.evidence.service import add_evidence
from chengguan.kit.blobstore import BlobStore
from tests.evidence.conftest import case_number, photo

GUARDED = ("evidence_items", "evidence_log_batches", "evidence_log_tiles", "evidence_tree_heads")


@pytest.fixture
def intruder(app, city, settings, store: BlobStore) -> Iterator[tuple[Session, EvidenceItem]]:
    """A session over a log holding evidence and a bulk batch, all signed; rolled back after."""
    with_data = app.state.sessionmaker()
    with_data.info["actor"] = platform_actor("tests")
    meta = EvidenceIn(subject_id=case_number(), evidence_type="audiovisual", org_id=city.org["A1"])
    item = add_evidence(with_data, store, io.BytesIO(photo()), "a.jpg", meta, max_bytes=2**20)
    ledger.append_entries(with_data, [ledger.canonical({"kind": "test.bulk", "n": n}) for n in range(10)])
    sth.issue_sth(with_data, settings)
    with_data.commit()
    session = app.state.sessionmaker()
    session.info["actor"] = platform_actor("intruder")
    dialect = session.get_bind().dialect.name
    # pysqlite opens its transaction at the first DML only; without one a DROP TRIGGER would commit.
    session.execute(text("UPDATE evidence_log_batches SET count = count WHERE 1 = 0"))
    for table in GUARDED:
        if dialect == "postgresql":
            session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        else:
            session.execute(text(f"DROP TRIGGER {table}_no_update"))
            session.execute(text(f"DROP TRIGGER {table}_no_delete"))
    try:
        yield session, session.get(EvidenceItem, item.id)
    finally:
        session.rollback()
        session.close()
        with_data.close()


def test_the_untouched_log_passes_the_audit(intruder, store: BlobStore) -> None:
    session, _item = intruder
    report = integrity.audit(session, store)
    assert report.ok, report.problems
    assert report.entries == ledger.size(session) and report.tree_heads >= 1 and report.files >= 1


def test_triggers_refuse_updates_and_deletes(app) -> None:
    session = app.state.sessionmaker()
    try:
        for statement in (update(LogBatch).values(count=LogBatch.count), delete(SignedTreeHead)):
            with pytest.raises(DBAPIError, match="append-only"):
                session.execute(statement)
            session.rollback()
    finally:
        session.close()


def test_changed_file_byte_is_caught_by_audit_and_bundle(intruder, store: BlobStore, settings, tmp_path: Path) -> None:
    session, item = intruder
    path = store.path(item.sha256)
    original = tmp_path / "original"
    shutil.copyfile(path, original)
    try:
        data = bytearray(path.read_bytes())
        data[-1] ^= 0x01
        path.chmod(0o644)
        path.write_bytes(bytes(data))
        report = integrity.audit(session, store)  # detected by: audit
        assert report.first_bad_index == item.log_index
        assert any("file of evidence" in p for _i, p in report.problems)
        out = tmp_path / "b.zip"
        with out.open("wb") as stream:
            head = bundle.export_bundle(session, settings, store, item.subject_type, item.subject_id, stream)
        verdict = verify.verify_bundle(str(out), [head.key_id])  # and by: bundle verification
        assert not verdict.ok and "its record says" in (verdict.failure or "")
    finally:
        shutil.copyfile(original, path)


def test_edited_record_row_is_caught_by_audit(intruder, store: BlobStore) -> None:
    session, item = intruder
    session.execute(update(EvidenceItem).where(EvidenceItem.id == item.id).values(device="篡改"))
    report = integrity.audit(session, store)  # detected by: audit
    assert report.first_bad_index == item.log_index
    assert any("differs from its log entry" in p for _i, p in report.problems)


def test_edited_log_entry_is_caught_by_audit(intruder, store: BlobStore) -> None:
    session, item = intruder
    batch = session.scalar(select(LogBatch).where(LogBatch.first == item.log_index))
    forged = batch.entries.replace(b"audiovisual", b"documentary")
    session.execute(update(LogBatch).where(LogBatch.first == batch.first).values(entries=forged))
    report = integrity.audit(session, store)  # detected by: audit, naming the entry
    assert report.first_bad_index == item.log_index
    assert any(f"entry {item.log_index} does not match its stored leaf hash" in p for _i, p in report.problems)


def _bulk_batch(session: Session) -> LogBatch:
    return session.scalars(select(LogBatch).where(LogBatch.count == 10).order_by(LogBatch.first.desc())).first()


def test_reordered_leaves_are_caught_by_audit(intruder, store: BlobStore) -> None:
    session, _item = intruder
    batch = _bulk_batch(session)
    entries = batch.entries.split(b"\n")
    entries[3], entries[4] = entries[4], entries[3]
    hashes = b"".join(verify.leaf_hash(e) for e in entries)  # leaf hashes kept consistent with the entries
    values = {"entries": b"\n".join(entries), "leaf_hashes": hashes}
    session.execute(update(LogBatch).where(LogBatch.first == batch.first).values(**values))
    report = integrity.audit(session, store)  # detected by: audit (the stored tree no longer fits)
    assert not report.ok and report.first_bad_index is not None
    assert report.first_bad_index <= batch.first + 3
    assert any("reordered" in p for _i, p in report.problems)


def test_deleted_leaf_is_caught_by_consistency_with_an_older_tree_head(intruder, settings) -> None:
    session, _item = intruder
    witness = sth.newest(session)  # a court mirrored this head earlier
    entries = [e.entry for e in ledger.entries(session, 0, ledger.size(session))]
    victim = _bulk_batch(session).first + 5
    # The intruder rewrites the whole log without one entry and signs it with the real key.
    for table in (LogTile, SignedTreeHead, LogBatch):
        session.execute(delete(table))
    ledger.append_entries(session, entries[:victim] + entries[victim + 1 :])
    forged = sth.issue_sth(session, settings)
    ledger.append_entries(session, [ledger.canonical({"kind": "test.pad", "n": 1})])
    later = sth.issue_sth(session, settings)  # grows past the witness's size again
    assert later.tree_size >= witness.tree_size > forged.tree_size - 1
    proof = tree.consistency_proof(session, witness.tree_size, later.tree_size)
    with pytest.raises(verify.VerificationError):  # detected by: consistency proof against the older head
        verify.verify_consistency(witness.tree_size, later.tree_size, proof, witness.root_hash, later.root_hash)


def test_swapped_signing_key_is_refused_and_caught_by_bundle_verification(
    intruder, settings, store: BlobStore, tmp_path: Path
) -> None:
    session, item = intruder
    real = sth.current_key(session)
    path = sth.keys_dir(settings) / f"{real.key_id}.pem"
    saved = path.read_bytes()
    try:
        path.write_bytes(Ed25519PrivateKey.generate().private_bytes_raw().hex().encode())  # not that key
        with pytest.raises(ChengguanError, match="key"):
            sth.issue_sth(session, settings)  # the log refuses to sign with a swapped key file
    finally:
        path.write_bytes(saved)
    forged_key = sth.rotate_key(session, settings)  # an intruder's key, published in the database
    out = tmp_path / "forged.zip"
    with out.open("wb") as stream:
        ledger.append(session, "test.pad", {"n": 2})
        sth.issue_sth(session, settings)
        bundle.export_bundle(session, settings, store, item.subject_type, item.subject_id, stream)
    verdict = verify.verify_bundle(str(out), [real.key_id])  # detected by: bundle verification (pinned key)
    assert not verdict.ok and forged_key.key_id in (verdict.failure or "")
    (sth.keys_dir(settings) / f"{forged_key.key_id}.pem").unlink()
