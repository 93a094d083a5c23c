"""Dialect-specific DDL that tables declare and autogenerate carries into the migration.

A model puts statements in its table's ``info``::

    __table_args__ = ({"info": {"ddl": {"postgresql": ["CREATE TRIGGER …"], "sqlite": ["…"]}}},)

and :func:`add_table_ddl` (a ``process_revision_directives`` hook) appends
``op.execute_if(dialect, sql)`` after the table's creation in the generated revision, so
triggers such as the evidence log's append-only guard live in version-controlled migrations.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from alembic.autogenerate import renderers
from alembic.autogenerate.api import AutogenContext
from alembic.operations import MigrateOperation, Operations
from alembic.operations.ops import CreateTableOp, MigrationScript, UpgradeOps
from sqlalchemy import MetaData


@Operations.register_operation("execute_if")
class ExecuteIfOp(MigrateOperation):
    """Run ``sql`` only on ``dialect``."""

    def __init__(self, dialect: str, sql: str) -> None:
        self.dialect = dialect
        self.sql = sql

    @classmethod
    def execute_if(cls, operations: Operations, dialect: str, sql: str) -> None:
        operations.invoke(cls(dialect, sql))


@Operations.implementation_for(ExecuteIfOp)
def _execute_if(operations: Operations, operation: ExecuteIfOp) -> None:
    if operations.get_bind().dialect.name == operation.dialect:
        operations.execute(operation.sql)


@renderers.dispatch_for(ExecuteIfOp)
def _render(_context: AutogenContext, operation: ExecuteIfOp) -> str:
    return f"op.execute_if({operation.dialect!r}, {operation.sql!r})"


def add_table_ddl(metadata: MetaData) -> Any:
    def hook(_context: Any, _revision: Any, directives: list[MigrationScript]) -> None:
        for upgrade in directives[0].upgrade_ops_list:
            upgrade.ops[:] = list(_with_ddl(metadata, upgrade))

    return hook


def _with_ddl(metadata: MetaData, upgrade: UpgradeOps) -> Iterable[MigrateOperation]:
    for operation in upgrade.ops:
        yield operation
        if isinstance(operation, CreateTableOp):
            table = metadata.tables.get(operation.table_name)
            for dialect, statements in (table.info.get("ddl", {}) if table is not None else {}).items():
                for sql in statements:
                    yield ExecuteIfOp(dialect, sql)
