"""Open311 GeoReport v2 at /open311/v2/: discovery, services, service definitions, POST and GET
requests, tokens — each as .json and .xml. The GETs are public; a POST carries the ``api_key`` of
a system account that may submit reports. Every error under /open311/, whatever raised it (a
domain error, FastAPI's validation, an unknown path), is an Open311 error list in the format
the URL asks for, with 404, 403 or 400 as the spec says."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy.exc import IntegrityError
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Receive, Scope, Send

from chengguan.auth import scoping
from chengguan.auth.deps import DbSession, client_ip, get_settings
from chengguan.auth.principal import Principal
from chengguan.config import Settings
from chengguan.db import utcnow
from chengguan.errors import ChengguanError, NotFound
from chengguan.intake import pipeline
from chengguan.open311 import service, wire
from chengguan.open311.schemas import ErrorOut
from chengguan.open311.wire import Format
from chengguan.taxonomy.forms import Answers

_ATTRIBUTE = re.compile(r"attribute\[(?P<code>[^\[\]]+)\](\[\])?")
_ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
JURISDICTION_HELP = "the city's organisation code; may be left out (this server serves one city)"


class _FormatConvertor(Convertor[str]):
    """The ``.json`` / ``.xml`` suffix; any other suffix matches no route and so is a 404."""

    regex = "json|xml"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("georeport_format", _FormatConvertor())
FMT = "{fmt:georeport_format}"


# -- errors ---------------------------------------------------------------------------------------


def _status(status: int) -> int:
    """The spec's classes: 404 unknown resource, 403 bad or missing api_key, 400 anything else."""
    if status in (401, 403):
        return 403
    return status if status in (404, 405) or status >= 500 else 400


def _error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, ChengguanError):
        status = _status(exc.status)
        items = [f"{e.field}: {e.message}" for e in exc.errors] or [exc.message]
    elif isinstance(exc, RequestValidationError):
        status = 400
        items = [f"{'.'.join(str(p) for p in e['loc'][1:]) or 'request'}: {e['msg']}" for e in exc.errors()]
    elif isinstance(exc, StarletteHTTPException):
        status, items = _status(exc.status_code), [str(exc.detail)]
    else:  # IntegrityError: a race the checks could not see
        status, items = 400, ["the request conflicts with existing data; send it again / 数据冲突，请重试"]
    body = [ErrorOut(code=status, description=text) for text in items]
    response = wire.errors(Format.of_path(request.url.path), status, body)
    if isinstance(exc, ChengguanError | StarletteHTTPException):
        response.headers.update({k: v for k, v in (exc.headers or {}).items() if k.lower() == "allow"})
    return response


async def _open311_error(request: Request, exc: Exception) -> Response:
    return _error(request, exc)


_HANDLERS: dict[Any, Any] = dict.fromkeys(
    (ChengguanError, RequestValidationError, StarletteHTTPException, IntegrityError), _open311_error
)


class Open311Route(APIRoute):
    """A route whose errors are rendered by Open311's rules instead of the app's problem+json.

    The handlers are swapped in the request's scope, so they run where the app's would: after
    the unit of work has rolled back."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        handlers, _ = scope.get("starlette.exception_handlers", ({}, {}))
        scope["starlette.exception_handlers"] = ({**handlers, **_HANDLERS}, {})
        await super().handle(scope, receive, send)


router = APIRouter(prefix="/open311", tags=["open311"], route_class=Open311Route)


# -- dependencies ---------------------------------------------------------------------------------


def _jurisdiction(session: DbSession, jurisdiction_id: str | None = Query(None, description=JURISDICTION_HELP)) -> None:
    service.check_jurisdiction(session, jurisdiction_id)


JURISDICTION = [Depends(_jurisdiction)]


def _submitter(
    request: Request,
    session: DbSession,
    api_key: str | None = Form(None, description="the API key of a system account (also taken from the query)"),
) -> Principal:
    principal = service.authenticate(session, api_key or request.query_params.get("api_key"))
    scoping.bind(session, principal.actor(client_ip(request)), principal.scope)
    return principal


async def _answers(request: Request) -> Answers:
    """``attribute[code]=value`` and, for a multiple choice, ``attribute[code][]=value`` …"""
    answers: defaultdict[str, list[str]] = defaultdict(list)
    for key, value in (await request.form()).multi_items():
        if (match := _ATTRIBUTE.fullmatch(key)) and isinstance(value, str):
            answers[match["code"]].append(value)
    return answers


# -- routes ---------------------------------------------------------------------------------------


@router.get(f"/v2/discovery.{FMT}", summary="Service discovery")
def discovery(
    fmt: Format, request: Request, session: DbSession, settings: Settings = Depends(get_settings)
) -> Response:
    url = str(request.url_for("services", fmt=fmt.value)).rsplit("/", 1)[0]
    out = service.discovery(session, url, production=settings.env == "production")
    return wire.render(fmt, "discovery", out.model_dump())


@router.get(f"/v2/services.{FMT}", name="services", summary="Service list: the active 小类", dependencies=JURISDICTION)
def services(fmt: Format, session: DbSession) -> Response:
    return wire.render(fmt, "services", [s.model_dump() for s in service.services(session)])


@router.get(
    f"/v2/services/{{service_code}}.{FMT}",
    summary="Service definition: the 小类's report form",
    dependencies=JURISDICTION,
)
def service_definition(fmt: Format, service_code: str, session: DbSession) -> Response:
    return wire.render(fmt, "service_definition", service.definition(session, service_code).model_dump())


@router.post(f"/v2/requests.{FMT}", summary="Submit a service request (a report through the intake pipeline)")
def create_request(
    fmt: Format,
    request: Request,
    session: DbSession,
    principal: Principal = Depends(_submitter),
    answers: Answers = Depends(_answers),
    settings: Settings = Depends(get_settings),
    jurisdiction_id: str | None = Form(None, description=JURISDICTION_HELP),
    service_code: str | None = Form(None, description="a 小类 key from the service list, e.g. E0502"),
    lat: str | None = Form(None, description="WGS-84; give lat and long, or address_string, or address_id"),
    long: str | None = Form(None, description="WGS-84"),
    address_string: str | None = Form(None),
    address_id: str | None = Form(None, description="an entry id of the city's gazetteer"),
    description: str | None = Form(None, description="at most 4,000 characters"),
    media_url: str | None = Form(None),
    email: str | None = Form(None, description="personal: stored, never shown"),
    first_name: str | None = Form(None, description="personal: stored, never shown"),
    last_name: str | None = Form(None, description="personal: stored, never shown"),
    phone: str | None = Form(None, description="personal: stored, never shown"),
    device_id: str | None = Form(None, description="personal: stored, never shown"),
    account_id: str | None = Form(None, description="personal: stored, never shown"),
) -> Response:
    service.check_jurisdiction(session, jurisdiction_id or request.query_params.get("jurisdiction_id"))
    fields = {
        "service_code": service_code,
        "lat": lat,
        "long": long,
        "address_string": address_string,
        "address_id": address_id,
        "description": description,
        "media_url": media_url,
        "email": email,
        "first_name": first_name,
        "last_name": last_name,
        "phone": phone,
        "device_id": device_id,
        "account_id": account_id,
    }
    # The service code names the category: there is nothing to classify. Unplaced reports wait
    # at the city hotline's clerks, as for every system account.
    ctx = pipeline.context(session, classifier=None, auto_dispatch=settings.auto_dispatch)
    created = service.create_request(session, fields, answers, ctx, user_id=principal.user_id)
    return wire.render(fmt, "service_requests", [created.model_dump(exclude_none=True)])


@router.get(f"/v2/requests.{FMT}", summary="Service requests: the city's events", dependencies=JURISDICTION)
def list_requests(
    fmt: Format,
    session: DbSession,
    settings: Settings = Depends(get_settings),
    service_request_id: str | None = Query(None, description="comma-separated numbers; overrides everything else"),
    service_code: str | None = Query(None, description="comma-separated"),
    start_date: str | None = Query(None, description="W3C date and time; the window spans 90 days at most"),
    end_date: str | None = Query(None, description="default: now (or start_date + 90 days)"),
    status: str | None = Query(None, description="open, closed or both, comma-separated"),
) -> Response:
    query = service.request_query(
        service_request_id=service_request_id,
        service_code=service_code,
        start_date=start_date,
        end_date=end_date,
        status=status,
        zone=settings.tz,
        now=utcnow(),
    )
    found = service.find_requests(session, query, settings.tz)
    return wire.render(fmt, "service_requests", [r.model_dump() for r in found])


@router.get(f"/v2/requests/{{service_request_id}}.{FMT}", summary="One service request", dependencies=JURISDICTION)
def get_request(
    fmt: Format, service_request_id: str, session: DbSession, settings: Settings = Depends(get_settings)
) -> Response:
    found = service.get_request(session, service_request_id, settings.tz)
    return wire.render(fmt, "service_requests", [found.model_dump()])


@router.get(f"/v2/tokens/{{token}}.{FMT}", summary="The service_request_id of a token", dependencies=JURISDICTION)
def token(fmt: Format, token: str, session: DbSession) -> Response:
    return wire.render(fmt, "service_requests", [service.token_status(session, token).model_dump(exclude_none=True)])


@router.api_route("/{path:path}", methods=_ALL_METHODS, include_in_schema=False)
def unknown(path: str, request: Request) -> Response:
    """Anything else under /open311/: 405 for a known resource asked with another method, else 404."""
    allowed = sorted(
        {
            method
            for route in router.routes
            if isinstance(route, APIRoute)
            and route.endpoint is not unknown
            and route.path_regex.match(request.url.path)
            for method in route.methods or ()
        }
    )
    if allowed:
        raise StarletteHTTPException(
            405, f"{request.method} is not allowed here / 不支持此方法", {"Allow": ", ".join(allowed)}
        )
    raise NotFound(f"no Open311 resource at /open311/{path} / 无此资源")
