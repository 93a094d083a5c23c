"""The import template of real 数字城管 systems (GB/T 30428.8, peer-systems §c.5): one row per 小类,
or per 大类 with the 小类 columns left empty. Time limits are written as ``4工作时``, ``2工作日``,
``3自然日``; several 立案条件 are separated by ``|`` or line breaks, each optionally led by its
6-digit code; 关联案由 and 关键词 are separated by commas, spaces or 、."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from chengguan.geo.models import AreaClass
from chengguan.kit.tabular import Row
from chengguan.kit.uploads import RowErrors, parse_flag, validation_errors
from chengguan.taxonomy.models import (
    KIND_LABELS,
    UNIT_LABELS,
    Category,
    CategoryKind,
    CategoryLevel,
    LimitUnit,
    level_of,
)
from chengguan.taxonomy.schemas import CategoryIn, TimeLimitIn

KIND = "类型"
MAJOR_CODE = "大类代码"
MAJOR_NAME = "大类名称"
MINOR_CODE = "小类代码"
MINOR_NAME = "小类名称"
FILING = "立案条件"
LIMIT_COLUMNS = {cls: f"处置时限{cls}" for cls in AreaClass}
CLOSING = "结案条件"
# Spec field → column, for the fields whose column does not depend on the row's level.
FIELD_COLUMNS = {
    "kind": KIND,
    "filing_conditions": FILING,
    "closing_condition": CLOSING,
    "owner_function": "权属职能",
    "cause_codes": "关联案由",
    "name_en": "英文名称",
    "keywords": "关键词",
    "description": "说明",
    "note": "备注",
    "sort_order": "排序",
    "active": "启用",
}
REQUIRED = (KIND, MAJOR_CODE, MAJOR_NAME, MINOR_CODE, MINOR_NAME, FILING, *LIMIT_COLUMNS.values(), CLOSING)
COLUMNS = (*REQUIRED, *(c for c in FIELD_COLUMNS.values() if c not in REQUIRED))

KIND_WORDS = {label: kind for kind, label in KIND_LABELS.items()} | {kind.value: kind for kind in CategoryKind}
UNIT_WORDS = {label: unit for unit, label in UNIT_LABELS.items()} | {
    "工作小时": LimitUnit.WORKING_HOURS,
    "天": LimitUnit.CALENDAR_DAYS,
    **{unit.value: unit for unit in LimitUnit},
}

LIMIT_RE = re.compile(r"^(\d+)\s*(\S+)$")
CONDITION_SPLIT = re.compile(r"\s*(?:\||\r?\n)\s*")
CONDITION_RE = re.compile(r"^(\d{6})[\s:：]+(.+)$", re.S)
LIST_SPLIT = re.compile(r"[\s,，、|;；]+")


def parse_limit(text: str) -> TimeLimitIn:
    """``4工作时`` → 4 working hours; ValueError with a message a person can act on."""
    match = LIMIT_RE.match(text.strip())
    unit = UNIT_WORDS.get(match.group(2)) if match else None
    if match is None or unit is None:
        raise ValueError(f"unparseable time limit {text!r}; write e.g. 4工作时, 2工作日 or 3自然日")
    amount = int(match.group(1))
    if not 1 <= amount <= 999:
        raise ValueError(f"time limit {text!r} out of range 1–999")
    return TimeLimitIn(amount=amount, unit=unit)


def format_limit(amount: int, unit: LimitUnit | str) -> str:
    return f"{amount}{UNIT_LABELS[LimitUnit(unit)]}"


def parse_conditions(text: str) -> list[dict[str, str | None]]:
    items = [part for part in CONDITION_SPLIT.split(text.strip()) if part]
    return [
        {"code": m.group(1), "text": m.group(2).strip()} if (m := CONDITION_RE.match(item)) else {"text": item}
        for item in items
    ]


def split_list(text: str) -> list[str]:
    return [part for part in LIST_SPLIT.split(text.strip()) if part]


def column_for(field: str, minor: bool) -> str:
    """The template column of a spec field (``time_limits.B`` → 处置时限B, ``code`` → 小类代码)."""
    head, _, rest = field.partition(".")
    if head == "time_limits" and rest[:1] in LIMIT_COLUMNS:
        return LIMIT_COLUMNS[AreaClass(rest[:1])]
    if head == "code":
        return MINOR_CODE if minor else MAJOR_CODE
    if head == "name":
        return MINOR_NAME if minor else MAJOR_NAME
    return FIELD_COLUMNS.get(head, head)


@dataclass(frozen=True)
class TemplateRow:
    line: int
    spec: CategoryIn
    major_code: str
    major_name: str

    @property
    def minor(self) -> bool:
        return level_of(self.spec.code) is CategoryLevel.MINOR


def parse_row(row: Row, errors: RowErrors) -> TemplateRow | None:
    """The category a template row describes; its faults go to ``errors`` by column."""
    major_code, minor_code = row.get(MAJOR_CODE), row.get(MINOR_CODE)
    minor = bool(minor_code)
    if minor and minor_code[:2] != major_code:
        errors.add(row.line, MINOR_CODE, f"小类代码 {minor_code} does not start with its 大类代码 {major_code!r}")
        return None
    raw = _raw_spec(row, minor, errors)
    if raw is None:
        return None
    try:
        spec = CategoryIn.model_validate(raw)
    except ValidationError as exc:
        for e in validation_errors(exc):
            errors.add(row.line, column_for(e.field, minor), e.message)
        return None
    return TemplateRow(row.line, spec, major_code, row.get(MAJOR_NAME))


def _raw_spec(row: Row, minor: bool, errors: RowErrors) -> dict[str, Any] | None:
    """The row's cells as CategoryIn input; None when a cell cannot even be read."""
    before = len(errors)
    kind = KIND_WORDS.get(row.get(KIND))
    if kind is None:
        errors.add(row.line, KIND, f"类型 must be 部件 or 事件, not {row.get(KIND)!r}")
    limits: dict[AreaClass, TimeLimitIn] = {}
    for cls, column in LIMIT_COLUMNS.items():
        if text := row.get(column):
            try:
                limits[cls] = parse_limit(text)
            except ValueError as exc:
                errors.add(row.line, column, str(exc))
    active = parse_flag(row.get("启用"))
    if active is None:
        errors.add(row.line, "启用", f"启用 must be 是 or 否, not {row.get('启用')!r}")
    if len(errors) > before:
        return None
    return {
        "kind": kind,
        "code": row.get(MINOR_CODE) if minor else row.get(MAJOR_CODE),
        "name": row.get(MINOR_NAME if minor else MAJOR_NAME),
        "filing_conditions": parse_conditions(row.get(FILING)),
        "closing_condition": row.get(CLOSING) or None,
        "time_limits": limits,
        "owner_function": row.get("权属职能") or None,
        "cause_codes": split_list(row.get("关联案由")),
        "name_en": row.get("英文名称") or None,
        "keywords": split_list(row.get("关键词")),
        "description": row.get("说明") or None,
        "note": row.get("备注") or None,
        "sort_order": row.get("排序") or None,
        "active": active,
    }


def row_of(category: Category) -> dict[str, str]:
    """A category as a template row (a 大类 row leaves the 小类 columns empty)."""
    minor = category.parent is not None
    major = category.parent or category
    limits = {t.area_class: format_limit(t.amount, t.unit) for t in category.time_limits}
    return {
        KIND: KIND_LABELS[CategoryKind(category.kind)],
        MAJOR_CODE: major.code,
        MAJOR_NAME: major.name,
        MINOR_CODE: category.code if minor else "",
        MINOR_NAME: category.name if minor else "",
        FILING: "|".join(f"{c.code} {c.text}" for c in category.filing_conditions),
        **{column: limits.get(cls, "") for cls, column in LIMIT_COLUMNS.items()},
        CLOSING: category.closing_condition or "",
        "权属职能": category.owner_function or "",
        "关联案由": ",".join(category.cause_codes),
        "英文名称": category.name_en or "",
        "关键词": ",".join(category.keyword_list),
        "说明": category.description or "",
        "备注": category.note or "",
        "排序": str(category.sort_order),
        "启用": "是" if category.active else "否",
    }


def write_csv(rows: Iterable[dict[str, str]]) -> bytes:
    """UTF-8 with a BOM, so Excel on a Chinese desktop opens it as text, not mojibake."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8-sig")
