"""Engine, sessions and the column types every domain shares.

Services never commit: the unit of work (`unit_of_work`) commits at the edge — the request
dependency, the job runner, the CLI wrapper.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
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


def _sqlite_pragmas(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000:.0f}")
    cur.close()


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
    """Insert many rows with one driver executemany in the session's transaction; their new ids
    in row order if asked. Rows may leave out nullable columns (NULL) and columns with a default.
    No ORM events fire, so the caller writes the audit.

    This is the bulk intake path (tens of thousands of rows a second), so it skips what costs
    there: ``insert().returning(..., sort_by_parameter_order=True)`` falls back to one statement
    per row on SQLite, and Core's per-row parameter building costs more than SQLite's insert.
    Values go through each column type's own bind processor, column by column. Ids come from
    the PostgreSQL sequence (reserved first) or, on SQLite, from the rowid rule: a table without
    AUTOINCREMENT gives a new row max(rowid) + 1, and this transaction holds the only write lock
    from its first insert, so the batch's rows get the ids just below the new maximum."""
    if not rows:
        return []
    table = cast(Table, model.__table__)
    connection = session.connection()
    dialect = connection.dialect
    keys = list(dict.fromkeys(k for row in rows for k in row))
    columns = {k: [row.get(k) for row in rows] for k in keys}
    ids: list[int] = []
    if return_ids and dialect.name == "postgresql":
        sequence = connection.scalar(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name})
        ids = list(
            connection.scalars(text("SELECT nextval(:s) FROM generate_series(1, :n)"), {"s": sequence, "n": len(rows)})
        )
        columns["id"] = list(ids)
    for column in table.c:
        if column.key not in columns and column.default is not None:
            default = column.default
            value = default.arg(None) if default.is_callable else default.arg  # type: ignore[attr-defined]
            columns[column.key] = [value] * len(rows)
    times: dict[dt.datetime | None, Any] = {}  # bound once each: a batch's rows and columns repeat them
    for key, values in columns.items():
        # the dialect's own type (JSONB on PostgreSQL): the bare type has no processor there
        process = table.c[key].type.dialect_impl(dialect).bind_processor(dialect)
        if process is None:
            continue
        if isinstance(table.c[key].type, UTCDateTime):
            columns[key] = [times[v] if v in times else times.setdefault(v, process(v)) for v in values]
        else:
            columns[key] = [process(v) for v in values]
    prepare = dialect.identifier_preparer
    names = ", ".join(prepare.quote(table.c[k].name) for k in columns)
    marks = ", ".join(["?" if dialect.paramstyle == "qmark" else "%s"] * len(columns))
    sql = f"INSERT INTO {prepare.format_table(table)} ({names}) VALUES ({marks})"
    connection.exec_driver_sql(sql, list(zip(*columns.values(), strict=True)))
    if not return_ids or ids:
        return ids
    last = connection.scalar(select(func.max(table.c.id)))
    assert last is not None
    return list(range(last - len(rows) + 1, last + 1))
