"""Engine, sessions and the column types every domain shares.

Services never commit: the unit of work (`unit_of_work`) commits at the edge — the request
dependency, the job runner, the CLI wrapper.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import chain
from typing import Any, cast

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    event,
    func,
    select,
    text,
)
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from chengguan.kit import sqlitelock

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Integer on SQLite keeps ROWID aliasing (fast inserts); BIGINT elsewhere for high-volume tables.
BigId = BigInteger().with_variant(Integer(), "sqlite")
JsonDoc = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out — on SQLite too, which drops the zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a time zone")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Geometry(TypeDecorator[BaseGeometry]):
    """Shapely geometry stored as WKB (bytea / BLOB): no PostGIS needed, same on both stores."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: BaseGeometry | None, dialect: Dialect) -> bytes | None:
        return None if value is None else shapely.to_wkb(value, include_srid=False)

    def process_result_value(self, value: bytes | None, dialect: Dialect) -> BaseGeometry | None:
        return None if value is None else shapely.from_wkb(value)

    def compare_values(self, x: Any, y: Any) -> bool:
        if x is None or y is None:
            return x is y
        return bool(shapely.equals_exact(x, y, tolerance=0))


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


BUSY_TIMEOUT_S = 10.0  # how long an SQLite writer waits for another before failing
# Page cache per connection (KiB; SQLite's default is 2 MiB). The bulk intake path updates a
# dozen indexes and checks a dozen foreign keys a row: with 2 MiB their pages are read back from
# the OS for every batch, which halved its insert rate at 60,000 rows.
CACHE_KIB = 65_536
SQLITE_VARIABLES = 32_766  # the most bound parameters a statement takes (SQLite ≥ 3.32)


def _sqlite_pragmas(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000:.0f}")
    cur.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    # statement journals and sorts in memory: a statement on a table with triggers journals the
    # pages it changes, and past 64 KiB (the events table's dozen indexes) SQLite spills that to a
    # temporary file, every statement
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


def refresh_statistics(session: Session) -> str:
    """Keep the query planner's statistics current. SQLite has none until ``ANALYZE`` runs, and
    without them it picks the scope's indexes over the covering ones for the map and the sweep
    (seconds instead of a fraction); ``PRAGMA optimize`` re-analyses only the tables that changed
    enough, each within ``analysis_limit`` rows. PostgreSQL's autovacuum keeps its own."""
    if session.get_bind().dialect.name != "sqlite":
        return "autovacuum"
    session.execute(text("PRAGMA analysis_limit=400"))
    session.execute(text("PRAGMA optimize"))
    return "optimized"


def create_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"check_same_thread": False})
        engine = sa_create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        if engine.url.database and engine.url.database != ":memory:":
            sqlitelock.install(engine, engine.url.database, timeout=BUSY_TIMEOUT_S)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return sa_create_engine(url, **kwargs)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def statements_sent(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """The (statement, parameters) pairs ``engine`` sends while the block runs, as sent (after the
    scoping listener): what a check of a query's plan needs."""
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", capture)


def sqlite_plan(session: Session, statement: str, parameters: Any) -> str:
    """SQLite's ``EXPLAIN QUERY PLAN`` of a sent statement, its steps joined by " | "."""
    driver = session.connection().connection.driver_connection
    assert driver is not None  # a checked-out connection has its driver's
    cursor = driver.cursor()
    return " | ".join(row[-1] for row in cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters))


@contextmanager
def unit_of_work(factory: sessionmaker[Session], **info: Any) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error. ``info`` (e.g. the actor)
    is attached to the session for the audit and scoping listeners."""
    session = factory()
    session.info.update(info)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def bulk_insert(
    session: Session, model: type[Base], rows: Sequence[dict[str, Any]], *, return_ids: bool = False
) -> list[int]:
    """:func:`bulk_insert_columns` for rows given as dicts (a key missing from a row is NULL)."""
    keys = dict.fromkeys(k for row in rows for k in row)
    return bulk_insert_columns(session, model, {k: [row.get(k) for row in rows] for k in keys}, return_ids=return_ids)


def bulk_insert_columns(
    session: Session, model: type[Base], columns: Mapping[str, Sequence[Any]], *, return_ids: bool = False
) -> list[int]:
    """Insert many rows, given column by column (every column as long as the others), with one
    driver executemany in the session's transaction; their new ids in row order if asked.
    Nullable columns and columns with a default may be left out. No ORM events fire, so the
    caller writes the audit.

    This is the bulk intake path (tens of thousands of rows a second), so it skips what costs
    there: ``insert().returning(..., sort_by_parameter_order=True)`` falls back to one statement
    per row on SQLite, and Core's per-row parameter building costs more than SQLite's insert.
    Values go through each column type's own bind processor, column by column, once per value:
    a batch repeats the same times (by value) and the same JSON documents (by object) across its
    rows and columns. Ids come from the PostgreSQL sequence (reserved first) or, on SQLite, from
    the rowid rule: a table without AUTOINCREMENT gives a new row max(rowid) + 1, and this
    transaction holds the only write lock from its first insert, so the batch's rows get the ids
    just below the new maximum."""
    n = len(next(iter(columns.values()), ()))
    if not n:
        return []
    table = cast(Table, model.__table__)
    connection = session.connection()
    dialect = connection.dialect
    bound: dict[str, Sequence[Any]] = dict(columns)
    ids: list[int] = []
    if return_ids and dialect.name == "postgresql":
        sequence = connection.scalar(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name})
        ids = list(connection.scalars(text("SELECT nextval(:s) FROM generate_series(1, :n)"), {"s": sequence, "n": n}))
        bound["id"] = ids
    for column in table.c:
        if column.key not in bound and column.default is not None:
            default = column.default
            value = default.arg(None) if default.is_callable else default.arg  # type: ignore[attr-defined]
            bound[column.key] = [value] * n
    times: dict[Any, Any] = {}  # one memo for every time column: an event's times repeat its report's
    for key, values in bound.items():
        # the dialect's own type (JSONB on PostgreSQL): the bare type has no processor there
        process = table.c[key].type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            by_value = isinstance(table.c[key].type, UTCDateTime)
            bound[key] = _bind_once(process, values, times if by_value else {}, by_value=by_value)
    prepare = dialect.identifier_preparer
    names = ", ".join(prepare.quote(table.c[k].name) for k in bound)
    marks = "({})".format(", ".join(["?" if dialect.paramstyle == "qmark" else "%s"] * len(bound)))
    head = f"INSERT INTO {prepare.format_table(table)} ({names}) VALUES"
    rows = list(zip(*bound.values(), strict=True))
    if dialect.name == "sqlite":
        # Many rows a statement: SQLite opens a statement journal for each statement it runs on a
        # table with triggers (the events' map counts), which an executemany pays every row
        # (+80 µs a row on the events table; +11 µs in statements of ~1,000 rows).
        per = max(1, SQLITE_VARIABLES // len(bound))
        for start in range(0, n, per):
            chunk = rows[start : start + per]
            connection.exec_driver_sql(f"{head} {', '.join([marks] * len(chunk))}", tuple(chain.from_iterable(chunk)))
    else:
        connection.exec_driver_sql(f"{head} {marks}", rows)
    if not return_ids or ids:
        return ids
    last = connection.scalar(select(func.max(table.c.id)))
    assert last is not None
    return list(range(last - n + 1, last + 1))


def _bind_once(
    process: Callable[[Any], Any], values: Sequence[Any], memo: dict[Any, Any], *, by_value: bool
) -> list[Any]:
    """``process`` applied to each value, once per distinct value (``by_value``, for hashable
    types) or per distinct object (JSON documents, unhashable: the objects outlive the call, so
    their ids stay theirs)."""
    if by_value:
        return [memo[v] if v in memo else memo.setdefault(v, process(v)) for v in values]
    return [memo[i] if (i := id(v)) in memo else memo.setdefault(i, process(v)) for v in values]
