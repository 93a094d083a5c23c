"""Document fixtures: realistic field values for every kind, the issuing agency of the test city,
and helpers to read a PDF's text and fonts back."""

from __future__ import annotations

import io
import itertools
import re
import secrets
from pathlib import Path

import pytest
from pypdf import PdfReader

from chengguan.documents.kinds import Kind

ARTIFACTS = Path(__file__).parents[2] / "test-artifacts" / "documents"

# One value per field name of any kind (a kind that gains a field needs a value here).
SAMPLE: dict[str, str] = {
    "case_cause": "擅自占用城市道路摆摊设点",
    "case_source": "巡查发现",
    "party_name": "王建国",
    "party_id": "110101198001010011",
    "party_address": "北京市东城区东四北大街107号",
    "facts": "于2026年4月28日10时许，在东四北大街107号门前占用城市道路摆摊经营水果，占地约6平方米。",
    "evidence": "现场检查笔录、询问笔录、现场照片4张、执法记录仪视频1段。",
    "provisions": "《北京市市容环境卫生条例》第二十三条第一款",
    "penalty_basis": "《北京市市容环境卫生条例》第七十条第一款",
    "handlers": "李明、赵强",
    "handler_opinion": "当事人涉嫌违法，建议立案调查。",
    "approval_opinion": "同意立案。",
    "inspected_at": "2026年4月28日10时05分至10时40分",
    "place": "东城区东四北大街107号门前",
    "inspectors": "李明（执法证号11010100123）、赵强（执法证号11010100456）",
    "recorder": "赵强",
    "present_person": "孙丽（邻近商户）",
    "findings": "当事人在门前人行道上摆放水果摊位三处，占地约6平方米，现场有顾客购买。",
    "party_opinion": "我知道不对，马上收摊。",
    "inquired_at": "2026年4月29日9时00分至9时45分",
    "inquirers": "李明（执法证号11010100123）",
    "respondent": "王建国",
    "respondent_id": "110101198001010011",
    "respondent_address": "北京市东城区东四北大街107号",
    "respondent_phone": "13800000000",
    "relation": "当事人",
    "transcript": "问：门前摊位是你摆放的吗？\n答：是我摆的，卖水果。\n问：摆了多长时间？\n答：大概一个星期。",
    "order_basis": "《中华人民共和国行政处罚法》第二十八条第一款",
    "deadline": "2026年5月15日",
    "requirement": "立即清除占道摊位，恢复道路原状。",
    "contact_address": "北京市东城区交道口南大街12号",
    "contact_phone": "010-64000000",
    "proposed_penalty": "罚款人民币伍佰元整（¥500.00）。",
    "statement_deadline": "收到本告知书之日起三个工作日内",
    "statement_review": "当事人在规定期限内未提出陈述、申辩意见。",
    "penalty": "罚款人民币伍佰元整（¥500.00）。",
    "payment_method": "持本决定书到指定银行或者通过电子支付系统缴纳罚款",
    "payment_deadline": "自收到本决定书之日起十五日内",
    "payment_place": "中国工商银行北京东城支行各营业网点",
    "review_body": "北京市东城区人民政府",
    "court": "北京市东城区人民法院",
    "occurred_at": "2026年4月30日15时20分",
    "act": "在东四北大街沿街晾晒衣物，影响市容。",
    "penalty_kind": "罚款",
    "fine_amount": "人民币贰拾元整",
    "officers": "李明（执法证号11010100123）、赵强（执法证号11010100456）",
    "decision_number": "京城管东罚决字〔2026〕第00012号行政处罚决定书",
    "decision_date": "2026年5月6日",
    "obligation": "缴纳罚款人民币伍佰元整。",
    "amount": "人民币伍佰元整，加处罚款人民币壹佰伍拾元整",
    "served_document": "行政处罚决定书（京城管东罚决字〔2026〕第00012号）",
    "recipient": "王建国",
    "address": "北京市东城区东四北大街107号",
    "method": "直接送达",
    "servers": "李明、赵强",
    "served_at": "2026年5月7日10时",
    "remarks": "当事人本人签收。",
}


def sample_fields(kind: Kind) -> dict[str, str]:
    return {f.name: SAMPLE[f.name] for f in kind.fields}


def pdf_text(pdf: bytes) -> str:
    """All text of the PDF with white space removed (lines wrap wherever the width ends)."""
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return re.sub(r"\s+", "", text)


def body_text(pdf: bytes) -> str:
    """:func:`pdf_text` without the page footers, so a paragraph split across pages reads whole."""
    return re.sub(r"第\d+页共\d+页", "", pdf_text(pdf))


def squashed(value: str) -> str:
    return re.sub(r"\s+", "", value)


def case_ref() -> str:
    return f"ZF-D-{secrets.token_hex(4)}"


_years = itertools.count(2101)


@pytest.fixture
def fresh_year() -> int:
    """A year no other test numbers in, so its counters start from nothing."""
    return next(_years)
