"""The audit reads the log in ranges (here of 256 entries, so that batches straddle range
boundaries) and may hand the ranges to worker processes reading their own connections: on an
intact log and on a tampered one (committed, in a store of its own) both ways give the same
report, and the first entry that does not match is named exactly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from chengguan.audit import platform_actor
from chengguan.config import Settings
from chengguan.evidence import integrity, ledger, sth, verify
from chengguan.evidence.storage import blob_store

BATCHES = (700, 1, 300, 1024, 5)  # firsts 0, 700, 701, 1001, 2025; signed size 2030
SIGNED = sum(BATCHES)


@pytest.fixture
def log(
    fresh_engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[sessionmaker[Session], Settings]]:
    """A store of its own holding batches of several sizes, signed, and 3 entries beyond."""
    engine, factory = fresh_engine
    settings = Settings(env="dev", data_dir=tmp_path, database_url=str(engine.url))
    monkeypatch.setattr(integrity, "SPAN", 256)
    with _session(factory) as session:
        n = 0
        for count in BATCHES:
            ledger.append_entries(session, [ledger.canonical({"kind": "test.audit", "n": n + i}) for i in range(count)])
            n += count
        sth.issue_sth(session, settings)
        ledger.append_entries(session, [ledger.canonical({"kind": "test.audit", "n": n + i}) for i in range(3)])
        session.commit()
    yield factory, settings


def _session(factory: sessionmaker[Session]) -> Session:
    session = factory()
    session.info["actor"] = platform_actor("tests")
    return session


def _audits(factory: sessionmaker[Session], settings: Settings) -> tuple[integrity.AuditReport, integrity.AuditReport]:
    with _session(factory) as session:
        inline = integrity.audit(session, blob_store(settings), workers=0)
        parallel = integrity.audit(session, blob_store(settings), workers=2)
    return inline, parallel


def _tamper(factory: sessionmaker[Session], *statements: tuple[str, dict]) -> None:
    """Commit changes the way an intruder would: the append-only triggers dropped first."""
    with _session(factory) as session:
        session.execute(text("DROP TRIGGER evidence_log_batches_no_update"))
        session.execute(text("DROP TRIGGER evidence_log_batches_no_delete"))
        for sql, params in statements:
            session.execute(text(sql), params)
        session.commit()


def _batch(factory: sessionmaker[Session], first: int) -> tuple[list[bytes], bytes]:
    with _session(factory) as session:
        entries, hashes = session.execute(
            text("SELECT entries, leaf_hashes FROM evidence_log_batches WHERE first = :f"), {"f": first}
        ).one()
    return entries.split(b"\n"), hashes


def test_intact_log_passes_inline_and_on_workers(log) -> None:
    inline, parallel = _audits(*log)
    assert inline.ok, inline.problems
    assert (inline.entries, inline.tiles, inline.tree_heads) == (SIGNED + 3, 9, 1)  # 7 level-0 tiles, 2 level 1
    assert (parallel.entries, parallel.tiles, parallel.problems) == (inline.entries, inline.tiles, [])


def test_edited_entry_in_a_straddling_batch_is_named(log) -> None:
    factory, _settings = log
    entries, _hashes = _batch(factory, 1001)
    entries[1500 - 1001] = entries[1500 - 1001].replace(b'"n":1500', b'"n":1501')
    sql = "UPDATE evidence_log_batches SET entries = :e WHERE first = 1001"
    _tamper(factory, (sql, {"e": b"\n".join(entries)}))
    inline, parallel = _audits(*log)
    assert inline.first_bad_index == 1500
    assert inline.problems == [(1500, "entry 1500 does not match its stored leaf hash")]
    assert parallel.problems == inline.problems


def test_leaves_swapped_across_a_range_boundary_are_caught_by_the_tiles(log) -> None:
    factory, _settings = log
    entries, _hashes = _batch(factory, 1001)
    a, b = 1279 - 1001, 1280 - 1001  # the last entry of one range and the first of the next
    entries[a], entries[b] = entries[b], entries[a]
    values = {"e": b"\n".join(entries), "h": verify.leaf_hashes(entries)}  # leaf hashes made to fit
    _tamper(factory, ("UPDATE evidence_log_batches SET entries = :e, leaf_hashes = :h WHERE first = 1001", values))
    inline, parallel = _audits(*log)
    assert inline.first_bad_index == 1278  # the pair (1278, 1279) is the lowest node that changed
    assert any("reordered" in problem for _i, problem in inline.problems)
    assert parallel.problems == inline.problems


def test_deleted_batch_is_a_gap_and_breaks_the_tiles(log) -> None:
    factory, _settings = log
    _tamper(factory, ("DELETE FROM evidence_log_batches WHERE first = 700", {}))
    inline, parallel = _audits(*log)
    assert inline.first_bad_index == 700
    assert (700, "entries 700…700 are missing (batch gap)") in inline.problems
    assert any("tree node" in problem for _i, problem in inline.problems)
    assert parallel.problems == inline.problems and parallel.entries == inline.entries == SIGNED + 2


def test_workers_audit_the_test_database_alike(app, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """On the suite's own database too (PostgreSQL when the suite runs there): workers connect by
    the session's URL, password included."""
    monkeypatch.setattr(integrity, "SPAN", 256)
    with _session(app.state.sessionmaker) as session:
        ledger.append_entries(session, [ledger.canonical({"kind": "test.audit", "n": i}) for i in range(600)])
        sth.issue_sth(session, settings)
        session.commit()
        inline = integrity.audit(session, blob_store(settings), workers=0)
        parallel = integrity.audit(session, blob_store(settings), workers=2)
    assert inline.ok, inline.problems
    assert (parallel.entries, parallel.tiles, parallel.files, parallel.problems) == (
        inline.entries,
        inline.tiles,
        inline.files,
        [],
    )
