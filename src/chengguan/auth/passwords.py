"""Argon2id password hashes (RFC 9106 parameters as argon2-cffi ships them)."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from chengguan.errors import Invalid

_hasher = PasswordHasher()
# Verified against when the username is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("timing-equaliser-not-a-password")


def check_policy(password: str, field: str = "password") -> None:
    if len(password) < 8:
        raise Invalid("password must have at least 8 characters / 密码至少8位", field=field)
    if not (re.search(r"[A-Za-z]", password) and re.search(r"\d", password)):
        raise Invalid("password needs letters and digits / 密码须包含字母和数字", field=field)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
