"""Answers to a 小类's report form, checked against its questions: the kept answers are typed
(numbers as numbers, times normalised to ISO 8601 with their offset, a multiple choice as a list)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

from chengguan.errors import FieldError
from chengguan.taxonomy.models import AttributeType, CategoryAttribute

MAX_STRING = 200
MAX_TEXT = 4000

Answers = Mapping[str, Sequence[str]]  # question code → the values sent (several for a multiple choice)


def check_answers(
    questions: Sequence[CategoryAttribute], answers: Answers, *, field: str = "attributes"
) -> tuple[dict[str, Any], list[FieldError]]:
    """The typed answers and every fault, each named ``{field}[code]``. Blank values count as
    not given; a required question must be answered; an unknown code is a fault."""
    given = {code: [v.strip() for v in values if v.strip()] for code, values in answers.items()}
    by_code = {q.code: q for q in questions}
    kept: dict[str, Any] = {}
    errors = [
        FieldError(f"{field}[{code}]", f"no question {code!r} on this form / 表单无此问题")
        for code in given
        if code not in by_code
    ]
    for question in questions:
        name = f"{field}[{question.code}]"
        values = given.get(question.code, [])
        if not values:
            if question.required:
                errors.append(FieldError(name, f"unanswered required question: {question.description} / 必答"))
            continue
        try:
            kept[question.code] = _typed(question, values)
        except ValueError as exc:
            errors.append(FieldError(name, str(exc)))
    return kept, errors


def _typed(question: CategoryAttribute, values: list[str]) -> Any:
    datatype = AttributeType(question.datatype)
    if datatype is AttributeType.MULTI:
        return [_choice(question, v) for v in dict.fromkeys(values)]
    if len(values) > 1:
        raise ValueError("one value expected / 只能填一个值")
    value = values[0]
    if datatype is AttributeType.SINGLE:
        return _choice(question, value)
    if datatype is AttributeType.NUMBER:
        return _number(value)
    if datatype is AttributeType.DATETIME:
        return _datetime(value)
    limit = MAX_TEXT if datatype is AttributeType.TEXT else MAX_STRING
    if len(value) > limit:
        raise ValueError(f"longer than {limit} characters / 超过{limit}字")
    return value


def _choice(question: CategoryAttribute, value: str) -> str:
    keys = [v["key"] for v in question.values]
    if value not in keys:
        raise ValueError(f"{value!r} is not one of {', '.join(keys)} / 不在可选值中")
    return value


def _number(value: str) -> int | float:
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a number / 不是数字") from None
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number / 不是有效数字")
    return int(number) if number.is_integer() else number


def _datetime(value: str) -> str:
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 date and time / 时间格式应为 ISO 8601") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone offset, e.g. +08:00 / 缺少时区")
    return parsed.isoformat()
