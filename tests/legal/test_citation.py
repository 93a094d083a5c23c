"""Reading citations in the notations people and the knowledge base use (no database)."""

from __future__ import annotations

import pytest

from chengguan.errors import Invalid
from chengguan.legal.citation import LAST, Citation, parse_citation


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("市容环境卫生条例 第35条 第5款", Citation("市容环境卫生条例", None, 35, 0, 5)),
        ("北京市市容环境卫生条例第三十五条第五款", Citation("北京市市容环境卫生条例", None, 35, 0, 5)),
        ("BJ市容 35 para 5", Citation("bj市容", None, 35, 0, 5)),
        ("噪声法 77(二)", Citation("噪声法", None, 77, 0, None, 2)),
        ("噪声法 77（二）", Citation("噪声法", None, 77, 0, None, 2)),
        ("行政处罚法第五十一条", Citation("行政处罚法", None, 51)),
        ("法 51", Citation("法", None, 51)),
        ("法57 para 2", Citation("法", None, 57, 0, 2)),
        ("《中华人民共和国行政处罚法》第九条第一款第三项", Citation("中华人民共和国行政处罚法", None, 9, 0, 1, 3)),
        ("治安法(2012) 50(二)", Citation("治安法", 2012, 50, 0, None, 2)),
        ("B4 art 18", Citation("b4", None, 18)),
        ("BJ市容 26 last para", Citation("bj市容", None, 26, 0, LAST)),
        ("某条例第十条之一", Citation("某条例", None, 10, 1)),
        ("固废法 111 item 3", Citation("固废法", None, 111, 0, None, 3)),
    ],
)
def test_notations(ref: str, expected: Citation) -> None:
    assert parse_citation(ref) == expected


@pytest.mark.parametrize(
    ("ref", "field"),
    [
        ("强制法53-58", "ref"),  # a range names several provisions
        ("城市道路管理条例 27, 30", "ref"),
        ("噪声法 77(二) para 1", "ref"),  # 款 after 项
        ("BJ市容 35 para 0", "ref"),
        ("第五十一条", "ref.document"),
        ("行政处罚法", "ref.article"),
        ("   ", "ref.document"),
    ],
)
def test_refusals_name_the_part(ref: str, field: str) -> None:
    with pytest.raises(Invalid) as exc:
        parse_citation(ref)
    assert exc.value.field == field
