"""The analytics lake: the operational store exported to Parquet, month by month, incrementally.

Layout under ``settings.lake_path`` (hive partitioning, which DuckDB and Spark both read)::

    _manifest.json                        schema version and each table's cursor (high-water mark)
    reports/month=2026-01/data.parquet    one file per table and month: reports, events,
    events/…  case_nodes/…  case_steps/…  dispatch_records/…  penalty_cases/…
    dim_orgs/data.parquet                 small dimensions, rewritten whole on every sync:
    dim_categories/…  dim_cells/…  dim_days/…

**Incremental.** Each table has a cursor. Reports and events change in place, so theirs is the
pair (``updated_at``, ``id``) of the last row exported, and a run reads the rows after it, in that
order. A run exports only rows stamped at least ``settings.lake_settle_s`` before it started: a
transaction stamps ``updated_at`` when it flushes but its rows become visible when it commits, so
a row stamped just before a run could still be invisible to it and then fall behind the cursor;
waiting until changes have settled closes that gap (a transaction open longer than the setting
is the remaining risk). Node history, timeline steps and dispatch records are only ever appended,
so their cursor is the id (on PostgreSQL a row whose transaction commits after a run that already
saw a higher id is missed: rerun with ``--full`` after long bulk transactions).

**Upsert by key into whole month files** (rather than appending delta files): a report changes
(placed, classified, merged) long after it arrived, and a reader must see one row per key without a
merge-on-read step that both engines would have to repeat. A run stages the changed rows by month,
then rewrites each touched month: the old file's rows whose key was not re-exported, then the
staged rows, into a temporary file that ``os.replace`` renames over the old one (atomic). A row's
month is its business time (received, first reported, node left, acted), which never changes, so
a key lives in exactly one month file.

**Resumable and idempotent.** A table's cursor advances in the manifest only after every month it
touched is renamed into place. A run that stops half-way leaves some months rewritten and the
cursor where it was; the rerun reads the same rows again and upserts them, which changes nothing.
Staged files of a stopped run are removed when the next starts. A manifest of another schema
version is not trusted: the lake's tables are rebuilt from scratch.

**Memory.** Rows stream from the database ``CHUNK`` at a time straight into staging files; a month
is merged batch by batch, holding only the keys of that month's changed rows.

**No personal data.** Only the columns listed in ``TABLES`` leave the operational store: never the
reporter's name, phone or user id, free text (titles, descriptions, notes, reasons), staff names
or attachments.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import os
import shutil
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import ColumnElement, Table, and_, or_, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from chengguan.calendar import service as calendar_service
from chengguan.cases.models import CaseNode, CaseStep, Event, PenaltyCase
from chengguan.config import Settings
from chengguan.db import utcnow
from chengguan.dispatch.models import DispatchRecord
from chengguan.geo.models import GridCell
from chengguan.intake.models import Report
from chengguan.kit.workcal import WEEKEND, WorkCalendar
from chengguan.orgs.models import OrgKind, org_table
from chengguan.taxonomy.models import Category

SCHEMA_VERSION = 3  # 2: required (non-null) columns; 3: category_id
CHUNK = 50_000  # rows read from the database at a time
ROW_GROUP = 256_000  # rows per Parquet row group in a merged month file
MANIFEST = "_manifest.json"
STAGING = "_staging"
DATA_FILE = "data.parquet"
TS = pa.timestamp("us", tz="UTC")
STREET_KINDS = frozenset({OrgKind.STREET, OrgKind.TOWN})


@dataclass(frozen=True)
class Col:
    """An exported column: its name in the operational table, its Arrow type, its lake name."""

    source: str
    type: pa.DataType
    name: str = ""

    @property
    def lake_name(self) -> str:
        return self.name or self.source


@dataclass(frozen=True)
class TableSpec:
    name: str
    table: Table
    columns: tuple[Col, ...]
    time_column: str  # business time: the month partition and the local day/hour/weekday
    cursor: str  # "updated_at" (changes in place) or "id" (append-only)

    @property
    def schema(self) -> pa.Schema:
        """The lake's columns; those the model declares NOT NULL (and what is derived from them) are
        required in Parquet: a required column has no definition levels to decode (counts by day over
        4 M records: 0.047 → 0.033 CPU s). A null in one makes the writer fail instead of writing a file
        that breaks that promise."""
        fields = [pa.field(c.lake_name, c.type, nullable=self._nullable(c.source)) for c in self.columns]
        fields += [pa.field(name, typ, nullable=self._nullable(source)) for name, typ, source in DERIVED]
        # looked up in a dimension after the fact: a key the dimension lacks gives a null
        if self.has("cell_id"):
            fields.append(pa.field("cell_code", pa.string()))
        if self.has("category_key"):
            fields.append(pa.field("major_key", pa.string()))
            fields.append(pa.field("category_id", pa.int64()))
        return pa.schema(fields)

    def _nullable(self, source: str | None) -> bool:
        if source is None:
            return True
        return bool(self.table.c[self.time_column if source == TIME else source].nullable)

    def has(self, source: str) -> bool:
        return any(c.source == source for c in self.columns)


# Derived from the business time (in the city's time zone) and the org tree, on every fact table,
# each with the column it may be null only where that one is (None: always nullable, as an org need
# not lie in a district or street). Every org row is in the sync's org lookup (read first, and orgs
# are never deleted); an org created during a run fails the run at the null path, and the rerun
# picks it up.
TIME = "time"  # the table's business time
DERIVED: tuple[tuple[str, pa.DataType, str | None], ...] = (
    ("day", pa.date32(), TIME),
    ("hour", pa.int8(), TIME),
    ("weekday", pa.int8(), TIME),  # ISO: Monday 1 … Sunday 7
    ("area_path", pa.string(), "org_id"),
    ("district_id", pa.int64(), None),
    ("street_id", pa.int64(), None),
)

I64, STR, F64, I32, BOOL = pa.int64(), pa.string(), pa.float64(), pa.int32(), pa.bool_()
_PLACE = (Col("org_id", I64), Col("cell_id", I64), Col("lon", F64), Col("lat", F64))

TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        "reports",
        Report.__table__,  # type: ignore[arg-type]
        (
            Col("id", I64),
            Col("channel", STR, "source"),
            Col("status", STR),
            Col("event_id", I64),
            Col("submitted_at", TS),
            Col("received_at", TS),
            *_PLACE,
            Col("location_source", STR),
            Col("category_key", STR),
            Col("category_source", STR),
            Col("updated_at", TS),
        ),
        time_column="received_at",
        cursor="updated_at",
    ),
    TableSpec(
        "events",
        Event.__table__,  # type: ignore[arg-type]
        (
            Col("id", I64),
            Col("source", STR),
            Col("status", STR),
            Col("category_key", STR),
            *_PLACE,
            Col("area_class", STR),
            Col("unit_id", I64),
            Col("report_count", I32),
            Col("first_reported_at", TS),
            Col("last_reported_at", TS),
            Col("dispatched_at", TS),
            Col("closed_at", TS),
            Col("deadline_at", TS),
            Col("light", STR),
            Col("supervision_count", I32),
            Col("rework_count", I32),
            Col("updated_at", TS),
        ),
        time_column="first_reported_at",
        cursor="updated_at",
    ),
    TableSpec(
        "case_nodes",
        CaseNode.__table__,  # type: ignore[arg-type]
        (
            Col("id", I64),
            Col("subject", STR),
            Col("subject_id", I64),
            Col("org_id", I64),
            Col("state", STR),
            Col("holder_id", I64),
            Col("entered_at", TS),
            Col("left_at", TS),
            Col("due_at", TS),
            Col("working_s", F64),
            Col("limit_s", F64),
            Col("light", STR),
            Col("action", STR),
        ),
        time_column="left_at",
        cursor="id",
    ),
    TableSpec(
        "case_steps",
        CaseStep.__table__,  # type: ignore[arg-type]
        (
            Col("id", I64),
            Col("subject", STR),
            Col("subject_id", I64),
            Col("org_id", I64),
            Col("action", STR),
            Col("from_state", STR),
            Col("to_state", STR),
            Col("actor_id", I64),
            Col("automatic", BOOL),
            Col("at", TS),
        ),
        time_column="at",
        cursor="id",
    ),
    TableSpec(
        "dispatch_records",
        DispatchRecord.__table__,  # type: ignore[arg-type]
        (
            Col("id", I64),
            Col("event_id", I64),
            Col("org_id", I64),
            Col("unit_id", I64),
            Col("category_key", STR),
            Col("rule_id", I64),
            Col("row_no", I32),
            Col("basis", STR),
            Col("automatic", BOOL),
            Col("replaced_unit_id", I64),
            Col("deadline_at", TS),
            Col("at", TS),
        ),
        time_column="at",
        cursor="id",
    ),
    TableSpec(
        "penalty_cases",  # 行政处罚: the enforcement side of "report vs enforcement"; never the party
        PenaltyCase.__table__,  # type: ignore[arg-type]
        (
            Col("id", I64),
            Col("org_id", I64),
            Col("agency_id", I64),
            Col("event_id", I64),
            Col("source", STR),
            Col("procedure", STR),
            Col("status", STR),
            Col("penalty_kind", STR),
            Col("outcome", STR),
            Col("fine_yuan", I64),
            Col("discovered_at", TS),
            Col("filed_at", TS),
            Col("decided_at", TS),
            Col("closed_at", TS),
            Col("updated_at", TS),
        ),
        time_column="discovered_at",
        cursor="updated_at",
    ),
)
TABLE_NAMES = tuple(t.name for t in TABLES)
DIMENSIONS = ("dim_orgs", "dim_categories", "dim_cells", "dim_days")


@dataclass(frozen=True)
class TableSync:
    rows: int  # rows exported by this run (re-read overlap included)
    months: int  # month files rewritten

    def __str__(self) -> str:
        return f"{self.rows} rows, {self.months} months"


# -- the manifest -------------------------------------------------------------------------------


@dataclass
class Manifest:
    schema_version: int = SCHEMA_VERSION
    cursors: dict[str, Any] = field(default_factory=dict)  # table → {"at": ISO time, "id": id} or id
    synced_at: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, root: Path) -> Manifest:
        path = root / MANIFEST
        if not path.exists():
            return cls()
        data = json.loads(path.read_text())
        return cls(data["schema_version"], data.get("cursors", {}), data.get("synced_at", {}))

    def write(self, root: Path) -> None:
        body = {"schema_version": self.schema_version, "cursors": self.cursors, "synced_at": self.synced_at}
        _write_atomic_bytes(root / MANIFEST, json.dumps(body, indent=2, sort_keys=True).encode())


def _write_atomic_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


# -- Parquet writing ---------------------------------------------------------------------------


class _Writer:
    """A Parquet file written batch by batch, gathering ``buffer_rows`` rows per row group, and
    flushed to disk on close (so the rename that follows publishes a complete file).

    A staging file (``staging=True``) is read back once by the same run and discarded by any other:
    it is neither compressed nor flushed to disk (no durability is asked of it)."""

    def __init__(self, path: Path, schema: pa.Schema, buffer_rows: int = 0, staging: bool = False) -> None:
        self._file = open(path, "wb")  # noqa: SIM115 (closed in close())
        self._writer = pq.ParquetWriter(self._file, schema, compression="none" if staging else "zstd")
        self._buffer: list[pa.RecordBatch] = []
        self._buffered = 0
        self._buffer_rows = buffer_rows
        self._durable = not staging

    def write(self, batch: pa.RecordBatch | pa.Table) -> None:
        if batch.num_rows == 0:
            return
        if self._buffer_rows == 0:
            self._writer.write(batch)
            return
        self._buffer.extend(batch.to_batches() if isinstance(batch, pa.Table) else [batch])
        self._buffered += batch.num_rows
        if self._buffered >= self._buffer_rows:
            self._flush()

    def _flush(self) -> None:
        if self._buffer:
            self._writer.write_table(pa.Table.from_batches(self._buffer), row_group_size=self._buffer_rows)
        self._buffer, self._buffered = [], 0

    def close(self) -> None:
        self._flush()
        self._writer.close()
        self._file.flush()
        if self._durable:
            os.fsync(self._file.fileno())
        self._file.close()

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def write_table_file(directory: Path, table: pa.Table) -> None:
    """Publish ``table`` as ``directory/data.parquet`` in one atomic rename."""
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{DATA_FILE}.tmp"
    with _Writer(tmp, table.schema, ROW_GROUP) as out:
        out.write(table)
    os.replace(tmp, directory / DATA_FILE)


# A month's rows are kept in cell order: the 三高 queries group by cell, and runs of one cell keep
# the aggregation's hash table hot (6 months, 10 M rows: counts by cell 0.17 → 0.08–0.11 CPU s,
# the 小类 × cell × hour cube 2.5–2.8 → 1.7) and compress better (files 13 % smaller).
CLUSTER = "cell_id"


def merge_month(month_dir: Path, staged: Path, key: str) -> None:
    """Upsert the staged rows into the month's file: old rows whose key was re-exported are dropped;
    the month is written in ``CLUSTER`` order (then by ``key``) where its table has that column."""
    month_dir.mkdir(parents=True, exist_ok=True)
    target = month_dir / DATA_FILE
    staged_file = pq.ParquetFile(staged)
    keys = pq.read_table(staged, columns=[key]).column(key).combine_chunks()
    batches: list[pa.RecordBatch] = []
    if target.exists():
        for batch in pq.ParquetFile(target).iter_batches(batch_size=ROW_GROUP):
            batches.append(batch.filter(pc.invert(pc.is_in(batch.column(key), value_set=keys))))
    batches += staged_file.iter_batches(batch_size=ROW_GROUP)
    month = pa.Table.from_batches(batches, staged_file.schema_arrow)
    if CLUSTER in month.column_names:
        month = month.sort_by([(CLUSTER, "ascending"), (key, "ascending")])
    tmp = month_dir / f".{DATA_FILE}.tmp"
    with _Writer(tmp, staged_file.schema_arrow, ROW_GROUP) as out:
        out.write(month)
    os.replace(tmp, target)


# -- lookups: the org tree, the taxonomy, the cells ---------------------------------------------


@dataclass(frozen=True)
class Lookup:
    """A small key → columns map applied to a whole Arrow column at once."""

    keys: pa.Array
    values: dict[str, pa.Array]

    def take(self, column: pa.Array, name: str) -> pa.Array:
        return pc.take(self.values[name], pc.index_in(column, value_set=self.keys))


@dataclass(frozen=True)
class Context:
    tz: str
    orgs: Lookup  # org id → area_path, district_id, street_id
    categories: Lookup  # category key → major_key, category_id
    cells: Lookup  # cell id → cell_code


def _ancestor_of_kind(org_id: int, rows: dict[int, Any], kinds: Iterable[str]) -> int | None:
    wanted = frozenset(kinds)
    current: int | None = org_id
    while current is not None:
        row = rows[current]
        if row.kind in wanted:
            return current
        current = row.parent_id
    return None


def org_frame(session: Session) -> pa.Table:
    """Every organisation with its path and the district and street it lies in (or none)."""
    c = org_table.c
    rows = {r.id: r for r in session.execute(select(c.id, c.code, c.name, c.kind, c.parent_id, c.path))}
    ids = sorted(rows)
    return pa.table(
        {
            "id": pa.array(ids, I64),
            "code": pa.array([rows[i].code for i in ids], STR),
            "name": pa.array([rows[i].name for i in ids], STR),
            "kind": pa.array([rows[i].kind for i in ids], STR),
            "parent_id": pa.array([rows[i].parent_id for i in ids], I64),
            "path": pa.array([rows[i].path for i in ids], STR),
            "district_id": pa.array([_ancestor_of_kind(i, rows, {OrgKind.DISTRICT}) for i in ids], I64),
            "street_id": pa.array([_ancestor_of_kind(i, rows, STREET_KINDS) for i in ids], I64),
        }
    )


def category_frame(session: Session) -> pa.Table:
    """Every category with its id and the key of its 大类 (a 大类's own key for itself)."""
    rows = session.execute(select(Category.id, Category.key, Category.name, Category.level, Category.parent_id)).all()
    key_of = {r.id: r.key for r in rows}
    return pa.table(
        {
            "id": pa.array([r.id for r in rows], I64),
            "key": pa.array([r.key for r in rows], STR),
            "name": pa.array([r.name for r in rows], STR),
            "level": pa.array([r.level for r in rows], STR),
            "major_key": pa.array([key_of[r.parent_id] if r.parent_id else r.key for r in rows], STR),
        }
    )


def cell_frame(session: Session, orgs: Lookup) -> pa.Table:
    """Every unit grid cell with its centre (of its bounding box: enough for hotspot distances)."""
    g = GridCell.__table__.c
    rows = session.execute(select(g.id, g.code, g.org_id, g.min_lon, g.min_lat, g.max_lon, g.max_lat)).all()
    org_ids = pa.array([r.org_id for r in rows], I64)
    return pa.table(
        {
            "id": pa.array([r.id for r in rows], I64),
            "code": pa.array([r.code for r in rows], STR),
            "org_id": org_ids,
            "area_path": orgs.take(org_ids, "area_path"),
            "district_id": orgs.take(org_ids, "district_id"),
            "street_id": orgs.take(org_ids, "street_id"),
            "lon": pa.array([(r.min_lon + r.max_lon) / 2 for r in rows], F64),
            "lat": pa.array([(r.min_lat + r.max_lat) / 2 for r in rows], F64),
        }
    )


def day_frame(calendar: WorkCalendar, first: dt.date, last: dt.date) -> pa.Table:
    """Every day from ``first`` to ``last``: working or not, and why (holiday, weekend, 调休 workday)."""
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    working = [calendar.is_working_day(d) for d in days]
    kinds = [_day_kind(d.weekday() in WEEKEND, w) for d, w in zip(days, working, strict=True)]
    return pa.table({"day": pa.array(days, pa.date32()), "working": pa.array(working, BOOL), "kind": kinds})


def _day_kind(weekend: bool, working: bool) -> str:
    if working:
        return "makeup" if weekend else "workday"
    return "weekend" if weekend else "holiday"


def _lookup(table: pa.Table, key: str, renames: dict[str, str]) -> Lookup:
    return Lookup(
        table.column(key).combine_chunks(), {new: table.column(old).combine_chunks() for old, new in renames.items()}
    )


# -- turning database rows into Arrow ---------------------------------------------------------


def _column(values: Sequence[Any], typ: pa.DataType) -> pa.Array:
    """Raw driver values as an Arrow column of ``typ``. SQLite hands back timestamps as text (UTC,
    as ``UTCDateTime`` stores them) and booleans as integers, PostgreSQL aware datetimes: Arrow
    infers what it got and casts the whole column, rather than Python building a value at a time."""
    raw = pa.array(values)
    if typ == TS and pa.types.is_string(raw.type):
        raw = raw.cast(pa.timestamp("us"))
    return raw.cast(typ)


def to_arrow(spec: TableSpec, rows: Sequence[Sequence[Any]], ctx: Context) -> tuple[pa.Table, pa.Array]:
    """One chunk of raw rows as the lake's columns, and the month ("2026-01") of each row."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in spec.columns]
    data = {c.lake_name: _column(values, c.type) for c, values in zip(spec.columns, columns, strict=True)}
    local = data[spec.time_column].cast(pa.timestamp("us", tz=ctx.tz))
    data["day"] = pc.cast(pc.local_timestamp(local), pa.date32())
    data["hour"] = pc.cast(pc.hour(local), pa.int8())
    data["weekday"] = pc.cast(pc.day_of_week(local, count_from_zero=False, week_start=1), pa.int8())
    for name in ("area_path", "district_id", "street_id"):
        data[name] = ctx.orgs.take(data["org_id"], name)
    if spec.has("cell_id"):
        data["cell_code"] = ctx.cells.take(data["cell_id"], "cell_code")
    if spec.has("category_key"):
        data["major_key"] = ctx.categories.take(data["category_key"], "major_key")
        data["category_id"] = ctx.categories.take(data["category_key"], "category_id")
    return pa.table(data, schema=spec.schema), _months(local)


def _months(local: pa.Array) -> pa.Array:
    """Each local time's month as "2026-01": formatted once per distinct month and spread by index
    (``strftime`` per value was a tenth of a sync's CPU time)."""
    numbers = pc.add(pc.multiply(pc.year(local), 100), pc.month(local))
    distinct = pc.unique(numbers)
    names = pa.array([f"{n // 100:04d}-{n % 100:02d}" for n in distinct.to_pylist()], STR)
    return pc.take(names, pc.index_in(numbers, value_set=distinct))


# -- the sync ---------------------------------------------------------------------------------


def _context(session: Session, settings: Settings) -> tuple[Context, dict[str, pa.Table]]:
    orgs = org_frame(session)
    org_lookup = _lookup(orgs, "id", {"path": "area_path", "district_id": "district_id", "street_id": "street_id"})
    categories = category_frame(session)
    cells = cell_frame(session, org_lookup)
    ctx = Context(
        tz=settings.timezone,
        orgs=org_lookup,
        categories=_lookup(categories, "key", {"major_key": "major_key", "id": "category_id"}),
        cells=_lookup(cells, "id", {"code": "cell_code"}),
    )
    return ctx, {"dim_orgs": orgs, "dim_categories": categories, "dim_cells": cells}


def _changed(spec: TableSpec, cursor: Any, settled: dt.datetime) -> ColumnElement[bool] | None:
    c = spec.table.c
    if spec.cursor == "id":
        return None if cursor is None else c.id > int(cursor)
    if cursor is None:
        return c.updated_at < settled
    at = dt.datetime.fromisoformat(cursor["at"])
    return and_(c.updated_at < settled, or_(c.updated_at > at, and_(c.updated_at == at, c.id > cursor["id"])))


def _last(table: pa.Table, spec: TableSpec) -> Any:
    """The cursor after this chunk: the largest id, or the largest (updated_at, id)."""
    if spec.cursor == "id":
        return pc.max(table.column("id")).as_py()
    at = pc.max(table.column("updated_at"))
    last_id = pc.max(table.filter(pc.equal(table.column("updated_at"), at)).column("id")).as_py()
    return (at.as_py(), last_id)


def _stream(session: Session, spec: TableSpec, where: ColumnElement[bool] | None) -> Iterator[list[Any]]:
    # NullType: the driver's values as they come, without a Python conversion per value (an aware
    # datetime per timestamp was most of a sync's time); to_arrow converts whole columns instead
    stmt = select(*(type_coerce(spec.table.c[c.source], NullType()) for c in spec.columns))
    if where is not None:
        stmt = stmt.where(where)
    result = session.execute(stmt.execution_options(yield_per=CHUNK))
    for part in result.partitions():
        yield list(part)


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Python's cycle collector off while rows are read and converted. Every chunk allocates hundreds of
    thousands of row tuples, which hold no cycles but keep triggering collections that walk every live
    object: half of a sync's CPU time (stream + to_arrow 1.9 → 0.8 CPU s per 200,000 reports)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _stage(
    session: Session, spec: TableSpec, ctx: Context, staging: Path, where: ColumnElement[bool] | None
) -> tuple[int, Any]:
    """Write the changed rows to one staging file per month; the row count and the new cursor."""
    writers: dict[str, _Writer] = {}
    rows, cursor = 0, None
    try:
        for chunk in _stream(session, spec, where):
            table, months = to_arrow(spec, chunk, ctx)
            rows += table.num_rows
            last = _last(table, spec)
            cursor = last if cursor is None else max(cursor, last)
            for month in pc.unique(months).to_pylist():
                if month not in writers:
                    writers[month] = _Writer(staging / f"{month}.parquet", spec.schema, staging=True)
                writers[month].write(table.filter(pc.equal(months, month)))
    finally:
        for writer in writers.values():
            writer.close()
    return rows, cursor


def _sync_table(
    session: Session, spec: TableSpec, ctx: Context, root: Path, manifest: Manifest, settled: dt.datetime
) -> TableSync:
    staging = root / STAGING / spec.name
    shutil.rmtree(staging, ignore_errors=True)  # what a stopped run left
    staging.mkdir(parents=True)
    with _cycle_collector_paused():
        rows, cursor = _stage(session, spec, ctx, staging, _changed(spec, manifest.cursors.get(spec.name), settled))
    staged = sorted(staging.glob("*.parquet"))
    for path in staged:
        merge_month(root / spec.name / f"month={path.stem}", path, "id")
    shutil.rmtree(staging)
    if isinstance(cursor, tuple):
        manifest.cursors[spec.name] = {"at": cursor[0].isoformat(), "id": cursor[1]}
    elif cursor is not None:
        manifest.cursors[spec.name] = cursor
    manifest.synced_at[spec.name] = utcnow().isoformat()
    manifest.write(root)
    return TableSync(rows, len(staged))


def _reset(root: Path) -> Manifest:
    for name in (*TABLE_NAMES, *DIMENSIONS, STAGING):
        shutil.rmtree(root / name, ignore_errors=True)
    manifest = Manifest()
    manifest.write(root)
    return manifest


def months_present(root: Path) -> list[str]:
    """Every month any fact table holds, sorted ("2026-01")."""
    found = {p.name.removeprefix("month=") for name in TABLE_NAMES for p in (root / name).glob("month=*")}
    return sorted(found)


def _write_days(session: Session, root: Path, today: dt.date) -> None:
    months = months_present(root)
    first_year = int(months[0][:4]) if months else today.year
    last_year = max(int(months[-1][:4]) if months else today.year, today.year)
    calendar = calendar_service.get_calendar(session)
    write_table_file(root / "dim_days", day_frame(calendar, dt.date(first_year, 1, 1), dt.date(last_year, 12, 31)))


def sync(session: Session, settings: Settings, full: bool = False) -> dict[str, TableSync]:
    """Export what changed since the last sync into the lake (the worker's ``lake_sync`` job).

    Reads only; safe to interrupt and rerun (see the module docstring). ``full`` rebuilds the
    lake from nothing, as does a manifest of another schema version."""
    root = settings.lake_path
    root.mkdir(parents=True, exist_ok=True)
    manifest = Manifest.read(root)
    if full or manifest.schema_version != SCHEMA_VERSION:
        manifest = _reset(root)
    ctx, dims = _context(session, settings)
    settled = utcnow() - dt.timedelta(seconds=settings.lake_settle_s)
    done = {spec.name: _sync_table(session, spec, ctx, root, manifest, settled) for spec in TABLES}
    shutil.rmtree(root / STAGING)
    for name, table in dims.items():
        write_table_file(root / name, table)
    _write_days(session, root, utcnow().astimezone(settings.tz).date())
    return done
