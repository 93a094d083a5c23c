"""Rendering every kind: the field values and the number are in the PDF's text, the CJK font is
embedded, the layout carries page numbers, the output is byte-for-byte reproducible, and bad
input is refused naming the field."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from chengguan.config import Settings
from chengguan.documents import render
from chengguan.documents.kinds import KINDS, check_fields, get_kind
from chengguan.documents.render import Letterhead, document_font, font_file, render_pdf
from chengguan.errors import ChengguanError, Invalid, NotFound
from tests.documents.conftest import ARTIFACTS, body_text, pdf_text, sample_fields, squashed

AGENCY = "北京市东城区城市管理综合执法局"
NUMBER = "京城管东罚决字〔2026〕第00012号"
ISSUED = dt.date(2026, 5, 6)
HEAD = Letterhead(AGENCY, NUMBER, ISSUED)


@pytest.fixture(scope="module")
def font() -> str:
    return document_font(Settings(env="dev"))


def _render(key: str, font: str, head: Letterhead = HEAD, **changes: str) -> bytes:
    kind = get_kind(key)
    return render_pdf(kind, check_fields(kind, {**sample_fields(kind), **changes}), head, font)


@pytest.mark.parametrize("key", sorted(KINDS))
def test_every_kind_renders_its_values_title_and_number(key: str, font: str) -> None:
    kind = KINDS[key]
    pdf = _render(key, font)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{key}.pdf").write_bytes(pdf)
    text = body_text(pdf)
    assert squashed(kind.title) in text and NUMBER in text and AGENCY in text
    missing = [name for name, value in sample_fields(kind).items() if squashed(value) not in text]
    assert missing == []
    assert "@" not in text and "{" not in text  # no template directive or tag leaks into the document
    reader = PdfReader(io.BytesIO(pdf))
    assert [round(float(v)) for v in reader.pages[0].mediabox[2:]] == [595, 842]  # A4 in points
    footers = [f"第{n}页共{len(reader.pages)}页" for n in range(1, len(reader.pages) + 1)]
    assert all(footer in pdf_text(pdf) for footer in footers)


def test_the_cjk_font_is_embedded_and_no_font_is_left_to_the_reader(font: str) -> None:
    reader = PdfReader(io.BytesIO(_render("penalty_decision", font)))
    fonts = [f.get_object() for page in reader.pages for f in page["/Resources"]["/Font"].values()]
    assert fonts
    for f in fonts:
        descriptor = f["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor or "/FontFile3" in descriptor, f["/BaseFont"]


def test_the_decision_carries_what_law_59_requires(font: str) -> None:
    text = body_text(_render("penalty_decision", font))
    # 复议/诉讼 routes and time limits, the surcharge rule, the date and the seal line
    for phrase in ("六十日内向北京市东城区人民政府申请行政复议", "六个月内依法向北京市东城区人民法院提起行政诉讼",
                   "百分之三加处罚款", "2026年5月6日", f"{AGENCY}（印章）"):  # fmt: skip
        assert phrase in text


def test_the_summary_decision_states_review_first(font: str) -> None:
    text = body_text(_render("summary_decision", font))
    assert "应当自收到本决定书之日起六十日内" in text and "对行政复议决定不服的" in text
    assert "报所属行政机关备案" in text


def test_same_input_same_bytes_other_number_other_bytes(font: str) -> None:
    first, again = _render("penalty_notice", font), _render("penalty_notice", font)
    assert first == again
    other = _render("penalty_notice", font, head=Letterhead(AGENCY, NUMBER.replace("12", "13"), ISSUED))
    assert other != first


def test_a_draft_is_watermarked_and_unnumbered(font: str) -> None:
    text = body_text(_render("hearing_notice", font, head=Letterhead(AGENCY, None, ISSUED)))
    assert squashed(render.WATERMARK) in text and render.UNNUMBERED in text and "第00012号" not in text


def test_values_are_text_not_markup_or_directives(font: str) -> None:
    sneaky = "张三<b>&amp;</b>\n@row 伪造 | 行\n@right 签名"
    text = body_text(_render("penalty_decision", font, party_name=sneaky))
    assert squashed(sneaky) in text


def test_optional_fields_may_be_left_out(font: str) -> None:
    kind = get_kind("summary_decision")
    values = {f.name: v for f, v in zip(kind.fields, sample_fields(kind).values(), strict=True) if f.required}
    text = body_text(render_pdf(kind, check_fields(kind, values), HEAD, font))
    assert "证件号码" not in text and "罚款人民币" not in text


def test_missing_unknown_and_wrong_fields_are_all_named() -> None:
    kind = get_kind("penalty_decision")
    values: dict[str, object] = {**sample_fields(kind), "party_name": "  ", "penalty": True, "stamp": "x"}
    del values["court"]
    with pytest.raises(Invalid) as caught:
        check_fields(kind, values)
    assert {e.field for e in caught.value.errors} == {
        "fields.party_name", "fields.penalty", "fields.stamp", "fields.court",
    }  # fmt: skip
    assert caught.value.status == 422


def test_numbers_are_taken_as_text() -> None:
    kind = get_kind("summary_decision")
    assert check_fields(kind, {**sample_fields(kind), "fine_amount": 50})["fine_amount"] == "50"


def test_unknown_kind_is_not_found() -> None:
    with pytest.raises(NotFound) as caught:
        get_kind("warrant")
    assert caught.value.field == "kind"


def test_a_missing_font_names_the_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(render, "FONT_CANDIDATES", (tmp_path / "none.ttc",))
    with pytest.raises(ChengguanError) as caught:
        font_file(Settings(env="dev"))
    assert "fonts-wqy-zenhei" in caught.value.message and caught.value.field == "document_font"
    with pytest.raises(ChengguanError) as named:
        font_file(Settings(env="dev", document_font=tmp_path / "gone.ttf"))
    assert "gone.ttf" in named.value.message


def test_a_font_without_truetype_outlines_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.ttf"
    bogus.write_bytes(b"OTTO" + b"\x00" * 64)
    with pytest.raises(ChengguanError) as caught:
        document_font(Settings(env="dev", document_font=bogus))
    assert "bogus.ttf" in caught.value.message and caught.value.status == 500
