"""Citations resolved against the loaded texts, through the service and /api/legal/lookup."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from chengguan.errors import Invalid
from chengguan.legal import service

PARA_5 = "违反第一款规定的，责令改正，没收违法所得和非法财物，并可处五百元以上五千元以下的罚款"


@pytest.mark.parametrize(
    "ref",
    ["市容环境卫生条例 第35条 第5款", "北京市市容环境卫生条例第三十五条第五款", "BJ市容 35 para 5", "B1 art 35 para 5"],
)
def test_one_provision_in_four_notations(session: Session, ref: str) -> None:
    resolved = service.lookup(session, ref)
    assert resolved.citation == "北京市市容环境卫生条例第三十五条第五款"
    assert resolved.text.startswith(PARA_5)
    assert resolved.paragraph is not None and resolved.paragraph.number == 5 and resolved.item is None


@pytest.mark.parametrize(
    ("ref", "citation", "text"),
    [
        (
            "噪声法 77(二)",
            "中华人民共和国噪声污染防治法第七十七条第一款第二项",
            "（二）未按照规定取得证明，在噪声敏感建筑物集中区域",
        ),
        (
            "行政处罚法第五十一条",
            "中华人民共和国行政处罚法第五十一条",
            "违法事实确凿并有法定依据，对公民处以二百元以下",
        ),
        ("法 51", "中华人民共和国行政处罚法第五十一条", "违法事实确凿并有法定依据"),
        (
            "治安法(2012) 50(二)",
            "中华人民共和国治安管理处罚法第五十条第一款第二项",
            "（二）阻碍国家机关工作人员依法执行职务的；",
        ),
        ("BJ市容 26 last para", "北京市市容环境卫生条例第二十六条第二款", "违反前款第（三）项、第（五）项规定的"),
        ("无证无照 14", "无证无照经营查处办法第十四条", "明知属于无照经营而为经营者提供经营场所"),
        ("城市道路 42", "城市道路管理条例第四十二条", "违反本条例第二十七条规定"),
        ("城乡规划法 64", "中华人民共和国城乡规划法第六十四条", "未取得建设工程规划许可证"),
        ("法 9", "中华人民共和国行政处罚法第九条", "行政处罚的种类：\n（一）警告、通报批评；"),
        ("城市道路条例 第四十二条", "城市道路管理条例第四十二条", "违反本条例第二十七条规定"),
        ("北京市垃圾条例 67 para 3", "北京市生活垃圾管理条例第六十七条第三款", "依据前款规定应当受到处罚的个人"),
    ],
)
def test_notations_resolve_to_the_exact_words(session: Session, ref: str, citation: str, text: str) -> None:
    resolved = service.lookup(session, ref)
    assert resolved.citation == citation
    assert resolved.text.startswith(text)


@pytest.mark.parametrize(
    ("ref", "field", "says"),
    [
        ("不存在条例 5", "ref.document", "不存在条例"),
        ("BJ市容 99", "ref.article", "has no 第九十九条; it has 67 articles"),
        ("BJ市容 35 para 6", "ref.paragraph", "has 5 paragraph(s)"),
        ("法 9(七)", "ref.item", "has no item （七）"),
        ("BJ市容 35 para 1(一)", "ref.item", "第三十五条第一款 has no item （一）"),
        ("治安法(2025) 50", "ref.document", "no 2025 version"),
        ("强制法53-58", "ref", "one provision per reference"),
    ],
)
def test_failures_name_the_part(session: Session, ref: str, field: str, says: str) -> None:
    with pytest.raises(Invalid) as exc:
        service.lookup(session, ref)
    assert exc.value.field == field and says in exc.value.message


@pytest.mark.parametrize("name", ["燃气管理条例", "燃气条例"])
def test_an_ambiguous_name_lists_the_candidates(session: Session, name: str) -> None:
    with pytest.raises(Invalid) as exc:
        service.lookup(session, f"{name} 30")
    assert exc.value.field == "ref.document"
    assert exc.value.extra["candidates"] == ["北京市燃气管理条例", "城镇燃气管理条例"]


def test_lookup_endpoint(legal_client: TestClient, as_user) -> None:
    res = legal_client.get("/api/legal/lookup", params={"ref": "BJ市容 35 para 5"}, headers=as_user("citizen_a"))
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["citation"] == "北京市市容环境卫生条例第三十五条第五款"
    assert body["paragraph_no"] == 5 and body["item_no"] is None and body["text"].startswith(PARA_5)
    article = legal_client.get(f"/api/legal/articles/{body['article_id']}", headers=as_user("citizen_a"))
    assert article.json()["label"] == "第三十五条"


def test_lookup_endpoint_refusals_are_problem_json(legal_client: TestClient, as_user) -> None:
    headers = as_user("officer_a1")
    res = legal_client.get("/api/legal/lookup", params={"ref": "BJ市容 35 para 9"}, headers=headers)
    assert res.status_code == 422
    assert res.headers["content-type"].startswith("application/problem+json")
    assert res.json()["errors"][0]["field"] == "ref.paragraph"
    res = legal_client.get("/api/legal/lookup", params={"ref": "处罚法 5"}, headers=headers)
    assert res.status_code == 422
    assert res.json()["candidates"] == ["中华人民共和国治安管理处罚法", "中华人民共和国行政处罚法"]
