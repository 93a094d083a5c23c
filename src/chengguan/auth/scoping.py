"""Organisation scoping, enforced once: every ORM query in a session that carries a
``Scope`` in ``session.info["scope"]`` gets the scope condition of each ``OrgScoped`` model.

Platform work (CLI, worker, demo) runs without a scope and sees everything.
"""

from __future__ import annotations

import functools

from sqlalchemy import ColumnElement, event, false
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria
from sqlalchemy.sql.base import ExecutableOption

from chengguan.audit import Actor, AuditEntry
from chengguan.db import Base
from chengguan.orgs.models import Organisation, OrgScoped, Scope

ScopedModel = type[OrgScoped] | type[Organisation] | type[AuditEntry]
_cache: dict[int, list[ScopedModel]] = {}


def scoped_models() -> list[ScopedModel]:
    """Organisation, the audit trail and every mapped ``OrgScoped`` class (recomputed when
    models are added)."""
    mappers = Base.registry.mappers
    if len(mappers) not in _cache:
        models: list[ScopedModel] = [Organisation, AuditEntry]
        models += [m.class_ for m in mappers if issubclass(m.class_, OrgScoped)]
        _cache.clear()
        _cache[len(mappers)] = models
    return _cache[len(mappers)]


def condition(model: ScopedModel, scope: Scope) -> ColumnElement[bool]:
    if issubclass(model, AuditEntry):
        # audit.py sits below orgs, so it cannot inherit OrgScoped; same rule, stated here
        return AuditEntry.org_path.startswith(scope.root_path, autoescape=True) if scope.root_path else false()
    return model.scope_condition(scope)


@event.listens_for(Session, "do_orm_execute")
def _apply_scope(state: ORMExecuteState) -> None:
    scope = state.session.info.get("scope")
    if not isinstance(scope, Scope):
        return
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        return  # the criteria propagate to these loads from the parent query
    if state.execution_options.get("skip_scope"):
        return  # uniqueness checks must see codes taken outside the caller's subtree
    state.statement = state.statement.options(*_options(scope, tuple(scoped_models())))


@functools.lru_cache(maxsize=1024)
def _options(scope: Scope, models: tuple[ScopedModel, ...]) -> tuple[ExecutableOption, ...]:
    """The criteria of one scope, built once: building them for every statement was half the
    time of a workflow transition (benchmarks/README.md, "Case workflow")."""
    return tuple(with_loader_criteria(model, condition(model, scope), include_aliases=True) for model in models)


def bind(session: Session, actor: Actor, scope: Scope | None) -> None:
    """From here on the session acts as ``actor`` and sees only ``scope`` (None: everything)."""
    session.info["actor"] = actor
    if scope is None:
        session.info.pop("scope", None)
    else:
        session.info["scope"] = scope
