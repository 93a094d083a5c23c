"""Citations as people and the knowledge base write them → (document name, article, 款, 项). Pure.

Accepted, in any mix of Chinese and the knowledge base's shorthand::

    北京市市容环境卫生条例第三十五条第五款      市容环境卫生条例 第35条 第5款
    BJ市容 35 para 5     噪声法 77(二)     法 51     治安法(2012) 50(二)     B4 art 18
    BJ市容 26 last para  固废法 第一百一十一条第一款第三项

One citation names one provision: ranges (``53-58``) and lists (``27, 30``) are refused.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from chengguan.errors import Invalid
from chengguan.legal.parser import NUMERAL, cn_to_int

LAST = -1  # paragraph "last para" / 末款, resolved against the article

YEAR_RE = re.compile(r"\(\s*(\d{4})\s*年?\s*(?:版|修订|修正)?\s*\)")
# Where the locator starts: 第…条, "art 18", or a number not glued to a Latin letter (so B4 stays a name).
LOCATOR_RE = re.compile(rf"第\s*{NUMERAL}\s*条|(?i:art(?:icle)?\.?)\s*\d|(?<![A-Za-z0-9])\d")
ARTICLE_RES = (
    re.compile(rf"第\s*({NUMERAL})\s*条(?:\s*之\s*({NUMERAL}))?"),
    re.compile(rf"(?i:art(?:icle)?\.?\s*)?(\d+)(?:\s*之\s*({NUMERAL}))?"),
)
PARAGRAPH_RES = (
    re.compile(rf"第\s*({NUMERAL})\s*款"),
    re.compile(r"(?i:para(?:graph)?\.?|¶)\s*(\d+)"),
)
LAST_PARAGRAPH_RE = re.compile(r"(?i:last\s+para(?:graph)?\.?)|末款|最后一款")
ITEM_RES = (
    re.compile(rf"第\s*({NUMERAL})\s*项"),
    re.compile(rf"\(\s*({NUMERAL})\s*\)"),
    re.compile(r"(?i:item)\s*(\d+)"),
)
NAME_NOISE_RE = re.compile(r"[\s《》〈〉\"'“”‘’]")
EXAMPLE = "e.g. 行政处罚法第五十一条, BJ市容 35 para 5 or 噪声法 77(二)"


@dataclass(frozen=True)
class Citation:
    document: str  # the name as written (normalised), matched against titles and aliases
    year: int | None  # a version year written after the name: 治安法(2012)
    article: int
    suffix: int = 0
    paragraph: int | None = None  # 1-based, or LAST
    item: int | None = None


def normalise_name(name: str) -> str:
    """The comparable form of a document name: NFKC, no spaces or quotes, Latin case folded."""
    return NAME_NOISE_RE.sub("", unicodedata.normalize("NFKC", name)).casefold()


def _numeral(text: str) -> int:
    value = cn_to_int(text)
    if value < 1:
        raise Invalid(f"number {text!r} must be 1 or more", field="ref")
    return value


class _Reader:
    """Reads the locator left to right: article, then 款, then 项, each at most once."""

    def __init__(self, ref: str, text: str) -> None:
        self.ref, self.text, self.pos = ref, text, 0
        self.article: tuple[int, int] | None = None
        self.paragraph: int | None = None
        self.item: int | None = None

    def take(self, patterns: tuple[re.Pattern[str], ...]) -> re.Match[str] | None:
        for pattern in patterns:
            if match := pattern.match(self.text, self.pos):
                self.pos = match.end()
                return match
        return None

    def step(self) -> None:
        steps: list[Callable[[], bool]] = [self.read_article, self.read_paragraph, self.read_item]
        if not any(read() for read in steps):
            rest = self.text[self.pos :]
            raise Invalid(f"cannot read {rest!r} in {self.ref!r}: one provision per reference, {EXAMPLE}", field="ref")

    def read_article(self) -> bool:
        if self.article is not None or not (match := self.take(ARTICLE_RES)):
            return False
        self.article = (_numeral(match.group(1)), _numeral(match.group(2)) if match.group(2) else 0)
        return True

    def read_paragraph(self) -> bool:
        if self.article is None or self.paragraph is not None or self.item is not None:
            return False
        if match := LAST_PARAGRAPH_RE.match(self.text, self.pos):
            self.pos, self.paragraph = match.end(), LAST
            return True
        if match := self.take(PARAGRAPH_RES):
            self.paragraph = _numeral(match.group(1))
            return True
        return False

    def read_item(self) -> bool:
        if self.article is None or self.item is not None or not (match := self.take(ITEM_RES)):
            return False
        self.item = _numeral(match.group(1))
        return True

    def read(self) -> None:
        while True:
            while self.pos < len(self.text) and self.text[self.pos] in " \t,，、":
                self.pos += 1
            if self.pos >= len(self.text):
                return
            self.step()


def parse_citation(ref: str) -> Citation:
    """The parts of one citation; ``Invalid`` naming ``ref``, ``ref.document`` or ``ref.article``."""
    text = unicodedata.normalize("NFKC", ref).strip()
    year_match = YEAR_RE.search(text)
    year = int(year_match.group(1)) if year_match else None
    if year_match:
        text = text[: year_match.start()] + " " + text[year_match.end() :]
    start = LOCATOR_RE.search(text)
    name = normalise_name(text[: start.start()] if start else text)
    if not name:
        raise Invalid(f"{ref!r} names no document; {EXAMPLE}", field="ref.document")
    if start is None:
        raise Invalid(f"{ref!r} names no article; {EXAMPLE}", field="ref.article")
    reader = _Reader(ref, text[start.start() :])
    reader.read()
    if reader.article is None:
        raise Invalid(f"{ref!r} names no article; {EXAMPLE}", field="ref.article")
    return Citation(name, year, *reader.article, paragraph=reader.paragraph, item=reader.item)
