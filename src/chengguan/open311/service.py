"""Open311 GeoReport v2 over the platform: services are the active 小类, a POST is a report through
the intake pipeline, a service request is an event (案卷). Plain functions, session first; they
never commit.

What is public (every GET) is read from events and categories only: no reporter's name, phone,
email, account or device is ever selected for output.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from chengguan.auth import service as auth_service
from chengguan.auth.principal import Principal
from chengguan.auth.roles import Permission
from chengguan.cases.models import OPEN_STATUSES, Event, EventStatus
from chengguan.errors import ChengguanError, FieldError, Forbidden, Invalid, NotFound, Unauthorized
from chengguan.geo.models import AreaClass, GazetteerEntry
from chengguan.intake import pipeline
from chengguan.intake import service as intake_service
from chengguan.intake.models import Report, ReportStatus
from chengguan.intake.schemas import MAX_TEXT, ReportIn
from chengguan.kit.coords import CRS
from chengguan.kit.redact import scrub
from chengguan.kit.uploads import invalid, refuse, validation_errors
from chengguan.open311.models import Open311Request
from chengguan.open311.schemas import (
    AttributeOut,
    CreatedOut,
    DiscoveryOut,
    EndpointOut,
    RequestIn,
    RequestOut,
    ServiceDefinitionOut,
    ServiceOut,
    TokenOut,
    ValueOut,
)
from chengguan.orgs.models import Organisation
from chengguan.taxonomy.forms import Answers, check_answers
from chengguan.taxonomy.models import Category, CategoryLevel

CHANNEL = "open311"
MAX_REQUESTS = 1000  # per GET requests: "90 days or the first 1000 requests, whichever is smaller"
WINDOW = dt.timedelta(days=90)
CHANGESET = "2026-11-22T00:00:00+08:00"  # when this interface last changed
FORMATS = ["text/xml", "application/json"]
LOCATION = "lat, long, address_string, address_id"
CLOSED_STATUSES = frozenset({EventStatus.CLOSED, EventStatus.EVALUATED, EventStatus.VOID})
# The inverse of Event.number (SJ + the id in ten digits).
_NUMBER = re.compile(r"SJ([0-9]{1,18})", re.IGNORECASE)
_ID = re.compile(r"[0-9]{1,18}")  # fits a BIGINT

STATUS_NOTES = {
    EventStatus.ACCEPTED: "已受理，等待派遣 / accepted, waiting to be dispatched",
    EventStatus.CONSULTATION: "权属会商中 / ownership unclear: the command centre decides who acts",
    EventStatus.REGISTERED: "已立案，等待派遣 / filed, waiting to be dispatched",
    EventStatus.DISPATCHED: "已派遣处置 / dispatched to the unit responsible",
    EventStatus.VERIFYING: "已处置，核查中 / dealt with, being checked on site",
    EventStatus.VERIFIED: "核查通过，待结案 / checked, about to be closed",
    EventStatus.SUSPENDED: "挂账缓办 / on hold: it needs work that is planned (funds, season)",
    EventStatus.CLOSED: "已结案 / closed: dealt with",
    EventStatus.EVALUATED: "已结案 / closed: dealt with",
    EventStatus.VOID: "已作废 / voided: not a matter for the city, or reported by mistake",
}
MERGED_NOTICE = "已并入同一问题的案卷 / joined the open request about the same problem"
PENDING_NOTICE = (
    "待受理员核实后立案，请凭 token 查询案卷号 / a clerk checks it first: look up its number with the token"
)


# -- jurisdiction and callers ------------------------------------------------------------------------


def check_jurisdiction(session: Session, jurisdiction_id: str | None) -> None:
    """One city per server: an absent id is fine, a given one must be the city's code."""
    if not jurisdiction_id:
        return
    roots = session.scalars(select(Organisation.code).where(Organisation.parent_id.is_(None))).all()
    if jurisdiction_id not in roots:
        raise NotFound(
            f"jurisdiction_id {jurisdiction_id!r} not found; this server serves {', '.join(roots)} / 无此辖区",
            field="jurisdiction_id",
        )


def authenticate(session: Session, api_key: str | None) -> Principal:
    """The system account behind an Open311 ``api_key``; any failure is 403, as the spec says."""
    if not api_key:
        raise Forbidden("api_key is required / 缺少 api_key", field="api_key")
    try:
        principal = auth_service.authenticate_api_key(session, api_key)
    except Unauthorized as exc:
        raise Forbidden(f"{exc.message} / API 密钥无效", field="api_key") from exc
    if not principal.can(Permission.REPORT_CREATE):
        raise Forbidden("this key may not submit reports / 此密钥无上报权限", field="api_key")
    return principal


# -- services -------------------------------------------------------------------------------------


def _services() -> Select[Category]:
    """Active 小类 of active 大类."""
    major = select(Category.id).where(Category.level == CategoryLevel.MAJOR, Category.active.is_(True))
    return select(Category).where(
        Category.level == CategoryLevel.MINOR, Category.active.is_(True), Category.parent_id.in_(major)
    )


def services(session: Session) -> list[ServiceOut]:
    rows = session.scalars(_services().order_by(Category.kind, Category.sort_order, Category.code))
    return [
        ServiceOut(
            service_code=c.key,
            service_name=c.name,
            description=c.description or "；".join(f.text for f in c.filing_conditions) or None,
            metadata=bool(c.attributes),
            type="realtime",
            keywords=",".join(c.keyword_list) or None,
            group=c.parent.name if c.parent else None,
        )
        for c in rows
    ]


def get_service(session: Session, service_code: str) -> Category:
    category = session.scalar(_services().where(Category.key == service_code.upper()))
    if category is None:
        raise NotFound(f"service_code {service_code!r} not found / 无此服务", field="service_code")
    return category


def definition(session: Session, service_code: str) -> ServiceDefinitionOut:
    category = get_service(session, service_code)
    return ServiceDefinitionOut(
        service_code=category.key,
        attributes=[
            AttributeOut(
                variable=True,
                code=a.code,
                datatype=a.datatype,
                required=a.required,
                datatype_description=a.datatype_description,
                order=a.order,
                description=a.description,
                values=[ValueOut(**v) for v in a.values],
            )
            for a in category.attributes
        ],
    )


# -- POST requests ----------------------------------------------------------------------------------


def create_request(
    session: Session, fields: Mapping[str, str | None], answers: Answers, ctx: pipeline.Context, *, user_id: int
) -> CreatedOut:
    """A report through the intake pipeline: the event's number when it made or joined one, else
    a token to look the number up once a clerk has placed it. Nothing is written on any fault."""
    data = _request_in(fields)
    category = get_service(session, data.service_code)
    kept, errors = check_answers(category.attributes, answers, field="attribute")
    refuse(errors)
    lon, lat, address = data.long, data.lat, data.address_string
    if data.address_id:
        entry = _address(session, data.address_id)
        lon, lat, address = entry.lon, entry.lat, entry.name
    report = ReportIn(
        channel=CHANNEL,
        description=data.description or category.name,
        category_key=category.key,
        lon=lon,
        lat=lat,
        crs=CRS.WGS84 if lon is not None else None,
        address=address,
        reporter_name=data.reporter_name,
        reporter_phone=data.phone,
        attributes=kept or None,
    )
    outcomes, refused = intake_service.submit(session, [report], ctx, reporter_user_id=user_id)
    if refused:
        raise ChengguanError(refused[0].error.message, status=refused[0].status, field=refused[0].error.field)
    outcome = outcomes[0]
    assert outcome is not None
    row = Open311Request(
        report_id=outcome.report_id,
        token=uuid.uuid4().hex,
        address_id=data.address_id,
        media_url=data.media_url,
        email=data.email,
        device_id=data.device_id,
        account_id=data.account_id,
    )
    session.add(row)
    session.flush()
    if outcome.event_id is None:
        return CreatedOut(token=row.token, service_notice=PENDING_NOTICE)
    event = session.get(Event, outcome.event_id, execution_options={"skip_scope": True})
    assert event is not None
    notice = _notice(category, event)
    if outcome.merged:
        notice = "；".join(filter(None, [MERGED_NOTICE, notice]))
    return CreatedOut(service_request_id=event.number, service_notice=notice)


def _request_in(fields: Mapping[str, str | None]) -> RequestIn:
    """The form checked whole: every fault at once, the location rule included."""
    errors = _location_errors(fields)
    try:
        data = RequestIn.model_validate(dict(fields))
    except ValidationError as exc:
        raise invalid([*validation_errors(exc), *errors]) from exc
    refuse(errors)
    return data


def _location_errors(fields: Mapping[str, str | None]) -> list[FieldError]:
    given = {name for name in ("lat", "long", "address_string", "address_id") if (fields.get(name) or "").strip()}
    if given & {"lat", "long"} and not {"lat", "long"} <= given:
        missing = ({"lat", "long"} - given).pop()
        return [FieldError(missing, "lat and long come together / 经纬度须成对提供")]
    forms = len(given - {"long"})
    if forms == 0:
        return [FieldError(LOCATION, "give a location: lat and long, address_string or address_id / 缺少位置")]
    if forms > 1:
        return [
            FieldError(
                LOCATION, "give one location only: lat and long, address_string or address_id / 只能提供一种位置"
            )
        ]
    return []


def _address(session: Session, address_id: str) -> GazetteerEntry:
    entry = session.get(GazetteerEntry, int(address_id)) if _ID.fullmatch(address_id) else None
    if entry is None or not entry.active:
        raise Invalid(f"address_id {address_id!r} is not in the city's gazetteer / 地址编码不存在", field="address_id")
    return entry


def _notice(category: Category, event: Event) -> str | None:
    """What will be done and by when: the 处置时限 where the event lies and the 结案条件."""
    limit = category.limit_for(AreaClass(event.area_class)) if event.area_class else None
    parts = [
        f"处置时限{limit.label}" if limit else "",
        f"结案标准：{category.closing_condition}" if category.closing_condition else "",
    ]
    return "；".join(p for p in parts if p) or None


# -- tokens ---------------------------------------------------------------------------------------


def token_status(session: Session, token: str) -> TokenOut:
    row = session.scalar(select(Open311Request).where(Open311Request.token == token))
    report = session.get(Report, row.report_id) if row else None
    if row is None or report is None:
        raise NotFound(f"token {token!r} not found / 无此 token", field="token")
    if report.status == ReportStatus.REJECTED:
        raise NotFound(f"the request of token {token!r} was not taken up / 该诉求未予受理", field="token")
    event = session.get(Event, report.event_id) if report.event_id else None
    return TokenOut(service_request_id=event.number if event else None, token=token)


# -- GET requests ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestQuery:
    event_ids: list[int] | None  # service_request_id given: overrides everything else
    service_codes: list[str]
    start: dt.datetime
    end: dt.datetime
    statuses: frozenset[str]


def request_query(
    *,
    service_request_id: str | None,
    service_code: str | None,
    start_date: str | None,
    end_date: str | None,
    status: str | None,
    zone: ZoneInfo,
    now: dt.datetime,
) -> RequestQuery:
    """The arguments of GET requests, checked: the window defaults to the 90 days before now
    (or after start_date, or before end_date) and may span no more than 90 days."""
    errors: list[FieldError] = []
    start = _instant(start_date, "start_date", zone, errors)
    end = _instant(end_date, "end_date", zone, errors)
    statuses = frozenset(_items(status))
    if unknown := sorted(statuses - {"open", "closed"}):
        errors.append(
            FieldError("status", f"unknown status {', '.join(unknown)}; open or closed / 状态应为 open 或 closed")
        )
    refuse(errors)
    if start is None:
        end = end or now
        start = end - WINDOW
    elif end is None:
        end = start + WINDOW
    if end < start:
        raise Invalid("end_date is before start_date / 结束时间早于开始时间", field="end_date")
    if end - start > WINDOW:
        raise Invalid("start_date and end_date may span 90 days at most / 查询跨度不得超过 90 天", field="end_date")
    ids = None
    if service_request_id:
        ids = [int(m[1]) for value in _items(service_request_id) if (m := _NUMBER.fullmatch(value))]
    return RequestQuery(ids, [c.upper() for c in _items(service_code)], start, end, statuses)


def _items(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _instant(value: str | None, field: str, zone: ZoneInfo, errors: list[FieldError]) -> dt.datetime | None:
    """A W3C date and time; one without an offset is read in the city's time zone."""
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        errors.append(FieldError(field, f"{value!r} is not a W3C date and time, e.g. 2026-11-01T00:00:00+08:00"))
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


def find_requests(session: Session, query: RequestQuery, zone: ZoneInfo) -> list[RequestOut]:
    """Newest first, at most MAX_REQUESTS."""
    stmt = select(Event)
    if query.event_ids is not None:
        stmt = stmt.where(Event.id.in_(query.event_ids))
    else:
        stmt = stmt.where(Event.first_reported_at >= query.start, Event.first_reported_at <= query.end)
        if query.service_codes:
            stmt = stmt.where(Event.category_key.in_(query.service_codes))
        if query.statuses == {"open"}:
            stmt = stmt.where(Event.status.in_(OPEN_STATUSES))
        elif query.statuses == {"closed"}:
            stmt = stmt.where(Event.status.in_(CLOSED_STATUSES))
    stmt = stmt.order_by(Event.first_reported_at.desc(), Event.id.desc()).limit(MAX_REQUESTS)
    return _outputs(session, session.scalars(stmt).all(), zone)


def get_request(session: Session, service_request_id: str, zone: ZoneInfo) -> RequestOut:
    match = _NUMBER.fullmatch(service_request_id)
    event = session.get(Event, int(match[1])) if match else None
    if event is None:
        raise NotFound(f"service request {service_request_id!r} not found / 无此案卷", field="service_request_id")
    return _outputs(session, [event], zone)[0]


def _outputs(session: Session, events: Sequence[Event], zone: ZoneInfo) -> list[RequestOut]:
    """Events as service requests, with what they need read in three queries for the lot."""
    if not events:
        return []
    categories = {
        c.id: c for c in session.scalars(select(Category).where(Category.id.in_({e.category_id for e in events})))
    }
    unit_ids = {e.unit_id for e in events if e.unit_id}
    units = {
        o.id: o.name
        for o in session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(unit_ids)))
    }
    extras: dict[int | None, tuple[str | None, str | None]] = {}
    for event_id, address_id, media_url in session.execute(
        select(Report.event_id, Open311Request.address_id, Open311Request.media_url)
        .join(Open311Request, Open311Request.report_id == Report.id)
        .where(Report.event_id.in_([e.id for e in events]))
        .order_by(Open311Request.id)
    ):
        extras.setdefault(event_id, (address_id, media_url))  # the first Open311 report's
    return [
        _output(e, categories.get(e.category_id or 0), units.get(e.unit_id or 0), extras.get(e.id), zone)
        for e in events
    ]


def _output(
    event: Event,
    category: Category | None,
    unit: str | None,
    extra: tuple[str | None, str | None] | None,
    zone: ZoneInfo,
) -> RequestOut:
    closed = event.status in CLOSED_STATUSES
    address_id, media_url = extra or (None, None)
    return RequestOut(
        service_request_id=event.number,
        status="closed" if closed else "open",
        status_notes=STATUS_NOTES.get(EventStatus(event.status)),
        service_name=category.name if category else None,
        service_code=event.category_key or "",
        description=scrub(event.description)[:MAX_TEXT] or None,  # public: no phone or ID numbers
        agency_responsible=unit,
        service_notice=_notice(category, event) if category else None,
        requested_datetime=w3c(event.first_reported_at, zone),
        updated_datetime=w3c((event.closed_at if closed else None) or event.updated_at, zone),
        expected_datetime=w3c(event.deadline_at, zone) if event.deadline_at else None,
        address=event.address,
        address_id=address_id,
        zipcode=None,
        lat=event.lat,
        long=event.lon,
        media_url=media_url,
    )


def w3c(value: dt.datetime, zone: ZoneInfo) -> str:
    """ISO 8601 with the city's offset, to the second (2026-11-22T09:30:00+08:00)."""
    return value.astimezone(zone).isoformat(timespec="seconds")


# -- discovery ------------------------------------------------------------------------------------


def discovery(session: Session, url: str, *, production: bool) -> DiscoveryOut:
    city = session.scalar(select(Organisation).where(Organisation.parent_id.is_(None)).order_by(Organisation.id))
    name = city.name if city else "chengguan"
    phone = f"，电话 {city.phone}" if city and city.phone else ""
    return DiscoveryOut(
        changeset=CHANGESET,
        contact=f"{name} 城市管理综合执法平台{phone} / {name} city management platform",
        key_service="API keys are issued to system accounts by the city's administrators "
        "(POST /api/users/{user_id}/api-keys) / 由管理员为系统账户签发 API 密钥",
        endpoints=[
            EndpointOut(url=url, changeset=CHANGESET, type="production" if production else "test", formats=FORMATS)
        ],
    )
