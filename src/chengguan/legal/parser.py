"""Statute texts in the LawRefBook Markdown layout → documents, articles, 款 and 项. Pure: no database.

The layout: ``# 标题``, the promulgation and amendment history up to ``<!-- INFO END -->``, then
headings (``## 第一章 总则``, ``### 第一节 …``; a code such as 民事诉讼法 adds ``第一编`` above the
chapters) and articles. An article starts with a paragraph ``第X条 …``; every further paragraph
until the next article is another 款 of it, and lines ``（一）…`` are the 项 of the 款 before them.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from chengguan.errors import FieldError, Invalid

INFO_END = "<!-- INFO END -->"
NATIONAL_PREFIX = "中华人民共和国"
# Local legislation is recognised by the issuing place at the start of the title; a city that
# loads its own province's texts adds the place here.
LOCAL_PREFIXES = ("北京市",)

CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
CN_UNITS = {"十": 10, "百": 100, "千": 1000}
NUMERAL = r"[0-9零〇一二三四五六七八九十百千两]+"

ARTICLE_RE = re.compile(rf"^第({NUMERAL})条(?:之({NUMERAL}))?(?:\s+(.*))?$")
HEADING_RE = re.compile(r"^#{2,6}\s+(.*)$")
DIVISION_RE = re.compile(rf"^第({NUMERAL})(编|章|节)\s*(.*)$")
ITEM_RE = re.compile(rf"^[（(]({NUMERAL})[）)]\s*(.*)$")
FILE_DATE_RE = re.compile(r"\((\d{4}-\d{2}-\d{2})\)")
INVISIBLE = str.maketrans("", "", "\u200b\ufeff")  # zero-width spaces some texts carry
SPACES_RE = re.compile(r"\s+")


class Level(enum.StrEnum):
    LAW = "law"  # 法律 (全国人大及其常委会)
    ADMINISTRATIVE_REGULATION = "administrative_regulation"  # 行政法规 (国务院 条例/办法)
    LOCAL_REGULATION = "local_regulation"  # 地方性法规 (北京市…条例)
    LOCAL_RULE = "local_rule"  # 地方政府规章 (北京市…办法)


LEVEL_LABELS: dict[Level, str] = {
    Level.LAW: "法律",
    Level.ADMINISTRATIVE_REGULATION: "行政法规",
    Level.LOCAL_REGULATION: "地方性法规",
    Level.LOCAL_RULE: "地方政府规章",
}


@dataclass(frozen=True)
class Item:
    number: int
    text: str

    @property
    def full_text(self) -> str:
        return item_text(self.number, self.text)


@dataclass(frozen=True)
class Paragraph:
    number: int  # 1-based: 第一款 is the article's opening paragraph
    text: str
    items: tuple[Item, ...] = ()

    @property
    def full_text(self) -> str:
        return paragraph_text(self.text, [i.full_text for i in self.items])


@dataclass(frozen=True)
class Article:
    number: int
    suffix: int  # 第十条之一 → number 10, suffix 1; 0 for an ordinary article
    part: str | None  # 编
    chapter: str | None
    section: str | None
    paragraphs: tuple[Paragraph, ...]

    @property
    def label(self) -> str:
        return article_label(self.number, self.suffix)

    @property
    def text(self) -> str:
        return "\n".join(p.full_text for p in self.paragraphs)


@dataclass(frozen=True)
class LawText:
    title: str
    preamble: str
    version_date: dt.date | None
    level: Level
    source_file: str
    digest: str  # SHA-256 of the file: an unchanged file need not be loaded again
    articles: tuple[Article, ...]

    @property
    def short_title(self) -> str:
        return short_title(self.title)


# -- numerals and labels -------------------------------------------------------------------------


def cn_to_int(text: str) -> int:
    """一百二十三 → 123, 十五 → 15, 一百零五 → 105; Arabic digits pass through."""
    if text.isascii() and text.isdigit():
        return int(text)
    if not text:
        raise ValueError("empty numeral")
    total, digit = 0, None
    for ch in text:
        if ch in CN_DIGITS:
            digit = CN_DIGITS[ch]
        elif ch in CN_UNITS:
            total += (1 if digit is None else digit) * CN_UNITS[ch]
            digit = None
        else:
            raise ValueError(f"not a numeral: {text!r}")
    return total + (digit or 0)


def int_to_cn(n: int) -> str:
    """123 → 一百二十三, 15 → 十五, 105 → 一百零五 (the way statutes write them)."""
    if not 0 < n < 10000:
        raise ValueError(f"numeral out of range: {n}")
    out, gap = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = n // value % 10
        if digit == 0:
            gap = bool(out)
            continue
        if gap:
            out += "零"
            gap = False
        out += ("" if digit == 1 and value == 10 and not out else "零一二三四五六七八九"[digit]) + unit
    return out


def article_label(number: int, suffix: int = 0) -> str:
    return f"第{int_to_cn(number)}条" + (f"之{int_to_cn(suffix)}" if suffix else "")


def item_label(number: int) -> str:
    return f"（{int_to_cn(number)}）"


def item_text(number: int, text: str) -> str:
    return item_label(number) + text


def paragraph_text(text: str, item_texts: list[str]) -> str:
    """A 款 as printed: its sentence, then each 项 on a line of its own."""
    return "\n".join([text, *item_texts])


def short_title(title: str) -> str:
    return title.removeprefix(NATIONAL_PREFIX)


def classify(title: str) -> Level:
    """法律 / 行政法规 / 地方性法规 / 地方政府规章, from the title's issuer and form."""
    if title.startswith(LOCAL_PREFIXES):
        return Level.LOCAL_RULE if title.endswith(("办法", "规定")) else Level.LOCAL_REGULATION
    is_law = title.endswith("法") and not title.endswith("办法")
    return Level.LAW if is_law else Level.ADMINISTRATIVE_REGULATION


def version_date(filename: str) -> dt.date | None:
    match = FILE_DATE_RE.search(filename)
    return dt.date.fromisoformat(match.group(1)) if match else None


# -- the document ----------------------------------------------------------------------------------


class _Builder:
    """Collects articles line by line; every refusal names the file and line."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.errors: list[FieldError] = []
        self.articles: list[Article] = []
        self.divisions: dict[str, str | None] = {"编": None, "章": None, "节": None}
        self.head: tuple[int, int] | None = None  # (number, suffix) of the open article
        self.paragraphs: list[tuple[str, list[Item]]] = []

    def fail(self, line_no: int, message: str) -> None:
        self.errors.append(FieldError(f"{self.filename} line {line_no}", f"line {line_no}: {message}"))

    def heading(self, line_no: int, text: str) -> None:
        match = DIVISION_RE.match(text)
        if match is None:
            self.fail(line_no, f"heading {text!r} is not 第X编/章/节")
            return
        self.close()
        kind = match.group(2)
        name = SPACES_RE.sub("", match.group(3))  # 总　　则 → 总则
        label = f"第{match.group(1)}{kind} {name}".strip()
        self.divisions[kind] = label
        for lower in ("编", "章", "节")[("编", "章", "节").index(kind) + 1 :]:
            self.divisions[lower] = None

    def article(self, line_no: int, match: re.Match[str]) -> None:
        self.close()
        head = (cn_to_int(match.group(1)), cn_to_int(match.group(2)) if match.group(2) else 0)
        previous = (self.articles[-1].number, self.articles[-1].suffix) if self.articles else (0, 0)
        if head <= previous:
            self.fail(line_no, f"{article_label(*head)} follows {article_label(*previous)}; articles must ascend")
        self.head = head
        if match.group(3):
            self.paragraphs.append((match.group(3).strip(), []))

    def item(self, line_no: int, match: re.Match[str]) -> None:
        if not self.paragraphs:
            self.fail(line_no, "an item （X） outside any paragraph of an article")
            return
        items = self.paragraphs[-1][1]
        number = cn_to_int(match.group(1))
        if number != len(items) + 1:
            self.fail(line_no, f"item （{match.group(1)}） where （{int_to_cn(len(items) + 1)}） was expected")
        items.append(Item(number, match.group(2).strip()))

    def paragraph(self, line_no: int, text: str) -> None:
        if self.head is None:
            self.fail(line_no, f"text outside any article: {text[:30]!r}")
            return
        self.paragraphs.append((text, []))

    def close(self) -> None:
        if self.head is None:
            return
        paragraphs = tuple(Paragraph(n, text, tuple(items)) for n, (text, items) in enumerate(self.paragraphs, 1))
        divisions = (self.divisions["编"], self.divisions["章"], self.divisions["节"])
        self.articles.append(Article(*self.head, *divisions, paragraphs))
        self.head, self.paragraphs = None, []

    def feed(self, line_no: int, line: str) -> None:
        if heading := HEADING_RE.match(line):
            self.heading(line_no, heading.group(1).strip())
        elif article := ARTICLE_RE.match(line):
            self.article(line_no, article)
        elif item := ITEM_RE.match(line):
            self.item(line_no, item)
        else:
            self.paragraph(line_no, line)


def parse_text(text: str, filename: str) -> LawText:
    """One statute file's text → its document; ``Invalid`` naming each bad line otherwise."""
    lines = [line.translate(INVISIBLE).strip() for line in text.splitlines()]
    first = next((n for n, line in enumerate(lines) if line), None)
    if first is None or not lines[first].startswith("# "):
        raise Invalid(f"{filename}: the first line must be the title '# …'", field=filename)
    title = lines[first][2:].strip()
    body_start = lines.index(INFO_END) + 1 if INFO_END in lines else first + 1
    preamble = "\n".join(line for line in lines[first + 1 : body_start] if line and line != INFO_END)
    builder = _Builder(filename)
    for n in range(body_start, len(lines)):
        if lines[n]:
            builder.feed(n + 1, lines[n])
    builder.close()
    if not builder.articles and not builder.errors:
        builder.fail(len(lines), "no article 第X条 found")
    if builder.errors:
        raise Invalid(f"{filename}: {len(builder.errors)} unreadable line(s)", errors=builder.errors)
    return LawText(
        title=title,
        preamble=preamble,
        version_date=version_date(filename),
        level=classify(title),
        source_file=filename,
        digest=hashlib.sha256(text.encode()).hexdigest(),
        articles=tuple(builder.articles),
    )


def parse_file(path: Path) -> LawText:
    return parse_text(path.read_text(encoding="utf-8"), path.name)
