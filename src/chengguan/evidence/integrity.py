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
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from multiprocessing import get_context

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chengguan.db import create_engine, make_sessionmaker
from chengguan.evidence import ledger, recompute, standing, tree
from chengguan.evidence.models import EvidenceItem, SignedTreeHead, SigningKey
from chengguan.evidence.verify import HASH_SIZE, TreeHead, VerificationError
from chengguan.kit.blobstore import BlobStore

SPAN = 1 << 16  # entries per range read and checked at once: 256 level-0 tiles, about 10 MB of entries


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


def audit(session: Session, store: BlobStore, *, workers: int = 0) -> AuditReport:
    """Recompute the log, its tiles and tree heads and every evidence file.

    ``workers`` processes may share the first pass, each reading what is committed on its own
    connection (so not with an in-memory database, nor to audit what the session has not committed).
    They shorten an audit only while cores are idle: the processes of one login session share one
    scheduler group (sched_autogroup), so on a loaded machine two workers get the share of one and
    cost more than they save (10 M entries at load average 15: 81.5 s with two, 70.6 s inline)."""
    report = AuditReport()
    built, size = tree.built_size(session), ledger.size(session)
    # [0, 0) when the log is empty, so that stored tiles are still looked at
    ranges = [(lo, min(lo + SPAN, size), size, built) for lo in range(0, size, SPAN)] or [(0, 0, 0, built)]
    roots = []
    for problems, entries, tiles, level_roots in _run_ranges(session, ranges, workers):
        report.problems.extend(problems)
        report.entries += entries
        report.tiles += tiles
        roots.append(level_roots)
    _check_upper_levels(session, built, b"".join(roots), report)
    _check_tree_heads(session, report)
    _check_evidence(session, store, report)
    return report


RangeCheck = tuple[list[recompute.Problem], int, int, bytes]  # problems, entries, tiles, roots of level-0 tiles


def _run_ranges(session: Session, ranges: list[tuple[int, int, int, int]], workers: int) -> Iterator[RangeCheck]:
    if not workers:
        for lo, hi, size, built in ranges:
            yield check_range(session, lo, hi, size, built)
        return
    url = session.connection().engine.url.render_as_string(hide_password=False)
    # Forked, not spawned: a worker then starts in milliseconds with the code already imported,
    # where a spawned one re-imports the application (~10 s on a loaded machine). The audit runs
    # from the command line, where no other thread can hold a lock at the fork; a worker uses
    # nothing of the parent's but the function it runs, on its own connection (see below).
    with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
        # Each worker reads its ranges itself: handing it 10 MB chunks through a pipe is bound by
        # the scheduling latency of the two ends, several times slower than the work when loaded.
        for done in [pool.submit(_check_range_apart, url, *bounds) for bounds in ranges]:
            yield done.result()


@cache
def _sessions(url: str) -> sessionmaker[Session]:
    """A worker's own engine: one inherited from the parent must not be used after the fork."""
    return make_sessionmaker(create_engine(url))


def _check_range_apart(url: str, lo: int, hi: int, size: int, built: int) -> RangeCheck:
    """:func:`check_range` in a worker process, on its own connection."""
    with _sessions(url)() as session:
        return check_range(session, lo, hi, size, built)


def check_range(session: Session, lo: int, hi: int, size: int, built: int) -> RangeCheck:
    """The batches starting in [lo, hi), re-hashed against their stored leaf hashes, and the
    level-0 tiles over leaves [lo, hi) recomputed from those stored leaf hashes (so an edited entry
    is named exactly, and reordered or replaced leaf hashes are caught by the tiles). ``lo`` is a
    multiple of 256; the range that ends the log (``hi == size``) also looks at every tile beyond."""
    before = ledger.driver_rows(session, _BATCH_BEFORE, (lo,))
    batches = [
        (int(first), int(count), bytes(entries), bytes(hashes))
        for first, count, entries, hashes in ledger.driver_rows(session, _BATCHES, (lo, hi))
    ]
    problems: list[recompute.Problem] = []
    leaves, expected = [], 0
    if before:
        first, count, hashes = before[0]
        expected = int(first + count)
        leaves.append(bytes(hashes[max(0, lo - first) * HASH_SIZE :]) if expected > lo else b"")
    for first, count, _entries, hashes in batches:
        if first != expected:
            problems.append((expected, f"entries {expected}…{first - 1} are missing (batch gap)"))
        expected = first + count
        leaves.append(hashes)
    problems.extend(recompute.check_batches(batches))
    last = hi >= size
    bottom = b"".join(leaves)[: max(0, (built if last else min(hi, built)) - lo) * HASH_SIZE]
    rows = _tile_rows(session, 0, lo, None if last else hi)
    tile_problems, roots = recompute.check_tiles(0, lo // tree.WIDTH, bottom, rows)
    return problems + tile_problems, sum(batch[1] for batch in batches), len(rows), roots


_BATCH_BEFORE = "SELECT first, count, leaf_hashes FROM evidence_log_batches WHERE first < ? ORDER BY first DESC LIMIT 1"
_BATCHES = (
    "SELECT first, count, entries, leaf_hashes FROM evidence_log_batches WHERE first >= ? AND first < ? ORDER BY first"
)


def _check_upper_levels(session: Session, built: int, roots: bytes, report: AuditReport) -> None:
    """The tiles of levels 1 and up, recomputed from the roots of the level below; then that no
    tile is stored above the top."""
    level = 1
    while built >> (tree.HEIGHT * level) >= 2:
        rows = _tile_rows(session, level, 0, None)
        report.tiles += len(rows)
        problems, roots = recompute.check_tiles(level, 0, roots, rows)
        report.problems.extend(problems)
        level += 1
    above = ledger.driver_rows(session, "SELECT level, idx FROM evidence_log_tiles WHERE level >= ? LIMIT 1", (level,))
    for tile_level, idx in above:
        report.fail(None, f"tile {tile_level}/{idx} lies above the signed tree")


def _tile_rows(session: Session, level: int, start: int, stop: int | None) -> list[recompute.TileRow]:
    """Stored tiles of ``level`` over its bottom nodes [start, stop) (to the end if no ``stop``),
    by index, narrowest first."""
    first_tile = start // tree.WIDTH
    params: tuple[int, ...]
    if stop is None:
        sql, params = _TILES_FROM, (level, first_tile)
    else:
        sql, params = _TILES_BETWEEN, (level, first_tile, -(-stop // tree.WIDTH))
    return [(int(idx), int(width), bytes(nodes)) for idx, width, nodes in ledger.driver_rows(session, sql, params)]


_TILES_FROM = "SELECT idx, width, nodes FROM evidence_log_tiles WHERE level = ? AND idx >= ? ORDER BY idx, width"
_TILES_BETWEEN = (
    "SELECT idx, width, nodes FROM evidence_log_tiles WHERE level = ? AND idx >= ? AND idx < ? ORDER BY idx, width"
)


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
        if entry.entry != standing.entry_as_now(entry, item):
            report.fail(item.log_index, f"evidence row {item.id} differs from its log entry {item.log_index}")
        digest = _file_sha256(store, item.sha256)
        if digest != item.sha256:
            report.fail(item.log_index, f"file of evidence {item.id} ({item.filename}) hashes to {digest or 'nothing'}")


def _file_sha256(store: BlobStore, sha256: str) -> str | None:
    if not store.exists(sha256):
        return None
    hasher = hashlib.sha256()
    with store.open(sha256) as stream:
        while chunk := stream.read(1 << 20):
            hasher.update(chunk)
    return hasher.hexdigest()
