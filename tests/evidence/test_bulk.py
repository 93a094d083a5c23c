"""Bulk appends: entries prepared (checked and hashed) apart from the database, one lot ahead on
a helper thread, then written by the driver in multi-row statements — read back exactly, hashed
per RFC 9162, and all or nothing per lot."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy.orm import Session

from chengguan.errors import Invalid, NotFound
from chengguan.evidence import ledger


def _lot(tag: str, n: int) -> list[bytes]:
    return [ledger.canonical({"kind": "test.bulk", "lot": tag, "n": i}) for i in range(n)]


def test_lots_prepared_ahead_append_in_order(platform_session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    # small batches and statements, so three lots cross batch and statement boundaries
    monkeypatch.setattr(ledger, "MAX_BATCH", 5)
    monkeypatch.setattr(ledger, "INSERT_ROWS", 2)
    lots = [_lot("a", 23), _lot("b", 1), _lot("c", 11)]
    firsts = [ledger.append_prepared(platform_session, p) for p in ledger.prepared_ahead(iter(lots))]

    assert firsts == [firsts[0], firsts[0] + 23, firsts[0] + 24]
    expected = [entry for lot in lots for entry in lot]
    stored = list(ledger.entries(platform_session, firsts[0], firsts[0] + len(expected)))
    assert [e.entry for e in stored] == expected
    assert [e.index for e in stored] == list(range(firsts[0], firsts[0] + len(expected)))
    assert all(e.leaf_hash == hashlib.sha256(b"\x00" + e.entry).digest() for e in stored)
    assert ledger.leaf_hash_at(platform_session, firsts[2] + 10) == stored[-1].leaf_hash


def test_a_bad_lot_is_refused_whole(platform_session: Session) -> None:
    before = ledger.size(platform_session)
    prepared = ledger.prepared_ahead(iter([_lot("ok", 3), [*_lot("bad", 4), b'{"a":\n1}']]))
    ledger.append_prepared(platform_session, next(prepared))
    with pytest.raises(Invalid) as caught:
        next(prepared)
    assert caught.value.field == "entries"
    assert ledger.size(platform_session) == before + 3  # the good lot only, none of the bad one


def test_leaf_hash_beyond_the_log_is_not_found(platform_session: Session) -> None:
    ledger.append_entries(platform_session, _lot("end", 2))
    with pytest.raises(NotFound) as caught:
        ledger.leaf_hash_at(platform_session, ledger.size(platform_session))
    assert caught.value.field == "index"
