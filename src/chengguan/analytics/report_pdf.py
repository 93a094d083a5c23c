"""A report as a PDF (reportlab): the findings, the tables and the charts, with the CJK font the
执法文书 use (``CHENGGUAN_DOCUMENT_FONT``, by default WenQuanYi Zen Hei) embedded.

The charts are reportlab's own vector graphics (no plotting library, no raster images): bars for
the volume over the period and the hot types, a shaded weekday × hour grid for the hot times.
Output is deterministic (reportlab's invariant mode): the same report gives the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from chengguan.analytics.reports import PERIOD_NAMES, WEEKDAYS, Ranked, Report, change_words, pct
from chengguan.config import Settings
from chengguan.documents.render import document_font

BLUE = colors.HexColor("#1565c0")
HEAD = colors.HexColor("#eef3fb")
CHART_HEIGHT = 55 * mm
MAX_LABELS = 16  # axis labels on the trend chart; the rest are thinned out


def _styles(font: str) -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=font, fontSize=10.5, leading=17, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", parent=body, fontSize=18, leading=26, alignment=1),
        "span": ParagraphStyle("span", parent=body, alignment=1, textColor=colors.grey, spaceAfter=6),
        "h2": ParagraphStyle("h2", parent=body, fontSize=13, leading=20, textColor=BLUE, spaceBefore=8, spaceAfter=4),
        "body": body,
        "finding": ParagraphStyle("finding", parent=body, firstLineIndent=21),
        "cell": ParagraphStyle("cell", parent=body, fontSize=9, leading=12),
    }


def _table(header: Sequence[str], rows: Sequence[Sequence[object]], st: dict[str, ParagraphStyle]) -> Table:
    cells = [[Paragraph(escape(str(v)), st["cell"]) for v in row] for row in [header, *rows]]
    table = Table(cells, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), HEAD),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return table


def _ranked_rows(rows: Sequence[Ranked]) -> list[list[object]]:
    return [[r.name, r.n, pct(r.share)] for r in rows]


def _trend_chart(report: Report, font: str, width: float) -> Drawing:
    drawing = Drawing(width, CHART_HEIGHT)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 30, 25, width - 40, CHART_HEIGHT - 35
    chart.data = [[n for _, n in report.trend] or [0]]
    step = max(1, -(-len(report.trend) // MAX_LABELS))
    labels = [k[5:] if report.trend_by == "day" else k for k, _ in report.trend]
    chart.categoryAxis.categoryNames = [k if i % step == 0 else "" for i, k in enumerate(labels)]
    chart.categoryAxis.labels.fontName = chart.valueAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = BLUE
    drawing.add(chart)
    return drawing


def _types_chart(report: Report, font: str, width: float) -> Drawing:
    types = report.hot_types
    height = max(40, 16 * len(types) + 25)
    drawing = Drawing(width, height)
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 130, 15, width - 150, height - 20
    chart.data = [[t.n for t in reversed(types)]]
    chart.categoryAxis.categoryNames = [t.name[:12] for t in reversed(types)]
    chart.categoryAxis.labels.fontName = chart.valueAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = chart.valueAxis.labels.fontSize = 8
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = BLUE
    drawing.add(chart)
    return drawing


def _heatmap_chart(report: Report, font: str, width: float) -> Drawing:
    """Seven rows (Monday first) of 24 hour cells, darker for more reports."""
    left, cell_h = 40, 14
    cell_w = (width - left) / 24
    height = 7 * cell_h + 16
    drawing = Drawing(width, height)
    peak = max((n for row in report.heatmap for n in row), default=0) or 1
    for d, row in enumerate(report.heatmap):
        y = height - (d + 1) * cell_h
        drawing.add(String(0, y + 3, f"星期{WEEKDAYS[d]}", fontName=font, fontSize=8))
        for h, n in enumerate(row):
            shade = colors.Color(1 - 0.9 * n / peak, 1 - 0.6 * n / peak, 1 - 0.2 * n / peak)
            drawing.add(Rect(left + h * cell_w, y, cell_w, cell_h, fillColor=shade, strokeColor=colors.white))
    for h in range(0, 24, 3):
        drawing.add(String(left + h * cell_w + 2, 2, str(h), fontName=font, fontSize=7))
    return drawing


def _story(report: Report, font: str, width: float) -> list[Flowable]:
    st = _styles(font)
    names = PERIOD_NAMES[report.period]
    v = report.volume
    flow: list[Flowable] = [
        Paragraph(escape(report.title), st["title"]),
        Paragraph(f"{names[2]}：{report.start} 至 {report.last_day}　区域：{escape(report.area.name)}", st["span"]),
        Paragraph("一、主要发现", st["h2"]),
        *(Paragraph(escape(s), st["finding"]) for s in report.findings),
        Paragraph("二、受理总量", st["h2"]),
        _table(
            [names[0], names[1], "环比", "去年同期", "同比"],
            [[v.n, v.previous, change_words(v.mom), v.last_year, change_words(v.yoy)]],
            st,
        ),
        Spacer(1, 3 * mm),
        _trend_chart(report, font, width),
        Paragraph("三、高发类型", st["h2"]),
    ]
    if report.hot_types:
        flow.append(_types_chart(report, font, width))
    flow.append(
        _table(
            ["类型", "受理量", "占比", names[1], "环比"],
            [[t.name, t.n, pct(t.share), t.previous, change_words(t.change)] for t in report.hot_types],
            st,
        )
    )
    flow += _places(report, st)
    flow += [Paragraph("五、高发时段", st["h2"]), _heatmap_chart(report, font, width)]
    flow += [Paragraph("六、诉求来源", st["h2"]), _table(["来源", "受理量", "占比"], _ranked_rows(report.sources), st)]
    flow += _closure(report, st) + _checkup(report, st)
    return flow


def _places(report: Report, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    flow: list[Flowable] = [Paragraph("四、高发地点", st["h2"])]
    if report.hot_streets:
        flow += [_table(["街道（乡镇）", "受理量", "占比"], _ranked_rows(report.hot_streets), st), Spacer(1, 3 * mm)]
    flow.append(_table(["单元网格", "受理量", "占比"], _ranked_rows(report.hot_cells), st))
    if report.hotspots:
        rows = [[h.cell, h.n, f"{h.z:.2f}", f"{h.p:.4f}"] for h in report.hotspots]
        flow += [
            Paragraph("显著热点网格（Getis-Ord Gi*，95%置信度及以上）", st["body"]),
            _table(["单元网格", "受理量", "z 值", "p 值"], rows, st),
        ]
    return flow


def _closure(report: Report, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    c = report.closure
    if c is None:
        return []
    flow: list[Flowable] = [
        Paragraph("七、办结情况", st["h2"]),
        _table(
            ["事件数", "已办结", "到期", "按期办结", "超期", "按期办结率"],
            [[c.events, c.closed, c.due, c.on_time, c.overdue, pct(c.on_time_rate)]],
            st,
        ),
    ]
    if c.overdue_by_unit:
        flow += [Spacer(1, 3 * mm), _table(["超期单位", "超期件数", "占超期"], _ranked_rows(c.overdue_by_unit), st)]
    return flow


def _checkup(report: Report, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    c = report.checkup
    if c is None:
        return []
    rows = [[b.label, f"{b.volume:.1f}", f"{b.previous:.1f}", change_words(b.mom), pct(b.on_time_rate)] for b in c.rows]
    return [
        Paragraph("八、体检对比", st["h2"]),
        Paragraph(f"在本区 {c.streets} 个街道（乡镇）中按受理量居第 {c.rank} 位。", st["body"]),
        _table(["", "受理量", PERIOD_NAMES[report.period][1], "环比", "按期办结率"], rows, st),
    ]


def render_pdf(report: Report, settings: Settings) -> bytes:
    font = document_font(settings)
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        invariant=1,
        initialFontName=font,
        title=report.title,
        subject=f"{report.start} – {report.last_day}",
        creator="chengguan",
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
    )
    doc.build(_story(report, font, doc.width))
    return out.getvalue()
