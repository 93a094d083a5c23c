"""Character n-gram TF-IDF for short Chinese (and other) texts, vectorised over a whole batch.

Chinese has no spaces between words, so single characters and character pairs carry most of
the signal a word segmenter would find (measured in ``benchmarks/README.md``: jieba words add
nothing here and cost most of the time). scikit-learn's vectorisers build the n-grams in Python,
text by text; this module builds them with numpy for the whole batch at once, which is what lets
the bulk intake path classify well over 100,000 short reports a second:

- the batch is joined by a separator into one string, read as an array of code points and
  folded through a table: each character becomes its NFKC lower-case form (full-width letters,
  digits and punctuation their ASCII forms, Kangxi radicals the ideographs) where that is one
  character. CPython's NFKC of a whole text costs about 100 ns a character once a text holds
  one full-width comma, which nearly every Chinese text does; the table costs a few ns;
- an n-gram of up to three code points is one exact int64 key (21 bits per code point), so
  there are no hash collisions;
- keys are looked up in a vectorised open-addressing table of the training vocabulary.

The features are exactly those of scikit-learn's ``TfidfVectorizer(analyzer="char",
ngram_range=(1, max_n), min_df=…, preprocessor=normalise)`` (tested): raw counts times smooth
idf, each row scaled to unit length. :func:`normalise` is NFKC and lower case character by
character (the rare characters whose NFKC form is several, such as ㎡ or ⑴, are only lower-cased)
with runs of white space made one space. ``max_features`` keeps the n-grams found in the most
texts. N-grams the vocabulary does not know are ignored: a text with none of them is an empty row.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

Int64Array = NDArray[np.int64]
FloatArray = NDArray[np.float32]

_BMP = 0x10000  # folding covers the Basic Multilingual Plane; beyond it characters stay as they are
MAX_CHARS = 1000  # longer texts are cut: the start of a report says what it is about
_SEPARATOR = "\x00"  # joins the batch; removed from the texts themselves
_WHITE_RUN = re.compile(r"\s\s+")
# Code points are stored plus one, so the separator is 1 and no real n-gram key is 0 or 1:
# an n-gram key is ((c1 + 1) << 21 | (c2 + 1)) << 21 ..., unique across lengths.
_SEPARATOR_CODE = 1
_BITS = 21
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing multiplier
_EMPTY = -1
_LOAD = 0.25  # table fill: most lookups end at the first slot, found or empty


@functools.cache
def _tables() -> tuple[Int64Array, NDArray[np.bool_]]:
    """For each BMP code point: its NFKC lower-case form when that is one code point (Ａ → a,
    ， → ,, ⼈ → 人), else its lower-case form (Ⅻ → ⅻ, where NFKC would give "xii"), else itself;
    and whether that is white space."""
    fold = np.arange(_BMP, dtype=np.int64)
    for point in range(_BMP):
        folded = unicodedata.normalize("NFKC", chr(point)).lower()
        if len(folded) != 1:
            folded = chr(point).lower()
        if len(folded) == 1:
            fold[point] = ord(folded)
    space = np.array([chr(point).isspace() for point in fold.tolist()])
    return fold, space


def normalise(text: str) -> str:
    """What the features see of one text, the reference for :func:`code_points`: cut to
    MAX_CHARS, each character folded, runs of white space one space (as scikit-learn does)."""
    fold, _ = _tables()
    cut = text[:MAX_CHARS].replace(_SEPARATOR, " ")
    return _WHITE_RUN.sub(" ", "".join(chr(fold[ord(c)]) if ord(c) < _BMP else c for c in cut))


def code_points(texts: Sequence[str]) -> Int64Array:
    """The batch, normalised, as one array of code points + 1, texts separated by 1."""
    if texts and max(map(len, texts)) > MAX_CHARS:
        texts = [t[:MAX_CHARS] for t in texts]
    joined = _SEPARATOR.join(texts)
    if joined.count(_SEPARATOR) > len(texts) - 1:  # a text holds the separator: rare, so checked once
        joined = _SEPARATOR.join(t.replace(_SEPARATOR, " ") for t in texts)
    points = np.frombuffer(joined.encode("utf-32-le", errors="surrogatepass"), dtype=np.uint32).astype(np.int64)
    fold, space = _tables()
    bmp = points < _BMP
    points[bmp] = fold[points[bmp]]
    # a run of white space becomes one space; the separator is not white space, so runs stay in their text
    white = space[np.minimum(points, _BMP - 1)]
    follows = np.zeros(len(points), dtype=bool)
    follows[1:] = white[1:] & white[:-1]
    if follows.any():
        points[white & ~follows & np.append(follows[1:], False)] = ord(" ")
        points = points[~follows]
    return points + 1


def gram_keys(points: Int64Array, max_n: int) -> Int64Array:
    """Keys of the n-grams starting at each position, shape (positions, max_n): column n-1
    holds the n-gram. Windows running past the end get key 0, which is never in a vocabulary;
    n-grams that span a separator are filtered out of the vocabulary by :func:`_valid`."""
    keys = np.zeros((len(points), max_n), dtype=np.int64)
    keys[:, 0] = points
    run = points
    for n in range(2, max_n + 1):
        run = (run[:-1] << _BITS) | points[n - 1 :]
        keys[: len(run), n - 1] = run
    return keys


def text_index(points: Int64Array) -> Int64Array:
    """For each position, which text of the batch it belongs to."""
    return np.cumsum(points == _SEPARATOR_CODE)


def _valid(points: Int64Array, max_n: int) -> NDArray[np.bool_]:
    """Which entries of :func:`gram_keys` are whole n-grams inside one text."""
    sep = np.concatenate([points == _SEPARATOR_CODE, np.ones(max_n, dtype=bool)])
    ok = np.empty((len(points), max_n), dtype=bool)
    ok[:, 0] = ~sep[: len(points)]
    for n in range(2, max_n + 1):
        ok[:, n - 1] = ok[:, n - 2] & ~sep[n - 1 : n - 1 + len(points)]
    return ok


def _runs(ordered: Int64Array) -> tuple[Int64Array, Int64Array]:
    """Start and length of each run of equal values in a sorted array."""
    starts = np.flatnonzero(np.diff(ordered, prepend=ordered[:1] - 1))
    return starts, np.diff(np.append(starts, len(ordered)))


class KeyTable:
    """Int64 key → position in ``keys``, an open-addressing (linear probing) hash table whose
    inserts and lookups are vectorised; -1 for a key that is not there."""

    def __init__(self, keys: Int64Array) -> None:
        self.bits = max(int(np.ceil(np.log2(len(keys) / _LOAD + 1))), 4)
        self.mask = (1 << self.bits) - 1
        self.keys = np.full(1 << self.bits, _EMPTY, dtype=np.int64)
        self.values = np.full(1 << self.bits, _EMPTY, dtype=np.int64)
        todo = np.arange(len(keys))
        slot = self._slot(keys)
        while len(todo):
            # of several keys aiming at one free slot, the first takes it; the rest probe on
            order = np.argsort(slot, kind="stable")
            first = np.ones(len(order), dtype=bool)
            first[1:] = slot[order][1:] != slot[order][:-1]
            takes = np.zeros(len(todo), dtype=bool)
            takes[order[first]] = True
            takes &= self.keys[slot] == _EMPTY
            self.keys[slot[takes]] = keys[todo[takes]]
            self.values[slot[takes]] = todo[takes]
            todo, slot = todo[~takes], (slot[~takes] + 1) & self.mask

    def _slot(self, keys: Int64Array) -> Int64Array:
        return (keys.view(np.uint64) * _GOLDEN >> np.uint64(64 - self.bits)).view(np.int64)

    def lookup(self, keys: Int64Array) -> Int64Array:
        slot = self._slot(keys)
        held = self.keys[slot]
        out = self.values[slot]
        miss = held != keys
        out[miss] = _EMPTY
        todo = np.flatnonzero(miss & (held != _EMPTY))
        slot = slot[todo]
        while len(todo):
            slot = (slot + 1) & self.mask
            held = self.keys[slot]
            found = held == keys[todo]
            out[todo[found]] = self.values[slot[found]]
            going = ~found & (held != _EMPTY)
            todo, slot = todo[going], slot[going]
        return out


@dataclass
class NgramTfidf:
    """The fitted vocabulary (sorted n-gram keys) and its idf weights."""

    max_n: int
    vocabulary: Int64Array
    idf: FloatArray

    def __post_init__(self) -> None:
        self._table = KeyTable(self.vocabulary)

    @classmethod
    def fit(cls, texts: Sequence[str], *, max_n: int = 2, min_df: int = 2, max_features: int = 100_000) -> NgramTfidf:
        """Vocabulary: the n-grams (1..max_n characters) found in at least ``min_df`` texts,
        the ``max_features`` most frequent of them; idf = ln((1 + N) / (1 + df)) + 1."""
        if not 1 <= max_n <= 3:
            raise ValueError("n-grams of 1 to 3 characters: longer ones do not fit one int64 key")
        points = code_points(texts)
        keys = gram_keys(points, max_n)
        ok = _valid(points, max_n)
        text = np.broadcast_to(text_index(points)[:, None], keys.shape)[ok]
        keys = keys[ok]
        order = np.lexsort((text, keys))
        keys, text = keys[order], text[order]
        distinct = np.ones(len(keys), dtype=bool)  # first occurrence of a (key, text) pair
        distinct[1:] = (keys[1:] != keys[:-1]) | (text[1:] != text[:-1])
        keys = keys[distinct]
        starts, df = _runs(keys)
        vocabulary = keys[starts]
        keep = df >= min_df
        if keep.sum() > max_features:  # the most frequent, ties by key: deterministic
            keep[np.lexsort((vocabulary, -df))[max_features:]] = False
        idf = np.log((1 + len(texts)) / (1 + df[keep])) + 1
        return cls(max_n, vocabulary[keep], idf.astype(np.float32))

    def __len__(self) -> int:
        return len(self.vocabulary)

    def terms(self) -> list[str]:
        """The vocabulary's n-grams as text, in column order."""
        mask = (1 << _BITS) - 1
        return [
            "".join(chr((key >> shift & mask) - 1) for shift in range(2 * _BITS, -1, -_BITS) if key >> shift)
            for key in self.vocabulary.tolist()
        ]

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """One row per text, one column per vocabulary n-gram: l2-normalised tf·idf, float32."""
        points = code_points(texts)
        column = self._table.lookup(gram_keys(points, self.max_n).ravel())
        hit = np.flatnonzero(column >= 0)
        # one sort of (text, n-gram) pairs counts each n-gram per text; texts come out in order
        pair = np.sort(text_index(points)[hit // self.max_n] * len(self) + column[hit])
        first, count = _runs(pair)
        row, column = np.divmod(pair[first], len(self))
        weight = count * self.idf[column]
        norm = np.sqrt(np.bincount(row, weights=weight * weight, minlength=len(texts)))
        norm[norm == 0] = 1.0
        indptr = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(np.bincount(row, minlength=len(texts)), out=indptr[1:])
        data = (weight / norm[row]).astype(np.float32)
        return sp.csr_matrix((data, column.astype(np.int32), indptr), shape=(len(texts), len(self)))
