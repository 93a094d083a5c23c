"""A report as one HTML page (Jinja2), its charts drawn by ECharts in the browser.

The tables carry every figure, so the page reads the same where the charts cannot run. ECharts is
either linked from the application's static files (a report downloaded through the API, read
beside the server) or written into the page (a file made by the CLI, read anywhere offline).
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from chengguan.analytics.reports import PERIOD_NAMES, WEEKDAYS, Report, change_words, pct

# The vendored ECharts build, found as a file of the installed package (the web layer, which serves
# it, sits above analytics and is not imported).
ECHARTS_FILE = Path(__file__).resolve().parents[1] / "web" / "static" / "vendor" / "echarts" / "echarts.min.js"
ECHARTS_URL = "/static/vendor/echarts/echarts.min.js"

_templates = Environment(
    loader=PackageLoader("chengguan.analytics", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_templates.filters["pct"] = pct
_templates.filters["change"] = change_words


def charts(report: Report) -> dict[str, object]:
    """What the page's script draws: plain lists, written into the page as JSON."""
    return {
        "trend": {"labels": [k for k, _ in report.trend], "values": [n for _, n in report.trend]},
        "types": {"labels": [t.name for t in report.hot_types], "values": [t.n for t in report.hot_types]},
        "heatmap": {
            "weekdays": [f"星期{d}" for d in WEEKDAYS],
            "cells": [[h, d, n] for d, row in enumerate(report.heatmap) for h, n in enumerate(row)],
            "max": max((n for row in report.heatmap for n in row), default=0),
        },
        "sources": [{"name": s.name, "value": s.n} for s in report.sources],
    }


def render_html(report: Report, inline_echarts: bool = False) -> str:
    """The page; ``inline_echarts`` writes the ECharts library into it (≈1.1 MB) for offline reading."""
    return _templates.get_template("report.html").render(
        report=report,
        names=PERIOD_NAMES[report.period],
        weekdays=WEEKDAYS,
        charts=charts(report),
        echarts_js=ECHARTS_FILE.read_text(encoding="utf-8") if inline_echarts else None,
        echarts_url=ECHARTS_URL,
    )
