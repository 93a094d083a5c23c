"""What the analytics API answers: a table (column names and rows), ready for a chart."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from chengguan.analytics.metrics import Result


class MetricOut(BaseModel):
    metric: str
    columns: list[str]
    rows: list[list[Any]]
    meta: dict[str, Any]

    @classmethod
    def of(cls, metric: str, result: Result) -> MetricOut:
        return cls(metric=metric, columns=list(result.columns), rows=[list(r) for r in result.rows], meta=result.meta)


class MetricInfo(BaseModel):
    name: str
    title: str
