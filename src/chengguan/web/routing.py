"""The route class of every web router: CSRF on unsafe requests, HTML errors, cookies, headers."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.responses import RedirectResponse, Response

from chengguan.auth.deps import REFUSED
from chengguan.config import Settings
from chengguan.errors import ChengguanError, Forbidden, Unauthorized
from chengguan.web import session as web_session
from chengguan.web.i18n import language_of, localise_error
from chengguan.web.pages import render

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Scripts only from this origin (no inline script, no eval: htmx runs with allowEval off);
# Leaflet positions its panes with inline styles, and photos preview as blob: URLs.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


@functools.cache
def _headers_with_tiles(tiles_url: str | None) -> dict[str, str]:
    """The command map's base tiles (a setting) load from the tile server; a host with Leaflet's
    ``{s}`` subdomain placeholder (天地图's t0–t7) is allowed as a wildcard."""
    if not tiles_url:
        return SECURITY_HEADERS
    parts = urlsplit(tiles_url)
    host = f"*.{parts.netloc.split('.', 1)[1]}" if "{s}" in parts.netloc else parts.netloc
    csp = SECURITY_HEADERS["Content-Security-Policy"].replace(
        "img-src 'self'", f"img-src 'self' {parts.scheme}://{host}"
    )
    return {**SECURITY_HEADERS, "Content-Security-Policy": csp}


def security_headers(settings: Settings) -> dict[str, str]:
    return _headers_with_tiles(settings.map_tiles_url)


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class Rendered(Exception):
    """Raised with a ready response (a form shown again with its errors) so that the request's
    unit of work rolls back on the way out, and the response is still what the user sees."""

    def __init__(self, response: Response) -> None:
        super().__init__("rendered")
        self.response = response


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def redirect(request: Request, url: str) -> Response:
    """After a POST: htmx follows ``HX-Redirect``; a plain form follows a 303."""
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


async def _check_csrf(request: Request, settings: Settings) -> None:
    sent = request.headers.get(web_session.CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(web_session.CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not web_session.csrf_matches(settings, request.cookies.get(web_session.CSRF_COOKIE), sent):
        raise Forbidden("the form has expired; reload the page / 页面已过期，请刷新后重试", field="csrf_token")


def _login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return redirect(request, f"/login?next={quote(target, safe='/')}")


def error_page(request: Request, exc: ChengguanError) -> Response:
    if isinstance(exc, Unauthorized):
        return _login_redirect(request)
    message = localise_error(exc.message, language_of(request))
    return render(request, "error.html", status=exc.status, code=exc.status, message=message)


def _refusal(request: Request, exc: Exception) -> Response:
    if isinstance(exc, Rendered):
        return exc.response
    if isinstance(exc, ChengguanError):
        return error_page(request, exc)
    return error_page(request, ChengguanError("invalid address / 网址有误", status=422))


class WebRoute(APIRoute):
    def get_route_handler(self) -> Handler:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            settings: Settings = request.app.state.settings
            try:
                if request.method not in SAFE_METHODS:
                    await _check_csrf(request, settings)
                response = await original(request)
            except (Rendered, ChengguanError, RequestValidationError) as exc:
                # caught inside the request's dependency stack: flag it, so that the unit of work
                # rolls back instead of committing on the way out (auth.deps.db_session)
                setattr(request.state, REFUSED, True)
                response = _refusal(request, exc)
            web_session.apply_cookies(request, response, settings)
            response.headers.update(security_headers(settings))
            return response

        return handler
