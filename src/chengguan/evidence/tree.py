"""The Merkle tree over the log, stored for O(log n) proofs: leaf hashes live with the entries,
interior nodes in tiles of 8 levels (256 bottom nodes each).

Tiles are built when a tree head is issued (:func:`extend`), so an append costs one leaf hash
and a proof reads at most one tile per 8 levels — three for ten million entries — instead of
recomputing any part of the tree. Proof generation follows RFC 9162 §2.1.3.1 and §2.1.4.1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cache

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from chengguan.errors import Invalid
from chengguan.evidence import ledger
from chengguan.evidence.models import LogTile
from chengguan.evidence.recompute import HEIGHT, WIDTH, parents
from chengguan.evidence.verify import EMPTY_ROOT, HASH_SIZE, node_hash, split_point

GROUP = 256  # blocks per read/write round while building: bounds memory at 64 k leaves


def tile_levels(bottom: bytes) -> list[bytes]:
    """The levels of nodes above ``bottom`` (concatenated hashes) that it completes, upwards."""
    levels = []
    level = bottom
    while len(level) >= 2 * HASH_SIZE:
        level = parents(level)
        levels.append(level)
    return levels


def tile_nodes(bottom: bytes) -> bytes:
    return b"".join(tile_levels(bottom))


def built_size(session: Session) -> int:
    """Leaves the stored tiles cover: the size of the latest signed tree head."""
    return int(ledger.driver_rows(session, "SELECT max(tree_size) FROM evidence_tree_heads", ())[0][0] or 0)


# -- building ---------------------------------------------------------------------------------------

Bottom = Callable[[int, int], bytes]  # hashes of the level-8t nodes [a, b)


def extend(session: Session, old: int, new: int) -> None:
    """Store the tiles that leaves ``old`` … ``new - 1`` complete or widen."""
    level, bottom = 0, lambda a, b: ledger.leaf_hashes(session, a, b)
    while (new >> (HEIGHT * level)) > (old >> (HEIGHT * level)):
        roots = _extend_level(session, level, old >> (HEIGHT * level), new >> (HEIGHT * level), bottom)
        bottom = _roots_source(session, level, roots)
        level += 1


def _extend_level(session: Session, level: int, lo: int, hi: int, bottom: Bottom) -> dict[int, bytes]:
    """Tiles of ``level`` over bottom nodes up to ``hi`` (``lo`` existed before); the roots of
    the tiles completed now, by tile index."""
    roots: dict[int, bytes] = {}
    first, last = lo // WIDTH, (hi - 1) // WIDTH
    for group in range(first, last + 1, GROUP):
        start, stop = group * WIDTH, min((group + GROUP) * WIDTH, hi)
        hashes = bottom(start, stop)
        rows = []
        for k in range(group, min(group + GROUP, last + 1)):
            block = hashes[(k * WIDTH - start) * HASH_SIZE : (min((k + 1) * WIDTH, hi) - start) * HASH_SIZE]
            width = len(block) // HASH_SIZE
            if width < 2:
                continue
            nodes = tile_nodes(block)
            rows.append({"level": level, "idx": k, "width": width, "nodes": nodes})
            if width == WIDTH:
                roots[k] = nodes[-HASH_SIZE:]
        if rows:
            session.execute(insert(LogTile), rows)
    return roots


def _roots_source(session: Session, level: int, fresh: dict[int, bytes]) -> Bottom:
    """Bottom nodes of tiles at ``level + 1``: roots of the complete tiles at ``level``, those
    built just now from memory, older ones from the store."""

    def bottom(a: int, b: int) -> bytes:
        missing = [k for k in range(a, b) if k not in fresh]
        stored = _stored_roots(session, level, missing[0], missing[-1] + 1) if missing else {}
        return b"".join(fresh[k] if k in fresh else stored[k] for k in range(a, b))

    return bottom


def _stored_roots(session: Session, level: int, a: int, b: int) -> dict[int, bytes]:
    rows = session.execute(
        select(LogTile.idx, LogTile.nodes).where(
            LogTile.level == level, LogTile.width == WIDTH, LogTile.idx >= a, LogTile.idx < b
        )
    )
    return {int(r.idx): bytes(r.nodes[-HASH_SIZE:]) for r in rows}


# -- reading nodes --------------------------------------------------------------------------------


class Nodes:
    """Node hashes of the stored tree for one request. :meth:`prefetch` reads every tile and
    leaf a computation will need in two queries, so a proof costs a fixed, small number of reads."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.tiles: dict[tuple[int, int], tuple[int, bytes]] = {}
        self.leaves: dict[int, bytes] = {}

    def node(self, level: int, index: int) -> bytes:
        """The perfect node at ``level`` (0: a leaf) covering leaves index·2^level onwards."""
        if level == 0:
            if index not in self.leaves:
                self.leaves[index] = ledger.leaf_hash_at(self.session, index)
            return self.leaves[index]
        tile_level, tile, rise, position = _locate(level, index)
        width, nodes = self._tile(tile_level, tile)
        offset = sum(width >> s for s in range(1, rise)) + position
        if position >= width >> rise:
            raise LookupError(f"node {level}/{index} is not built")
        return nodes[offset * HASH_SIZE : (offset + 1) * HASH_SIZE]

    def _tile(self, level: int, index: int) -> tuple[int, bytes]:
        if (level, index) not in self.tiles:
            self._load_tiles({(level, index)})
        if (level, index) not in self.tiles:
            raise LookupError(f"tile {level}/{index} is not built")
        return self.tiles[(level, index)]

    def _load_tiles(self, keys: set[tuple[int, int]]) -> None:
        params = [part for key in sorted(keys) for part in key]
        for level, idx, width, nodes in ledger.driver_rows(self.session, _tiles_sql(len(keys)), params):
            self.tiles[(int(level), int(idx))] = (int(width), bytes(nodes))  # widest last, so it wins

    def prefetch(self, compute: Callable[[Nodes], object]) -> None:
        """Load, in bulk, what ``compute`` will ask this object for."""
        plan = _Plan(self.session)
        compute(plan)
        if plan.tile_keys:
            self._load_tiles(plan.tile_keys)
        for index in plan.leaf_indices - self.leaves.keys():
            self.leaves[index] = ledger.leaf_hash_at(self.session, index)

    def mth(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for a range that begins on a node boundary (as every range in a
        proof does): one stored node, or a node and the hash of the rest to its right."""
        width = end - start
        if width & (width - 1) == 0 and start % width == 0:
            return self.node(width.bit_length() - 1, start >> (width.bit_length() - 1))
        k = split_point(width)
        return node_hash(self.mth(start, start + k), self.mth(start + k, end))


@cache
def _tiles_sql(count: int) -> str:
    # OR of equalities, not a row-value IN: SQLite answers it from the primary key
    where = " OR ".join(["(level = ? AND idx = ?)"] * count)
    return f"SELECT level, idx, width, nodes FROM evidence_log_tiles WHERE {where} ORDER BY width"


class _Plan(Nodes):
    """A dry run of a computation that notes the tiles and leaves it touches."""

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.tile_keys: set[tuple[int, int]] = set()
        self.leaf_indices: set[int] = set()

    def node(self, level: int, index: int) -> bytes:
        if level == 0:
            self.leaf_indices.add(index)
        else:
            tile_level, tile, _rise, _position = _locate(level, index)
            self.tile_keys.add((tile_level, tile))
        return bytes(HASH_SIZE)


def _locate(level: int, index: int) -> tuple[int, int, int, int]:
    """(tile level, tile index, levels above the tile's bottom (1 … 8), position on that level)."""
    tile_level, rise = divmod(level - 1, HEIGHT)
    rise += 1
    tile = index >> (HEIGHT - rise)
    return tile_level, tile, rise, index - (tile << (HEIGHT - rise))


def _check_size(session: Session, tree_size: int, field: str) -> None:
    if tree_size < 0:
        raise Invalid("a tree size is not negative", field=field)
    built = built_size(session)
    if tree_size > built:
        logged = ledger.size(session)
        why = "larger than the log" if tree_size > logged else "not yet covered by a signed tree head"
        raise Invalid(f"tree size {tree_size} is {why} (signed size {built}, log size {logged})", field=field)


def root(session: Session, tree_size: int) -> bytes:
    """MTH of the first ``tree_size`` leaves, whose tiles must already be built."""
    return Nodes(session).mth(0, tree_size) if tree_size else EMPTY_ROOT


def inclusion_proof(session: Session, index: int, tree_size: int) -> list[bytes]:
    """PATH(index, D[0:tree_size]) of RFC 9162 §2.1.3.1, lowest sibling first."""
    _check_size(session, tree_size, "tree_size")
    if not 0 <= index < tree_size:
        raise Invalid(f"index {index} is not below tree size {tree_size}", field="index")
    nodes = Nodes(session)
    nodes.prefetch(lambda n: list(_path(n, index, 0, tree_size)))
    return list(reversed(list(_path(nodes, index, 0, tree_size))))


def _path(nodes: Nodes, index: int, start: int, end: int) -> Iterator[bytes]:
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:
            yield nodes.mth(start + k, end)
            end = start + k
        else:
            yield nodes.mth(start, start + k)
            start += k


def consistency_proof(session: Session, first: int, second: int) -> list[bytes]:
    """PROOF(first, D[0:second]) of RFC 9162 §2.1.4.1 (0 < first ≤ second)."""
    _check_size(session, second, "second")
    if not 0 < first <= second:
        raise Invalid(f"first size {first} is not in 1…{second}", field="first")
    nodes = Nodes(session)
    nodes.prefetch(lambda n: _consistency(n, first, second))
    return _consistency(nodes, first, second)


def _consistency(nodes: Nodes, first: int, second: int) -> list[bytes]:
    proof = []
    start, end, known = 0, second, True
    while first != end:
        k = split_point(end - start)
        if first - start <= k:
            proof.append(nodes.mth(start + k, end))
            end = start + k
        else:
            proof.append(nodes.mth(start, start + k))
            start, known = start + k, False
    if not known:
        proof.append(nodes.mth(start, end))
    return list(reversed(proof))
