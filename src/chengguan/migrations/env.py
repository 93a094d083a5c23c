from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from chengguan.auth import scoping  # noqa: F401 - registers listeners before any session exists
from chengguan.db import create_engine
from chengguan.migrations.ddl import add_table_ddl
from chengguan.schema import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        process_revision_directives=add_table_ddl(target_metadata),
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run `chengguan db upgrade`")
run_migrations()
