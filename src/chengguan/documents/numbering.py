"""文号: numbers per issuing agency, year and kind, with no gaps and no duplicates.

The counter row is taken by one upsert (``INSERT … ON CONFLICT DO UPDATE … RETURNING``) in the
caller's transaction. On PostgreSQL the upsert locks the row until that transaction ends, so a
second issuer of the same agency, year and kind waits and then counts on from the committed
value; a rollback returns the number. SQLite has one writer at a time. The unique constraint
on ``documents`` is the backstop.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from chengguan.documents.models import DocumentAgency, DocumentCounter
from chengguan.errors import Invalid

# 京城管东罚决字〔2026〕第00012号: agency abbreviation, kind word, year, sequence.
DEFAULT_FORMAT = "{abbr}{word}字〔{year}〕第{seq:05d}号"
FORMAT_NAMES = frozenset({"abbr", "word", "year", "seq"})
MAX_NUMBER_CHARS = 200  # documents.number

_UPSERTS: dict[str, Callable[[Table], Any]] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def next_seq(session: Session, org_id: int, year: int, kind: str) -> int:
    """The next number of ``kind`` for the agency in ``year``: 1, 2, 3 … in the caller's transaction."""
    table: Table = DocumentCounter.__table__  # type: ignore[assignment]
    stmt = (
        _UPSERTS[session.get_bind().dialect.name](table)
        .values(org_id=org_id, year=year, kind=kind, last=1)
        .on_conflict_do_update(index_elements=["org_id", "year", "kind"], set_={"last": table.c.last + 1})
        .returning(table.c.last)
    )
    return int(session.execute(stmt).scalar_one())


def format_number(number_format: str, abbr: str, word: str, year: int, seq: int) -> str:
    return number_format.format(abbr=abbr, word=word, year=year, seq=seq)


def sample_number(number_format: str, abbr: str) -> str:
    """What the format makes of 行政处罚决定书 no. 12 of 2026 (shown to whoever sets it)."""
    return format_number(number_format, abbr, "罚决", 2026, 12)


def check_format(number_format: str) -> str:
    """A format an administrator may set: only the four names (no attribute or index access, so
    it cannot reach into the objects it formats), ``{seq}`` present, and a sample that fits."""
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(number_format) if name is not None]
    except ValueError as exc:
        raise Invalid(f"not a number format: {exc} / 文号格式有误", field="number_format") from None
    unknown = sorted(set(names) - FORMAT_NAMES)
    if unknown:
        raise Invalid(
            f"unknown names {unknown}; use {{abbr}} {{word}} {{year}} {{seq}} "
            "/ 文号格式只能包含机关简称、文书字、年份、序号",
            field="number_format",
        )
    if "seq" not in names:
        raise Invalid("the format needs {seq} / 文号格式须包含序号", field="number_format")
    try:
        sample = sample_number(number_format, "京城管东")
    except (ValueError, TypeError) as exc:  # a format spec that does not fit the value, e.g. {abbr:05d}
        raise Invalid(f"not a number format: {exc} / 文号格式有误", field="number_format") from None
    if len(sample) > MAX_NUMBER_CHARS:
        raise Invalid(f"numbers would exceed {MAX_NUMBER_CHARS} characters / 文号过长", field="number_format")
    return number_format


def agency_number(agency: DocumentAgency | None, agency_name: str, word: str, year: int, seq: int) -> str:
    """The 文号 by the agency's settings; without settings, its name and the default format."""
    if agency is None:
        return format_number(DEFAULT_FORMAT, agency_name, word, year, seq)
    return format_number(agency.number_format or DEFAULT_FORMAT, agency.abbreviation, word, year, seq)


def pdf_filename(number: str) -> str:
    """A file name for the PDF; a format may contain a path separator, a file name may not."""
    return number.replace("/", "-").replace("\\", "-") + ".pdf"
