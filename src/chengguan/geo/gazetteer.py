"""Address text → a place of the city's gazetteer, in memory and without a database.

An address names places from broad to narrow ("北京市海淀区中关村大街27号"). Every name the
gazetteer knows (full names, aliases, and the short forms people use for areas: 海淀 for
海淀区, 东华门 for 东华门街道) goes into one Aho–Corasick automaton, so a single pass over the
text finds every mention. Mentions inside a longer one are dropped (三里屯 inside 三里屯太古里),
and so is a two-character name heading a road name the gazetteer lacks (北大 in 西四北大街).
Each remaining candidate is then weighed against the others: an area the text names must
contain it (a conflict otherwise), roads and POIs in the same district support each other, and
of the consistent candidates the most specific wins (POI > road > community > street >
district). Two roads whose lines meet give their junction. When no road or POI is named exactly,
a q-gram filter plus an edit distance finds one misspelt by a character (中关村大衔), never by a
character that tells two real places apart (东四/西四, 中关村大街/中关村南大街).

Places carry their organisation's path, so "inside" is a prefix test on paths.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import ahocorasick  # type: ignore[import-not-found]  # ships no type information
from rapidfuzz.distance import Levenshtein
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from chengguan.geo.models import DERIVED_KINDS, EntryKind

SPECIFICITY = {
    EntryKind.DISTRICT: 0,
    EntryKind.STREET: 1,
    EntryKind.COMMUNITY: 2,
    EntryKind.ROAD: 3,
    EntryKind.POI: 4,
}
# Suffixes people leave out when they name an area (海淀区 → 海淀); longest first.
AREA_SUFFIXES: dict[EntryKind, tuple[str, ...]] = {
    EntryKind.DISTRICT: ("自治县", "区", "县"),
    EntryKind.STREET: ("街道办事处", "街道", "地区", "镇", "乡"),
    EntryKind.COMMUNITY: ("社区居委会", "居委会", "村委会", "社区"),
}
MIN_TERM = 2  # one character names nothing in an address
# A two-character name right before one of these heads a road name the gazetteer lacks:
# 北大 (北京大学) in 西四北大街, 朝阳 in 朝阳路; but 国贸路口 is the junction at 国贸.
ROAD_WORD_CHARS = frozenset("街路巷道")
JUNCTION_WORDS = frozenset({"路口", "街口"})
# What a way of naming a place is worth.
BY_NAME, BY_ALIAS, BY_SHORT_NAME = 1.0, 0.95, 0.85
# How sure a match of each level is that the point is where the reporter meant: a POI is a spot,
# a road is long, an area is only its representative point.
BASE_CONFIDENCE = {
    EntryKind.POI: 0.9,
    EntryKind.ROAD: 0.75,
    EntryKind.COMMUNITY: 0.65,
    EntryKind.STREET: 0.5,
    EntryKind.DISTRICT: 0.35,
}
JUNCTION_CONFIDENCE = 0.9
SUPPORT_BONUS = 0.05  # per other mention that agrees, for at most MAX_SUPPORT of them
MAX_SUPPORT = 2
CONFLICT_FACTOR = 0.4  # per mention the match contradicts
SAME_PLACE_M = 1000.0  # rivals nearer than this are one place named twice, not an ambiguity
JUNCTION_M = 300.0  # road lines this close meet (the lines are approximate)
FUZZY_MIN_LENGTH = 5  # shorter names are one character away from other real names
FUZZY_LONG = 10  # names this long may carry two typos
# A character that distinguishes real places is never taken for a typo.
DISTINCT_CHARS = frozenset("东西南北中前后左右上下内外大小新老正一二三四五六七八九十")
M_PER_DEGREE = 111_320.0

_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Place:
    """A gazetteer entry as the matcher sees it. ``path`` is the organisation path of the area
    it lies in ("/110000000000/110108000000/"); the ids are the district, street and community
    of that area where it has them."""

    id: int
    kind: EntryKind
    name: str
    lon: float
    lat: float
    path: str
    aliases: tuple[str, ...] = ()
    district_id: int | None = None
    street_id: int | None = None
    community_id: int | None = None
    line: BaseGeometry | None = None


@dataclass(frozen=True)
class AddressMatch:
    """Where an address is: a WGS-84 point, the level of the place that gave it, the names
    matched (broadest first), the organisations the text implies, and how sure the match is."""

    lon: float
    lat: float
    level: EntryKind
    entry_id: int
    names: tuple[str, ...]
    district_id: int | None
    street_id: int | None
    community_id: int | None
    confidence: float
    reason: str


# Named tuples, not dataclasses: an address makes a dozen of these and they are built in the
# hot path (a frozen dataclass costs several times as much to construct).
class _Hit(NamedTuple):
    place: int  # index into the index's places
    quality: float
    how: str  # "name", "alias", "short name", "typo"


class _Mention(NamedTuple):
    start: int
    end: int
    term: str
    hits: tuple[_Hit, ...]
    typed: str = ""  # the text as written, for a typo

    @property
    def length(self) -> int:
        return self.end - self.start


@dataclass(slots=True)
class _Choice:
    mention: _Mention
    hit: _Hit
    supports: list[tuple[_Mention, _Hit]] = field(default_factory=list)
    conflicts: list[_Mention] = field(default_factory=list)
    rivals: int = 0


def normalize(text: str) -> str:
    """Full-width to half-width, lower case, no white space: 望京 ＳＯＨＯ → 望京soho."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text)).lower()


def short_name(kind: EntryKind, name: str) -> str | None:
    """The name without its area suffix (海淀区 → 海淀), if at least two characters remain."""
    for suffix in AREA_SUFFIXES.get(kind, ()):
        if name.endswith(suffix) and len(name) - len(suffix) >= MIN_TERM:
            return name[: -len(suffix)]
    return None


def terms_of(place: Place) -> dict[str, tuple[float, str]]:
    """Every text that names ``place``, normalised, with what it is worth and what it is."""
    name = normalize(place.name)
    found: dict[str, tuple[float, str]] = {}
    short = short_name(place.kind, name)
    candidates = [(short, BY_SHORT_NAME, "short name")] if short else []
    candidates += [(normalize(a), BY_ALIAS, "alias") for a in place.aliases] + [(name, BY_NAME, "name")]
    for term, quality, how in candidates:  # weakest first: a stronger reading of a term overwrites
        if len(term) >= MIN_TERM:
            found[term] = (quality, how)
    return found


def nested(a: str, b: str) -> bool:
    """One organisation path lies inside the other (or they are the same)."""
    return a.startswith(b) or b.startswith(a)


class GazetteerIndex:
    """Every name of every place in one automaton; :meth:`resolve` reads an address."""

    def __init__(self, places: Iterable[Place]) -> None:
        self.places = list(places)
        hits: dict[str, list[_Hit]] = defaultdict(list)
        for i, place in enumerate(self.places):
            for term, (quality, how) in terms_of(place).items():
                hits[term].append(_Hit(i, quality, how))
        self._terms = {term: self._broadest(found) for term, found in hits.items()}
        self._automaton = ahocorasick.Automaton()
        for term in self._terms:
            self._automaton.add_word(term, term)
        self._automaton.make_automaton()
        self._grams = self._bigrams()

    def __len__(self) -> int:
        return len(self.places)

    def _broadest(self, hits: list[_Hit]) -> tuple[_Hit, ...]:
        """A name shared by an area and an area inside it (海淀: 海淀区, 海淀街道, 海淀镇)
        means the outer one: a reading too broad is safer than one too narrow."""
        areas = [self.places[h.place].path for h in hits if self.places[h.place].kind in DERIVED_KINDS]

        def inside_another(hit: _Hit) -> bool:
            place = self.places[hit.place]
            return place.kind in DERIVED_KINDS and any(p != place.path and place.path.startswith(p) for p in areas)

        return tuple(h for h in hits if not inside_another(h))

    def _bigrams(self) -> dict[str, list[tuple[str, int]]]:
        """Bigram → (term, offset) for the road and POI names long enough to be misspelt."""
        grams: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for term, hits in self._terms.items():
            if len(term) >= FUZZY_MIN_LENGTH and any(self.places[h.place].kind not in DERIVED_KINDS for h in hits):
                for offset in range(len(term) - 1):
                    grams[term[offset : offset + 2]].append((term, offset))
        return grams

    # -- reading an address ---------------------------------------------------------------------

    def resolve(self, text: str, within: str | None = None) -> AddressMatch | None:
        """The place ``text`` names, or None. ``within`` (an organisation path) keeps only places
        inside that organisation or above it."""
        typed = normalize(text)
        mentions = self._exact(typed, within)
        choice = self._choose(mentions)
        if choice is None or not self._settled(choice):
            typos = self._typos(typed, within)
            if typos:
                mentions = _outermost([*mentions, *typos])
                choice = self._choose(mentions)
        return None if choice is None else self._answer(choice, mentions)

    def resolve_many(self, texts: Iterable[str], within: str | None = None) -> list[AddressMatch | None]:
        """:meth:`resolve` for many addresses; a text repeated in the batch is read once."""
        seen: dict[str, AddressMatch | None] = {}
        out: list[AddressMatch | None] = []
        for text in texts:
            if text not in seen:
                seen[text] = self.resolve(text, within)
            out.append(seen[text])
        return out

    def _kind(self, hit: _Hit) -> EntryKind:
        return self.places[hit.place].kind

    def _settled(self, choice: _Choice) -> bool:
        """A road or POI named by more than two characters and contradicting nothing: no typo
        could read the text better. Two characters are weak evidence: 北大 (北京大学) inside
        东单北大衔, a misspelt 东单北大街, whose 街 would have ruled it out."""
        return (
            self._spec(choice.hit) >= SPECIFICITY[EntryKind.ROAD]
            and choice.mention.length > MIN_TERM
            and not choice.conflicts
        )

    def _keep(self, hits: Iterable[_Hit], within: str | None) -> tuple[_Hit, ...]:
        if within is None:
            return tuple(hits)
        return tuple(h for h in hits if nested(self.places[h.place].path, within))

    def _exact(self, text: str, within: str | None) -> list[_Mention]:
        found = []
        for end, term in self._automaton.iter(text):
            if len(term) == MIN_TERM and _heads_a_road(text, end + 1):
                continue
            hits = self._keep(self._terms[term], within)
            if hits:
                found.append(_Mention(end - len(term) + 1, end + 1, term, hits))
        return _outermost(found)

    def _typos(self, text: str, within: str | None) -> list[_Mention]:
        """Road and POI names found in ``text`` with one typo (two in long names)."""
        votes: dict[tuple[str, int], int] = defaultdict(int)
        for position in range(len(text) - 1):
            for term, offset in self._grams.get(text[position : position + 2], ()):
                votes[(term, position - offset)] += 1
        found: dict[str, _Mention] = {}
        for (term, start), count in votes.items():
            allowed = 2 if len(term) >= FUZZY_LONG else 1
            # an edit breaks at most two bigrams; an insertion or deletion shifts the rest by one
            aligned = count + votes.get((term, start - 1), 0) + votes.get((term, start + 1), 0)
            if term in found or aligned < len(term) - 1 - 2 * allowed:
                continue
            window = _closest_window(text, term, start, allowed)
            hits = self._keep(self._terms[term], within)
            if window is None or not hits:
                continue
            begin, end, distance = window
            similarity = 1.0 - distance / len(term)
            typo_hits = tuple(_Hit(h.place, h.quality * similarity, "typo") for h in hits)
            found[term] = _Mention(begin, end, term, typo_hits, typed=text[begin:end])
        return list(found.values())

    # -- weighing the candidates ----------------------------------------------------------------

    def _relation(self, anchor: int, other: int) -> int:
        """+1 the two agree, -1 they contradict, 0 neither: an area must contain or lie in the
        other place; two roads/POIs agree when they are in the same district."""
        a, b = self.places[anchor], self.places[other]
        if anchor == other:
            return 1
        if a.kind in DERIVED_KINDS or b.kind in DERIVED_KINDS:
            return 1 if a.path.startswith(b.path) or b.path.startswith(a.path) else -1
        if a.district_id is not None and a.district_id == b.district_id:
            return 1
        return 0

    def _weigh(self, mention: _Mention, hit: _Hit, mentions: Sequence[_Mention]) -> _Choice:
        choice = _Choice(mention, hit)
        for other in mentions:
            if _alternatives(other, mention):
                continue
            best = other.hits[0] if len(other.hits) == 1 else self._closest(hit, other.hits)
            relation = self._relation(hit.place, best.place)
            if relation > 0:
                choice.supports.append((other, best))
            elif relation < 0:
                choice.conflicts.append(other)
        return choice

    def _closest(self, hit: _Hit, hits: Sequence[_Hit]) -> _Hit:
        """The reading of another mention that agrees best with ``hit`` (the broader on a tie)."""
        return max(hits, key=lambda h: (self._relation(hit.place, h.place), h.quality, -self._spec(h)))

    def _spec(self, hit: _Hit) -> int:
        return SPECIFICITY[self._kind(hit)]

    def _rank(self, choice: _Choice) -> tuple[int, int, int, float]:
        return (-len(choice.conflicts), self._spec(choice.hit), len(choice.supports), choice.hit.quality)

    def _choose(self, mentions: Sequence[_Mention]) -> _Choice | None:
        """The most specific candidate that contradicts the fewest other mentions; ties go to the
        longer mention, then the later one (addresses narrow from left to right)."""
        choices = [self._weigh(m, h, mentions) for m in mentions for h in m.hits]
        if not choices:
            return None
        best = max(choices, key=lambda c: (*self._rank(c), c.mention.length, c.mention.start, -c.hit.place))
        best.rivals = sum(1 for c in choices if self._rivals(best, c))
        return best

    def _rivals(self, best: _Choice, other: _Choice) -> bool:
        """Another place with as good a claim, far away and not agreeing with the choice."""
        if other.hit.place == best.hit.place or self._rank(other) != self._rank(best):
            return False
        if self._relation(best.hit.place, other.hit.place) > 0:
            return False
        return _metres(self.places[best.hit.place], self.places[other.hit.place]) > SAME_PLACE_M

    # -- the answer -----------------------------------------------------------------------------

    def _answer(self, choice: _Choice, mentions: Sequence[_Mention]) -> AddressMatch:
        place = self.places[choice.hit.place]
        ids = [place.district_id, place.street_id, place.community_id]
        named: list[Place] = []
        for _mention, hit in sorted(choice.supports, key=lambda s: s[0].start):
            other = self.places[hit.place]
            if other.kind in DERIVED_KINDS and _merge(ids, other):
                named.append(other)
        junction = self._junction(place, choice, mentions)
        lon, lat = (place.lon, place.lat) if junction is None else junction[1]
        names = [p.name for p in sorted([*named, place], key=lambda p: SPECIFICITY[p.kind])]
        names += [junction[0].name] if junction else []
        base = JUNCTION_CONFIDENCE if junction else BASE_CONFIDENCE[place.kind]
        confidence = base * choice.hit.quality + SUPPORT_BONUS * min(len(choice.supports), MAX_SUPPORT)
        confidence *= CONFLICT_FACTOR ** len(choice.conflicts) / (1 + choice.rivals)
        return AddressMatch(
            lon=lon,
            lat=lat,
            level=place.kind,
            entry_id=place.id,
            names=tuple(dict.fromkeys(names)),
            district_id=ids[0],
            street_id=ids[1],
            community_id=ids[2],
            confidence=round(min(1.0, confidence), 3),
            reason=self._reason(choice, place, junction[0] if junction else None),
        )

    def _junction(
        self, road: Place, choice: _Choice, mentions: Sequence[_Mention]
    ) -> tuple[Place, tuple[float, float]] | None:
        """Another road the text names whose line meets this road's line, and where."""
        if road.kind is not EntryKind.ROAD or road.line is None:
            return None
        best: tuple[float, Place, tuple[float, float]] | None = None
        for mention in mentions:
            if _alternatives(mention, choice.mention) or mention in choice.conflicts:
                continue
            for hit in mention.hits:
                other = self.places[hit.place]
                if other.kind is EntryKind.ROAD and other.line is not None and hit.place != choice.hit.place:
                    a, b = nearest_points(road.line, other.line)
                    gap = _metres_xy(a.x, a.y, b.x, b.y)
                    if gap <= JUNCTION_M and (best is None or gap < best[0]):
                        best = (gap, other, ((a.x + b.x) / 2, (a.y + b.y) / 2))
        return None if best is None else (best[1], best[2])

    def _reason(self, choice: _Choice, place: Place, crossing: Place | None) -> str:
        mention, hit = choice.mention, choice.hit
        if hit.how == "typo":
            said = f"{place.kind} {place.name}: typo {mention.typed!r} ≈ {mention.term!r}"
        elif hit.how == "name":
            said = f"{place.kind} {place.name}"
        else:
            said = f"{place.kind} {place.name} (by its {hit.how} {mention.term!r})"
        parts = [said]
        if crossing is not None:
            parts.append(f"junction with {crossing.name}")
        agreeing = [self.places[h.place].name for _m, h in choice.supports if h.place != choice.hit.place]
        if agreeing:
            parts.append(f"agrees with {', '.join(dict.fromkeys(agreeing))}")
        if choice.conflicts:
            parts.append(f"contradicts {', '.join(repr(m.term) for m in choice.conflicts)}")
        if choice.rivals:
            parts.append(f"ambiguous: {choice.rivals} other place(s) fit as well")
        return "; ".join(parts)


def _outermost(mentions: list[_Mention]) -> list[_Mention]:
    """The mentions not inside a longer one, in text order. Mentions of the same stretch stay:
    they are different readings of it (two roads one typo away, 广衔门: 广安门 or 广渠门)."""
    kept: list[_Mention] = []
    for m in sorted(mentions, key=lambda m: (-m.length, m.start)):
        if not any(k.start <= m.start and m.end <= k.end and k.length > m.length for k in kept):
            kept.append(m)
    return sorted(kept, key=lambda m: m.start)


def _alternatives(a: _Mention, b: _Mention) -> bool:
    """Two readings of the same stretch of text: neither supports nor contradicts the other."""
    return a.start == b.start and a.end == b.end


def _heads_a_road(text: str, after: int) -> bool:
    return text[after : after + 1] in ROAD_WORD_CHARS and text[after : after + 2] not in JUNCTION_WORDS


def _closest_window(text: str, term: str, start: int, allowed: int) -> tuple[int, int, int] | None:
    """(begin, end, distance) of the stretch of ``text`` near ``start`` closest to ``term``, if it
    is within ``allowed`` edits, not identical, and no edit touches a distinguishing character."""
    best: tuple[int, int, int] | None = None
    n = len(term)
    for length in (n, n - 1, n + 1):
        for begin in (start, start - 1, start + 1):
            window = text[begin : begin + length] if begin >= 0 else ""
            if len(window) != length:
                continue
            distance = Levenshtein.distance(term, window, score_cutoff=allowed)
            if 0 < distance <= allowed and (best is None or distance < best[2]) and _plain_typo(term, window):
                best = (begin, begin + length, distance)
    return best


def _plain_typo(term: str, window: str) -> bool:
    """No edit adds, drops or replaces a character that tells real places apart (西四 is not a
    misspelt 西单, nor 中关村东大街 a misspelt 中关村大街)."""
    for op in Levenshtein.editops(term, window):
        if op.tag != "insert" and term[op.src_pos] in DISTINCT_CHARS:
            return False
        if op.tag != "delete" and window[op.dest_pos] in DISTINCT_CHARS:
            return False
    return True


def _merge(ids: list[int | None], area: Place) -> bool:
    """Fill the district/street/community ``ids`` from an area the text names, unless it
    contradicts what is known."""
    theirs = [area.district_id, area.street_id, area.community_id]
    if any(a is not None and b is not None and a != b for a, b in zip(ids, theirs, strict=True)):
        return False
    for i, value in enumerate(theirs):
        if ids[i] is None:
            ids[i] = value
    return True


def _metres(a: Place, b: Place) -> float:
    return _metres_xy(a.lon, a.lat, b.lon, b.lat)


def _metres_xy(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Equirectangular distance: exact enough within a city."""
    dx = (lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    return math.hypot(dx, lat2 - lat1) * M_PER_DEGREE
