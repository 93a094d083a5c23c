"""The browser's login session and its CSRF token.

Why the cookies carry the platform's own tokens rather than a server-side session: the API
already has short-lived signed access tokens, refresh tokens rotated on every use with reuse
detection, revocation on logout and throttled password checks (``auth.service``). Putting the
access token and the refresh token into two HttpOnly, SameSite=Lax cookies reuses all of it: no
second session store, no new table, and a request with a valid access token costs no lookup
beyond the user row the API reads too. What it costs: a logged-out access token stays valid
until it expires (``access_token_minutes``, as for the API), and two requests that both find the
access token expired race for the same refresh token; the loser is taken for a thief, the family
is revoked and the user logs in again. Pages therefore refresh on the request that finds the
token expired, and the officer's offline queue sends its uploads one at a time.

CSRF: SameSite=Lax already keeps the cookies off cross-site POSTs; on top of it every unsafe
request must echo a token (form field ``csrf_token`` or header ``X-CSRF-Token``) equal to the
``cg_csrf`` cookie and signed with the server's key (a signed double-submit token), so a cookie
planted by a sibling subdomain is not enough either. The token is renewed at login and logout.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request, Response

from chengguan.auth.service import TokenPair
from chengguan.config import Settings

ACCESS_COOKIE = "cg_access"
REFRESH_COOKIE = "cg_refresh"
CSRF_COOKIE = "cg_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
PENDING = "web_cookies"  # request.state attribute: cookies to set on the response


def _signature(settings: Settings, nonce: str) -> str:
    return hmac.new(settings.signing_key.encode(), f"csrf:{nonce}".encode(), hashlib.sha256).hexdigest()[:32]


def new_csrf_token(settings: Settings) -> str:
    nonce = secrets.token_urlsafe(18)
    return f"{nonce}.{_signature(settings, nonce)}"


def csrf_token_valid(settings: Settings, token: str | None) -> bool:
    nonce, _, signature = (token or "").partition(".")
    return bool(nonce) and hmac.compare_digest(signature, _signature(settings, nonce))


def csrf_matches(settings: Settings, cookie: str | None, sent: str | None) -> bool:
    return csrf_token_valid(settings, cookie) and hmac.compare_digest(cookie or "", sent or "")


def queue_cookie(request: Request, name: str, value: str | None) -> None:
    """Set (or with None, delete) a cookie on whatever response this request ends with."""
    pending: dict[str, str | None] = getattr(request.state, PENDING, {})
    pending[name] = value
    setattr(request.state, PENDING, pending)


def queued(request: Request, name: str) -> str | None:
    """The value a cookie will have after this request (queued, else as sent)."""
    pending: dict[str, str | None] = getattr(request.state, PENDING, {})
    return pending[name] if name in pending else request.cookies.get(name)


def start(request: Request, pair: TokenPair) -> None:
    queue_cookie(request, ACCESS_COOKIE, pair.access_token)
    queue_cookie(request, REFRESH_COOKIE, pair.refresh_token)


def end(request: Request) -> None:
    queue_cookie(request, ACCESS_COOKIE, None)
    queue_cookie(request, REFRESH_COOKIE, None)


def apply_cookies(request: Request, response: Response, settings: Settings) -> None:
    """Write the queued cookies: HttpOnly, SameSite=Lax, Secure over HTTPS, as long-lived as a
    refresh token (an expired access token inside is harmless; the refresh token renews it)."""
    pending: dict[str, str | None] = getattr(request.state, PENDING, {})
    secure = request.url.scheme == "https"
    for name, value in pending.items():
        if value is None:
            response.delete_cookie(name, path="/", secure=secure, httponly=True, samesite="lax")
        else:
            response.set_cookie(
                name,
                value,
                max_age=settings.refresh_token_days * 86400,
                path="/",
                secure=secure,
                httponly=True,
                samesite="lax",
            )
