"""Where an evidence item stands, as a case page shows it: its row still reads as its log entry,
and that entry is covered by the newest signed tree head, proven by an inclusion proof checked
with the standalone verifier (the same check a court makes with the exported bundle). Files are
re-hashed by the full audit, not here: a page must not read every video of a case."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from chengguan.evidence import ledger, service, sth, tree
from chengguan.evidence.models import EvidenceItem, SignedTreeHead
from chengguan.evidence.verify import VerificationError, leaf_hash, verify_inclusion


class Standing(enum.StrEnum):
    ANCHORED = "anchored"  # in the log and under a signed tree head: provable now
    LOGGED = "logged"  # in the log; the next tree head will cover it
    ALTERED = "altered"  # the row or the log disagree: the audit will say more


@dataclass(frozen=True)
class ItemStanding:
    standing: Standing
    tree_size: int | None = None  # of the tree head that covers it
    signed_at: dt.datetime | None = None


def entry_as_now(entry: ledger.LogEntry, item: EvidenceItem) -> bytes:
    """The entry as it would read had it been written from the row as the row is now."""
    return ledger.canonical({**entry.document, "data": service.record(item)})


def standing_of(session: Session, items: Sequence[EvidenceItem]) -> dict[int, ItemStanding]:
    head = sth.newest(session)
    out: dict[int, ItemStanding] = {}
    for item in items:
        entry = ledger.get(session, item.log_index)
        if entry.entry != entry_as_now(entry, item) or entry.leaf_hash != leaf_hash(entry.entry):
            out[item.id] = ItemStanding(Standing.ALTERED)
        elif head is None or item.log_index >= head.tree_size:
            out[item.id] = ItemStanding(Standing.LOGGED)
        else:
            out[item.id] = _proven(session, item.log_index, entry.leaf_hash, head)
    return out


def _proven(session: Session, index: int, leaf: bytes, head: SignedTreeHead) -> ItemStanding:
    try:
        proof = tree.inclusion_proof(session, index, head.tree_size)
        verify_inclusion(index, head.tree_size, leaf, proof, head.root_hash)
    except VerificationError:
        return ItemStanding(Standing.ALTERED)
    signed = dt.datetime.fromtimestamp(head.timestamp_ms / 1000, dt.UTC)
    return ItemStanding(Standing.ANCHORED, head.tree_size, signed)
