"""执法文书 as PDF: A4, the agency's name and the title centred, the 文号 at the top right, the
body from the kind's template, signature and seal lines, 第 n 页 共 N 页 at the foot.

The CJK font is embedded (a TrueType subset), so the file shows the same on any reader and
any printer. Output is deterministic: reportlab's invariant mode fixes the creation date and
file ID, so the same input gives the same bytes and hence the same evidence hash.

Templates (``templates/<kind>.txt``, Jinja2) are read line by line after rendering; a line is
one block:

- ``@row 标签 | 值``: a row of a bordered two-column table (consecutive rows, one table);
  an empty value leaves room to write by hand;
- ``@right …``: right-aligned (signatures, the agency, the date, the seal line);
- ``@left …``: flush left, no indent (salutation, headings inside the body);
- ``@gap``: vertical space;
- anything else: a paragraph with the customary two-character first-line indent (one per line
  of a multi-line value).

Empty lines (and lines holding only ``{% if %}``/``{% endif %}``) are skipped.

Field values are escaped (``@`` too) and their line breaks become ``<br/>``, so a value never
forms a directive or a block of its own.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from jinja2 import Environment, PackageLoader, StrictUndefined
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from chengguan.config import Settings
from chengguan.documents.kinds import Kind
from chengguan.errors import ChengguanError

# Searched in order when CHENGGUAN_DOCUMENT_FONT is unset. Noto CJK is not among them: its
# outlines are CFF, which reportlab cannot embed.
FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
)
FONT_PACKAGE = "fonts-wqy-zenhei"
WATERMARK = "样稿 / DRAFT"
UNNUMBERED = "文号：签发时编号"

# GB/T 9704-2012 page margins (top, bottom, inner, outer) for official documents.
MARGINS = {"topMargin": 37 * mm, "bottomMargin": 35 * mm, "leftMargin": 28 * mm, "rightMargin": 26 * mm}
LABEL_WIDTH = 44 * mm
HANDWRITING_HEIGHT = 14 * mm  # an empty table cell, to sign or fill in by hand


def _font_error(message: str) -> ChengguanError:
    return ChengguanError(message, status=500, field="document_font")


def font_file(settings: Settings) -> tuple[Path, int]:
    """The configured font, else the first installed candidate; an error names the package."""
    if settings.document_font is not None:
        if not settings.document_font.is_file():
            raise _font_error(f"CHENGGUAN_DOCUMENT_FONT names {settings.document_font}, which is not a file")
        return settings.document_font, settings.document_font_index
    for path in FONT_CANDIDATES:
        if path.is_file():
            return path, 0
    raise _font_error(
        f"no CJK font for 执法文书 PDFs: install the Debian package {FONT_PACKAGE} "
        f"(apt-get install {FONT_PACKAGE}) or set CHENGGUAN_DOCUMENT_FONT to a TrueType font with Chinese glyphs"
    )


@lru_cache(maxsize=4)
def register_font(path: Path, index: int) -> str:
    """Register the font with reportlab once per process (parsing it takes ~0.3 s); its name."""
    name = f"chengguan-{path.stem}-{index}"
    try:
        pdfmetrics.registerFont(TTFont(name, str(path), subfontIndex=index))
    except TTFError as exc:
        raise _font_error(f"{path} cannot be embedded (TrueType outlines needed): {exc}") from None
    return name


def document_font(settings: Settings) -> str:
    return register_font(*font_file(settings))


@dataclass(frozen=True)
class Letterhead:
    """What the issuing side adds to the field values. ``number`` None is a draft (preview)."""

    agency: str
    number: str | None
    issued_on: dt.date


@dataclass(frozen=True)
class Styles:
    agency: ParagraphStyle
    title: ParagraphStyle
    number: ParagraphStyle
    body: ParagraphStyle
    left: ParagraphStyle
    right: ParagraphStyle
    label: ParagraphStyle
    cell: ParagraphStyle


@lru_cache(maxsize=4)
def styles(font: str) -> Styles:
    body = ParagraphStyle("body", fontName=font, fontSize=14, leading=25, firstLineIndent=28, wordWrap="CJK")
    cell = ParagraphStyle("cell", parent=body, fontSize=12, leading=19, firstLineIndent=0)
    return Styles(
        agency=ParagraphStyle("agency", parent=body, fontSize=16, leading=26, alignment=TA_CENTER, firstLineIndent=0),
        title=ParagraphStyle(
            "title", parent=body, fontSize=22, leading=32, alignment=TA_CENTER, firstLineIndent=0, spaceAfter=6
        ),
        number=ParagraphStyle("number", parent=body, fontSize=12, alignment=TA_RIGHT, firstLineIndent=0, spaceAfter=8),
        body=body,
        left=ParagraphStyle("left", parent=body, alignment=TA_LEFT, firstLineIndent=0),
        right=ParagraphStyle("right", parent=body, alignment=TA_RIGHT, firstLineIndent=0),
        label=ParagraphStyle("label", parent=cell, alignment=TA_CENTER),
        cell=cell,
    )


def _markup(value: object) -> str:
    """Every ``{{ value }}`` of a template: reportlab paragraph markup, line breaks kept."""
    return escape(str(value), {"@": "&#64;", "\r": "", "\n": "<br/>"})


_templates = Environment(
    loader=PackageLoader("chengguan.documents", "templates"),
    finalize=_markup,
    undefined=StrictUndefined,  # a template naming a field the kind lacks fails loudly
    autoescape=False,  # _markup escapes for reportlab, whose markup is XML-like, not HTML
    lstrip_blocks=True,  # a line holding only {% if %} becomes an empty line, and blocks() skips those
)


def chinese_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"  # GB/T 9704: Arabic numerals, year, month and day in full


def body_text(kind: Kind, values: Mapping[str, str], head: Letterhead) -> str:
    template = _templates.get_template(kind.template)
    return template.render(**values, agency=head.agency, date=chinese_date(head.issued_on), title=kind.title)


def _table(rows: list[tuple[str, str]], st: Styles, width: float) -> Table:
    cells = [[Paragraph(label, st.label), Paragraph(value, st.cell)] for label, value in rows]
    heights = [None if value else HANDWRITING_HEIGHT for _, value in rows]
    table = Table(cells, colWidths=[LABEL_WIDTH, width - LABEL_WIDTH], rowHeights=heights)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return table


def blocks(text: str, st: Styles, width: float) -> list[Flowable]:
    """The flowables of a rendered template (the line syntax is in the module docstring)."""
    flow: list[Flowable] = []
    rows: list[tuple[str, str]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("@row "):
            label, _, value = line.removeprefix("@row ").partition("|")
            rows.append((label.strip(), value.strip()))
            continue
        if rows:
            flow.append(_table(rows, st, width))
            rows = []
        if line == "@gap":
            flow.append(Spacer(1, 8 * mm))
        elif line.startswith("@right "):
            flow.append(Paragraph(line.removeprefix("@right "), st.right))
        elif line.startswith("@left "):
            flow.append(Paragraph(line.removeprefix("@left "), st.left))
        else:  # each line of a multi-line value (a transcript's questions and answers) indented alike
            flow.extend(Paragraph(part, st.body) for part in line.split("<br/>"))
    if rows:
        flow.append(_table(rows, st, width))
    return flow


class _PagedCanvas(Canvas):
    """Keeps every page until the end, so each footer can say how many pages there are."""

    def __init__(self, *args: Any, footer_font: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._footer_font = footer_font
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # noqa: N802 (reportlab's name)
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self.setFont(self._footer_font, 10.5)
            self.drawCentredString(A4[0] / 2, 18 * mm, f"第 {number} 页  共 {total} 页")
            super().showPage()
        super().save()


def _watermark(font: str, canvas: Canvas, _doc: SimpleDocTemplate) -> None:
    canvas.saveState()
    canvas.setFont(font, 64)
    canvas.setFillColor(colors.Color(0.8, 0.8, 0.8))
    canvas.translate(A4[0] / 2, A4[1] / 2)
    canvas.rotate(40)
    canvas.drawCentredString(0, 0, WATERMARK)
    canvas.restoreState()


def render_pdf(kind: Kind, values: Mapping[str, str], head: Letterhead, font: str) -> bytes:
    """The PDF of one document from checked field values (``kinds.check_fields``)."""
    st = styles(font)
    out = io.BytesIO()
    number = head.number or UNNUMBERED
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        invariant=1,
        initialFontName=font,
        title=f"{kind.title} {number}",
        author=head.agency,
        subject=kind.basis,
        creator="chengguan",
        **MARGINS,
    )
    story: list[Flowable] = [
        Paragraph(escape(head.agency), st.agency),
        Paragraph(kind.title, st.title),
        Paragraph(escape(number), st.number),
        *blocks(body_text(kind, values, head), st, doc.width),
    ]
    on_page = partial(_watermark, font) if head.number is None else _no_decoration
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page, canvasmaker=partial(_PagedCanvas, footer_font=font))
    return out.getvalue()


def _no_decoration(_canvas: Canvas, _doc: SimpleDocTemplate) -> None:
    """An issued document has no watermark."""
