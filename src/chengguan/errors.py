"""One error family and its RFC 9457 ``application/problem+json`` rendering."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class ChengguanError(Exception):
    """A failure the caller can act on. ``field`` names the input at fault (dotted path)."""

    status: int = 400
    title: str = "Bad request"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        field: str | None = None,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.errors = list(errors or [])
        if field is not None:
            self.errors.insert(0, FieldError(field, message))
        self.headers = headers or {}
        self.extra = extra

    @property
    def field(self) -> str | None:
        return self.errors[0].field if self.errors else None


class NotFound(ChengguanError):
    status = 404
    title = "Not found"


class Conflict(ChengguanError):
    status = 409
    title = "Conflict"


class Invalid(ChengguanError):
    status = 422
    title = "Unprocessable content"


class Unauthorized(ChengguanError):
    status = 401
    title = "Unauthorized"


class Forbidden(ChengguanError):
    status = 403
    title = "Forbidden"


class ContentTooLarge(ChengguanError):
    status = 413
    title = "Content too large"


class UnsupportedMediaType(ChengguanError):
    status = 415
    title = "Unsupported media type"


class TooManyRequests(ChengguanError):
    status = 429
    title = "Too many requests"


def problem(
    status: int,
    title: str,
    detail: str,
    instance: str,
    errors: list[FieldError] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    if errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    body.update(extra)
    return body


def _response(body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=body["status"], media_type=PROBLEM_JSON, headers=headers)


def _loc_to_field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "form", "cookie"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ChengguanError)
    async def _domain(request: Request, exc: ChengguanError) -> JSONResponse:
        body = problem(exc.status, exc.title, exc.message, request.url.path, exc.errors, **exc.extra)
        return _response(body, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [FieldError(_loc_to_field(e["loc"]), e["msg"]) for e in exc.errors()]
        fields = ", ".join(sorted({e.field for e in errors}))
        body = problem(422, "Unprocessable content", f"invalid input: {fields}", request.url.path, errors)
        return _response(body)

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        # Services check what they can name; this is the net for races and references.
        body = problem(
            409, "Conflict", "the change conflicts with existing data (duplicate or still referenced)", request.url.path
        )
        return _response(body)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else "error"
        body = problem(exc.status_code, detail, detail, request.url.path)
        return _response(body, dict(exc.headers or {}))
