"""A report's tables as an Excel workbook (openpyxl): one sheet per section, plain values
(numbers stay numbers, shares are formatted as percentages) so a reader can chart them again."""

from __future__ import annotations

import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from chengguan.analytics.reports import PERIOD_NAMES, WEEKDAYS, Ranked, Report

PERCENT = "0.0%"
BOLD = Font(bold=True)
HEAD = PatternFill("solid", fgColor="EEF3FB")


def _sheet(book: Workbook, title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> Worksheet:
    sheet = book.create_sheet(title)
    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font, cell.fill = BOLD, HEAD
    for row in rows:
        sheet.append(list(row))
    for column, name in enumerate(header, start=1):
        if name in {"占比", "环比", "同比", "按期办结率", "占超期"}:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
                cell.number_format = PERCENT
    sheet.column_dimensions["A"].width = 24
    return sheet


def _ranked(rows: Sequence[Ranked]) -> list[list[object]]:
    return [[r.name, r.key, r.n, r.share] for r in rows]


def _summary(book: Workbook, report: Report) -> None:
    sheet = book.active
    assert sheet is not None
    sheet.title = "概况"
    v, names = report.volume, PERIOD_NAMES[report.period]
    for row in (
        ["报告", report.title],
        ["周期", names[2], report.start, report.last_day],
        ["区域", report.area.name, report.area.path],
        [],
        [names[0], names[1], "环比", "去年同期", "同比"],
        [v.n, v.previous, v.mom, v.last_year, v.yoy],
        [],
        ["主要发现"],
        *([s] for s in report.findings),
    ):
        sheet.append(row)
    for cell in sheet[6][2], sheet[6][4]:
        cell.number_format = PERCENT
    sheet.column_dimensions["A"].width = 24


def render_xlsx(report: Report) -> bytes:
    book = Workbook()
    _summary(book, report)
    _sheet(book, "趋势", [report.trend_by, "受理量"], report.trend)
    names = PERIOD_NAMES[report.period]
    _sheet(
        book,
        "高发类型",
        ["类型", "代码", "受理量", "占比", names[1], "环比"],
        [[t.name, t.key, t.n, t.share, t.previous, t.change] for t in report.hot_types],
    )
    if report.hot_streets:
        _sheet(book, "高发街道", ["街道（乡镇）", "编号", "受理量", "占比"], _ranked(report.hot_streets))
    _sheet(book, "高发网格", ["单元网格", "编码", "受理量", "占比"], _ranked(report.hot_cells))
    _sheet(
        book,
        "热点网格",
        ["单元网格", "受理量", "z", "p", "置信等级"],
        [list(h.model_dump().values()) for h in report.hotspots],
    )
    _sheet(
        book,
        "高发时段",
        ["星期 \\ 时", *map(str, range(24))],
        [[f"星期{WEEKDAYS[d]}", *row] for d, row in enumerate(report.heatmap)],
    )
    _sheet(book, "来源", ["来源", "代码", "受理量", "占比"], _ranked(report.sources))
    if report.closure:
        c = report.closure
        _sheet(
            book,
            "办结情况",
            ["事件数", "已办结", "到期", "按期办结", "超期", "按期办结率"],
            [[c.events, c.closed, c.due, c.on_time, c.overdue, c.on_time_rate]],
        )
        _sheet(book, "超期单位", ["单位", "编号", "超期件数", "占超期"], _ranked(c.overdue_by_unit))
    if report.checkup:
        _sheet(
            book,
            "体检对比",
            ["对象", "受理量", names[1], "环比", "按期办结率"],
            [[b.label, b.volume, b.previous, b.mom, b.on_time_rate] for b in report.checkup.rows],
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
