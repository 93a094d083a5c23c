"""The citizen portal: a report from a person with no account (through the intake pipeline, as the
``citizen`` channel), its phone verified by an SMS code, its progress read back by its tracking
number, the reporter's satisfaction rating, and the public map of recent problems. Plain
functions, session first; they never commit.

Public outputs (the progress page, the map) are built from named columns only: the reporter's
phone, other reporters' descriptions, officers' names and exact coordinates never leave here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import re
import secrets
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chengguan import outbox
from chengguan.cases import service as cases_service
from chengguan.cases import workflow
from chengguan.cases.models import CaseStep, Event, EventStatus
from chengguan.config import Settings
from chengguan.db import utcnow
from chengguan.dispatch.flow import EVENT_FLOW
from chengguan.errors import ChengguanError, Conflict, FieldError, Invalid, NotFound, TooManyRequests
from chengguan.evidence.storage import HEAD, sniff
from chengguan.intake import notify, pipeline
from chengguan.intake import service as intake_service
from chengguan.intake.models import Attachment, Report
from chengguan.intake.schemas import ReportIn
from chengguan.kit.coords import CRS
from chengguan.kit.geojson import to_geojson
from chengguan.kit.uploads import refuse
from chengguan.open311 import service as open311_service
from chengguan.orgs.models import Organisation, OrgKind
from chengguan.portal.models import CitizenReport, PhoneCode

CHANNEL = "citizen"
RATE_ACTION = "rate"  # the event flow's 市民评价: the platform records it for the reporter
# Crockford's base32 (no I, L, O, U: nothing to misread); 12 characters are 60 random bits.
TRACKING_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TRACKING_LENGTH = 12
_MISREAD = str.maketrans({"O": "0", "I": "1", "L": "1"})
MOBILE = re.compile(r"1[3-9][0-9]{9}")  # a mainland mobile number: SMS goes only there
SUBMISSION = re.compile(r"[A-Za-z0-9_-]{16,64}")

MAX_DESCRIPTION = 1000
MAX_ADDRESS = 200
MAX_COMMENT = 500
MAX_PHOTOS = 3
PHOTO_MAX_MB = 10
PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/heic", "image/heif"})
# The largest request the report form may send: its photos and some room for the text fields.
MAX_REQUEST_BYTES = (MAX_PHOTOS * PHOTO_MAX_MB + 1) * 2**20

# Abuse control, per client address (behind a proxy, the proxy must pass the caller's address on).
REPORT_WINDOW = dt.timedelta(hours=1)
REPORTS_PER_WINDOW = 5
CODE_WINDOW = dt.timedelta(hours=1)
CODES_PER_CLIENT = 5
CODES_PER_PHONE_DAY = 5
CODE_INTERVAL = dt.timedelta(seconds=60)
CODE_TTL = dt.timedelta(minutes=10)
CODE_ATTEMPTS = 5

MAP_DAYS = 30
GRID_M = 200.0  # public points are snapped to the centre of a square this wide
METRES_PER_DEGREE = 111_320.0
MAP_TTL_S = 300.0
AREAS_TTL_S = 3600.0
AREA_TOLERANCE = 0.0005  # degrees (~50 m): outlines simplified for the public map
BASE_KINDS = (OrgKind.DISTRICT, OrgKind.STREET, OrgKind.TOWN)

RECEIVED = "received"
HANDLING = "handling"
CLOSED = "closed"
STAGES = {
    EventStatus.ACCEPTED: RECEIVED,
    EventStatus.CONSULTATION: RECEIVED,
    EventStatus.REGISTERED: RECEIVED,
    EventStatus.DISPATCHED: HANDLING,
    EventStatus.VERIFYING: HANDLING,
    EventStatus.VERIFIED: HANDLING,
    EventStatus.SUSPENDED: HANDLING,
    EventStatus.CLOSED: CLOSED,
    EventStatus.EVALUATED: CLOSED,
    EventStatus.VOID: "void",
}
# the timeline entries that carry what was done about the problem (the reply a reporter reads)
RESULT_ACTIONS = ("feedback", "settle", "self_handle")
DISPATCH_ACTIONS = ("dispatch", "assign")


# -- keys and numbers ----------------------------------------------------------------------------


def _keyed(settings: Settings, purpose: str, value: str) -> str:
    return hmac.new(settings.signing_key.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()[:32]


def client_key(settings: Settings, address: str) -> str:
    """The client address as the rate limit keeps it: a keyed hash, not the address."""
    return _keyed(settings, "client", address)


def new_tracking() -> str:
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_LENGTH))


def normalise_tracking(text: str) -> str | None:
    """A tracking number as typed (any case, with spaces or dashes, O for 0 …), or None."""
    value = re.sub(r"[\s-]", "", text).upper().translate(_MISREAD)
    if len(value) != TRACKING_LENGTH or any(c not in TRACKING_ALPHABET for c in value):
        return None
    return value


def show_tracking(tracking: str) -> str:
    """In groups of four, as people read numbers out: K7QM-3XD9-WT2P."""
    return "-".join(tracking[i : i + 4] for i in range(0, len(tracking), 4))


# -- rate limits ---------------------------------------------------------------------------------


def _too_many(what: str, window: dt.timedelta) -> TooManyRequests:
    minutes = int(window.total_seconds() // 60)
    return TooManyRequests(
        f"too many {what} from this connection; try again in {minutes} minutes / 提交过于频繁，请{minutes}分钟后再试",
        field="form",
        headers={"Retry-After": str(int(window.total_seconds()))},
    )


def check_report_rate(session: Session, client: str, now: dt.datetime) -> None:
    recent = session.scalar(
        select(func.count())
        .select_from(CitizenReport)
        .where(CitizenReport.client == client, CitizenReport.created_at >= now - REPORT_WINDOW)
    )
    if (recent or 0) >= REPORTS_PER_WINDOW:
        raise _too_many("reports", REPORT_WINDOW)


# -- phone verification --------------------------------------------------------------------------


def phone_error(phone: str) -> FieldError | None:
    if not MOBILE.fullmatch(phone):
        return FieldError("phone", "enter an 11-digit mobile number / 请输入11位手机号码")
    return None


def send_code(session: Session, settings: Settings, phone: str, client: str, now: dt.datetime) -> None:
    """Queue a six-digit code for ``phone`` with the platform's SMS sender (the outbox: the
    city's gateway sends it after this commits)."""
    refuse([e for e in [phone_error(phone)] if e])
    phone_key = _keyed(settings, "phone", phone)
    by_client = select(func.count()).where(PhoneCode.client == client, PhoneCode.created_at >= now - CODE_WINDOW)
    if (session.scalar(by_client) or 0) >= CODES_PER_CLIENT:
        raise _too_many("codes", CODE_WINDOW)
    sent = session.scalars(
        select(PhoneCode.created_at).where(
            PhoneCode.phone_key == phone_key, PhoneCode.created_at >= now - dt.timedelta(days=1)
        )
    ).all()
    if len(sent) >= CODES_PER_PHONE_DAY:
        raise Invalid("too many codes for this number today / 该号码今日验证码次数已用完", field="phone")
    if sent and max(sent) > now - CODE_INTERVAL:
        raise Invalid("a code was sent less than a minute ago / 验证码已发送，请一分钟后再试", field="phone")
    code = f"{secrets.randbelow(10**6):06d}"
    session.add(
        PhoneCode(
            phone_key=phone_key,
            client=client,
            code_hash=_keyed(settings, f"code:{phone}", code),
            created_at=now,
            expires_at=now + CODE_TTL,
        )
    )
    text = f"您的验证码是{code}，{int(CODE_TTL.total_seconds() // 60)}分钟内有效。如非本人操作，请忽略本短信。"
    outbox.add(session, [{"topic": notify.SMS, "org_id": None, "payload": {"phone": phone, "text": text}}])


def check_code(session: Session, settings: Settings, phone: str, code: str, now: dt.datetime) -> FieldError | None:
    """Check the latest live code of ``phone``; a wrong guess counts against it (the caller must
    keep that count even when the form is refused), a right one uses it up."""
    row = session.scalars(
        select(PhoneCode)
        .where(
            PhoneCode.phone_key == _keyed(settings, "phone", phone),
            PhoneCode.used_at.is_(None),
            PhoneCode.expires_at > now,
        )
        .order_by(PhoneCode.created_at.desc())
        .limit(1)
    ).first()
    if row is None or row.attempts >= CODE_ATTEMPTS:
        return FieldError("code", "no valid code: send a new one / 验证码已失效，请重新获取")
    if not hmac.compare_digest(row.code_hash, _keyed(settings, f"code:{phone}", code.strip())):
        row.attempts += 1
        return FieldError("code", "the code is wrong / 验证码错误")
    row.used_at = now
    return None


# -- the report form -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportForm:
    """The report form as typed (strings); checked by :func:`form_errors`."""

    description: str = ""
    lon: str = ""
    lat: str = ""
    address: str = ""
    category: str = ""
    phone: str = ""
    code: str = ""
    submission: str = ""  # the form's own id: a form sent twice makes one report


@dataclass(frozen=True)
class Photo:
    stream: BinaryIO
    filename: str
    size: int | None


def _coordinates(form: ReportForm) -> tuple[float, float] | None:
    try:
        lon, lat = float(form.lon), float(form.lat)
    except ValueError:
        return None
    return (lon, lat) if -180 <= lon <= 180 and -90 <= lat <= 90 and math.isfinite(lon + lat) else None


def form_errors(session: Session, form: ReportForm, photos: Sequence[Photo]) -> list[FieldError]:
    """Every fault of the form at once (the code is checked separately: checking it counts)."""
    errors: list[FieldError] = []
    text = form.description.strip()
    if not text:
        errors.append(FieldError("description", "describe the problem / 请描述问题"))
    elif len(text) > MAX_DESCRIPTION:
        errors.append(FieldError("description", f"at most {MAX_DESCRIPTION} characters / 不能超过{MAX_DESCRIPTION}字"))
    picked = bool(form.lon.strip() or form.lat.strip())
    if picked and _coordinates(form) is None:
        errors.append(FieldError("location", "the map point is not valid; pick it again / 地图选点无效，请重新选择"))
    elif not picked and not form.address.strip():
        errors.append(
            FieldError("location", "pick the place on the map or enter an address / 请在地图上选点或填写地址")
        )
    if len(form.address.strip()) > MAX_ADDRESS:
        errors.append(FieldError("address", f"at most {MAX_ADDRESS} characters / 地址不能超过{MAX_ADDRESS}字"))
    if form.category and form.category not in category_names(session):
        errors.append(FieldError("category", "choose a category from the list / 请从列表中选择问题类型"))
    if form.phone.strip():
        errors += [e for e in [phone_error(form.phone.strip())] if e]
        if not form.code.strip():
            errors.append(FieldError("code", "enter the code sent to your phone / 请输入短信验证码"))
    errors += photo_errors(photos)
    return errors


def photo_errors(photos: Sequence[Photo]) -> list[FieldError]:
    """Count, size and type (read from the bytes, not the name) of the photos."""
    if len(photos) > MAX_PHOTOS:
        return [FieldError("photos", f"at most {MAX_PHOTOS} photos / 最多上传{MAX_PHOTOS}张照片")]
    errors = []
    for photo in photos:
        if photo.size is not None and photo.size > PHOTO_MAX_MB * 2**20:
            errors.append(
                FieldError(
                    "photos", f"{photo.filename} is larger than {PHOTO_MAX_MB} MB / 照片不能超过{PHOTO_MAX_MB}MB"
                )
            )
            continue
        head = photo.stream.read(HEAD)
        photo.stream.seek(0)
        if sniff(head) not in PHOTO_TYPES:
            errors.append(FieldError("photos", f"{photo.filename} is not a photo / 只能上传照片（JPG、PNG、HEIC）"))
    return errors


# Where the pipeline's refusals belong on the form.
_REFUSED_FIELDS = {"lon, lat": "location", "lon, lat, address": "location", "category_key": "category"}


def submit(
    session: Session,
    settings: Settings,
    ctx: pipeline.Context,
    form: ReportForm,
    photos: Sequence[Photo],
    *,
    client: str,
    phone_verified: bool,
    now: dt.datetime,
) -> CitizenReport:
    """The checked form as a citizen report through the pipeline, its photos attached. A form
    sent again (same ``submission``) returns the first one's record and makes nothing new."""
    coordinates = _coordinates(form)
    phone = form.phone.strip() if phone_verified else None
    report_in = ReportIn(
        channel=CHANNEL,
        external_id=f"web:{form.submission}" if SUBMISSION.fullmatch(form.submission) else None,
        description=form.description.strip(),
        category_key=form.category or None,
        lon=coordinates[0] if coordinates else None,
        lat=coordinates[1] if coordinates else None,
        crs=CRS.WGS84 if coordinates else None,  # the map draws WGS-84 geometry; a phone's GPS is WGS-84
        address=form.address.strip() or None,
        submitted_at=now,
        reporter_phone=phone,
    )
    outcomes, refused = intake_service.submit(session, [report_in], ctx, reporter_user_id=None)
    if refused:
        error = refused[0].error
        raise ChengguanError(error.message, status=refused[0].status, field=_REFUSED_FIELDS.get(error.field, "form"))
    outcome = outcomes[0]
    assert outcome is not None
    if outcome.repeated:
        earlier = session.scalar(select(CitizenReport).where(CitizenReport.report_id == outcome.report_id))
        if earlier is None:
            raise Conflict("this form was already sent / 该表单已提交", field="form")
        return earlier
    report = session.get(Report, outcome.report_id)
    assert report is not None
    for photo in photos:
        intake_service.add_attachment(session, settings, report, photo.stream, photo.filename)
    row = CitizenReport(
        report_id=report.id, tracking=new_tracking(), client=client, phone_verified=phone is not None, created_at=now
    )
    session.add(row)
    session.flush()
    return row


def categories(session: Session) -> list[tuple[str, str, str | None]]:
    """The categories a citizen may choose: (key, name, group), as Open311 lists its services."""
    return [(s.service_code, s.service_name, s.group) for s in open311_service.services(session)]


def category_names(session: Session) -> dict[str, str]:
    return {key: name for key, name, _ in categories(session)}


# -- progress --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicStep:
    at: dt.datetime
    action: str  # a key of the event flow's actions
    state: str  # the state it led to


@dataclass(frozen=True)
class Progress:
    """What the holder of a tracking number may read: their own report, and of the event only
    its state, its timeline without names, the unit handling it and the result."""

    tracking: str
    submitted_at: dt.datetime
    description: str
    address: str | None
    category: str | None
    photos: int
    stage: str  # pending | rejected | received | handling | closed | void
    state: str | None  # the event's state key
    steps: list[PublicStep]
    unit: str | None
    reply: str | None
    rating: int | None
    may_rate: bool


def by_tracking(session: Session, tracking: str, *, for_update: bool = False) -> CitizenReport:
    normal = normalise_tracking(tracking)
    stmt = select(CitizenReport).where(CitizenReport.tracking == (normal or ""))
    row = session.scalar(stmt.with_for_update() if for_update else stmt) if normal else None
    if row is None:
        raise NotFound("no report has this number; check it / 查询编号不存在，请核对", field="number")
    return row


def progress(session: Session, row: CitizenReport) -> Progress:
    report = session.get(Report, row.report_id)
    assert report is not None
    event = session.get(Event, report.event_id) if report.event_id else None
    photos = session.scalar(select(func.count()).where(Attachment.report_id == report.id)) or 0
    steps = cases_service.steps(session, EVENT_FLOW.key, event.id) if event else []
    stage = STAGES[EventStatus(event.status)] if event else str(report.status)  # pending | rejected
    return Progress(
        tracking=row.tracking,
        submitted_at=report.submitted_at,
        description=report.description,
        address=report.address,
        category=category_names(session).get(report.category_key or ""),
        photos=photos,
        stage=stage,
        state=event.status if event else None,
        steps=_public_steps(event, steps),
        unit=_unit_name(session, event),
        reply=_reply(steps) if stage == CLOSED else None,
        rating=row.rating,
        may_rate=event is not None and event.status == EventStatus.CLOSED and row.rated_at is None,
    )


def _public_steps(event: Event | None, steps: Sequence[CaseStep]) -> list[PublicStep]:
    """The timeline's actions and times. An event dispatched on arrival has no 派遣 step (the bulk
    intake path writes none): its dispatch time stands for it."""
    shown = [PublicStep(s.at, s.action, s.to_state) for s in steps]
    dispatched = any(s.action in DISPATCH_ACTIONS for s in steps)
    if event is not None and event.dispatched_at is not None and not dispatched:
        shown.insert(0, PublicStep(event.dispatched_at, DISPATCH_ACTIONS[0], EventStatus.DISPATCHED))
    return shown


def _unit_name(session: Session, event: Event | None) -> str | None:
    if event is None or event.unit_id is None:
        return None
    return session.scalar(select(Organisation.name).where(Organisation.id == event.unit_id))


def _reply(steps: Sequence[CaseStep]) -> str | None:
    results = [str(s.data["result"]) for s in steps if s.action in RESULT_ACTIONS and s.data.get("result")]
    return results[-1] if results else None


def rate(session: Session, row: CitizenReport, rating: str, comment: str, now: dt.datetime) -> None:
    """The reporter's satisfaction, once, while the event is 结案 and not yet through 综合评价:
    recorded on the event's timeline as the flow's 市民评价, where the evaluator reads it."""
    errors = []
    if rating not in {"1", "2", "3", "4", "5"}:
        errors.append(FieldError("rating", "choose from 1 to 5 stars / 请选择1至5星"))
    if len(comment.strip()) > MAX_COMMENT:
        errors.append(FieldError("comment", f"at most {MAX_COMMENT} characters / 不能超过{MAX_COMMENT}字"))
    refuse(errors)
    report = session.get(Report, row.report_id)
    event = cases_service.get_event(session, report.event_id, for_update=True) if report and report.event_id else None
    if row.rated_at is not None:
        raise Conflict("this report was already rated / 您已评价过", field="rating")
    if event is None or event.status != EventStatus.CLOSED:
        closed = event is not None and event.status == EventStatus.EVALUATED
        message = (
            "the evaluation of this case is finished / 该问题已完成综合评价，评价通道已关闭"
            if closed
            else "rate it once it is closed / 问题办结后才能评价"
        )
        raise Conflict(message, field="rating")
    row.rating, row.rated_at = int(rating), now
    values: dict[str, Any] = {"rating": int(rating), "comment": comment.strip() or None}
    workflow.take(session, EVENT_FLOW, event, RATE_ACTION, None, values, now=now)


# -- the public map --------------------------------------------------------------------------------


def snap_many(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The centres of the GRID_M squares holding the points (squares in a local equirectangular
    projection; a row's width uses its own centre latitude, so every point of a square snaps to
    the same centre), to 5 decimals. Coarser than a unit grid cell (万米单元网格, ~100 m): a
    snapped point does not single out a doorway."""
    lat_step = GRID_M / METRES_PER_DEGREE
    centre_lat = (np.floor(lat / lat_step) + 0.5) * lat_step
    lon_step = GRID_M / (METRES_PER_DEGREE * np.cos(np.radians(centre_lat)))
    centre_lon = (np.floor(lon / lon_step) + 0.5) * lon_step
    return np.round(centre_lon, 5), np.round(centre_lat, 5)


def snap(lon: float, lat: float) -> tuple[float, float]:
    snapped_lon, snapped_lat = snap_many(np.array([lon]), np.array([lat]))
    return float(snapped_lon[0]), float(snapped_lat[0])


_cache: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}


def _cached(session: Session, name: str, ttl_s: float, build: Callable[[Session], dict[str, Any]]) -> dict[str, Any]:
    """One payload per database and name, rebuilt when older than ``ttl_s`` (public, anonymous
    traffic must not reach the database on every request)."""
    key = (str(session.get_bind().engine.url), name)
    hit = _cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < ttl_s:
        return hit[1]
    payload = build(session)
    _cache[key] = (time.monotonic(), payload)
    return payload


def recent_problems(session: Session) -> dict[str, Any]:
    return _cached(session, "problems", MAP_TTL_S, _problems)


def _problems(session: Session) -> dict[str, Any]:
    """Events first reported in the last MAP_DAYS days, void ones left out: per snapped square,
    category and stage, how many. Nothing else: no text, no time, no exact place."""
    since = utcnow() - dt.timedelta(days=MAP_DAYS)
    rows = session.execute(
        select(Event.lon, Event.lat, Event.category_key, Event.status).where(
            Event.first_reported_at >= since,
            Event.status != EventStatus.VOID,
            Event.lon.is_not(None),
            Event.lat.is_not(None),
        )
    ).all()
    lon, lat = snap_many(np.array([r.lon for r in rows], float), np.array([r.lat for r in rows], float))
    stages = (STAGES[EventStatus(r.status)] for r in rows)
    counts = Counter(zip(lon.tolist(), lat.tolist(), (r.category_key or "" for r in rows), stages, strict=True))
    names = category_names(session)
    keys = sorted({key for _, _, key, _ in counts})
    points = [[y, x, key, stage, n] for (x, y, key, stage), n in sorted(counts.items())]
    return {
        "days": MAP_DAYS,
        "grid_m": GRID_M,
        "categories": {key: names.get(key, key) for key in keys},
        "points": points,  # [lat, lon, category, stage, count]
    }


def areas(session: Session) -> dict[str, Any]:
    return _cached(session, "areas", AREAS_TTL_S, _areas)


def _areas(session: Session) -> dict[str, Any]:
    """The districts' and streets' outlines (simplified): the public map's base when no tile
    server is set."""
    rows = session.execute(
        select(Organisation.name, Organisation.geometry).where(
            Organisation.kind.in_(BASE_KINDS), Organisation.geometry.is_not(None)
        )
    )
    features = [
        {
            "type": "Feature",
            "properties": {"name": name},
            "geometry": to_geojson(geometry.simplify(AREA_TOLERANCE, preserve_topology=True)),
        }
        for name, geometry in rows
    ]
    return {"type": "FeatureCollection", "features": features}
