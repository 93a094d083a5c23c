from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from chengguan import migrate
from chengguan.schema import Base


def test_migrations_build_exactly_the_models(app) -> None:
    """The database the migrations built (SQLite or PostgreSQL) has nothing autogenerate would change."""
    with app.state.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        assert migrate.current_revision(conn) == migrate.head_revision()


def test_there_is_a_single_head() -> None:
    assert len(ScriptDirectory(str(migrate.MIGRATIONS)).get_heads()) == 1
