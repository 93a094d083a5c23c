"""Import profiles: how the records of one kind of source become :class:`ReportIn`.

A profile is an explicit mapping, not guesswork: for each column layout the source comes in, which
column is the id, the times, the text, the place and the source's own category; the source's
time zone (for times written without an offset); and a category map shipped beside this module
(``import_maps/<profile>.csv``: source category, optional detail → 小类 key; anything unmapped
gets no 小类, so the classifier or a clerk decides). The source's own category and a few useful
columns are kept in ``attributes``.

    nyc311   NYC 311 Service Requests: the Open Data export ("Unique Key", "Created Date", …) or the
             API's snake_case columns (unique_key, created_date, …), told apart by the header.
    la311    MyLA311 Service Request Data (SRNumber, CreatedDate, RequestType, …).
    12345    the generic 12345 hotline template (Chinese headers, :data:`TEMPLATE_COLUMNS`;
             ``chengguan import template`` writes a blank one).
    open311  Open311 GeoReport v2 service requests (a JSON array, as GET requests.json returns).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property
from importlib import resources
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from chengguan.errors import FieldError, Invalid
from chengguan.intake.schemas import MAX_TEXT, ReportIn
from chengguan.intake.sources import Record
from chengguan.kit.coords import CRS

MAP_PACKAGE = "chengguan.intake"
MAP_DIR = "import_maps"
TITLE_MAX, ADDRESS_MAX, NAME_MAX, PHONE_MAX = 200, 300, 64, 32
_US_TIME = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?\s*([AaPp][Mm])?)?")
_CN_TIME = re.compile(
    r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:\s*(\d{1,2})[:时](\d{1,2})(?:[:分](\d{1,2})秒?)?)?"
)
_NOT_PHONE = re.compile(r"[^0-9+\- ]")
_CRS_NAMES = {"wgs84": CRS.WGS84, "gcj02": CRS.GCJ02, "bd09": CRS.BD09, "bd09ll": CRS.BD09}


# -- times -----------------------------------------------------------------------------------------


def us_time(text: str) -> dt.datetime:
    """``02/28/2023 11:45:00 PM`` (the 311 exports), or ISO 8601 (the 311 APIs)."""
    m = _US_TIME.fullmatch(text)
    if m is None:
        return dt.datetime.fromisoformat(text)
    month, day, year, hour, minute, second, half = m.groups()
    h = int(hour or 0)
    if half is not None:
        if not 1 <= h <= 12:
            raise ValueError("hour out of range for AM/PM")
        h = h % 12 + (12 if half in ("PM", "pm", "Pm", "pM") else 0)
    return dt.datetime(int(year), int(month), int(day), h, int(minute or 0), int(second or 0))


def cn_time(text: str) -> dt.datetime:
    """ISO 8601, or ``2025/3/3 9:05``, ``2025年3月3日 9时5分``, as 12345 systems export them."""
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        m = _CN_TIME.fullmatch(text)
        if m is None:
            raise
        year, month, day, hour, minute, second = (int(g or 0) for g in m.groups())
        return dt.datetime(year, month, day, hour, minute, second)


def iso_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


# -- layouts and profiles --------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """One column layout of a source: which source column feeds which report field. Columns
    in ``required`` (plus the id and the time reported) must be in the header; the others may be
    missing from a file (read as empty)."""

    name: str
    external_id: str
    submitted_at: str
    description: tuple[str, ...]  # joined with " / ", empty ones left out; the title when all are empty
    title: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    closed_at: str | None = None
    closed_status: tuple[str, frozenset[str]] | None = None  # (column, values): closed only with such a status
    lon: str | None = None
    lat: str | None = None
    crs: str | None = None
    address: tuple[str, ...] = ()  # joined with ", "
    category_key: str | None = None  # a column naming a 小类 key itself
    category: tuple[str, ...] = ()  # the source's (category, detail), looked up in the category map
    reporter_name: str | None = None
    reporter_phone: str | None = None
    keep: tuple[str, ...] = ()  # more columns kept in attributes

    @property
    def needed(self) -> tuple[str, ...]:
        return (self.external_id, self.submitted_at, *self.required)

    @property
    def columns(self) -> list[str]:
        """Every source column the layout reads, once each."""
        named = (
            self.external_id, self.submitted_at, self.closed_at, self.closed_status[0] if self.closed_status else None,
            self.lon, self.lat, self.crs, self.category_key, self.reporter_name, self.reporter_phone,
            *self.title, *self.description, *self.address, *self.category, *self.keep,
        )  # fmt: skip
        return list(dict.fromkeys(c for c in named if c is not None))

    def column_of(self, report_field: str) -> str:
        """The source column behind a report field, for reject messages a person can act on."""
        columns = {
            "external_id": self.external_id,
            "submitted_at": self.submitted_at,
            "closed_at": self.closed_at,
            "lon": self.lon,
            "lat": self.lat,
            "crs": self.crs,
            "category_key": self.category_key or (self.category[0] if self.category else None),
            "reporter_name": self.reporter_name,
            "reporter_phone": self.reporter_phone,
            "title": self.title[0] if self.title else None,
            "description": self.description[0],
            "address": self.address[0] if self.address else None,
        }
        return ", ".join(columns.get(f.strip()) or f.strip() for f in report_field.split(","))


@dataclass(frozen=True)
class Profile:
    name: str
    summary: str
    channel: str  # from the channel registry
    zone: ZoneInfo  # of times written without an offset
    layouts: tuple[Layout, ...]
    parse_time: Callable[[str], dt.datetime]
    crs: CRS | None = None  # of coordinates given without a crs column (None: the channel's default)

    def layout_for(self, header: list[str] | None) -> Layout:
        """The layout whose needed columns the header has (JSON records: the first layout)."""
        if header is None:
            return self.layouts[0]
        present = set(header)
        missing = [[c for c in layout.needed if c not in present] for layout in self.layouts]
        for layout, lacking in zip(self.layouts, missing, strict=True):
            if not lacking:
                return layout
        closest = min(missing, key=len)
        raise Invalid(
            f"line 1: not a {self.name} file: missing column(s) {', '.join(closest)} / 缺少必需的列", field="line 1"
        )

    @cached_property
    def category_map(self) -> dict[tuple[str, str], str]:
        return load_category_map(self.name)

    def mapper(
        self, layout: Layout, source: str, header: list[str] | None, *, strings: bool = False
    ) -> Callable[[Record], ReportIn | FieldError]:
        """Maps the records of one file (``header``: its columns, None for JSON objects;
        ``strings``: every cell is text, as in CSV) to reports, their ids prefixed ``source:``."""
        return _Mapper(self, layout, source, header, strings).map


def load_category_map(name: str) -> dict[tuple[str, str], str]:
    """(source category, detail) → 小类 key, both lowercased; a blank detail matches any."""
    text = resources.files(MAP_PACKAGE).joinpath(MAP_DIR, f"{name}.csv").read_text(encoding="utf-8")
    return {
        (row["source_category"].strip().lower(), row["source_detail"].strip().lower()): row["category_key"].strip()
        for row in csv.DictReader(text.splitlines())
    }


# -- one record → one report ------------------------------------------------------------------------


class _Mapper:
    """Turns the records of one file into reports. Built once per file: each record's cells are
    picked by position in one call and stripped at once, and the fields are read from fixed
    slots, so parsing and mapping stay far cheaper than the pipeline behind them."""

    def __init__(self, profile: Profile, layout: Layout, source: str, header: list[str] | None, strings: bool) -> None:
        self.profile, self.layout, self.prefix = profile, layout, f"{source}:"
        self.categories = profile.category_map
        self.closed_values = {v.lower() for v in layout.closed_status[1]} if layout.closed_status else set()
        self.offsets: dict[tuple[int, int, int, int], dt.timedelta] = {}
        used = layout.columns
        present = used if header is None else [c for c in used if c in header]
        missing = [c for c in used if c not in present]
        slots = {c: i for i, c in enumerate([*present, *missing])}
        self.extract = _extractor(present, header, len(missing), strings)

        def slot(column: str | None) -> int | None:
            return None if column is None else slots[column]

        self.ident, self.submitted = slots[layout.external_id], slots[layout.submitted_at]
        self.closed = slot(layout.closed_at)
        self.status = slot(layout.closed_status[0]) if layout.closed_status else None
        self.lon, self.lat, self.crs, self.key = (
            slot(layout.lon),
            slot(layout.lat),
            slot(layout.crs),
            slot(layout.category_key),
        )
        self.name, self.phone = slot(layout.reporter_name), slot(layout.reporter_phone)
        self.title, self.text = tuple(slots[c] for c in layout.title), tuple(slots[c] for c in layout.description)
        self.address, self.category = tuple(slots[c] for c in layout.address), tuple(slots[c] for c in layout.category)
        kept = tuple(dict.fromkeys((*layout.category, *layout.keep)))
        self.kept = tuple((c, slots[c]) for c in kept)

    def map(self, record: Record) -> ReportIn | FieldError:
        try:
            return ReportIn.model_validate(self._fields(self.extract(record.values)))
        except _Refused as refused:
            return FieldError(refused.column, refused.message)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "lon, lat"
            return FieldError(self.layout.column_of(where), first["msg"])

    def _fields(self, v: list[Any]) -> dict[str, Any]:
        lay = self.layout
        ident = v[self.ident]
        if ident == "":
            raise _Refused(lay.external_id, "no id / 缺少编号")
        title = _join(v, self.title, " / ")[:TITLE_MAX] or None
        description = _join(v, self.text, " / ") or title
        if not description:
            raise _Refused(lay.description[0], "no text / 缺少诉求内容")
        lon, lat = self._float(v, self.lon, lay.lon), self._float(v, self.lat, lay.lat)
        fields = {
            "channel": self.profile.channel,
            "external_id": f"{self.prefix}{ident}",
            "title": title,
            "description": description[:MAX_TEXT],
            "category_key": self._category(v),
            "lon": lon,
            "lat": lat,
            "address": _join(v, self.address, ", ")[:ADDRESS_MAX] or None,
            "submitted_at": self._time(v[self.submitted], lay.submitted_at),
            "attributes": {"source": self.prefix[:-1], **{c: _plain(v[i]) for c, i in self.kept if v[i] != ""}},
        }
        if lon is not None:
            fields["crs"] = self._crs(v)
        if self.closed is not None and (self.status is None or str(v[self.status]).lower() in self.closed_values):
            fields["closed_at"] = self._time(v[self.closed], lay.closed_at, required=False)
        if self.name is not None:
            fields["reporter_name"] = str(v[self.name])[:NAME_MAX] or None
        if self.phone is not None:
            phone = str(v[self.phone])
            fields["reporter_phone"] = (phone if phone.isdigit() else _NOT_PHONE.sub("", phone))[:PHONE_MAX] or None
        return fields

    def _time(self, value: Any, column: str | None, *, required: bool = True) -> dt.datetime | None:
        if value.__class__ is str:
            if value == "":
                if required:
                    raise _Refused(column or "", "no time / 缺少时间")
                return None
            try:
                at = self.profile.parse_time(value)
            except ValueError:
                raise _Refused(column or "", f"not a date and time: {value!r} / 时间格式错误") from None
        elif isinstance(value, dt.datetime):  # an Excel date cell
            at = value
        else:
            raise _Refused(column or "", f"not a date and time: {value!r} / 时间格式错误")
        if at.tzinfo is not None:
            return at.astimezone(dt.UTC)
        # Local wall time → UTC with the zone's offset for that hour, looked up once per hour of
        # the file (zoneinfo's own conversion costs more than all the rest of a record's mapping).
        hour = (at.year, at.month, at.day, at.hour)
        offset = self.offsets.get(hour)
        if offset is None:
            offset = self.offsets[hour] = at.replace(tzinfo=self.profile.zone).utcoffset() or dt.timedelta(0)
        return (at - offset).replace(tzinfo=dt.UTC)

    def _float(self, v: list[Any], slot: int | None, column: str | None) -> float | None:
        if slot is None:
            return None
        value = v[slot]
        if value == "":
            return None
        if isinstance(value, bool):
            raise _Refused(column or "", f"not a number: {value!r} / 不是数字")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise _Refused(column or "", f"not a number: {value!r} / 不是数字") from None

    def _crs(self, v: list[Any]) -> CRS | None:
        text = str(v[self.crs]) if self.crs is not None else ""
        if not text:
            return self.profile.crs
        found = _CRS_NAMES.get(text) or _CRS_NAMES.get(text.lower().replace("-", "").replace("_", ""))
        if found is None:
            column = self.layout.crs or "crs"
            raise _Refused(column, f"unknown coordinate system {text!r}; one of wgs84, gcj02, bd09")
        return found

    def _category(self, v: list[Any]) -> str | None:
        if self.key is not None and v[self.key] != "":
            return str(v[self.key]).upper()
        if not self.category:
            return None
        category = str(v[self.category[0]]).lower()
        detail = str(v[self.category[1]]).lower() if len(self.category) > 1 else ""
        return self.categories.get((category, detail)) or self.categories.get((category, ""))


class _Refused(Exception):
    def __init__(self, column: str, message: str) -> None:
        self.column, self.message = column, message


def _extractor(present: list[str], header: list[str] | None, missing: int, strings: bool) -> Callable[[Any], list[Any]]:
    """The used cells of a record, in slot order: present columns, then "" for the missing.
    Text is stripped, None (JSON null, an empty Excel cell) is ""; Excel's numbers and dates
    and JSON's numbers stay what they are."""
    pad = [""] * missing
    if header is None:  # JSON objects
        return lambda values: [*(_clean(values.get(c)) for c in present), *pad]
    first: dict[str, int] = {}
    for i, name in enumerate(header):
        first.setdefault(name, i)
    indices = [*(first[c] for c in present), 0]  # one more index, so a single column still gives a tuple
    pick = itemgetter(*indices)
    width = len(present)
    if strings:  # CSV: every cell is text
        return lambda values: [*map(str.strip, pick(values)[:width]), *pad]
    return lambda values: [*(_clean(x) for x in pick(values)[:width]), *pad]


def _clean(value: Any) -> Any:
    if value.__class__ is str:
        return value.strip()
    return "" if value is None else value


def _plain(value: Any) -> Any:
    """A value JSON can hold (attributes are stored as JSON): Excel dates become text."""
    return value if isinstance(value, str | int | float | bool) else str(value)


def _join(v: list[Any], slots: tuple[int, ...], sep: str) -> str:
    if len(slots) == 1:
        return str(v[slots[0]])
    return sep.join(t for t in (str(v[i]) for i in slots) if t)


# -- the profiles ----------------------------------------------------------------------------------

NEW_YORK = ZoneInfo("America/New_York")
NYC_KEEP = ("Agency", "Status", "Location Type", "Borough", "Incident Zip")

NYC_EXPORT = Layout(
    name="NYC Open Data export",
    external_id="Unique Key",
    submitted_at="Created Date",
    required=("Complaint Type", "Descriptor", "Latitude", "Longitude"),
    title=("Complaint Type",),
    description=("Complaint Type", "Descriptor"),
    closed_at="Closed Date",
    closed_status=("Status", frozenset({"Closed"})),
    lon="Longitude",
    lat="Latitude",
    address=("Incident Address",),
    category=("Complaint Type", "Descriptor"),
    keep=NYC_KEEP,
)
NYC_API = Layout(
    name="NYC Open Data API (snake_case)",
    external_id="unique_key",
    submitted_at="created_date",
    required=("complaint_type", "descriptor", "latitude", "longitude"),
    title=("complaint_type",),
    description=("complaint_type", "descriptor"),
    closed_at="closed_date",
    closed_status=("status", frozenset({"Closed"})),
    lon="longitude",
    lat="latitude",
    address=("incident_address",),
    category=("complaint_type", "descriptor"),
    keep=tuple(c.lower().replace(" ", "_") for c in NYC_KEEP),
)
LA_EXPORT = Layout(
    name="MyLA311 export",
    external_id="SRNumber",
    submitted_at="CreatedDate",
    required=("RequestType", "Latitude", "Longitude", "Address"),
    title=("RequestType",),
    description=("RequestType",),
    closed_at="ClosedDate",
    closed_status=("Status", frozenset({"Closed", "Cancelled"})),
    lon="Longitude",
    lat="Latitude",
    address=("Address",),
    category=("RequestType",),
    keep=("Owner", "Status", "RequestSource", "CD", "NCName"),
)
# The 12345 template: the columns `chengguan import template` writes, in this order.
TEMPLATE_COLUMNS = (
    "工单编号",
    "受理时间",
    "诉求标题",
    "诉求内容",
    "诉求分类",
    "小类编码",
    "地址",
    "经度",
    "纬度",
    "坐标系",
    "办结时间",
    "来电人",
    "联系电话",
)
TEMPLATE_HELP = {
    "工单编号": "required; the hotline's own ticket number (imported once: a second import skips it)",
    "受理时间": "required; 2025-03-03 09:05:00, 2025/3/3 9:05 or 2025年3月3日 9时5分; Asia/Shanghai unless --timezone",
    "诉求标题": "optional title",
    "诉求内容": "the complaint's text (the title when empty)",
    "诉求分类": "the hotline's own category, mapped to a 小类 by import_maps/12345.csv",
    "小类编码": "a 小类 key such as E0502 (wins over 诉求分类)",
    "地址": "address; used to place the report when there are no coordinates",
    "经度": "longitude",
    "纬度": "latitude",
    "坐标系": "wgs84 (default), gcj02 or bd09",
    "办结时间": "when it was closed; empty if still open",
    "来电人": "caller's name",
    "联系电话": "caller's phone",
}
HOTLINE_12345 = Layout(
    name="12345 template",
    external_id="工单编号",
    submitted_at="受理时间",
    required=("诉求内容",),
    title=("诉求标题",),
    description=("诉求内容",),
    closed_at="办结时间",
    lon="经度",
    lat="纬度",
    crs="坐标系",
    address=("地址",),
    category_key="小类编码",
    category=("诉求分类",),
    reporter_name="来电人",
    reporter_phone="联系电话",
)
GEOREPORT = Layout(
    name="GeoReport v2 service requests",
    external_id="service_request_id",
    submitted_at="requested_datetime",
    title=("service_name",),
    description=("service_name", "description"),
    # v2 has no time of closing: a closed request's last update is when it was closed.
    closed_at="updated_datetime",
    closed_status=("status", frozenset({"closed"})),
    lon="long",
    lat="lat",
    address=("address",),
    category=("service_name",),
    keep=("service_code", "status", "status_notes", "agency_responsible", "media_url"),
)

PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("nyc311", "NYC 311 Service Requests (export or API columns)", "hotline", NEW_YORK,
                (NYC_EXPORT, NYC_API), us_time),
        Profile("la311", "MyLA311 Service Request Data", "hotline", ZoneInfo("America/Los_Angeles"),
                (LA_EXPORT,), us_time),
        Profile("12345", "12345 hotline template (Chinese headers)", "hotline", ZoneInfo("Asia/Shanghai"),
                (HOTLINE_12345,), cn_time),
        Profile("open311", "Open311 GeoReport v2 requests (JSON)", "open311", NEW_YORK, (GEOREPORT,), iso_time),
    )
}  # fmt: skip


def profile(name: str, zone: str | None = None) -> Profile:
    """The profile ``name``; ``zone`` replaces its time zone (an IANA name, e.g. America/Chicago)."""
    found = PROFILES.get(name)
    if found is None:
        raise Invalid(f"unknown profile {name!r}; one of {', '.join(PROFILES)}", field="profile")
    if zone is None:
        return found
    try:
        return replace(found, zone=ZoneInfo(zone))
    except (ValueError, KeyError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise Invalid(f"unknown time zone {zone!r}", field="timezone") from exc
