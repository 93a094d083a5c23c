"""The intake pipeline: normalise → place → classify → deduplicate → create or merge → dispatch →
write. One code path for a single report from the API and for a batch of thousands from a bulk
import: everything per report is in-memory work on per-process snapshots (grid index, places,
rule book, calendar, classifier), and the database sees one query for idempotency, one for
duplicate candidates and a few bulk inserts per batch.

What needs a person is not guessed: a report whose category the classifier is unsure of, that
may repeat an open event (the grey band), or that has no place, waits in the clerk's queue with
its reasons and no event yet.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, cast

from sqlalchemy import ColumnElement, and_, bindparam, event, or_, select
from sqlalchemy.orm import Session

from chengguan.calendar import service as calendar_service
from chengguan.cases.models import OPEN_STATUSES, Event, EventStatus
from chengguan.db import utcnow
from chengguan.dispatch.assign import PlannedRows, rows_for
from chengguan.dispatch.flow import dispatches_on_arrival
from chengguan.dispatch.planning import DispatchPlan, Planner
from chengguan.dispatch.resolver import RuleBook, rulebook
from chengguan.errors import FieldError, Invalid
from chengguan.geo import gazetteer_service
from chengguan.geo.gazetteer import AddressMatch
from chengguan.intake import dedup
from chengguan.intake.batch_rows import BatchAudit, Rows, Written, write
from chengguan.intake.channels import Channel, channel
from chengguan.intake.models import PendingReason, Report, ReportStatus
from chengguan.intake.places import Place, PlaceBook, place_book
from chengguan.intake.schemas import ReportIn
from chengguan.kit.coords import CRS, convert
from chengguan.kit.gcpause import gc_paused

# An address match below this confidence is kept as a hint for the clerk, not used to place.
ADDRESS_CONFIDENCE = 0.6


class Classifier(Protocol):
    def predict(self, texts: Sequence[str]) -> Sequence[Any]: ...  # items with .label .probability .top3 .confident


# Events of a run's index that close later in the run: (closing time, row in the index).
Closing = list[tuple[dt.datetime, int]]


class _Carry:
    """A history run's dedup index, kept from one batch to the next: loading the open events and
    indexing them again for every batch was a quarter of the bulk path's time.

    It holds every event whose last report is at or after ``horizon`` (in history: open, or
    closed after the first batch's last report; ``closing`` retires them as the batches pass
    their closing time) plus what the run's own batches added, and it serves a batch only when
    the batch that last changed it committed: a batch rolled back leaves events and merges in it
    that the database does not have, and the next batch loads it again. A batch that reaches
    back before the horizon (a file in newest-first order) is served the per-batch way, and so
    is the rest of that run. Events that other writers add or close meanwhile are not seen: a
    history run's window lies in the past, where live intake does not write. In a bulk run
    (:mod:`chengguan.intake.bulk`) the batches are written by another process: the run drops the
    index when a write fails, and stops."""

    def __init__(self) -> None:
        self.index: dedup.DedupIndex | None = None
        self.horizon = dt.datetime.max.replace(tzinfo=dt.UTC)
        self.closing: Closing = []  # (closing time, row in the index): a heap, soonest first
        self.trusted = False
        self.backwards = False
        self._generation = 0

    def serves(self, earliest: dt.datetime) -> bool:
        return self.index is not None and self.trusted and earliest >= self.horizon

    def watch(self, session: Session) -> None:
        """Trust the index again only once this batch's transaction commits."""
        self._generation += 1
        generation, self.trusted = self._generation, False

        def committed(_session: Session) -> None:
            if generation == self._generation:
                self.trusted = True

        def rolled_back(_session: Session, _previous: Any) -> None:
            if generation == self._generation:
                self.index, self.trusted = None, False

        event.listen(session, "after_commit", committed, once=True)
        event.listen(session, "after_soft_rollback", rolled_back, once=True)

    def restart(self, index: dedup.DedupIndex, horizon: dt.datetime, closing: Closing) -> None:
        self.index, self.horizon, self.closing = index, horizon, closing
        heapq.heapify(self.closing)

    def close_before(self, at: dt.datetime) -> None:
        """Retire the events closed before ``at`` (the batch's last report), as a per-batch load
        would have left them out."""
        assert self.index is not None
        while self.closing and self.closing[0][0] < at:
            self.index.retire(heapq.heappop(self.closing)[1])


@dataclass
class Context:
    """What batches are processed against: build it with :func:`context` once per batch, or
    once for a run of batches (a history run then carries its dedup index from batch to batch)."""

    places: PlaceBook
    book: RuleBook
    planner: Planner  # the book's and the calendar's: a run plans each (category, place) once
    classifier: Classifier | None
    dedup: dedup.DedupConfig
    auto_dispatch: bool
    receiver_org_id: int  # where a report with no place yet belongs, for its clerks to place
    # A bulk import of history: times come from the source (a report is received and dispatched
    # when it was submitted) and a report may arrive already closed.
    historical: bool = False
    carry: _Carry | None = None
    # New events' temporary (negative) ids until written, unique in the run: a bulk run decides
    # a batch before the one before it is written, and may merge into that one's new events.
    temp_ids: Iterator[int] = field(default_factory=lambda: itertools.count(-1, -1))
    unwritten: Unwritten | None = None  # a bulk run's batches decided and not yet written


@dataclass
class Unwritten:
    """A bulk run's batches that are decided but not yet committed by its writer: the (channel,
    external id) of their reports, which a report repeats as much as one in the database, and a
    way to wait for them all, before open events are read from the database."""

    keys: set[tuple[str, str]]
    wait: Callable[[], None]


def context(
    session: Session,
    *,
    classifier: Classifier | None,
    auto_dispatch: bool = True,
    dedup_config: dedup.DedupConfig | None = None,
    receiver_org_id: int | None = None,
    historical: bool = False,
) -> Context:
    """``receiver_org_id``: the unit whose clerks place reports that arrive without a place
    (default: the city root, i.e. the city hotline). New events are dispatched on arrival only
    when ``auto_dispatch`` and the city's event flow has auto-立案 and auto-派遣 switched on;
    otherwise they wait at 受理 for a clerk to 立案."""
    places = place_book(session)
    book = rulebook(session)
    roots = [o.id for o in book.orgs.values() if o.parent_id is None]
    if not roots:
        raise Invalid("no organisation tree yet: load a city first", field="organisations")
    return Context(
        places,
        book,
        Planner(book, calendar_service.get_calendar(session)),
        classifier,
        dedup_config or dedup.DedupConfig(),
        auto_dispatch and dispatches_on_arrival(session),
        receiver_org_id or min(roots),
        historical,
        _Carry() if historical else None,
    )


@dataclass
class Item:
    """One report on its way through."""

    index: int
    data: ReportIn
    source: Channel
    received_at: dt.datetime
    submitted_at: dt.datetime
    lon: float | None = None
    lat: float | None = None
    location_source: str = "none"
    place: Place | None = None
    category_key: str | None = None
    category_source: str | None = None
    probability: float | None = None
    top3: list[tuple[str, float]] | None = None
    pending: list[PendingReason] = field(default_factory=list)
    decision: dedup.Decision | None = None
    event_ref: int | None = None  # a new event's temporary (negative) id, then the real one
    merged: bool = False
    plan: DispatchPlan | None = None
    report_id: int | None = None
    repeated: bool = False
    # after writing: the plan of the batch-new event it opened or joined, and its suggestions
    event_plan: DispatchPlan | None = None
    event_is_new: bool = False
    suggested: list[tuple[int, float, str]] = field(default_factory=list)  # (event id, score, reason)

    @property
    def text(self) -> str:
        return report_text(self.data.title, self.data.description)

    @property
    def title(self) -> str:
        return self.data.title or self.data.description.strip().splitlines()[0][:60]

    @property
    def org_id(self) -> int | None:
        return self.place.org_id if self.place else None


def report_text(title: str | None, description: str) -> str:
    """What dedup compares: the description, after the title unless the title was cut from it."""
    description = description.strip()
    if not title or description.startswith(title):
        return description
    return f"{title}\n{description}"


@dataclass(frozen=True)
class Refusal:
    """A report the pipeline would not take, by its position in the input."""

    index: int
    error: FieldError
    status: int = 422


@dataclass
class Result:
    items: list[Item]
    refused: list[Refusal]


# -- stages ------------------------------------------------------------------------------------------


def _normalise(
    reports: Sequence[ReportIn], ctx: Context, now: dt.datetime, first: int
) -> tuple[list[Item], list[Refusal]]:
    items: list[Item] = []
    errors: list[Refusal] = []
    for i, data in enumerate(reports, first):
        try:
            source = channel(data.channel)
        except Invalid as exc:
            errors.append(Refusal(i, FieldError("channel", exc.message)))
            continue
        problem = _history_problem(data, ctx.historical)
        if problem is not None:
            errors.append(Refusal(i, problem))
            continue
        if source.needs_external_id and not data.external_id:
            errors.append(Refusal(i, FieldError("external_id", f"channel {source.code} must send its own external_id")))
            continue
        if data.lon is None and not (data.address or "").strip():
            missing = "location: send lon and lat, or an address / 缺少位置：请提供经纬度或地址"
            errors.append(Refusal(i, FieldError("lon, lat, address", missing), 400))
            continue
        submitted = data.submitted_at or now
        items.append(Item(i, data, source, submitted if ctx.historical else now, submitted))
    return items, errors


def _history_problem(data: ReportIn, historical: bool) -> FieldError | None:
    if not historical:
        if data.closed_at is not None:
            return FieldError("closed_at", "only an import of history may send closed_at / 仅历史导入可含结案时间")
        return None
    if data.submitted_at is None:
        return FieldError("submitted_at", "history needs the time it was reported / 历史数据须有上报时间")
    if data.closed_at is not None and data.closed_at < data.submitted_at:
        return FieldError("closed_at", "closed before it was reported / 结案时间早于上报时间")
    return None


def _repeats(session: Session, ctx: Context, items: list[Item]) -> None:
    """Mark reports already received (same channel and external id): earlier, in a batch being
    written or in this batch."""
    keyed = [it for it in items if it.data.external_id]
    if not keyed:
        return
    by_channel: dict[str, set[str]] = defaultdict(set)
    for it in keyed:
        by_channel[it.source.code].add(cast(str, it.data.external_id))
    found: dict[tuple[str, str | None], int] = {}
    connection = session.connection()  # Core: the ORM's compile step cost more than the lookup (and no scope applies)
    for code, ids in by_channel.items():
        ordered = sorted(ids)
        for i in range(0, len(ordered), _LARGE):
            chunk = ordered[i : i + _LARGE]
            size = _SMALL if len(chunk) <= _SMALL else _LARGE
            chunk += chunk[-1:] * (size - len(chunk))  # padded: two statement shapes, each compiled once
            params = {"channel": code, **{f"e{j}": key for j, key in enumerate(chunk)}}
            found.update(((r.channel, r.external_id), r.id) for r in connection.execute(_REPEATED[size], params))
    unwritten = ctx.unwritten.keys if ctx.unwritten else frozenset()
    seen: set[tuple[str, str | None]] = set()
    for it in keyed:
        key = (it.source.code, it.data.external_id)
        if key in found or key in seen or key in unwritten:
            it.repeated, it.report_id = True, found.get(key)
        seen.add(key)


# The idempotency lookup, a fixed number of keys at a time: an expanding ``IN`` (or a tuple
# ``IN``) is compiled afresh for every batch, which cost more than the lookup itself. Two sizes:
# an API request's few reports, and a bulk run's chunk in one statement (five of 500 cost twice
# as much).
_SMALL, _LARGE = 25, 2_500
_REPEATED = {
    size: select(Report.id, Report.channel, Report.external_id).where(
        Report.channel == bindparam("channel"),
        Report.external_id.in_([bindparam(f"e{j}") for j in range(size)]),
    )
    for size in (_SMALL, _LARGE)
}


def _coordinates(items: list[Item]) -> None:
    by_crs: dict[Any, list[Item]] = defaultdict(list)
    for it in items:
        if it.data.lon is not None and it.data.lat is not None:
            by_crs[it.data.crs or it.source.crs].append(it)
    for crs, group in by_crs.items():
        lon, lat = convert(_floats(it.data.lon for it in group), _floats(it.data.lat for it in group), crs, CRS.WGS84)
        for it, x, y in zip(group, lon.tolist(), lat.tolist(), strict=True):
            it.lon, it.lat, it.location_source = x, y, "coordinates"


def _floats(values: Iterable[float | None]) -> list[float]:
    """Coordinates of items already known to have them."""
    return cast(list[float], list(values))  # one cast: a call per value cost as much as the list


def _addresses(session: Session, ctx: Context, items: list[Item]) -> None:
    wanting = [it for it in items if it.lon is None and it.data.address]
    if not wanting:
        return
    matches = gazetteer_service.resolve_many(session, [it.data.address or "" for it in wanting])
    for it, match in zip(wanting, matches, strict=True):
        if match is not None and match.confidence >= ADDRESS_CONFIDENCE:
            it.lon, it.lat, it.location_source = match.lon, match.lat, "address"
            it.place = _area_of(ctx, match)


def _area_of(ctx: Context, match: AddressMatch) -> Place | None:
    """The most specific area an address names, for a point that falls in no cell."""
    area = match.community_id or match.street_id or match.district_id
    return ctx.places.area_place(area) if area else None


def _place(ctx: Context, items: list[Item], errors: list[Refusal]) -> list[Item]:
    located = [it for it in items if it.lon is not None]
    places = ctx.places.locate(_floats(it.lon for it in located), _floats(it.lat for it in located))
    kept: list[Item] = []
    for it, found in zip(located, places, strict=True):
        if found is not None:
            it.place = found
        elif it.place is None:  # coordinates outside every cell of the city
            errors.append(Refusal(it.index, FieldError("lon, lat", "outside jurisdiction / 不在本市管辖范围内")))
            continue
        kept.append(it)
    for it in items:
        if it.lon is None:  # an address the gazetteer could not place: a clerk will
            it.pending.append(PendingReason.LOCATION)
            kept.append(it)
    return sorted(kept, key=lambda it: it.index)


def _classify(ctx: Context, items: list[Item], errors: list[Refusal]) -> list[Item]:
    kept: list[Item] = []
    unnamed: list[Item] = []
    for it in items:
        key = it.data.category_key
        if key is None:
            unnamed.append(it)
        elif key.upper() in ctx.book.categories and len(key) == 5:
            it.category_key, it.category_source, it.probability = key.upper(), "source", 1.0
        else:
            errors.append(Refusal(it.index, FieldError("category_key", f"unknown 小类 {key!r} / 无此小类")))
            continue
        kept.append(it)
    if unnamed and ctx.classifier is not None:
        for it, guess in zip(unnamed, ctx.classifier.predict([it.text for it in unnamed]), strict=True):
            it.category_key, it.category_source, it.probability = guess.label, "model", float(guess.probability)
            it.top3 = [(label, float(p)) for label, p in guess.top3]
            if not guess.confident:
                it.pending.append(PendingReason.CATEGORY)
    else:
        for it in unnamed:
            it.pending.append(PendingReason.CATEGORY)
    return kept


def _index(session: Session, ctx: Context, items: list[Item]) -> dedup.DedupIndex:
    """The open events the batch's reports may repeat, indexed: the run's carried index when it
    can serve the batch, else loaded for it."""
    earliest = _window_start(ctx, items)
    carry = ctx.carry
    if carry is None or carry.backwards:
        return _batch_index(session, ctx, items, earliest)
    if carry.index is not None and carry.trusted and earliest < carry.horizon:
        carry.backwards, carry.index = True, None
        return _batch_index(session, ctx, items, earliest)
    if not carry.serves(earliest):
        horizon = min(it.submitted_at for it in items) - _longest_window(ctx)
        index = dedup.DedupIndex(ctx.dedup)
        carry.restart(index, horizon, _load(session, ctx, items, index, Event.last_reported_at >= horizon))
    carry.watch(session)
    carry.close_before(_latest(items))
    assert carry.index is not None
    return carry.index


def _longest_window(ctx: Context) -> dt.timedelta:
    return max([ctx.dedup.limits.window, *(lim.window for lim in ctx.dedup.overrides.values())])


def divisible(ctx: Context, reports: Sequence[ReportIn]) -> bool:
    """Whether a batch may be decided in parts, one call each: only when the run's carried
    index will serve every part (in time order, none before its horizon). Otherwise a part is
    decided against the open events in the database, which do not yet hold the parts before it."""
    carry = ctx.carry
    if carry is None or carry.backwards or not reports:
        return False
    times = [r.submitted_at for r in reports]
    if any(t is None for t in times) or any(a > b for a, b in itertools.pairwise(cast(list[dt.datetime], times))):
        return False
    first = cast(dt.datetime, times[0])
    return carry.index is None or first - _longest_window(ctx) >= carry.horizon  # none: the first part restarts it


def _window_start(ctx: Context, items: list[Item]) -> dt.datetime:
    return min(it.submitted_at - ctx.dedup.limits_for(cast(str, it.category_key)).window for it in items)


def _batch_index(session: Session, ctx: Context, items: list[Item], earliest: dt.datetime) -> dedup.DedupIndex:
    """The open events near any report of the batch, in one query."""
    buckets: set[int] = set()
    for it in items:
        assert it.category_key is not None and it.lon is not None and it.lat is not None
        radius = ctx.dedup.limits_for(it.category_key).radius_m
        buckets.update(dedup.neighbour_buckets(it.lon, it.lat, radius, ctx.dedup.bucket_m))
    index = dedup.DedupIndex(ctx.dedup)
    _load(session, ctx, items, index, Event.bucket.in_(buckets), Event.last_reported_at >= earliest)
    return index


def _load(
    session: Session, ctx: Context, items: list[Item], index: dedup.DedupIndex, *where: ColumnElement[bool]
) -> Closing:
    """Add the events open during the batch that match ``where`` to ``index``; returns those of
    them that have closed since (history), with their closing time."""
    if ctx.unwritten is not None:
        ctx.unwritten.wait()  # the run's own events, all of them
    rows = session.execute(
        select(
            Event.id,
            Event.category_key,
            Event.lon,
            Event.lat,
            Event.first_reported_at,
            Event.last_reported_at,
            Event.title,
            Event.description,
            Event.closed_at,
        )
        .where(_open_during(ctx, items), *where)
        .execution_options(skip_scope=True)  # a citizen's report merges into events they cannot see
    )
    closing: Closing = []
    for r in rows:
        if r.category_key and r.lon is not None:
            text = dedup.normalise(report_text(r.title, r.description))
            candidate = dedup.Candidate(
                r.id, r.category_key, r.lon, r.lat, r.first_reported_at, r.last_reported_at, text
            )
            row = index.add(candidate)
            if r.closed_at is not None:
                closing.append((r.closed_at, row))
    return closing


def _open_during(ctx: Context, items: list[Item]) -> ColumnElement[bool]:
    """Open events; in history also those closed after the batch's last report (an event closed
    in the middle of a batch is left out rather than risk merging into it after it closed)."""
    is_open = Event.status.in_(OPEN_STATUSES)
    if not ctx.historical:
        return is_open
    return or_(is_open, and_(Event.status == EventStatus.CLOSED, Event.closed_at >= _latest(items)))


def _latest(items: list[Item]) -> dt.datetime:
    return max(it.submitted_at for it in items)


def _deduplicate(session: Session, ctx: Context, items: list[Item]) -> list[_NewEvent]:
    """Decide merge / suggest / new for each placed, classified report, in input order, so a
    batch's own new events catch its later reports. Returns the new events to create."""
    deciding = [it for it in items if not (it.repeated or it.pending)]
    if not deciding:
        return []
    index = _index(session, ctx, deciding)
    # placed and classified, so no None: ``_make`` spares a cast call per field
    queries = [
        dedup.Query._make((it.category_key, it.lon, it.lat, it.submitted_at, dedup.normalise(it.text)))
        for it in deciding
    ]
    # New events get temporary ids (so merges and suggestions name them): the index takes its
    # own, in the order of its NEW decisions; a merge turned new (below) takes the next.
    taken: list[int] = []
    start = len(index)  # the index's rows for its new events follow on from here
    decisions = index.decide_many(queries, _taking(ctx.temp_ids, taken))
    carried = index if ctx.carry is not None and ctx.carry.index is index else None
    indexed_new = zip(taken, itertools.count(start), strict=False)
    created: list[_NewEvent] = []
    closed_new: dict[int, dt.datetime] = {}  # history: a new event of this batch → when it closed
    for it, query, decision in zip(deciding, queries, decisions, strict=True):
        it.decision = decision
        target, closed_at = decision.target, it.data.closed_at
        if decision.action is dedup.Action.NEW:
            ref, row = next(indexed_new)
        elif target is not None and not _closed_before(closed_new.get(target.event_id), it.submitted_at):
            it.event_ref, it.merged = target.event_id, True
            continue
        elif decision.action is dedup.Action.SUGGEST:
            it.pending.append(PendingReason.DUPLICATE)
            continue
        else:  # a merge into an event of this batch that had closed by then
            ref, row = next(ctx.temp_ids), -1
            if carried is not None:  # for the batches after this one
                row = carried.add(dedup.Candidate(ref, *query[:4], query.at, query.text))
        created.append(_NewEvent(ref, it))
        it.event_ref = ref
        if closed_at is not None:
            closed_new[ref] = closed_at
            if carried is not None:
                heapq.heappush(cast(_Carry, ctx.carry).closing, (closed_at, row))
    return created


def _taking(ids: Iterator[int], taken: list[int]) -> Iterator[int]:
    """``ids``, noting each one taken."""
    for i in ids:
        taken.append(i)
        yield i


def _closed_before(closed_at: dt.datetime | None, at: dt.datetime) -> bool:
    return closed_at is not None and closed_at < at


@dataclass
class _NewEvent:
    ref: int  # temporary id until inserted
    first: Item
    reports: int = 1
    last_at: dt.datetime | None = None


def _dispatch_plans(ctx: Context, created: list[_NewEvent]) -> None:
    if not ctx.auto_dispatch:
        return
    for new in created:
        it = new.first
        assert it.place is not None and it.category_key is not None
        it.plan = ctx.planner.plan(
            it.category_key,
            it.place.chain,
            it.received_at,
            cell_code=it.place.cell_code,
            area_class=it.place.area_class,
        )


# -- the batch's rows ----------------------------------------------------------------------------


def _event_columns(ctx: Context, created: list[_NewEvent], planned: list[PlannedRows | None]) -> dict[str, list[Any]]:
    """The new events' columns, built column by column: a dict per row cost more than SQLite's
    insert of it. Their first automatic dispatch (or 会商) is applied from ``planned``."""
    firsts = [new.first for new in created]
    places = [cast(Place, it.place) for it in firsts]
    lons, lats = _floats(it.lon for it in firsts), _floats(it.lat for it in firsts)
    categories = ctx.book.categories
    size = ctx.dedup.bucket_m
    dispatch = [p.event if p else {} for p in planned]
    return {
        # only history arrives closed, and then stays closed whatever its dispatch
        "status": [
            EventStatus.CLOSED if it.data.closed_at else d.get("status", EventStatus.ACCEPTED)
            for it, d in zip(firsts, dispatch, strict=True)
        ],
        "closed_at": [it.data.closed_at for it in firsts],
        "category_id": [categories[cast(str, it.category_key)].id for it in firsts],
        "category_key": [it.category_key for it in firsts],
        "title": [it.title for it in firsts],
        "description": [it.data.description for it in firsts],
        "address": [it.data.address for it in firsts],
        "lon": lons,
        "lat": lats,
        "bucket": [dedup.bucket(x, y, size) for x, y in zip(lons, lats, strict=True)],
        "cell_id": [p.cell_id for p in places],
        "area_class": [p.area_class for p in places],
        "org_id": [p.org_id for p in places],
        "street_id": [p.street_id for p in places],
        "district_id": [p.district_id for p in places],
        "source": [it.source.code for it in firsts],
        "report_count": [new.reports for new in created],
        "first_reported_at": [it.submitted_at for it in firsts],
        "last_reported_at": [new.last_at or new.first.submitted_at for new in created],
        "created_at": [it.received_at for it in firsts],
        "updated_at": [it.received_at for it in firsts],
        **{key: [d.get(key) for d in dispatch] for key in _DISPATCH_COLUMNS},
    }


# What a first dispatch sets on the event row besides its status (``dispatch.assign.rows_for``).
_DISPATCH_COLUMNS = ("unit_id", "deadline_at", "dispatched_at", "dispatch_reason")


def _planned(it: Item) -> PlannedRows | None:
    """The rows of a new event's first dispatch; history the source closed opens no 会商."""
    if it.plan is None:
        return None
    assert it.place is not None and it.category_key is not None
    rows = rows_for(
        it.plan,
        event_id=0,
        org_id=it.place.org_id,
        category_key=it.category_key,
        automatic=True,
        actor_id=None,
        at=it.received_at,
    )
    return rows if it.data.closed_at is None else replace(rows, consultation=None)


def _merge_counts(items: list[Item], created: list[_NewEvent]) -> dict[int, list[dt.datetime]]:
    """Report times merged into each event: batch-new events count them before insert."""
    new_by_ref = {n.ref: n for n in created}
    existing: dict[int, list[dt.datetime]] = defaultdict(list)
    for it in items:
        if it.merged and it.event_ref is not None:
            if it.event_ref in new_by_ref:
                n = new_by_ref[it.event_ref]
                n.reports += 1
                n.last_at = max(n.last_at or n.first.submitted_at, it.submitted_at)
            else:
                existing[it.event_ref].append(it.submitted_at)
    return existing


def _report_columns(ctx: Context, items: list[Item], reporter_user_id: int | None) -> dict[str, list[Any]]:
    """The reports' columns, built column by column (see :func:`_event_columns`)."""
    data = [it.data for it in items]
    decisions = [it.decision for it in items]
    best = [d.best if d else None for d in decisions]
    reasons: dict[tuple[PendingReason, ...], list[str]] = {}  # one list per combination: bound once
    return {
        "channel": [it.source.code for it in items],
        "external_id": [d.external_id for d in data],
        "status": [
            ReportStatus.PENDING if it.pending else ReportStatus.MERGED if it.merged else ReportStatus.CREATED
            for it in items
        ],
        "pending_reasons": [_shared_reasons(reasons, it.pending) for it in items],
        "event_id": [None if it.pending else it.event_ref for it in items],
        "title": [it.title for it in items],
        "description": [d.description for d in data],
        "submitted_at": [it.submitted_at for it in items],
        "received_at": [it.received_at for it in items],
        "reporter_name": [d.reporter_name for d in data],
        "reporter_phone": [d.reporter_phone for d in data],
        "reporter_user_id": [reporter_user_id] * len(items),
        "lon": [it.lon for it in items],
        "lat": [it.lat for it in items],
        "crs": [str(d.crs or it.source.crs) if d.lon is not None else None for it, d in zip(items, data, strict=True)],
        "address": [d.address for d in data],
        "location_source": [it.location_source for it in items],
        "cell_id": [it.place.cell_id if it.place else None for it in items],
        "org_id": [it.org_id or ctx.receiver_org_id for it in items],
        "category_key": [it.category_key for it in items],
        "category_source": [it.category_source for it in items],
        "category_probability": [it.probability for it in items],
        "category_top3": [it.top3 for it in items],
        "dedup_score": [s.value if s else None for s in best],
        "dedup_reason": [d.reason[:300] if d else None for d in decisions],
        "attributes": [d.attributes for d in data],
        "updated_at": [it.received_at for it in items],
    }


def _shared_reasons(memo: dict[tuple[PendingReason, ...], list[str]], pending: list[PendingReason]) -> list[str]:
    key = tuple(pending)
    found = memo.get(key)
    if found is None:
        found = memo[key] = [str(r) for r in pending]
    return found


def _rows(
    ctx: Context, fresh: list[Item], created: list[_NewEvent], reporter_user_id: int | None, now: dt.datetime
) -> Rows:
    """The batch's rows; each report learns what it opened, joined or may repeat (by temporary
    id where the event is new)."""
    merged = _merge_counts(fresh, created)
    # The new events in the order of their dedup bucket, i.e. of place: the events table's
    # indexes (bucket, cell, organisation, unit) then take each chunk in runs of neighbouring
    # keys, a fifth less of the writer's time than in the order reported.
    size = ctx.dedup.bucket_m
    created = sorted(created, key=lambda n: dedup.bucket(cast(float, n.first.lon), cast(float, n.first.lat), size))
    _dispatch_plans(ctx, created)
    planned = [_planned(new.first) for new in created]
    new_by_ref = {n.ref: n for n in created}
    suggestions: list[tuple[int, int, float, str]] = []
    for i, it in enumerate(fresh):
        if it.event_ref is not None:
            new = new_by_ref.get(it.event_ref)
            it.event_is_new, it.event_plan = new is not None, new.first.plan if new else None
        if it.decision is not None and PendingReason.DUPLICATE in it.pending:
            it.suggested = [(s.candidate.event_id, s.value, s.explain()[:300]) for s in it.decision.suggestions]
            suggestions += [(i, e, score, reason) for e, score, reason in it.suggested]
    return Rows(
        [new.ref for new in created],
        _event_columns(ctx, created, planned) if created else {},
        [dict(p.consultation, event_id=n.ref) for n, p in zip(created, planned, strict=True) if p and p.consultation],
        [(e, len(times), min(times), max(times)) for e, times in merged.items()],
        _report_columns(ctx, fresh, reporter_user_id) if fresh else {},
        suggestions,
        BatchAudit(
            [it.event_ref for it in fresh if it.event_ref is not None and not (it.merged or it.pending)],
            [it.event_ref for it in fresh if it.event_ref is not None and it.merged],
            [i for i, it in enumerate(fresh) if it.pending],
            fresh[0].org_id if fresh and len({it.org_id for it in fresh}) == 1 else None,
        ),
        now,
    )


# -- the run -------------------------------------------------------------------------------------


@dataclass
class Decided:
    """A batch decided, not yet written: its result (ids temporary) and what to write."""

    result: Result
    fresh: list[Item]
    rows: Rows


def decide(
    session: Session,
    reports: Sequence[ReportIn],
    ctx: Context,
    *,
    reporter_user_id: int | None = None,
    now: dt.datetime | None = None,
    first: int = 0,
) -> Decided:
    """Everything but the writing; the session is only read. ``first``: the position of the first
    report in the caller's input (results and refusals name positions)."""
    now = now or utcnow()
    items, errors = _normalise(reports, ctx, now, first)
    _repeats(session, ctx, items)
    fresh = [it for it in items if not it.repeated]
    _coordinates(fresh)
    _addresses(session, ctx, fresh)
    fresh = _place(ctx, fresh, errors)
    fresh = _classify(ctx, fresh, errors)
    created = _deduplicate(session, ctx, fresh)
    rows = _rows(ctx, fresh, created, reporter_user_id, now)
    done = sorted([*fresh, *(it for it in items if it.repeated)], key=lambda it: it.index)
    return Decided(Result(done, sorted(errors, key=lambda e: e.index)), fresh, rows)


def settle(ctx: Context, decided: Decided, written: Written) -> Result:
    """Give a written batch's reports their ids, and its new events their real ids (in the
    reports and in the run's carried dedup index)."""
    ids = written.ids
    for it, report_id in zip(decided.fresh, written.report_ids, strict=True):
        it.report_id = report_id
        if it.event_ref is not None:
            it.event_ref = ids.get(it.event_ref, it.event_ref)
        if it.suggested:
            it.suggested = [(ids.get(e, e), score, reason) for e, score, reason in it.suggested]
    if ctx.carry is not None and ctx.carry.index is not None and ids:
        ctx.carry.index.renumber(ids)
    return decided.result


def process(
    session: Session,
    reports: Sequence[ReportIn],
    ctx: Context,
    *,
    reporter_user_id: int | None = None,
    now: dt.datetime | None = None,
) -> Result:
    """Run reports through the pipeline in the caller's transaction. Refused reports come back
    as errors by position and write nothing; the others are all written."""
    with gc_paused():
        decided = decide(session, reports, ctx, reporter_user_id=reporter_user_id, now=now)
        return settle(ctx, decided, write(session, decided.rows, {}))
