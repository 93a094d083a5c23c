"""Signed access tokens (JWT, HS256), opaque refresh tokens and API keys."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

import jwt

from chengguan.errors import Unauthorized

ALGORITHM = "HS256"
API_KEY_PREFIX = "cg"


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def issue_access_token(secret: str, user_id: int, minutes: int, now: dt.datetime) -> str:
    claims = {
        "sub": str(user_id),
        "typ": "access",
        "iat": int(now.timestamp()),
        "exp": int((now + dt.timedelta(minutes=minutes)).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_access_token(secret: str, token: str) -> int:
    """The user id in a valid, unexpired access token; 401 otherwise."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]})
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("access token expired", headers=_bearer("invalid_token")) from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized("invalid access token", headers=_bearer("invalid_token")) from exc
    if claims.get("typ") != "access":
        raise Unauthorized("not an access token", headers=_bearer("invalid_token"))
    return int(claims["sub"])


def _bearer(error: str | None = None) -> dict[str, str]:
    return {"WWW-Authenticate": f'Bearer error="{error}"' if error else "Bearer"}


BEARER_CHALLENGE = _bearer()


def new_refresh_token() -> tuple[str, str]:
    """(token to hand out, digest to store)."""
    token = secrets.token_urlsafe(32)
    return token, digest(token)


def new_family() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class NewApiKey:
    key: str  # shown once
    prefix: str
    secret_hash: str


def new_api_key() -> NewApiKey:
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return NewApiKey(f"{API_KEY_PREFIX}_{prefix}_{secret}", prefix, digest(secret))


def split_api_key(key: str) -> tuple[str, str]:
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX or not parts[1] or not parts[2]:
        raise Unauthorized("malformed API key", field="X-API-Key")
    return parts[1], parts[2]


def api_secret_matches(secret: str, secret_hash: str) -> bool:
    return hmac.compare_digest(digest(secret), secret_hash)
