"""The arithmetic of an audit, on bytes only: re-hash stored batches of entries and recompute
stored tiles, and say what does not match. No database and no application state:
:mod:`chengguan.evidence.integrity` reads the store range by range (maybe in worker processes) and
hands each range here.

A tile (level t, index k, width w) holds the nodes at tree levels 8t+1 … 8t+8 above the level-8t
nodes 256k … 256k+w-1, bottom level first (see ``models.LogTile``). Here the levels of a whole run of
tiles are computed at once, one list comprehension per level, and each tile is cut out of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from hashlib import sha256

from chengguan.evidence.verify import HASH_SIZE, leaf_hashes

HEIGHT = 8
WIDTH = 1 << HEIGHT

Problem = tuple[int | None, str]  # (first entry concerned, what is wrong)
Batch = tuple[int, int, bytes, bytes]  # first index, count, newline-joined entries, leaf hashes
TileRow = tuple[int, int, bytes]  # tile index, width, nodes


def parents(level: bytes) -> bytes:
    """The nodes one level above ``level`` (concatenated hashes): SHA-256(0x01 ‖ left ‖ right)
    of each complete pair; an odd last node has no parent yet."""
    return b"".join([sha256(b"\x01" + level[i : i + 64]).digest() for i in range(0, len(level) - 63, 64)])


def check_batches(batches: Sequence[Batch]) -> list[Problem]:
    """Each batch's entries hashed and compared with its stored leaf hashes, one comparison per
    batch; a batch that differs is searched for its first entry that does not match."""
    problems: list[Problem] = []
    for first, count, joined, stored in batches:
        entries = joined.split(b"\n")
        if len(entries) != count:
            problems.append((first, f"batch at {first} holds {len(entries)} entries, says {count}"))
        computed = leaf_hashes(entries)
        if computed != stored:
            index = first + first_difference(computed, stored)
            problems.append((index, f"entry {index} does not match its stored leaf hash"))
    return problems


def first_difference(a: bytes, b: bytes) -> int:
    """The position of the first hash that differs between two runs of hashes (they differ)."""
    return (
        next(i for i in range(0, max(len(a), len(b)), HASH_SIZE) if a[i : i + HASH_SIZE] != b[i : i + HASH_SIZE])
        // HASH_SIZE
    )


def check_tiles(level: int, first_tile: int, bottom: bytes, rows: Sequence[TileRow]) -> tuple[list[Problem], bytes]:
    """Compare the stored ``rows`` (ordered by index, then width) of the tiles of ``level`` from
    ``first_tile`` on with those recomputed from ``bottom``, their bottom nodes (concatenated,
    starting at node 256·first_tile, ending where the signed tree does). The problems, and the
    roots of the complete tiles as stored (as recomputed where one is missing): the next level's
    bottom nodes. Stored, so that a tile that does not match is reported once, where it lies, and
    not again by every tile above it; the stored top of the tree is checked by the tree heads."""
    levels = _levels(bottom)
    count = len(bottom) // HASH_SIZE
    tiles = -(-count // WIDTH)
    problems: list[Problem] = []
    widest = [0] * tiles
    roots = [levels[-1][k * HASH_SIZE : (k + 1) * HASH_SIZE] for k in range(count // WIDTH)]
    for idx, width, nodes in rows:
        k = idx - first_tile
        if not 0 <= k < tiles or width > min(WIDTH, count - k * WIDTH):
            problems.append((None, f"tile {level}/{idx} of width {width} lies beyond the signed tree"))
            continue
        widest[k] = max(widest[k], width)
        if width == WIDTH:
            roots[k] = nodes[-HASH_SIZE:]
        if nodes != _tile(levels, k, width):
            problems.append(_mismatch(level, idx, _tile_levels(levels, k, width), nodes))
    for k in range(tiles):
        width = min(WIDTH, count - k * WIDTH)
        if width >= 2 and widest[k] < width:
            first_leaf = (first_tile + k) * WIDTH << (HEIGHT * level)
            problems.append((first_leaf, f"tile {level}/{first_tile + k} (width {width}) is missing"))
    return problems, b"".join(roots)


def _levels(bottom: bytes) -> list[bytes]:
    """Levels 1 … 8 above ``bottom``: every node a tile of these bottom nodes can hold."""
    levels = [bottom]
    for _ in range(HEIGHT):
        levels.append(parents(levels[-1]))
    return levels[1:]


def _tile_levels(levels: list[bytes], k: int, width: int) -> list[bytes]:
    """The nodes of tile ``k`` (counted from the first in ``levels``) of ``width``, level by level."""
    return [
        level[(k * WIDTH >> r) * HASH_SIZE : ((k * WIDTH >> r) + (width >> r)) * HASH_SIZE]
        for r, level in enumerate(levels, 1)
    ]


def _tile(levels: list[bytes], k: int, width: int) -> bytes:
    return b"".join(_tile_levels(levels, k, width))


def _mismatch(level: int, idx: int, computed: list[bytes], stored: bytes) -> Problem:
    """The lowest node of a stored tile that differs from the recomputed one, as a problem naming
    the first leaf under it."""
    offset = 0
    for r, nodes in enumerate(computed, start=1):
        part = stored[offset : offset + len(nodes)]
        if part != nodes:
            node = (idx << (HEIGHT - r)) + first_difference(nodes, part)
            height = HEIGHT * level + r
            first_leaf = node << height
            return first_leaf, (
                f"stored tree node {height}/{node} does not match the entries from {first_leaf} on "
                "(leaves reordered, removed or replaced)"
            )
        offset += len(nodes)
    return idx * WIDTH << (HEIGHT * level), f"tile {level}/{idx} holds {len(stored) - offset} bytes too many"
