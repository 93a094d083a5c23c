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
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Any

import rfc8785
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from chengguan.db import utcnow
from chengguan.errors import Invalid, NotFound
from chengguan.evidence.models import LogBatch, LogRef
from chengguan.evidence.verify import HASH_SIZE, leaf_hash
from chengguan.evidence.verify import leaf_hashes as leaf_hashes_of

MAX_BATCH = 1024  # entries per stored batch: bounds the bytes read to fetch one entry
INSERT_ROWS = 128  # batches per INSERT statement: 640 parameters, far below SQLite's 32,766
KIND = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
SUBJECT = re.compile(r"^[a-z][a-z0-9_]*:[^\s]{1,90}$")
_LOCK_KEY = 0x6576_6964_656E_6365  # "evidence": serialises appenders and tree-head issuers on PostgreSQL
# SQLite has one writer at a time, but a transaction that has only read holds no lock and may act on
# what another writer is about to change; a write that changes nothing takes the write lock (through
# kit.sqlitelock's queue, then SQLite's own) before the reads that the writes depend on.
_SQLITE_WRITE_LOCK = text("INSERT INTO evidence_log_refs SELECT * FROM evidence_log_refs WHERE 0")


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
    plain = plain_canonical(document)
    if plain is not None:
        return plain
    try:
        return rfc8785.dumps(document)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise Invalid(f"not canonicalisable JSON: {exc}", field=field) from None


MAX_INTEGER = 2**53 - 1  # RFC 8785 numbers are IEEE doubles: integers beyond are refused (by rfc8785)
_PLAIN_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def plain_canonical(document: Any) -> bytes | None:
    """RFC 8785 bytes of a document of the common shape, by the json module's C encoder (several
    times faster than the general encoder), or None for anything else. The common shape is where
    the two encodings provably agree: dicts with string keys inside the BMP (sort_keys orders by
    code point, RFC 8785 by UTF-16 unit; the two orders differ only above U+FFFF), lists, strings
    (both escape exactly ``"``, ``\\`` and U+0000…U+001F, the same way), integers within ±(2^53 - 1),
    booleans, null, and floats that are not integral with 1e-4 ≤ |x| < 1e16 (where Python's repr
    and ECMAScript's Number::toString both write the shortest round-tripping digits in plain
    decimal notation)."""
    if not _plain(document):
        return None
    try:
        return _PLAIN_ENCODER.encode(document).encode()
    except UnicodeEncodeError:  # a lone surrogate: the general encoder says what is wrong
        return None


def _plain(value: Any) -> bool:
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return -MAX_INTEGER <= value <= MAX_INTEGER
    if kind is float:
        return 1e-4 <= abs(value) < 1e16 and not value.is_integer()
    if kind is dict:
        return all(type(k) is str and (k.isascii() or max(k) <= "\uffff") and _plain(v) for k, v in value.items())
    if kind is list:
        return all(_plain(v) for v in value)
    return False


def envelope(kind: str, payload: dict[str, Any], at: dt.datetime) -> dict[str, Any]:
    return {"kind": kind, "at": at.astimezone(dt.UTC).isoformat(timespec="milliseconds"), "data": payload}


def lock(session: Session) -> None:
    """Queue appenders and tree-head issuers until the end of the transaction, so two never claim
    the same index or decide on the same stale tree head."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    else:
        session.execute(_SQLITE_WRITE_LOCK)


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
    return append_prepared(session, prepare(entries))


@dataclass(frozen=True)
class Prepared:
    """Entries checked and hashed, ready to append: ``batches`` of (count, newline-joined
    entries, concatenated leaf hashes), MAX_BATCH entries each."""

    batches: list[tuple[int, bytes, bytes]]


def prepare(entries: Sequence[bytes]) -> Prepared:
    """Check and hash entries without the database: all or nothing, every entry is checked
    before any is appended. The CPU-bound half of an append, which :func:`prepared_ahead` runs
    while the previous lot is being written and committed."""
    batches = []
    for start in range(0, len(entries), MAX_BATCH):
        chunk = entries[start : start + MAX_BATCH]
        joined = b"\n".join(chunk)
        if joined.count(b"\n") != len(chunk) - 1:
            raise Invalid("an entry holds a raw newline, so it is not canonical JSON", field="entries")
        batches.append((len(chunk), joined, leaf_hashes_of(chunk)))
        # Hand the GIL to a thread back from the database (see prepared_ahead) now, rather than
        # make it wait out the 5 ms switch interval, several times per committed lot.
        time.sleep(0)
    return Prepared(batches)


def append_prepared(session: Session, prepared: Prepared) -> int:
    """Append prepared entries in the caller's transaction; the first index."""
    lock(session)
    first = size(session)
    created = _created_at(session)
    rows, index = [], first
    for count, joined, hashes in prepared.batches:
        rows.append((index, count, joined, hashes, created))
        index += count
    # Straight to the driver, one multi-row statement per INSERT_ROWS batches: it then lets go of
    # the GIL once for the whole write, instead of once per row and between SQLAlchemy's steps,
    # each of which waits out a GIL switch interval while a thread hashes the next lot.
    for start in range(0, len(rows), INSERT_ROWS):
        part = rows[start : start + INSERT_ROWS]
        driver_execute(session, _insert_sql(len(part)), [value for row in part for value in row])
    return first


def _created_at(session: Session) -> Any:
    """Now, as the driver takes it for ``created_at`` (the column type's own conversion)."""
    convert = LogBatch.__table__.c.created_at.type.bind_processor(session.get_bind().dialect)
    now = utcnow()
    return convert(now) if convert is not None else now


@cache
def _insert_sql(rows: int) -> str:
    values = ", ".join(["(?, ?, ?, ?, ?)"] * rows)
    return f"INSERT INTO evidence_log_batches (first, count, entries, leaf_hashes, created_at) VALUES {values}"


def prepared_ahead(lots: Iterable[Sequence[bytes]]) -> Iterator[Prepared]:
    """``lots`` prepared one ahead on a helper thread, for a bulk appender that commits each lot
    (``for p in prepared_ahead(lots): append_prepared(session, p); commit``): hashing the next
    lot holds the GIL, but writing and committing the current one (WAL writes, checkpoint,
    fsync) mostly does not, so the two overlap."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="evidence-prepare") as hasher:
        pending: Future[Prepared] | None = None
        for lot in lots:
            ahead = hasher.submit(prepare, lot)
            if pending is not None:
                yield pending.result()
            pending = ahead
        if pending is not None:
            yield pending.result()


def driver_rows(session: Session, sql: str, params: Sequence[Any]) -> list[Any]:
    """Rows of ``sql`` (written with ``?`` placeholders) run on the DBAPI cursor of the session's
    connection: for the few tiny reads of a proof, where building and compiling SQLAlchemy
    statements costs several times what the database does. It sees what the session has flushed."""
    return _on_driver(session, sql, params, fetch=True)


def driver_execute(session: Session, sql: str, params: Sequence[Any]) -> None:
    """Run a write of ``?``-placeholder ``sql`` on the driver, in the session's transaction (whose
    write lock :func:`lock` has taken)."""
    _on_driver(session, sql, params, fetch=False)


def _on_driver(session: Session, sql: str, params: Sequence[Any], *, fetch: bool) -> list[Any]:
    connection = session.connection()
    if connection.dialect.paramstyle != "qmark":
        sql = sql.replace("?", "%s")
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql, params)
        return list(cursor.fetchall()) if fetch else []
    finally:
        cursor.close()


def leaf_hash_at(session: Session, index: int) -> bytes:
    """The stored leaf hash of entry ``index``: one primary-key read of its batch's hashes."""
    rows = driver_rows(session, _BATCH_AT, (index,))
    if not rows or not 0 <= index - rows[0][0] < rows[0][1]:
        raise NotFound(f"log entry {index} not found / 日志条目不存在", field="index")
    offset = (index - rows[0][0]) * HASH_SIZE
    return bytes(rows[0][2][offset : offset + HASH_SIZE])


_BATCH_AT = "SELECT first, count, leaf_hashes FROM evidence_log_batches WHERE first <= ? ORDER BY first DESC LIMIT 1"


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
