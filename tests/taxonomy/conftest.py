"""The shipped taxonomy loaded once per session (after the legal causes it links to), and helpers
for categories and template files made up by the tests, with codes 80–89 the seed never uses."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import Workbook

from chengguan.taxonomy.template import COLUMNS

LIMITS = {"A": {"amount": 4, "unit": "working_hours"}, "B": {"amount": 1, "unit": "working_days"}}
FULL_LIMITS = {**LIMITS, "C": {"amount": 3, "unit": "calendar_days"}}


def minor_body(kind: str, code: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": kind,
        "code": code,
        "name": f"测试{code}",
        "filing_conditions": [{"text": "有问题"}],
        "closing_condition": "已解决",
        "time_limits": FULL_LIMITS,
    }
    return {**body, **overrides}


def template_csv(rows: Sequence[dict[str, str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def template_xlsx(rows: Sequence[dict[str, str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append([row.get(c, "") for c in COLUMNS])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def upload(client: TestClient, url: str, name: str, data: bytes, headers: dict[str, str]) -> Any:
    return client.post(url, files={"file": (name, data)}, headers=headers)


def minor_row(kind: str, major: str, code: str, **cells: str) -> dict[str, str]:
    row = {
        "类型": kind,
        "大类代码": major,
        "大类名称": f"测试大类{major}",
        "小类代码": code,
        "小类名称": f"测试{code}",
        "立案条件": "有问题",
        "处置时限A": "4工作时",
        "处置时限B": "1工作日",
        "处置时限C": "3自然日",
        "结案条件": "已解决",
    }
    return {**row, **cells}
