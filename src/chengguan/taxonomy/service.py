"""Taxonomy operations. Plain functions, session first; they never commit."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Column, Select, func, or_, select
from sqlalchemy.orm import Session

from chengguan.db import Base
from chengguan.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from chengguan.geo.models import AreaClass
from chengguan.kit.tabular import Row, read_table
from chengguan.kit.uploads import RowErrors, invalid, refuse, validation_errors
from chengguan.legal.models import CaseCause
from chengguan.orgs import service as orgs_service
from chengguan.taxonomy import template
from chengguan.taxonomy.models import (
    KIND_LABELS,
    OWNER_FUNCTIONS,
    Category,
    CategoryAttribute,
    CategoryCause,
    CategoryKind,
    CategoryLevel,
    FilingCondition,
    TimeLimit,
    category_key,
    level_of,
)
from chengguan.taxonomy.schemas import (
    AttributeIn,
    CategoryIn,
    CategoryPatch,
    FilingConditionIn,
    ImportResult,
    TimeLimitIn,
)
from chengguan.taxonomy.template import TemplateRow

SEED = Path(__file__).parent / "data" / "taxonomy_standard.csv"
FORMS_SEED = Path(__file__).parent / "data" / "category_forms.json"

CategoryKey = tuple[str, str]  # (kind, code)


# -- reading --------------------------------------------------------------------------------------


def get_by_key(session: Session, key: str) -> Category:
    """A category by its public key (``C0101``, ``E0502``)."""
    category = session.scalar(select(Category).where(Category.key == key.upper()))
    if category is None:
        raise NotFound(f"category {key!r} not found / 无此分类", field="key")
    return category


def time_limit(session: Session, key: str, area_class: AreaClass) -> TimeLimit:
    """The 处置时限 of a 小类 in a cell of ``area_class``."""
    category = get_by_key(session, key)
    found = category.limit_for(area_class)
    if found is None:
        raise Invalid(f"category {category.key} is a 大类 and has no time limit", field="key")
    return found


def _filtered(
    kind: CategoryKind | None, level: CategoryLevel | None, q: str | None, active: bool | None
) -> Select[Any]:
    stmt = select(Category)
    if kind is not None:
        stmt = stmt.where(Category.kind == kind)
    if level is not None:
        stmt = stmt.where(Category.level == level)
    if active is not None:
        stmt = stmt.where(Category.active.is_(active))
    if q:
        stmt = stmt.where(
            or_(
                Category.name.contains(q, autoescape=True),
                Category.name_en.icontains(q, autoescape=True),
                Category.keywords.contains(q, autoescape=True),
                Category.key == q.upper(),
                Category.code == q,
            )
        )
    return stmt.order_by(Category.kind, Category.sort_order, Category.code)


def list_categories(
    session: Session,
    *,
    kind: CategoryKind | None = None,
    level: CategoryLevel | None = None,
    q: str | None = None,
    active: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[Sequence[Category], int]:
    stmt = _filtered(kind, level, q, active)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    return session.scalars(stmt.limit(limit).offset(offset)).all(), total


def tree(
    session: Session,
    *,
    kind: CategoryKind | None = None,
    q: str | None = None,
    active: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[tuple[Category, list[Category]]], int]:
    """The matching 小类 under their 大类, paged by 大类; a 大类 that matches itself comes with
    the 小类 that match (all of them when there is no ``q``)."""
    majors: dict[int, Category] = {}
    children: dict[int, list[Category]] = defaultdict(list)
    for category in session.scalars(_filtered(kind, None, q, active)):
        if category.parent is None:
            majors[category.id] = category
        else:
            majors.setdefault(category.parent.id, category.parent)
            children[category.parent.id].append(category)
    ordered = sorted(majors.values(), key=lambda c: (c.kind, c.sort_order, c.code))
    return [(m, children[m.id]) for m in ordered[offset : offset + limit]], len(ordered)


# -- validation -------------------------------------------------------------------------------------


def check_spec(session: Session, spec: CategoryIn) -> list[FieldError]:
    """Everything wrong with a category, each fault named by its field (``time_limits.B``)."""
    if level_of(spec.code) is CategoryLevel.MINOR:
        errors = _check_minor(spec)
    else:
        errors = [
            FieldError(field, f"a 大类 has no {field}; give it to its 小类")
            for field in ("filing_conditions", "closing_condition", "time_limits", "owner_function", "cause_codes")
            if getattr(spec, field)
        ]
    if spec.owner_function and spec.kind != CategoryKind.COMPONENT:
        errors.append(FieldError("owner_function", "only a 部件 has an owner function / 仅部件有权属职能"))
    elif spec.owner_function and spec.owner_function not in OWNER_FUNCTIONS:
        known = ", ".join(OWNER_FUNCTIONS)
        errors.append(FieldError("owner_function", f"unknown owner function {spec.owner_function!r}; one of {known}"))
    if spec.cause_codes and spec.kind != CategoryKind.EVENT:
        errors.append(FieldError("cause_codes", "only an 事件 links to case causes / 仅事件关联案由"))
    elif unknown := _unknown_causes(session, spec.cause_codes):
        errors.append(FieldError("cause_codes", f"unknown case cause(s) {', '.join(unknown)} / 案由不存在"))
    return errors


def _check_minor(spec: CategoryIn) -> list[FieldError]:
    errors = [
        FieldError(f"time_limits.{cls}", f"missing 处置时限 for area class {cls} / 缺少{cls}类处置时限")
        for cls in AreaClass
        if cls not in spec.time_limits
    ]
    if not spec.filing_conditions:
        errors.append(FieldError("filing_conditions", "a 小类 needs at least one 立案条件"))
    seen: set[str] = set()
    for i, condition in enumerate(spec.filing_conditions):
        if condition.code is None:
            continue
        if not condition.code.startswith(spec.code):
            errors.append(
                FieldError(f"filing_conditions.{i}.code", f"{condition.code} does not start with {spec.code}")
            )
        elif condition.code in seen:
            errors.append(FieldError(f"filing_conditions.{i}.code", f"duplicate 立案条件 code {condition.code}"))
        seen.add(condition.code)
    if not spec.closing_condition:
        errors.append(FieldError("closing_condition", "a 小类 needs a 结案条件"))
    return errors


def _unknown_causes(session: Session, codes: Iterable[str]) -> list[str]:
    wanted = set(codes)
    if not wanted:
        return []
    known = set(session.scalars(select(CaseCause.code).where(CaseCause.code.in_(wanted))))
    return sorted(wanted - known)


def _validated(data: dict[str, Any]) -> CategoryIn:
    try:
        return CategoryIn.model_validate(data)
    except ValidationError as exc:
        raise invalid(validation_errors(exc)) from exc


# -- writing --------------------------------------------------------------------------------------


def require_city_level(session: Session) -> None:
    """The taxonomy is one for the whole city: a district's administrator may not change it."""
    scope = orgs_service.session_scope(session)
    if scope is not None and (scope.root_path is None or scope.root_path.strip("/").count("/") > 0):
        raise Forbidden("the taxonomy is city-wide; only city-level administrators change it / 分类标准由市级管理")


def _apply(category: Category, spec: CategoryIn) -> None:
    category.name = spec.name
    category.name_en = spec.name_en
    category.keywords = ",".join(dict.fromkeys(spec.keywords))
    category.description = spec.description
    category.note = spec.note
    category.owner_function = spec.owner_function
    category.closing_condition = spec.closing_condition
    category.sort_order = spec.sort_order if spec.sort_order is not None else int(spec.code)
    category.active = spec.active
    _sync_conditions(category, spec.filing_conditions)
    _sync_limits(category, spec.time_limits)
    # Rows are kept and updated in place: a delete and an insert of the same key in one flush
    # would meet the unique constraint in the wrong order.
    kept = {c.cause_code: c for c in category.causes}
    category.causes = [kept.get(code) or CategoryCause(cause_code=code) for code in dict.fromkeys(spec.cause_codes)]


def _sync_conditions(category: Category, items: list[FilingConditionIn]) -> None:
    taken = {c.code for c in items if c.code}
    free = (code for n in range(1, 100) if (code := f"{category.code}{n:02d}") not in taken)
    kept = {c.code: c for c in category.filing_conditions}
    conditions = []
    for item in items:
        code = item.code or next(free)
        condition = kept.get(code) or FilingCondition(code=code)
        condition.text = item.text
        conditions.append(condition)
    category.filing_conditions = conditions


def _sync_limits(category: Category, limits: dict[AreaClass, TimeLimitIn]) -> None:
    kept = {t.area_class: t for t in category.time_limits}
    rows = []
    for cls, given in sorted(limits.items()):
        row = kept.get(cls) or TimeLimit(area_class=cls)
        row.amount, row.unit = given.amount, given.unit
        rows.append(row)
    category.time_limits = rows


def _new(session: Session, spec: CategoryIn, parent: Category | None) -> Category:
    category = Category(
        key=category_key(spec.kind, spec.code),
        kind=spec.kind,
        level=level_of(spec.code),
        code=spec.code,
        parent=parent,
    )
    _apply(category, spec)
    session.add(category)
    return category


def _find(session: Session, kind: str, code: str) -> Category | None:
    return session.scalar(select(Category).where(Category.kind == kind, Category.code == code))


def create(session: Session, spec: CategoryIn) -> Category:
    require_city_level(session)
    refuse(check_spec(session, spec))
    parent = None
    if level_of(spec.code) is CategoryLevel.MINOR:
        parent = _find(session, spec.kind, spec.code[:2])
        if parent is None:
            label = KIND_LABELS[spec.kind]
            raise Invalid(f"unknown 大类 {spec.code[:2]} of {label}; create the 大类 first / 大类不存在", field="code")
    if _find(session, spec.kind, spec.code) is not None:
        raise Conflict(f"{KIND_LABELS[spec.kind]} {spec.code} already exists / 分类代码重复", field="code")
    category = _new(session, spec, parent)
    session.flush()
    return category


def spec_of(category: Category) -> CategoryIn:
    return CategoryIn(
        kind=CategoryKind(category.kind),
        code=category.code,
        name=category.name,
        name_en=category.name_en,
        keywords=category.keyword_list,
        description=category.description,
        note=category.note,
        owner_function=category.owner_function,
        filing_conditions=[FilingConditionIn(code=c.code, text=c.text) for c in category.filing_conditions],
        closing_condition=category.closing_condition,
        time_limits={AreaClass(t.area_class): TimeLimitIn(amount=t.amount, unit=t.unit) for t in category.time_limits},
        cause_codes=category.cause_codes,
        sort_order=category.sort_order,
        active=category.active,
    )


def update(session: Session, category: Category, patch: CategoryPatch) -> Category:
    require_city_level(session)
    current = spec_of(category).model_dump()
    changes = patch.model_dump(exclude_unset=True)
    current["time_limits"].update(changes.pop("time_limits", None) or {})
    spec = _validated({**current, **changes})
    refuse(check_spec(session, spec))
    _apply(category, spec)
    if not spec.active:
        _deactivate(category, session)
    session.flush()
    return category


def _deactivate(category: Category, session: Session) -> None:
    """An inactive 大类 takes its 小类 with it."""
    category.active = False
    for child in session.scalars(select(Category).where(Category.parent_id == category.id)):
        child.active = False


def _referencing_columns() -> list[Column[Any]]:
    """Columns of any domain's table that point at a category and do not vanish with it.

    Read from the schema, so a later domain (cases, the responsibility list) keeps a referenced
    category alive without this domain importing it."""
    target = Category.__table__
    return [
        fk.parent
        for table in Base.metadata.tables.values()
        for fk in table.foreign_keys
        if fk.column.table is target and fk.ondelete != "CASCADE"
    ]


def delete(session: Session, category: Category) -> bool:
    """Delete a category nothing refers to; deactivate one that is referenced (by its 小类, a rule,
    a case). True when it was deleted."""
    require_city_level(session)
    for column in _referencing_columns():
        hit = session.execute(select(column).where(column == category.id).limit(1).execution_options(skip_scope=True))
        if hit.first() is not None:
            _deactivate(category, session)
            session.flush()
            return False
    session.delete(category)
    session.flush()
    return True


# -- import and export ----------------------------------------------------------------------------


def import_file(session: Session, data: bytes, filename: str) -> ImportResult:
    """Create or update the categories of a template file (CSV/XLSX). All or nothing."""
    rows = read_table(data, filename, required=template.REQUIRED)
    if not rows:
        raise Invalid("the file has no rows / 文件无数据", field="file")
    return import_rows(session, rows)


def import_rows(session: Session, rows: Sequence[Row]) -> ImportResult:
    require_city_level(session)
    errors = RowErrors()
    parsed = [p for row in rows if (p := template.parse_row(row, errors)) is not None]
    _check_duplicates(parsed, errors)
    majors = _majors_of(session, parsed, errors)
    for p in parsed:
        for e in check_spec(session, p.spec):
            errors.add(p.line, template.column_for(e.field, p.minor), e.message)
    errors.raise_if_any()
    return _upsert(session, [*majors, *(p.spec for p in parsed if p.minor)])


def _check_duplicates(parsed: list[TemplateRow], errors: RowErrors) -> None:
    first: dict[CategoryKey, int] = {}
    for p in parsed:
        key = (p.spec.kind, p.spec.code)
        if key in first:
            column = template.column_for("code", p.minor)
            errors.add(p.line, column, f"{KIND_LABELS[p.spec.kind]} {p.spec.code} repeats line {first[key]} / 代码重复")
        first.setdefault(key, p.line)


def _majors_of(session: Session, parsed: list[TemplateRow], errors: RowErrors) -> list[CategoryIn]:
    """The 大类 to write: those with a row of their own, and those a 小类 row names for the first
    time. A 小类 row's 大类名称 must agree with its 大类 (file row first, then the database)."""
    explicit = {(p.spec.kind, p.spec.code): p.spec for p in parsed if not p.minor}
    stored = {
        (c.kind, c.code): c.name for c in session.scalars(select(Category).where(Category.level == CategoryLevel.MAJOR))
    }
    named: dict[CategoryKey, CategoryIn] = {}
    for p in (p for p in parsed if p.minor):
        key = (p.spec.kind, p.major_code)
        known = explicit[key].name if key in explicit else stored.get(key) or getattr(named.get(key), "name", None)
        if known is None and not p.major_name:
            errors.add(p.line, template.MAJOR_NAME, f"unknown 大类 {p.major_code}; give its 大类名称 to create it")
        elif known is None:
            try:
                named[key] = CategoryIn(kind=p.spec.kind, code=p.major_code, name=p.major_name)
            except ValidationError as exc:
                errors.add(p.line, template.MAJOR_NAME, exc.errors()[0]["msg"])
        elif p.major_name and p.major_name != known:
            errors.add(p.line, template.MAJOR_NAME, f"{p.major_name!r} differs from 大类 {p.major_code} {known!r}")
    return [*explicit.values(), *named.values()]


def _upsert(session: Session, specs: list[CategoryIn]) -> ImportResult:
    """Write validated specs, 大类 before 小类 (``specs`` lists them in that order)."""
    existing = {(c.kind, c.code): c for c in session.scalars(select(Category))}
    created = updated = 0
    for spec in specs:
        category = existing.get((spec.kind, spec.code))
        if category is None:
            parent = existing.get((spec.kind, spec.code[:2])) if level_of(spec.code) is CategoryLevel.MINOR else None
            existing[(spec.kind, spec.code)] = _new(session, spec, parent)
            created += 1
        else:
            _apply(category, spec)
            updated += 1
    session.flush()
    return ImportResult(created=created, updated=updated)


def load_seed(session: Session) -> int:
    """Load the shipped standard taxonomy and its report forms (idempotent); the number of
    categories in it."""
    total = import_file(session, SEED.read_bytes(), SEED.name).total
    for key, questions in json.loads(FORMS_SEED.read_text("utf-8")).items():
        set_form(session, get_by_key(session, key), [AttributeIn.model_validate(q) for q in questions])
    return total


# -- report forms ---------------------------------------------------------------------------------


def set_form(session: Session, category: Category, questions: Sequence[AttributeIn]) -> Category:
    """Replace the report form of a 小类; questions are asked in the order given."""
    require_city_level(session)
    if category.level != CategoryLevel.MINOR:
        raise Invalid(f"{category.key} is a 大类; forms belong to 小类 / 表单仅用于小类", field="key")
    codes = [q.code for q in questions]
    if len(set(codes)) != len(codes):
        raise Invalid("question codes repeat / 问题代码重复", field="attributes")
    kept = {a.code: a for a in category.attributes}  # updated in place: see _apply
    rows = []
    for order, question in enumerate(questions, start=1):
        row = kept.get(question.code) or CategoryAttribute(code=question.code)
        row.datatype, row.required, row.order = question.datatype, question.required, order
        row.description, row.datatype_description = question.description, question.datatype_description
        row.values = [v.model_dump() for v in question.values]
        rows.append(row)
    category.attributes = rows
    session.flush()
    return category


def export_csv(session: Session) -> bytes:
    """Every category in the import template format, each 大类 followed by its 小类."""
    categories = session.scalars(select(Category).order_by(Category.kind, Category.sort_order, Category.code)).all()
    children: dict[int, list[Category]] = defaultdict(list)
    for c in categories:
        if c.parent_id is not None:
            children[c.parent_id].append(c)
    rows = []
    for major in (c for c in categories if c.parent_id is None):
        rows.append(template.row_of(major))
        rows.extend(template.row_of(c) for c in children[major.id])
    return template.write_csv(rows)
