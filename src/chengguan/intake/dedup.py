"""Duplicate detection (重复问题合并): is a new report the same problem as an open event?

A report is compared with the open events of the same 大类 (a "sibling" category: same kind
letter and 大类 digits, ``E05`` for ``E0502``) within a radius (default 200 m) and a time window
(default 72 h, measured to the event's span of reports, so a problem that keeps being reported
stays mergeable). Inside those limits four parts make a score in [0, 1]:

* **text**: how much of the shorter normalised text appears, in order, in the other;
* **distance**: 1 at the same spot, 0 at the radius;
* **time**: 1 inside the event's span of reports, 0 at the window's edge;
* **category**: 1 for the same 小类, 0 for a sibling.

The score is the weighted mean of the parts; text that either side lacks (a video-AI detection)
is left out and the other weights carry the mean. At or above ``merge_at`` the report is merged
into the best event; in ``[suggest_at, merge_at)`` the best few events are suggested to the
clerk; below, the report opens a new event. Every decision carries a reason a person can read
("距离 35 米，间隔 2.1 小时，文本相似度 0.86，同小类"). The defaults and their measured precision and
recall are in ``benchmarks/README.md``.

Candidates are *blocked*, never compared all-pairs: points fall into square buckets of
``bucket_m`` metres on a lon/lat grid (rows of equal latitude height, columns as wide on the
ground in every row), and a report looks only at the buckets its radius reaches. The database
path indexes open events by (bucket, status, last reported) and selects ``bucket IN
neighbour_buckets(...)``; the bulk path keeps the same buckets in a :class:`DedupIndex`. Both
fetch a superset (the buckets' corners) and the same rules decide, so the two paths agree.

Pure: no database, no domain imports. Coordinates are WGS-84 lon/lat; distances use the local
equirectangular approximation on the mean Earth radius (error far below a metre at 200 m).
Not meant for the poles or across the antimeridian.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import math
import re
import sys
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray
from rapidfuzz import process
from rapidfuzz.distance import LCSseq

from chengguan.errors import Invalid

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)
M_PER_DEGREE = EARTH_RADIUS_M * math.pi / 180
MAJOR_KEY_LENGTH = 3  # "E05": kind letter + 大类 digits
MAX_TEXT = 200  # characters of normalised text kept: the place and the problem come first
SHORT_TEXT = 8  # characters: shorter texts are compared as if this long
# Bucket keys pack (row, column) into one signed 64-bit integer for the database's index;
# the columns of one row are consecutive integers.
_COLUMN_BITS = 24
_COLUMN_OFFSET = 1 << (_COLUMN_BITS - 1)

_NON_WORD = re.compile(r"[\W_]+")  # punctuation, symbols, spaces: all but letters and digits
_FULL_WIDTH = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]+")  # ０-９ Ａ-Ｚ ａ-ｚ
_HALF_WIDTH = {c: c - 0xFEE0 for c in range(0xFF10, 0xFF5B)}
# Words every complaint may carry (greetings, thanks, pleas, the hotline's framing): they say
# nothing about the problem and make unrelated short texts look alike. Matched on text already
# stripped of punctuation; the lookahead lets the engine skip most positions at once (3× faster).
_BOILERPLATE = re.compile(
    "(?=[尊各领您你非十谢感请希恳麻市群来])(?:"
    + "|".join(
        (
            r"尊敬的\w{0,12}?(?:领导|书记|市长|县长|区长|局长|主任|同志|政府|部门)们?",
            r"(?:各位)?(?:领导|您|你)们?好",
            r"(?:非常|十分)?(?:谢谢|感谢)(?:您|你)?们?(?:的)?(?:关注|支持|帮助)?",
            r"(?:请|希望|恳请|麻烦)(?:有关|相关)?(?:部门|领导|城管)?(?:尽快|及时|早日|赶紧|抓紧)?"
            r"(?:来)?(?:处理|解决|整治|治理|查处|管理|管管|管一管)(?:一下)?(?:吧)?",
            r"(?:市民|群众|来电人)(?:来电)?(?:反映|反应|表示|称)",
        )
    )
    + ")"
)


# -- text ----------------------------------------------------------------------------------------


def normalise(text: str, *, strip_boilerplate: bool = True) -> str:
    """The text as compared: punctuation and spaces removed, full-width letters and digits made
    half-width, lower case, boilerplate removed, at most ``MAX_TEXT`` characters.

    Not full NFKC (6 µs a text, twice all the rest): full-width punctuation goes with the rest of
    the punctuation, and only full-width letters and digits need mapping."""
    text = _NON_WORD.sub("", text)
    text = _FULL_WIDTH.sub(lambda m: m.group().translate(_HALF_WIDTH), text).lower()
    if strip_boilerplate:
        text = _BOILERPLATE.sub("", text)
    return text[:MAX_TEXT]


def similarity(a: str, b: str) -> float:
    """Similarity of two normalised texts in [0, 1]: the share of the shorter one found, in order,
    in the other (longest common subsequence / shorter length). A terse report ("西门烤红薯摊")
    matches the long hotline transcript of the same stall; texts under ``SHORT_TEXT`` characters
    count as that long, so "垃圾" alone does not match every text about rubbish."""
    return LCSseq.similarity(a, b) / max(min(len(a), len(b)), SHORT_TEXT)


# -- places and times ----------------------------------------------------------------------------


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Ground distance in metres (equirectangular: exact enough within a few kilometres)."""
    kx = math.cos(math.radians((lat1 + lat2) / 2))
    return M_PER_DEGREE * math.hypot((lon2 - lon1) * kx, lat2 - lat1)


def gap_s(at: float, first: float, last: float) -> float:
    """Seconds from ``at`` to the span [first, last] of an event's reports (0 inside it)."""
    return max(first - at, at - last, 0.0)


def bucket(lon: float, lat: float, size_m: float) -> int:
    """The blocking key of the square bucket of ``size_m`` metres that holds the point."""
    row = math.floor(lat * M_PER_DEGREE / size_m)
    return _row_key(row) + math.floor(lon * _column_scale(row, size_m))


def neighbour_buckets(lon: float, lat: float, radius_m: float, size_m: float) -> list[int]:
    """Every bucket that a point within ``radius_m`` of (lon, lat) can fall in (3 × 3 when the
    radius is at most the bucket size)."""
    y = lat * M_PER_DEGREE
    _, dlon = half_box(lat, radius_m)
    keys: list[int] = []
    for row in range(math.floor((y - radius_m) / size_m), math.floor((y + radius_m) / size_m) + 1):
        scale, base = _column_scale(row, size_m), _row_key(row)
        keys.extend(range(base + math.floor((lon - dlon) * scale), base + math.floor((lon + dlon) * scale) + 1))
    return keys


def half_box(lat: float, radius_m: float) -> tuple[float, float]:
    """Half height and half width in degrees of a box holding every point within ``radius_m``."""
    dlat = radius_m / M_PER_DEGREE
    # the circle is widest in degrees of longitude at its latitude farthest from the equator
    return dlat, dlat / math.cos(math.radians(min(abs(lat) + dlat, 89.0)))


@functools.lru_cache(maxsize=1 << 16)  # a city spans a few hundred rows; the bulk path asks per point
def _column_scale(row: int, size_m: float) -> float:
    """Columns per degree of longitude in a row: buckets keep their width on the ground."""
    centre = (row + 0.5) * size_m / M_PER_DEGREE
    return M_PER_DEGREE * math.cos(math.radians(centre)) / size_m


def _row_key(row: int) -> int:
    return (row << _COLUMN_BITS) + _COLUMN_OFFSET


def major_key(category_key: str) -> str:
    """The 大类 of a category key: ``E05`` for ``E0502`` (and for ``E05`` itself)."""
    return category_key[:MAJOR_KEY_LENGTH]


# -- configuration -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Limits:
    """How far and how long apart two reports of one problem may be."""

    radius_m: float = 200.0
    window: dt.timedelta = dt.timedelta(hours=72)

    def __post_init__(self) -> None:
        if not self.radius_m > 0:
            raise Invalid("The radius must be positive / 半径必须大于 0", field="radius_m")
        if self.window <= dt.timedelta(0):
            raise Invalid("The time window must be positive / 时间窗必须大于 0", field="window")


@dataclass(frozen=True, slots=True)
class Weights:
    """Relative weights of the four parts of a score (they need not add up to 1; zero drops a part)."""

    text: float = 0.3
    distance: float = 0.2
    time: float = 0.3
    category: float = 0.2

    def __post_init__(self) -> None:
        for name in ("text", "distance", "time", "category"):
            if not getattr(self, name) >= 0:
                raise Invalid("Weights cannot be negative / 权重不能为负", field=f"weights.{name}")
        if self.text + self.distance + self.time + self.category <= 0:
            raise Invalid("Some part needs a weight / 至少一项权重大于 0", field="weights")


@dataclass(frozen=True)
class DedupConfig:
    """``overrides`` holds limits per 小类 key (``E0502``) or 大类 key (``E05``); the report's own
    category decides. ``bucket_m`` is baked into the blocking keys stored with events: change it
    only together with a recomputation of every open event's bucket."""

    limits: Limits = Limits()
    overrides: Mapping[str, Limits] = field(default_factory=dict)
    merge_at: float = 0.8
    suggest_at: float = 0.7
    max_suggestions: int = 3
    weights: Weights = Weights()
    bucket_m: float = 200.0

    def __post_init__(self) -> None:
        if not 0 < self.suggest_at <= self.merge_at <= 1:
            raise Invalid("Need 0 < suggest_at <= merge_at <= 1 / 阈值须满足 0 < 建议 ≤ 合并 ≤ 1", field="merge_at")
        if self.max_suggestions < 1:
            raise Invalid("At least one suggestion / 至少建议 1 条", field="max_suggestions")
        if not self.bucket_m > 0:
            raise Invalid("The bucket size must be positive / 分块边长必须大于 0", field="bucket_m")

    def limits_for(self, category_key: str) -> Limits:
        """The 小类's own limits, else its 大类's, else the defaults."""
        found = self.overrides.get(category_key) or self.overrides.get(major_key(category_key))
        return found or self.limits


# -- records (named tuples: the bulk path builds millions, at a third of a dataclass's cost) -----


class Query(NamedTuple):
    """A new report as dedup sees it: classified, placed, its text normalised (:func:`normalise`)."""

    category_key: str
    lon: float
    lat: float
    at: dt.datetime
    text: str


class Candidate(NamedTuple):
    """An open event: where and when it was first reported, its last report, its normalised text."""

    event_id: int
    category_key: str
    lon: float
    lat: float
    at: dt.datetime
    last_at: dt.datetime
    text: str


class Score(NamedTuple):
    candidate: Candidate
    value: float
    distance_m: float
    gap_h: float
    text: float | None  # None when either side has no text
    same_category: bool  # same 小类 (else at most a sibling)
    eligible: bool  # same 大类, within the radius and the window

    def explain(self) -> str:
        """The parts, in English then Chinese: "35 m, 2.1 h apart, text 0.86, same subcategory / …"."""
        text_en = "no text" if self.text is None else f"text {self.text:.2f}"
        text_zh = "无文本" if self.text is None else f"文本相似度 {self.text:.2f}"
        cat_en, cat_zh = ("same subcategory", "同小类") if self.same_category else ("sibling subcategory", "同大类")
        return (
            f"{self.distance_m:.0f} m, {self.gap_h:.1f} h apart, {text_en}, {cat_en} / "
            f"距离 {self.distance_m:.0f} 米，间隔 {self.gap_h:.1f} 小时，{text_zh}，{cat_zh}"
        )


Parts = tuple[float, float, float, float | None, bool, bool]  # Score without its candidate


class _Probe:
    """One report prepared for scoring many events: its limits, time, 大类 and weights looked up
    once (attribute lookups are a third of the cost of scoring an event)."""

    __slots__ = ("config", "key", "lat", "limits", "lon", "major", "radius", "stamp", "text", "weights", "window")

    def __init__(self, query: Query, config: DedupConfig) -> None:
        _require_aware(query.at, "at")
        self.config = config
        self.limits = config.limits_for(query.category_key)
        self.lon, self.lat, self.key, self.text = query.lon, query.lat, query.category_key, query.text
        self.stamp = query.at.timestamp()
        self.radius = self.limits.radius_m
        self.window = self.limits.window.total_seconds()
        self.major = major_key(query.category_key)
        w = config.weights
        self.weights = (w.text, w.distance, w.time, w.category)

    def parts(self, lon: float, lat: float, first: float, last: float, key: str, text: str) -> Parts:
        w_text, w_distance, w_time, w_category = self.weights
        metres = distance_m(self.lon, self.lat, lon, lat)
        gap = gap_s(self.stamp, first, last)
        same = key == self.key
        total = w_distance * max(0.0, 1 - metres / self.radius) + w_time * max(0.0, 1 - gap / self.window)
        total += w_category * same
        weight = w_distance + w_time + w_category
        similar = similarity(self.text, text) if self.text and text else None
        if similar is not None:
            total += w_text * similar
            weight += w_text
        eligible = metres <= self.radius and gap <= self.window and key.startswith(self.major)
        # only a text-only weighting of a report without text leaves nothing to weigh
        return total / weight if weight else 0.0, metres, gap / 3600, similar, same, eligible

    def score(self, candidate: Candidate) -> Score:
        c = candidate
        return Score(c, *self.parts(c.lon, c.lat, c.at.timestamp(), c.last_at.timestamp(), c.category_key, c.text))

    def decision(self, eligible: Iterable[Score]) -> Decision:
        best = sorted(eligible, key=_rank)[: self.config.max_suggestions]
        action, keep = _verdict([s.value for s in best], self.config)
        return Decision(action, tuple(best[:keep]), self.config)


def _verdict(values: Sequence[float], config: DedupConfig) -> tuple[Action, int]:
    """The action for the best eligible scores (best first), and how many of them it keeps: the
    merge target, the suggestions, or the near miss of a new event."""
    best = values[0] if values else 0.0
    if best >= config.merge_at:
        return Action.MERGE, 1
    if best >= config.suggest_at:
        return Action.SUGGEST, sum(v >= config.suggest_at for v in values)
    return Action.NEW, min(len(values), 1)


def _require_aware(at: dt.datetime, name: str) -> None:
    """A naive time would be read as the machine's local time by ``timestamp()``."""
    if at.tzinfo is None:
        raise Invalid("Times must carry a time zone / 时间须带时区", field=name)


def _order(value: float, metres: float, event_id: int) -> tuple[float, float, int]:
    """Best first; ties go to the nearer, then the older event, so both paths pick alike."""
    return -value, metres, event_id


def _rank(score: Score) -> tuple[float, float, int]:
    return _order(score.value, score.distance_m, score.candidate.event_id)


def score(query: Query, candidate: Candidate, config: DedupConfig) -> Score:
    """How alike a report and an open event are, with the parts of the score."""
    return _Probe(query, config).score(candidate)


# -- deciding ------------------------------------------------------------------------------------


class Action(enum.StrEnum):
    MERGE = "merge"  # into ``Decision.target``
    SUGGEST = "suggest"  # to the clerk: ``Decision.suggestions``
    NEW = "new"  # a new event


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    scores: tuple[Score, ...]  # merge: the target; suggest: the suggestions, best first; new: the near miss, if any
    config: DedupConfig

    @property
    def best(self) -> Score | None:
        return self.scores[0] if self.scores else None

    @property
    def target(self) -> Candidate | None:
        """The event to merge into (only for a merge)."""
        return self.scores[0].candidate if self.action is Action.MERGE else None

    @property
    def suggestions(self) -> tuple[Score, ...]:
        """The events in the grey band, best first (only for a suggestion)."""
        return self.scores if self.action is Action.SUGGEST else ()

    @property
    def reason(self) -> str:
        """Why, for the record: the threshold crossed and the parts of the best score."""
        best = self.best
        if best is None:
            return "No open event of this 大类 nearby / 附近无同大类的未结事件"
        threshold = self.config.merge_at if self.action is Action.MERGE else self.config.suggest_at
        en, zh, relation = _HEADS[self.action]
        value = f"{best.value:.2f} {relation} {threshold:.2f}"
        return f"{en}: score {value} / {zh}：得分 {value}; {best.explain()}"


_HEADS = {
    Action.MERGE: ("Merged", "合并", ">="),
    Action.SUGGEST: ("Possible duplicate", "疑似重复", ">="),
    Action.NEW: ("New event, best", "新事件，最高", "<"),
}


def decide(query: Query, candidates: Iterable[Candidate], config: DedupConfig) -> Decision:
    """Merge, suggest or new, from any superset of the eligible events (e.g. a bucket query's rows)."""
    probe = _Probe(query, config)
    return probe.decision(s for s in map(probe.score, candidates) if s.eligible)


# -- the bulk path's in-memory index -------------------------------------------------------------


class DedupIndex:
    """Open events by (大类, bucket), for the bulk path: many thousand reports a second against a
    million open events, without a database round trip per report.

    Columns live in compact arrays (8 bytes a number). :meth:`decide` takes one report: it looks
    at the buckets the radius reaches, scores the events in the window and (within a hair) the
    radius straight from the arrays, and builds records only for the few that make the decision.
    :meth:`decide_many` takes a batch in order and applies each decision before the next, as
    :meth:`decide` + :meth:`add` / :meth:`merge` would. It finds and scores the batch's pairs with
    numpy in a sorted copy of the events (by bucket, 大类 and day of the last report, so a report
    reads only the days its window reaches) and in a small sorted copy of the events added or
    stretched since, made afresh for each batch; only the events the batch itself adds or
    stretches are scored one by one. The big copy is remade when the small one reaches an eighth
    of the events. Both decide as :func:`decide` over :meth:`candidates` would (up to float
    rounding in the last digit).

    An index may serve one batch (built from the open events whose last report lies within the
    window of the batch's first report) or a whole run of batches: then :meth:`renumber` gives a
    batch's new events their real ids once written, and :meth:`retire` takes out events as they
    close. Rows are never removed: events whose window has passed simply stop matching."""

    def __init__(self, config: DedupConfig, events: Iterable[Candidate] = ()) -> None:
        self.config = config
        self._ids = array("q")
        self._lon = array("d")
        self._lat = array("d")
        self._first = array("d")
        self._last = array("d")
        self._bucket = array("q")
        self._category: list[str] = []
        self._category_code = array("q")  # codes of ``_category``, for the sorted copy
        self._text: list[str] = []
        self._length = array("d")  # of ``_text``, for the similarity's denominator
        self._categories: dict[str, int] = {}  # 小类 → code, in order of first appearance
        self._majors: dict[str, int] = {}  # 大类 → small code, for the sorted copy
        self._buckets: dict[str, dict[int, array[int]]] = {}  # 大类 → bucket → rows
        self._sorted: _Sorted | None = None
        self._stale: set[int] = set()  # rows of the sorted copy stretched since it was made
        for event in events:
            self.add(event)

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, event: Candidate) -> int:
        """Index ``event``; its row (for :meth:`retire`)."""
        _require_aware(event.at, "at")
        _require_aware(event.last_at, "last_at")
        first, last = event.at.timestamp(), event.last_at.timestamp()
        key = bucket(event.lon, event.lat, self.config.bucket_m)
        return self._append(event.event_id, event.category_key, event.lon, event.lat, first, last, event.text, key)

    def _append(
        self, event_id: int, category_key: str, lon: float, lat: float, first: float, last: float, text: str, key: int
    ) -> int:
        row = len(self._ids)
        major = major_key(category_key)
        code = self._categories.setdefault(category_key, len(self._categories))
        self._ids.append(event_id)
        self._lon.append(lon)
        self._lat.append(lat)
        self._first.append(first)
        self._last.append(last)
        self._bucket.append(key)
        self._category.append(sys.intern(category_key))  # a million events share a few hundred keys
        self._category_code.append(code)
        self._text.append(text)
        self._length.append(len(text))
        self._majors.setdefault(major, len(self._majors))
        self._buckets.setdefault(major, {}).setdefault(key, array("l")).append(row)
        return row

    def merge(self, event: Candidate, at: dt.datetime) -> None:
        """A report at ``at`` joined ``event``: its span of reports now includes ``at``."""
        self._stretch(self._row(event), at)

    def retire(self, row: int) -> None:
        """The event at ``row`` (from :meth:`add`, or counted from :meth:`decide_many`'s start)
        closed: it takes no more reports. Its row stays (rows are never removed) with a span no
        window reaches, and leaves the sorted copy as a stretched row does. By row, not by id: an
        event may be retired before its temporary id is renumbered."""
        self._first[row] = self._last[row] = 0.0  # 1970: finite, so the sorted copies' day codes hold
        if self._sorted is not None and row < self._sorted.rows:
            self._stale.add(row)

    def renumber(self, ids: Mapping[int, int]) -> None:
        """Give the events added under temporary (negative) ids that ``ids`` names their real
        ones, once they are written (others, of batches still being written, keep theirs)."""
        for row in np.flatnonzero(np.frombuffer(self._ids, dtype=np.int64) < 0).tolist():
            self._ids[row] = ids.get(self._ids[row], self._ids[row])

    def decide(self, query: Query) -> Decision:
        """What :func:`decide` would say given :meth:`candidates`."""
        probe = _Probe(query, self.config)
        return self._decision(self._eligible(probe, self._around(probe)))

    def decide_many(self, queries: Sequence[Query], new_ids: Iterator[int]) -> list[Decision]:
        """Decisions for a batch, each applied before the next report: a merge stretches its
        event's span, a new report becomes an event with the next id from ``new_ids`` (in the
        order of the NEW decisions), a suggestion changes nothing (the report waits for the clerk)."""
        if self._sorted is None or len(self._stale) + len(self) - self._sorted.rows > len(self) // 8:
            self._sorted, self._stale = _Sorted(self), set()
        main = self._sorted
        stale = np.sort(np.fromiter(self._stale, np.int64, len(self._stale)))
        copies = [(main, stale)]  # the big copy, without its stale rows
        if len(stale) or len(self) > main.rows:
            since = np.concatenate([np.arange(main.rows, len(self)), stale])
            texts = np.concatenate([np.array(self._text[main.rows :], dtype=object), main.texts_of(stale)])
            copies.append((_Sorted(self, since, texts), np.zeros(0, np.int64)))
        own = [bucket(q.lon, q.lat, self.config.bucket_m) for q in queries]
        found = _Found(self, copies, queries, own)
        start = len(self)
        changed: set[int] = set()  # rows this batch stretched: the copies hold their old span
        mine: dict[str, dict[int, list[int]]] = {}  # rows this batch added or stretched, by 大类 and bucket
        alone = Decision(Action.NEW, (), self.config)  # what a report with nothing to compare says
        decisions = []
        for i, query in enumerate(queries):
            if found.alone[i]:
                decision = alone
            else:
                scored = found.best(i, self.config.max_suggestions, changed)
                near = mine.get(found.majors[i])
                rows = [r for key in found.neighbours(i) for r in near.get(key, ())] if near else []
                if rows:
                    scored += self._eligible(_Probe(query, self.config), rows)
                decision = self._decision(scored) if scored else alone
            decisions.append(decision)
            if decision.action is Action.MERGE:
                row = min(scored, key=self._order)[1]
                self._stretch(row, query.at)
                if row < start and row not in changed:
                    changed.add(row)
                    self._note(mine, row)
            elif decision.action is Action.NEW:
                stamp = found.stamps[i]
                row = self._append(
                    next(new_ids), query.category_key, query.lon, query.lat, stamp, stamp, query.text, own[i]
                )
                self._note(mine, row)
        return decisions

    def candidates(self, query: Query) -> list[Candidate]:
        """Open events of the query's 大类 in its window and about its radius (a superset)."""
        probe = _Probe(query, self.config)
        return [self._candidate(row) for row in self._near(probe, self._around(probe))]

    # -- inside --------------------------------------------------------------------------------

    def _around(self, probe: _Probe) -> list[int]:
        """The rows of the probe's 大类 in the buckets its radius reaches."""
        rows = self._buckets.get(probe.major)
        if not rows:
            return []
        keys = neighbour_buckets(probe.lon, probe.lat, probe.radius, self.config.bucket_m)
        return [row for key in keys for row in rows.get(key, ())]

    def _eligible(self, probe: _Probe, rows: Sequence[int]) -> list[tuple[Parts, int]]:
        """(parts, row) of the eligible events among ``rows`` (rows of the probe's 大类)."""
        lon, lat, first, last, category, text = (
            self._lon,
            self._lat,
            self._first,
            self._last,
            self._category,
            self._text,
        )
        near = self._near(probe, rows)
        scored = ((probe.parts(lon[r], lat[r], first[r], last[r], category[r], text[r]), r) for r in near)
        return [e for e in scored if e[0][-1]]

    def _order(self, entry: tuple[Parts, int]) -> tuple[float, float, int]:
        return _order(entry[0][0], entry[0][1], self._ids[entry[1]])

    def _decision(self, scored: list[tuple[Parts, int]]) -> Decision:
        """The decision on bare parts; records only for the events it keeps."""
        best = sorted(scored, key=self._order)[: self.config.max_suggestions] if len(scored) > 1 else scored
        action, keep = _verdict([parts[0] for parts, _ in best], self.config)
        return Decision(action, tuple(Score(self._candidate(row), *parts) for parts, row in best[:keep]), self.config)

    def _near(self, probe: _Probe, rows: Iterable[int]) -> list[int]:
        """The rows in the window and inside the ellipse through the corners of :func:`half_box`
        (it holds the circle: its width is taken at the circle's widest latitude)."""
        x, y = probe.lon, probe.lat
        earliest, latest = probe.stamp - probe.window, probe.stamp + probe.window
        dlat, dlon = half_box(y, probe.radius)
        lon, lat, first, last = self._lon, self._lat, self._first, self._last
        return [
            row
            for row in rows
            if last[row] >= earliest
            and first[row] <= latest
            and ((lon[row] - x) / dlon) ** 2 + ((lat[row] - y) / dlat) ** 2 <= 1.0
        ]

    def _row(self, event: Candidate) -> int:
        key = bucket(event.lon, event.lat, self.config.bucket_m)
        rows = self._buckets.get(major_key(event.category_key), {}).get(key, ())
        row = next((r for r in rows if self._ids[r] == event.event_id), None)
        if row is None:
            raise KeyError(event.event_id)
        return row

    def _stretch(self, row: int, at: dt.datetime) -> None:
        stamp = at.timestamp()
        self._first[row] = min(self._first[row], stamp)
        self._last[row] = max(self._last[row], stamp)
        if self._sorted is not None and row < self._sorted.rows:
            self._stale.add(row)

    def _note(self, rows: dict[str, dict[int, list[int]]], row: int) -> None:
        rows.setdefault(major_key(self._category[row]), {}).setdefault(self._bucket[row], []).append(row)

    def _candidate(self, row: int) -> Candidate:
        return Candidate(
            self._ids[row],
            self._category[row],
            self._lon[row],
            self._lat[row],
            dt.datetime.fromtimestamp(self._first[row], dt.UTC),
            dt.datetime.fromtimestamp(self._last[row], dt.UTC),
            self._text[row],
        )


# -- the batch path, with numpy --------------------------------------------------------------------

_MAJOR_SLOTS = 256  # cell key = bucket × 256 + 大类 code (a taxonomy has a few dozen 大类)
_DAY = 86_400.0
_DAY_BITS = 20  # sort code = cell number << 20 | day of the last report, counted from the earliest
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


class _Sorted:
    """A copy of some of the index's rows (default: all, else ``rows`` with their ``texts``),
    sorted by (bucket and 大类, day of the last report). Texts are an object array, gathered in C:
    picking a batch's texts from the index's list row by row is a cache miss each, in Python."""

    def __init__(
        self, index: DedupIndex, rows: IntArray | None = None, texts: NDArray[np.object_] | None = None
    ) -> None:
        self.rows = len(index)  # the index's rows when the copy was made
        pick = slice(None) if rows is None else rows
        category = np.array(index._category_code, dtype=np.int64)[pick]
        majors = np.array([index._majors[major_key(c)] for c in index._categories], dtype=np.int64)[category]
        cell_key = np.array(index._bucket, dtype=np.int64)[pick] * _MAJOR_SLOTS + majors
        cells, cell = np.unique(cell_key, return_inverse=True)
        self.cells: IntArray = cells
        last = np.array(index._last, dtype=np.float64)[pick]
        day = np.floor(last / _DAY).astype(np.int64)
        self.first_day = int(day.min()) if len(day) else 0
        code = (cell.astype(np.int64) << _DAY_BITS) | (day - self.first_day)
        order = np.argsort(code)
        self.code: IntArray = code[order]
        self.row: IntArray = order if rows is None else rows[order]
        self.lon = np.array(index._lon, dtype=np.float64)[self.row]
        self.lat = np.array(index._lat, dtype=np.float64)[self.row]
        self.first = np.array(index._first, dtype=np.float64)[self.row]
        self.last = last[order]
        self.ids = np.array(index._ids, dtype=np.int64)[self.row]
        self.category = category[order]
        self.length = np.array(index._length, dtype=np.float64)[self.row]
        self.text = (np.array(index._text, dtype=object) if texts is None else texts)[order]
        self.position = np.empty(len(order), dtype=np.int64)  # row → position, for the full copy
        self.position[order] = np.arange(len(order))

    def texts_of(self, rows: IntArray) -> NDArray[np.object_]:
        """The texts of some rows of a full copy (a text never changes once its row is added)."""
        return self.text[self.position[rows]]


class _Found:
    """Every eligible (report, event) pair of a batch in the sorted copies, scored with numpy as
    :meth:`_Probe.parts` scores one pair; each report's pairs best first. And which reports are
    ``alone``: with no eligible pair, and no event near them that the batch may add or stretch
    before them, so that they open a new event without a look at anything (``own``: the
    reports' buckets)."""

    def __init__(
        self,
        index: DedupIndex,
        copies: Sequence[tuple[_Sorted, IntArray]],
        queries: Sequence[Query],
        own: Sequence[int],
    ) -> None:
        config = index.config
        q = _QueryColumns(queries, config, index._majors)
        key_q, keys = _neighbour_keys(q, config.bucket_m)
        self.key_start = np.searchsorted(key_q, np.arange(len(queries) + 1)).tolist()
        self.keys = keys.tolist()
        self.stamps = q.stamp.tolist()
        self.majors = q.major_keys
        pairs = [_Pairs(q, key_q, keys, events, left_out) for events, left_out in copies]
        pair_q, row, ids, category, cell = (
            _joined(pairs, name) for name in ("query", "row", "ids", "category", "cell")
        )
        lon, lat, first, last, length, text = (
            _joined(pairs, name) for name in ("lon", "lat", "first", "last", "length", "text")
        )
        stamp, window, radius = q.stamp[pair_q], q.window[pair_q], q.radius[pair_q]
        kx = np.cos(np.radians((q.lat[pair_q] + lat) / 2))
        metres = M_PER_DEGREE * np.hypot((lon - q.lon[pair_q]) * kx, lat - q.lat[pair_q])
        gap = np.maximum(np.maximum(first - stamp, stamp - last), 0.0)
        keep = (metres <= radius) & (gap <= window)
        pair_q, row, ids, category, length, text = (c[keep] for c in (pair_q, row, ids, category, length, text))
        self.alone = _alone(q, key_q, keys, np.array(own, dtype=np.int64), pair_q, cell[keep])
        metres, gap, window, radius = metres[keep], gap[keep], window[keep], radius[keep]
        query_category = np.array([index._categories.get(x.category_key, -1) for x in queries], dtype=np.int64)
        same = category == query_category[pair_q]
        query_text = np.array([x.text for x in queries], dtype=object)
        query_length = np.fromiter(map(len, query_text), dtype=np.float64, count=len(queries))
        similar, has_text = _similarities(query_text[pair_q].tolist(), text.tolist(), query_length[pair_q], length)
        w = config.weights
        total = w.distance * np.maximum(0.0, 1 - metres / radius) + w.time * np.maximum(0.0, 1 - gap / window)
        total += w.category * same
        weight = np.full(len(pair_q), w.distance + w.time + w.category)
        total += np.where(has_text, w.text * similar, 0.0)
        weight += np.where(has_text, w.text, 0.0)
        value = np.divide(total, weight, out=np.zeros_like(total), where=weight > 0)
        order = np.lexsort((ids, metres, -value, pair_q))
        self.start = np.searchsorted(pair_q[order], np.arange(len(queries) + 1)).tolist()
        self.row = row[order].tolist()
        text_part = similar.astype(object)
        text_part[~has_text] = None
        # lists, not a tuple per pair: tuples would be garbage-collector work for pairs never looked at
        self.value, self.metres, self.gap_h = (c[order].tolist() for c in (value, metres, gap / 3600))
        self.text, self.same = text_part[order].tolist(), same[order].tolist()

    def neighbours(self, i: int) -> list[int]:
        """The buckets report ``i``'s radius reaches."""
        return self.keys[self.key_start[i] : self.key_start[i + 1]]

    def best(self, i: int, k: int, stale: set[int]) -> list[tuple[Parts, int]]:
        """Report ``i``'s ``k`` best pairs, leaving out the ``stale`` rows (stretched since the copies)."""
        out: list[tuple[Parts, int]] = []
        for j in range(self.start[i], self.start[i + 1]):
            row = self.row[j]
            if row not in stale:
                out.append(((self.value[j], self.metres[j], self.gap_h[j], self.text[j], self.same[j], True), row))
                if len(out) == k:
                    break
        return out


class _QueryColumns:
    def __init__(self, queries: Sequence[Query], config: DedupConfig, majors: Mapping[str, int]) -> None:
        for query in queries:
            _require_aware(query.at, "at")
        limits = {key: config.limits_for(key) for key in {q.category_key for q in queries}}
        by_key = {key: (lim.radius_m, lim.window.total_seconds()) for key, lim in limits.items()}
        columns = np.array(
            [(q.lon, q.lat, q.at.timestamp(), *by_key[q.category_key]) for q in queries], dtype=np.float64
        ).reshape(-1, 5)
        self.lon, self.lat, self.stamp, self.radius, self.window = columns.T.copy()
        self.major_keys = [major_key(q.category_key) for q in queries]
        self.major = np.array([majors.get(m, -1) for m in self.major_keys], dtype=np.int64)


def _neighbour_keys(q: _QueryColumns, size_m: float) -> tuple[IntArray, IntArray]:
    """(report, bucket) for every bucket each report's radius reaches, reports in order: the
    vector form of :func:`neighbour_buckets`."""
    y = q.lat * M_PER_DEGREE
    row0 = np.floor((y - q.radius) / size_m).astype(np.int64)
    rows = np.floor((y + q.radius) / size_m).astype(np.int64) - row0 + 1
    qi = np.repeat(np.arange(len(y)), rows)
    grid_row = _ranges(row0, rows)
    dlat = q.radius / M_PER_DEGREE
    dlon = (dlat / np.cos(np.radians(np.minimum(np.abs(q.lat) + dlat, 89.0))))[qi]
    scale = M_PER_DEGREE * np.cos(np.radians((grid_row + 0.5) * size_m / M_PER_DEGREE)) / size_m
    col0 = np.floor((q.lon[qi] - dlon) * scale).astype(np.int64)
    cols = np.floor((q.lon[qi] + dlon) * scale).astype(np.int64) - col0 + 1
    return np.repeat(qi, cols), np.repeat((grid_row << _COLUMN_BITS) + _COLUMN_OFFSET, cols) + _ranges(col0, cols)


class _Pairs:
    """The (report, event) pairs a sorted copy offers, with the event's columns: the events of
    the report's 大类 in the buckets its radius reaches whose last report is on a day at or after
    the window's start, except the rows ``left_out`` (sorted)."""

    __slots__ = ("category", "cell", "first", "ids", "last", "lat", "length", "lon", "query", "row", "text")

    def __init__(self, q: _QueryColumns, qj: IntArray, buckets: IntArray, events: _Sorted, left_out: IntArray) -> None:
        self.query, at = _pairs(q, qj, buckets, events)
        self.row = events.row[at]
        if len(left_out):
            kept = ~np.isin(self.row, left_out)
            self.query, at, self.row = self.query[kept], at[kept], self.row[kept]
        self.ids, self.category, self.length, self.text = (
            events.ids[at],
            events.category[at],
            events.length[at],
            events.text[at],
        )
        self.lon, self.lat, self.first, self.last = events.lon[at], events.lat[at], events.first[at], events.last[at]
        self.cell = events.cells[events.code[at] >> _DAY_BITS]  # bucket × 256 + 大类 code


def _alone(
    q: _QueryColumns, key_q: IntArray, keys: IntArray, own: IntArray, pair_q: IntArray, pair_cell: IntArray
) -> list[bool]:
    """Reports with no eligible pair (``pair_q``) and no cell (bucket and 大类) in reach that
    holds an event the batch may change before them: an event a report of the batch opens (in an
    earlier report's cell) or merges into (one of the eligible pairs' cells, ``pair_cell``).
    Reports of a 大类 the index has not seen share a code, which only makes fewer of them alone."""
    reach = keys * _MAJOR_SLOTS + q.major[key_q]  # (report key_q's) cells in reach
    cells, first = np.unique(own * _MAJOR_SLOTS + q.major, return_index=True)  # the batch's first report in each
    at = np.minimum(np.searchsorted(cells, reach), len(cells) - 1)
    met = ((cells[at] == reach) & (first[at] < key_q)) | np.isin(reach, pair_cell)
    busy = np.zeros(len(own), dtype=bool)
    busy[key_q[met]] = True
    busy[pair_q] = True
    return (~busy).tolist()


def _joined(pairs: Sequence[_Pairs], name: str) -> NDArray[Any]:
    return np.concatenate([getattr(p, name) for p in pairs])


def _pairs(q: _QueryColumns, qj: IntArray, buckets: IntArray, events: _Sorted) -> tuple[IntArray, IntArray]:
    """(report, position in the sorted copy) for the events of the report's 大类 in the buckets
    (report ``qj``, bucket) whose last report is on a day at or after the window's start."""
    keys = buckets * _MAJOR_SLOTS + q.major[qj]
    order = np.argsort(keys)  # binary searches for sorted keys stay in cache: 4× faster on a million events
    keys, qj = keys[order], qj[order]
    cell = np.minimum(np.searchsorted(events.cells, keys), max(len(events.cells) - 1, 0))
    known = (q.major[qj] >= 0) & (events.cells[cell] == keys) if len(events.cells) else np.zeros(len(keys), bool)
    qj, cell = qj[known], cell[known]
    start_day = np.floor((q.stamp[qj] - q.window[qj]) / _DAY).astype(np.int64) - events.first_day
    lo = np.searchsorted(events.code, (cell << _DAY_BITS) | np.clip(start_day, 0, None), side="left")
    hi = np.searchsorted(events.code, (cell + 1) << _DAY_BITS, side="left")
    found = np.maximum(hi - lo, 0)
    return np.repeat(qj, found), _ranges(lo, found)


def _similarities(
    a: Sequence[str], b: Sequence[str], la: FloatArray, lb: FloatArray
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """:func:`similarity` pair by pair, in C, given the texts' lengths; and whether both texts of
    a pair are non-empty."""
    lcs = process.cpdist(a, b, scorer=LCSseq.similarity, dtype=np.int64) if len(a) else np.zeros(0)
    return lcs / np.maximum(np.minimum(la, lb), SHORT_TEXT), (la > 0) & (lb > 0)


def _ranges(start: IntArray, count: IntArray) -> IntArray:
    """Concatenated ``arange(start[i], start[i] + count[i])``, vectorised."""
    offsets = np.arange(int(count.sum()), dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
    return np.repeat(start, count) + offsets
