"""``chengguan evidence audit``: recompute the whole log from its entries and every evidence
file from its bytes, compare with what is stored and signed, and name the first entry that
does not match.

Checked, in one pass over the store: batches are contiguous (a deleted leaf leaves a gap), each
entry hashes to its stored leaf hash (an edited entry), the tiles equal the tree recomputed from
the entries (reordered or replaced leaves), every tree head's root equals the recomputed root and
its signature verifies under a published key, every evidence row equals its log entry (an edited
record row) and every file hashes to its record (a changed byte).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from chengguan.evidence import ledger, service, tree
from chengguan.evidence.models import EvidenceItem, LogBatch, LogTile, SignedTreeHead, SigningKey
from chengguan.evidence.verify import HASH_SIZE, TreeHead, VerificationError, leaf_hashes
from chengguan.kit.blobstore import BlobStore


@dataclass
class AuditReport:
    entries: int = 0
    tiles: int = 0
    tree_heads: int = 0
    files: int = 0
    problems: list[tuple[int | None, str]] = field(default_factory=list)

    def fail(self, index: int | None, message: str) -> None:
        self.problems.append((index, message))

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_index(self) -> int | None:
        return min((i for i, _ in self.problems if i is not None), default=None)


def audit(session: Session, store: BlobStore) -> AuditReport:
    report = AuditReport()
    built = tree.built_size(session)
    roots = _check_level(session, 0, _leaves(session, report), built, report)
    level = 1
    while built >> (tree.HEIGHT * level) >= 2:
        roots = _check_level(session, level, iter([roots]), built >> (tree.HEIGHT * level), report)
        level += 1
    _check_tree_heads(session, report)
    _check_evidence(session, store, report)
    return report


def _leaves(session: Session, report: AuditReport) -> Iterator[bytes]:
    """The stored leaf hashes, batch by batch, each checked against its entry on the way (so an
    edited entry is named exactly, and the tiles are then checked against the leaves)."""
    expected = 0
    for batch in session.scalars(select(LogBatch).order_by(LogBatch.first).execution_options(yield_per=64)):
        if batch.first != expected:
            report.fail(expected, f"entries {expected}…{batch.first - 1} are missing (batch gap)")
        entries = batch.entries.split(b"\n")
        if len(entries) != batch.count:
            report.fail(batch.first, f"batch at {batch.first} holds {len(entries)} entries, says {batch.count}")
        hashes = leaf_hashes(entries)
        if hashes != batch.leaf_hashes:
            offset = _first_difference(hashes, batch.leaf_hashes)
            report.fail(batch.first + offset, f"entry {batch.first + offset} does not match its stored leaf hash")
        report.entries += len(entries)
        expected = batch.first + len(entries)
        yield batch.leaf_hashes


def _first_difference(a: bytes, b: bytes) -> int:
    return (
        next(i for i in range(0, max(len(a), len(b)), HASH_SIZE) if a[i : i + HASH_SIZE] != b[i : i + HASH_SIZE])
        // HASH_SIZE
    )


def _blocks(chunks: Iterator[bytes], count: int) -> Iterator[tuple[int, bytes]]:
    """The first ``count`` nodes of a level (arriving as runs of concatenated hashes), 256 at a time."""
    pending, k = b"", 0
    for chunk in chunks:
        if k * tree.WIDTH >= count:
            continue  # entries beyond the signed tree: checked against their hashes only
        pending += chunk
        while len(pending) >= tree.WIDTH * HASH_SIZE and k * tree.WIDTH < count:
            block, pending = _take(pending, min(tree.WIDTH, count - k * tree.WIDTH))
            yield k, block
            k += 1
    while k * tree.WIDTH < count:
        block, pending = _take(pending, min(tree.WIDTH, count - k * tree.WIDTH))
        yield k, block
        k += 1


def _take(hashes: bytes, n: int) -> tuple[bytes, bytes]:
    return hashes[: n * HASH_SIZE], hashes[n * HASH_SIZE :]


def _stored_tiles(session: Session, level: int) -> Iterator[LogTile]:
    stmt = select(LogTile).where(LogTile.level == level).order_by(LogTile.idx, LogTile.width)
    return iter(session.scalars(stmt.execution_options(yield_per=256)))


def _check_level(session: Session, level: int, chunks: Iterator[bytes], count: int, report: AuditReport) -> bytes:
    """Compare the stored tiles of ``level`` with those recomputed from its first ``count``
    bottom nodes; the recomputed roots of its complete tiles (the next level's bottom)."""
    stored = _stored_tiles(session, level)
    pending = next(stored, None)
    roots = []
    for k, block in _blocks(chunks, count):
        levels, width, widest = tree.tile_levels(block), len(block) // HASH_SIZE, 0
        while pending is not None and pending.idx == k:
            report.tiles += 1
            widest = max(widest, pending.width)
            if pending.width > width:
                report.fail(None, f"tile {level}/{k} of width {pending.width} lies beyond the signed tree")
            elif pending.nodes != _narrowed(levels, pending.width):
                _tile_mismatch(level, k, levels, pending, report)
            pending = next(stored, None)
        if width >= 2 and widest < width:
            report.fail(k * tree.WIDTH << (tree.HEIGHT * level), f"tile {level}/{k} (width {width}) is missing")
        if width == tree.WIDTH:
            roots.append(levels[-1])
    if pending is not None:
        report.fail(None, f"tile {level}/{pending.idx} lies beyond the signed tree")
    return b"".join(roots)


def _narrowed(levels: list[bytes], width: int) -> bytes:
    """The tile of ``width`` bottom nodes inside a wider recomputed one: a prefix of each level."""
    return b"".join(level[: (width >> r) * HASH_SIZE] for r, level in enumerate(levels, start=1))


def _tile_mismatch(level: int, k: int, levels: list[bytes], row: LogTile, report: AuditReport) -> None:
    offset = 0
    for r, nodes in enumerate(levels, start=1):
        n = row.width >> r
        stored = row.nodes[offset * HASH_SIZE : (offset + n) * HASH_SIZE]
        if stored != nodes[: n * HASH_SIZE]:
            p = _first_difference(nodes[: n * HASH_SIZE], stored)
            height = tree.HEIGHT * level + r
            first_leaf = ((k << (tree.HEIGHT - r)) + p) << height
            report.fail(first_leaf, f"stored tree node {height}/{(k << (tree.HEIGHT - r)) + p} does not match the "
                        f"entries from {first_leaf} on (leaves reordered, removed or replaced)")  # fmt: skip
            return
        offset += n


def _check_tree_heads(session: Session, report: AuditReport) -> None:
    keys = {k.key_id: k.public_key for k in session.scalars(select(SigningKey))}
    nodes, size, previous = tree.Nodes(session), ledger.size(session), 0
    for head in session.scalars(select(SignedTreeHead).order_by(SignedTreeHead.id)):
        report.tree_heads += 1
        where = f"tree head {head.id} (size {head.tree_size})"
        if head.tree_size < previous or head.tree_size > size:
            report.fail(None, f"{where}: size goes back or beyond the log ({previous} before, log {size})")
            continue
        previous = head.tree_size
        try:
            TreeHead(head.tree_size, head.root_hash, head.timestamp_ms, head.key_id, head.signature).verify(
                keys.get(head.key_id, b"")
            )
        except VerificationError as exc:
            report.fail(None, f"{where}: {exc}")
        if report.ok and head.tree_size and nodes.mth(0, head.tree_size) != head.root_hash:
            report.fail(None, f"{where}: root does not match the entries")


def _check_evidence(session: Session, store: BlobStore, report: AuditReport) -> None:
    for item in session.scalars(select(EvidenceItem).order_by(EvidenceItem.log_index)):
        report.files += 1
        entry = ledger.get(session, item.log_index)
        if entry.entry != _entry_bytes_with(entry, item):
            report.fail(item.log_index, f"evidence row {item.id} differs from its log entry {item.log_index}")
        digest = _file_sha256(store, item.sha256)
        if digest != item.sha256:
            report.fail(item.log_index, f"file of evidence {item.id} ({item.filename}) hashes to {digest or 'nothing'}")


def _entry_bytes_with(entry: ledger.LogEntry, item: EvidenceItem) -> bytes:
    """The entry as it would read had it been written from the row as the row is now."""
    doc = entry.document
    return ledger.canonical({**doc, "data": service.record(item)})


def _file_sha256(store: BlobStore, sha256: str) -> str | None:
    if not store.exists(sha256):
        return None
    hasher = hashlib.sha256()
    with store.open(sha256) as stream:
        while chunk := stream.read(1 << 20):
            hasher.update(chunk)
    return hasher.hexdigest()
