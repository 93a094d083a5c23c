"""Signed tree heads (STH) and their Ed25519 keys.

The private key is a PKCS#8 file under ``<data_dir>/evidence/keys/`` (mode 0600), named by its
key id; its public half is published in ``evidence_signing_keys`` and at ``/api/evidence/keys``.
:func:`issue_if_due` is what the scheduled worker calls, :func:`issue_sth` what the API and CLI
call on demand; :func:`rotate_key` commits the change of key to the log itself, under a tree head
signed by the old key, so a witness pinned to the old key can follow the chain.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chengguan.config import Settings
from chengguan.db import utcnow
from chengguan.errors import ChengguanError, NotFound
from chengguan.evidence import ledger, tree
from chengguan.evidence.models import SignedTreeHead, SigningKey
from chengguan.evidence.verify import b64, key_id, sth_body

KEY_ROTATED = "log.key_rotated"


def keys_dir(settings: Settings) -> Path:
    return settings.data_dir / "evidence" / "keys"


def _raw_public(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _write_private(directory: Path, private: Ed25519PrivateKey) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    kid = key_id(_raw_public(private))
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(directory / f"{kid}.pem", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    return kid


def _new_key(session: Session, settings: Settings) -> SigningKey:
    private = Ed25519PrivateKey.generate()
    key = SigningKey(key_id=_write_private(keys_dir(settings), private), public_key=_raw_public(private))
    session.add(key)
    session.flush()
    return key


def current_key(session: Session) -> SigningKey | None:
    return session.scalar(select(SigningKey).order_by(SigningKey.created_at.desc(), SigningKey.key_id).limit(1))


def public_keys(session: Session) -> Sequence[SigningKey]:
    return session.scalars(select(SigningKey).order_by(SigningKey.created_at)).all()


def _private(settings: Settings, key: SigningKey) -> Ed25519PrivateKey:
    """The private key of ``key``; refused when the file is missing or is not that key (a
    swapped file must never sign in the log's name)."""
    path = keys_dir(settings) / f"{key.key_id}.pem"
    try:
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise ChengguanError(f"signing key {key.key_id} unreadable: {exc}", status=500) from None
    if not isinstance(private, Ed25519PrivateKey) or _raw_public(private) != key.public_key:
        raise ChengguanError(f"the key file of {key.key_id} is not that key: refusing to sign", status=500)
    return private


def issue_sth(session: Session, settings: Settings, now: dt.datetime | None = None) -> SignedTreeHead:
    """Build the tree up to the log's current size and sign its head, stamped ``now`` (default: the
    clock; never earlier than the previous head). The first call makes a key."""
    ledger.lock(session)
    key = current_key(session) or _new_key(session, settings)
    size, built = ledger.size(session), tree.built_size(session)
    tree.extend(session, built, size)
    root = tree.root(session, size)
    timestamp_ms = max(_ms(now or utcnow()), _latest_timestamp(session) + 1)
    signature = _private(settings, key).sign(sth_body(size, root, timestamp_ms))
    head = SignedTreeHead(
        tree_size=size, root_hash=root, timestamp_ms=timestamp_ms, key_id=key.key_id, signature=signature
    )
    session.add(head)
    session.flush()
    return head


def issue_if_due(
    session: Session, settings: Settings, now: dt.datetime, every: dt.timedelta | None = None
) -> SignedTreeHead | None:
    """The scheduled tree head: a new one when the newest is at least ``every`` old (default
    ``settings.sth_interval_s``) or there is none, whether or not the log has grown, so a
    witness always finds a head at most that old; otherwise None. Decided under the log's lock,
    so two workers calling at once issue one head."""
    interval = every if every is not None else dt.timedelta(seconds=settings.sth_interval_s)
    ledger.lock(session)
    last = newest(session)
    if last is not None and _ms(now) - last.timestamp_ms < interval // dt.timedelta(milliseconds=1):
        return None
    return issue_sth(session, settings, now)


def _ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def _latest_timestamp(session: Session) -> int:
    return int(session.scalar(select(func.max(SignedTreeHead.timestamp_ms))) or 0)


def rotate_key(session: Session, settings: Settings) -> SigningKey:
    """Make a new signing key. The log first records the new public key and the old key signs a
    tree head covering that record; from then on the new key signs."""
    old = current_key(session)
    private = Ed25519PrivateKey.generate()
    public = _raw_public(private)
    if old is not None:
        ledger.append(
            session, KEY_ROTATED, {"old_key_id": old.key_id, "new_key_id": key_id(public), "public_key": b64(public)}
        )
        issue_sth(session, settings)
    key = SigningKey(key_id=_write_private(keys_dir(settings), private), public_key=public, created_at=utcnow())
    session.add(key)
    session.flush()
    return key


def newest(session: Session) -> SignedTreeHead | None:
    return session.scalar(select(SignedTreeHead).order_by(SignedTreeHead.id.desc()).limit(1))


def latest_sth(session: Session) -> SignedTreeHead:
    head = newest(session)
    if head is None:
        raise NotFound("no signed tree head yet / 尚未签发树头", field="sth")
    return head


def list_sths(
    session: Session, *, since_size: int = 0, limit: int = 100, offset: int = 0
) -> tuple[Sequence[SignedTreeHead], int]:
    """The STH history in issue order, from tree size ``since_size`` on (what a witness fetches)."""
    stmt = select(SignedTreeHead).where(SignedTreeHead.tree_size >= since_size)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(SignedTreeHead.id).limit(limit).offset(offset)).all()
    return rows, total


def sth_json(head: SignedTreeHead) -> dict[str, object]:
    """The published form of a tree head, as :meth:`verify.TreeHead.from_json` reads it."""
    return {
        "tree_size": head.tree_size,
        "root_hash": b64(head.root_hash),
        "timestamp": head.timestamp_ms,
        "key_id": head.key_id,
        "signature": b64(head.signature),
    }
