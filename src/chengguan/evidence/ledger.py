"""The append-only evidence log (执法证据上链存证): entries are RFC 8785 canonical JSON, each
leaf hashed per RFC 9162 §2.1.1, appended in the caller's transaction.

Other domains record the events that matter with one call::

    from chengguan.evidence import ledger
    ledger.append(session, "case.transition", {"case": "ZF-2026-0001", "from": "立案", "to": "调查"},
                  subject="case:ZF-2026-0001", org_id=case.org_id)

Nothing here updates or deletes: an entry, once appended, is only ever read.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import rfc8785
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from chengguan.db import utcnow
from chengguan.errors import Invalid, NotFound
from chengguan.evidence.models import LogBatch, LogRef
from chengguan.evidence.verify import HASH_SIZE, leaf_hash

MAX_BATCH = 1024  # entries per stored batch: bounds the bytes read to fetch one entry
KIND = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
SUBJECT = re.compile(r"^[a-z][a-z0-9_]*:[^\s]{1,90}$")
_LOCK_KEY = 0x6576_6964_656E_6365  # "evidence": serialises appenders and tree-head issuers on PostgreSQL


@dataclass(frozen=True)
class LogEntry:
    index: int
    entry: bytes  # the canonical JSON that was hashed
    leaf_hash: bytes

    @property
    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(self.entry)
        return doc

    @property
    def kind(self) -> str:
        return str(self.document["kind"])


def canonical(document: Any, field: str = "payload") -> bytes:
    """RFC 8785 bytes of a JSON document; 422 naming ``field`` for what JSON cannot say exactly."""
    try:
        return rfc8785.dumps(document)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise Invalid(f"not canonicalisable JSON: {exc}", field=field) from None


def envelope(kind: str, payload: dict[str, Any], at: dt.datetime) -> dict[str, Any]:
    return {"kind": kind, "at": at.astimezone(dt.UTC).isoformat(timespec="milliseconds"), "data": payload}


def lock(session: Session) -> None:
    """Queue appenders (and tree-head issuers) so two transactions never claim the same index.
    SQLite needs nothing: it has one writer at a time."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})


def size(session: Session) -> int:
    last = session.execute(select(LogBatch.first, LogBatch.count).order_by(LogBatch.first.desc()).limit(1)).first()
    return 0 if last is None else int(last.first + last.count)


def append(
    session: Session, kind: str, payload: dict[str, Any], *, subject: str | None = None, org_id: int | None = None
) -> LogEntry:
    """Append one event to the log in the caller's transaction and return it with its index.
    ``subject`` (``case:<number>``) lists the entry in that subject's bundle for ``org_id``."""
    if not KIND.match(kind):
        raise Invalid(f"kind {kind!r} is not dotted lower-case words such as 'case.transition'", field="kind")
    if subject is not None and not SUBJECT.match(subject):
        raise Invalid(f"subject {subject!r} is not '<type>:<id>', e.g. 'case:ZF-2026-0001'", field="subject")
    entry = canonical(envelope(kind, payload, utcnow()))
    index = append_entries(session, [entry])
    if subject is not None:
        session.execute(insert(LogRef), [{"subject": subject, "log_index": index, "org_id": org_id}])
    return LogEntry(index, entry, leaf_hash(entry))


def append_entries(session: Session, entries: Sequence[bytes]) -> int:
    """Append already canonical entries in order (bulk imports, benchmarks); the first index."""
    lock(session)
    first = size(session)
    rows = []
    for start in range(0, len(entries), MAX_BATCH):
        chunk = entries[start : start + MAX_BATCH]
        joined = b"\n".join(chunk)
        if joined.count(b"\n") != len(chunk) - 1:
            raise Invalid("an entry holds a raw newline, so it is not canonical JSON", field="entries")
        hashes = b"".join([leaf_hash(e) for e in chunk])
        rows.append({"first": first + start, "count": len(chunk), "entries": joined, "leaf_hashes": hashes})
    if rows:
        session.execute(insert(LogBatch), rows)
    return first


def _batches(session: Session, start: int, stop: int, *columns: Any) -> Iterator[Any]:
    """Batches holding entries in [start, stop), in order (a batch starts at most MAX_BATCH - 1
    entries before the first entry it holds)."""
    return iter(
        session.execute(
            select(LogBatch.first, LogBatch.count, LogBatch.leaf_hashes, *columns)
            .where(LogBatch.first > start - MAX_BATCH, LogBatch.first < stop)
            .order_by(LogBatch.first)
            .execution_options(yield_per=256)
        )
    )


def leaf_hashes(session: Session, start: int, stop: int) -> bytes:
    """Stored leaf hashes of entries [start, stop), concatenated."""
    parts = []
    for batch in _batches(session, start, stop):
        lo, hi = max(start, batch.first) - batch.first, min(stop, batch.first + batch.count) - batch.first
        if lo < hi:
            parts.append(batch.leaf_hashes[lo * HASH_SIZE : hi * HASH_SIZE])
    found = b"".join(parts)
    if len(found) != (stop - start) * HASH_SIZE:
        raise NotFound(f"log entries {start}…{stop - 1} are not all in the log", field="index")
    return found


def entries(session: Session, start: int, stop: int) -> Iterator[LogEntry]:
    for batch in _batches(session, start, stop, LogBatch.entries):
        for offset, entry in enumerate(batch.entries.split(b"\n")):
            index = batch.first + offset
            if start <= index < stop:
                yield LogEntry(index, entry, batch.leaf_hashes[offset * HASH_SIZE : (offset + 1) * HASH_SIZE])


def get(session: Session, index: int) -> LogEntry:
    for found in entries(session, index, index + 1):
        return found
    raise NotFound(f"log entry {index} not found / 日志条目不存在", field="index")


def subject_indices(session: Session, subject: str) -> list[int]:
    """Indices of the entries about ``subject`` that the session's organisation may see."""
    return list(session.scalars(select(LogRef.log_index).where(LogRef.subject == subject).order_by(LogRef.log_index)))
