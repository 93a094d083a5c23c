"""Tables of the evidence domain: evidence records, the append-only Merkle log (entries in
batches, interior nodes in tiles), signed tree heads and the signing keys' public halves.

Nothing here is ever updated or deleted by the application; on PostgreSQL and SQLite a trigger
refuses it as well, so a change can only come from someone who first drops the trigger — and
``chengguan evidence audit`` or any witness holding an older tree head then sees it.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from chengguan.db import Base, BigId, UTCDateTime, utcnow
from chengguan.orgs.models import OrgScoped

_PG_GUARD = (
    "CREATE OR REPLACE FUNCTION evidence_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'evidence table % is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation'; "
    "END $$"
)


def append_only(table: str) -> dict[str, Any]:
    """Table info whose DDL (written into the migration) refuses UPDATE, DELETE and TRUNCATE."""
    sqlite = [
        f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        for verb in ("UPDATE", "DELETE")
    ]
    postgresql = [
        _PG_GUARD,
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION evidence_append_only()",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION evidence_append_only()",
    ]
    return {"info": {"ddl": {"sqlite": sqlite, "postgresql": postgresql}}}


class EvidenceType(enum.StrEnum):
    """The kinds of evidence of 行政处罚法 第46条."""

    DOCUMENTARY = "documentary"  # 书证
    PHYSICAL = "physical"  # 物证
    AUDIOVISUAL = "audiovisual"  # 视听资料
    ELECTRONIC = "electronic"  # 电子数据
    TESTIMONY = "testimony"  # 证人证言
    STATEMENT = "statement"  # 当事人的陈述
    EXPERT_OPINION = "expert_opinion"  # 鉴定意见
    RECORD = "record"  # 勘验笔录、现场笔录


class EvidenceItem(OrgScoped, Base):
    """One evidence file and its metadata. ``org_id`` is the collecting unit. The same metadata
    is the log entry at ``log_index``; the audit compares the two."""

    __tablename__ = "evidence_items"
    __table_args__ = (
        Index("ix_evidence_items_subject", "subject_type", "subject_id"),
        append_only("evidence_items"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(64))
    evidence_type: Mapped[str] = mapped_column(String(24))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(255))
    collector_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    collector_name: Mapped[str] = mapped_column(String(120))
    collected_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    lon: Mapped[float | None]
    lat: Mapped[float | None]
    device: Mapped[str | None] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(Text)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class LogBatch(Base):
    """Consecutive log entries appended together: entries ``first`` … ``first + count - 1`` as
    newline-separated canonical JSON (RFC 8785 output never holds a raw newline) and their
    RFC 9162 leaf hashes, 32 bytes each. One row per batch keeps bulk appends fast."""

    __tablename__ = "evidence_log_batches"
    __audit__ = False  # the log is its own audit trail
    __table_args__ = (append_only("evidence_log_batches"),)

    first: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    count: Mapped[int]
    entries: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hashes: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class LogRef(OrgScoped, Base):
    """Which entries concern a subject (``case:ZF-2026-0001``), for the subject's bundle; scoped
    to the organisation that wrote the entry, so a bundle shows another unit nothing."""

    __tablename__ = "evidence_log_refs"
    __audit__ = False
    __table_args__ = (append_only("evidence_log_refs"),)

    subject: Mapped[str] = mapped_column(String(100), primary_key=True)
    log_index: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)


class LogTile(Base):
    """Interior nodes of one aligned block of the tree: tile (level t, idx k) holds the nodes at
    tree levels 8t+1 … 8t+8 above the level-8t nodes 256k … 256k+width-1, bottom level first.
    A block still filling is stored again, wider, at each tree head; the widest row wins."""

    __tablename__ = "evidence_log_tiles"
    __audit__ = False
    __table_args__ = (append_only("evidence_log_tiles"),)

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    width: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    nodes: Mapped[bytes] = mapped_column(LargeBinary)


class SigningKey(Base):
    """The public half of a tree-head signing key; the private half lives in the data directory.
    The newest key signs; older ones stay published so old tree heads remain checkable."""

    __tablename__ = "evidence_signing_keys"
    __table_args__ = (append_only("evidence_signing_keys"),)

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class SignedTreeHead(Base):
    """One signed tree head (STH): the append-only history outside witnesses mirror."""

    __tablename__ = "evidence_tree_heads"
    __table_args__ = (append_only("evidence_tree_heads"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tree_size: Mapped[int] = mapped_column(BigInteger, index=True)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary)
    timestamp_ms: Mapped[int] = mapped_column(BigInteger)
    key_id: Mapped[str] = mapped_column(ForeignKey("evidence_signing_keys.key_id", ondelete="RESTRICT"))
    signature: Mapped[bytes] = mapped_column(LargeBinary)
