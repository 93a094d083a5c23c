"""/api/legal documents, articles and keyword search; who may read them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from chengguan.errors import Invalid
from chengguan.legal import service


def _document(client: TestClient, headers: dict[str, str], title: str) -> dict:
    items = client.get("/api/legal/documents", params={"q": title}, headers=headers).json()["items"]
    return next(d for d in items if d["title"] == title)


def test_a_citizen_reads_laws_but_anonymous_callers_do_not(legal_client: TestClient, as_user) -> None:
    page = legal_client.get("/api/legal/documents", headers=as_user("citizen_a")).json()
    assert page["total"] >= 31
    assert legal_client.get("/api/legal/documents").status_code == 401
    assert legal_client.get("/api/legal/search", params={"q": "罚款"}).status_code == 401
    assert legal_client.get("/api/legal/documents", headers={"X-API-Key": "cg_x_y"}).status_code == 401


def test_documents_filter_by_level(legal_client: TestClient, as_user) -> None:
    headers = as_user("citizen_a")
    rules = legal_client.get("/api/legal/documents", params={"level": "local_rule"}, headers=headers).json()
    assert [d["title"] for d in rules["items"]] == ["北京市环境噪声污染防治办法"]
    bad = legal_client.get("/api/legal/documents", params={"level": "treaty"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "level"


def test_document_outline(legal_client: TestClient, as_user) -> None:
    headers = as_user("legal_reviewer_a")
    law = _document(legal_client, headers, "中华人民共和国行政处罚法")
    assert law["article_count"] == 86 and law["version_date"] == "2021-01-22" and law["level"] == "law"
    detail = legal_client.get(f"/api/legal/documents/{law['id']}", headers=headers).json()
    assert detail["preamble"].startswith("1996年3月17日")
    chapters = detail["outline"]["children"]
    assert [c["label"] for c in chapters][:2] == ["第一章 总则", "第二章 行政处罚的种类和设定"] and len(chapters) == 8
    fifth = chapters[4]
    assert fifth["articles"] == [] and [s["label"] for s in fifth["children"]] == [
        "第一节 一般规定",
        "第二节 简易程序",
        "第三节 普通程序",
        "第四节 听证程序",
    ]
    summary = fifth["children"][1]["articles"]
    assert [a["label"] for a in summary] == ["第五十一条", "第五十二条", "第五十三条"]
    sections = [s for c in chapters for s in c["children"]]
    assert sum(len(c["articles"]) for c in chapters) + sum(len(s["articles"]) for s in sections) == 86
    flat = _document(legal_client, headers, "无证无照经营查处办法")
    outline = legal_client.get(f"/api/legal/documents/{flat['id']}", headers=headers).json()["outline"]
    assert outline["children"] == [] and len(outline["articles"]) == 19
    assert legal_client.get("/api/legal/documents/999999", headers=headers).status_code == 404


def test_article_with_paragraphs_and_items(legal_client: TestClient, as_user) -> None:
    headers = as_user("officer_a2")
    ref = legal_client.get("/api/legal/lookup", params={"ref": "行政处罚法第九条"}, headers=headers).json()
    article = legal_client.get(f"/api/legal/articles/{ref['article_id']}", headers=headers).json()
    assert article["label"] == "第九条" and article["chapter"] == "第二章 行政处罚的种类和设定"
    [paragraph] = article["paragraphs"]
    assert paragraph["text"] == "行政处罚的种类："
    assert [(i["number"], i["text"]) for i in paragraph["items"]] == [
        (1, "警告、通报批评；"),
        (2, "罚款、没收违法所得、没收非法财物；"),
        (3, "暂扣许可证件、降低资质等级、吊销许可证件；"),
        (4, "限制开展生产经营活动、责令停产停业、责令关闭、限制从业；"),
        (5, "行政拘留；"),
        (6, "法律、行政法规规定的其他行政处罚。"),
    ]
    assert legal_client.get("/api/legal/articles/999999", headers=headers).status_code == 404


def test_keyword_search_ranks_and_snippets(session: Session) -> None:
    results = service.search(session, "露天烧烤")
    assert results.total == 3
    ranked = [(h.article.document.short_title, h.article.label, h.score) for h in results.hits]
    # two mentions beat one; equal scores in article order
    assert ranked[:2] == [("大气污染防治法", "第八十一条", 2), ("大气污染防治法", "第一百一十八条", 2)]
    assert ranked[2][2] == 1 and all("露天烧烤" in h.snippet for h in results.hits)
    both = service.search(session, "夜间 施工")
    assert both.total > 0 and all("夜间" in h.article.text and "施工" in h.article.text for h in both.hits)
    title = service.lookup(session, "噪声法 1").document
    only = service.search(session, "夜间 施工", document_id=title.id)
    assert 0 < only.total < both.total and {h.article.document_id for h in only.hits} == {title.id}
    assert service.search(session, "50%_").total == 0  # LIKE wildcards are matched literally


def test_search_refusals(session: Session) -> None:
    with pytest.raises(Invalid) as exc:
        service.search(session, "   ")
    assert exc.value.field == "q"
    with pytest.raises(Invalid):
        service.search(session, "一 二 三 四 五 六")


def test_search_endpoint(legal_client: TestClient, as_user) -> None:
    headers = as_user("citizen_a")
    res = legal_client.get("/api/legal/search", params={"q": "互联网租赁自行车", "limit": 5}, headers=headers)
    assert res.status_code == 200
    body = res.json()
    assert body["total"] == len(body["items"]) >= 1
    assert all("互联网租赁自行车" in hit["snippet"] for hit in body["items"])
    assert body["items"][0]["document_title"] == "北京市文明行为促进条例"
    assert legal_client.get("/api/legal/search", params={"q": ""}, headers=headers).status_code == 422
