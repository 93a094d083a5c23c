"""The statute parser on the shipped texts, checked against counts made independently here."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from chengguan.errors import Invalid
from chengguan.legal.parser import Level, classify, cn_to_int, int_to_cn, parse_file, parse_text
from tests.legal.conftest import shipped

# An article is a line that opens with 第…条 (not 第三人…, which also opens some paragraphs).
ARTICLE_LINE = re.compile(r"^第[一二三四五六七八九十百零]+条")

# Totals from the official texts (each law's last article: 本法自…起施行).
KNOWN_TOTALS = {
    "行政处罚法": (86, 8),
    "北京市市容环境卫生条例": (67, 8),
    "行政复议法": (90, 7),
    "民事诉讼法": (306, 27),
    "噪声污染防治法": (90, 9),
    "大气污染防治法": (129, 8),
    "固体废物污染环境防治法": (126, 9),
    "无证无照经营查处办法": (19, 0),
}


@pytest.mark.parametrize("name", sorted(KNOWN_TOTALS))
def test_article_and_chapter_counts(name: str) -> None:
    path = shipped(name)
    independent = sum(1 for line in path.read_text(encoding="utf-8").splitlines() if ARTICLE_LINE.match(line))
    law = parse_file(path)
    articles, chapters = KNOWN_TOTALS[name]
    assert len(law.articles) == independent == articles
    assert len({a.chapter for a in law.articles if a.chapter}) == chapters
    assert [a.number for a in law.articles] == list(range(1, articles + 1))


def test_chapters_and_sections_of_the_penalty_law() -> None:
    law = parse_file(shipped("行政处罚法"))
    assert law.title == "中华人民共和国行政处罚法" and law.short_title == "行政处罚法"
    assert law.articles[0].chapter == "第一章 总则" and law.articles[0].section is None
    by_number = {a.number: a for a in law.articles}
    assert by_number[51].chapter == "第五章 行政处罚的决定"
    assert by_number[51].section == "第二节 简易程序"
    assert by_number[63].section == "第四节 听证程序"
    assert by_number[86].chapter == "第八章 附则" and by_number[86].section is None
    sections = list(dict.fromkeys(a.section for a in law.articles if a.section))
    assert sections == ["第一节 一般规定", "第二节 简易程序", "第三节 普通程序", "第四节 听证程序"]


def test_paragraphs_and_items() -> None:
    law = parse_file(shipped("行政处罚法"))
    ninth = law.articles[8]
    assert ninth.label == "第九条" and len(ninth.paragraphs) == 1
    items = ninth.paragraphs[0].items
    assert [i.number for i in items] == [1, 2, 3, 4, 5, 6]
    assert items[0].text == "警告、通报批评；" and items[5].text == "法律、行政法规规定的其他行政处罚。"
    assert ninth.text.splitlines()[1] == "（一）警告、通报批评；"
    fifth = law.articles[4]
    assert len(fifth.paragraphs) == 3 and fifth.paragraphs[2].text.startswith("对违法行为给予行政处罚的规定必须公布")


def test_full_width_spaces_and_parts() -> None:
    city = parse_file(shipped("北京市市容环境卫生条例"))
    assert city.articles[0].chapter == "第一章 总则"  # written 第一章　总　　则
    assert city.articles[34].label == "第三十五条" and len(city.articles[34].paragraphs) == 5
    civil = parse_file(shipped("民事诉讼法"))
    last = civil.articles[-1]
    assert last.label == "第三百零六条" and last.part == "第四编 涉外民事诉讼程序的特别规定"
    service_of_documents = next(a for a in civil.articles if a.number == 95)
    assert service_of_documents.part == "第一编 总则" and service_of_documents.section == "第二节 送达"


def test_metadata_level_and_version() -> None:
    law = parse_file(shipped("行政处罚法"))
    assert law.version_date == dt.date(2021, 1, 22)
    assert law.preamble.startswith("1996年3月17日") and "2021年1月22日" in law.preamble
    assert law.level == Level.LAW
    assert parse_file(shipped("北京市水污染防治条例")).version_date is None
    assert classify("城市道路管理条例") == Level.ADMINISTRATIVE_REGULATION
    assert classify("无证无照经营查处办法") == Level.ADMINISTRATIVE_REGULATION
    assert classify("中华人民共和国市场主体登记管理条例") == Level.ADMINISTRATIVE_REGULATION
    assert classify("北京市市容环境卫生条例") == Level.LOCAL_REGULATION
    assert classify("北京市环境噪声污染防治办法") == Level.LOCAL_RULE


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("一", 1),
        ("十", 10),
        ("十五", 15),
        ("二十", 20),
        ("一百", 100),
        ("一百零五", 105),
        ("一百一十", 110),
        ("一百二十三", 123),
        ("三百零六", 306),
        ("35", 35),
    ],
)
def test_chinese_numerals(text: str, value: int) -> None:
    assert cn_to_int(text) == value
    if not text.isdigit():
        assert int_to_cn(value) == text


def test_article_suffix_and_trailing_paragraphs() -> None:
    law = parse_text(
        "# 测试条例\n\n<!-- INFO END -->\n\n第十条 甲。\n\n第十条之一 乙：\n\n(一)丙；\n\n（二）丁。\n\n戊。\n",
        "测试条例(2020-01-02).md",
    )
    first, second = law.articles
    assert (first.number, first.suffix, first.text) == (10, 0, "甲。")
    assert (second.number, second.suffix, second.label) == (10, 1, "第十条之一")
    assert [p.text for p in second.paragraphs] == ["乙：", "戊。"]
    assert [i.text for i in second.paragraphs[0].items] == ["丙；", "丁。"]
    assert law.version_date == dt.date(2020, 1, 2)


def test_a_broken_text_is_refused_naming_each_line() -> None:
    text = "# 坏条例\n\n<!-- INFO END -->\n\n开头的散句。\n\n第二条 甲。\n\n## 附录\n\n第一条 乙。\n\n（二）丙。\n"
    with pytest.raises(Invalid) as exc:
        parse_text(text, "bad.md")
    fields = [e.field for e in exc.value.errors]
    assert fields == ["bad.md line 5", "bad.md line 9", "bad.md line 11", "bad.md line 13"]
    messages = " ".join(e.message for e in exc.value.errors)
    assert "outside any article" in messages and "第一条 follows 第二条" in messages and "（一）" in messages
    with pytest.raises(Invalid, match="title"):
        parse_text("no title\n", "x.md")
