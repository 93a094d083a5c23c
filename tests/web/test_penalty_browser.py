"""An enforcement case in a real browser, from 立案 to the 行政处罚决定书 downloaded: the officer
opens it from the form (its errors first), files it, the agency head approves, evidence goes up,
the investigation closes, the discretion's advice is read and the intended fine notified, the
party's written waiver is attached, the head decides, the decision is downloaded as a PDF.
No JavaScript error on any page; screenshots to ``test-artifacts/ui/6x-*``."""

from __future__ import annotations

import datetime as dt
import secrets
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.legal.conftest import legal_loaded  # noqa: F401 - the shipped laws and causes
from tests.web.browser import DESK, JPEG, log_in, shot

pytestmark = pytest.mark.usefixtures("legal_loaded")
BJ = ZoneInfo("Asia/Shanghai")


def _local(days_ago: int) -> str:
    return (dt.datetime.now(BJ) - dt.timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M")


def _take(page: Page, action: str, fields: dict[str, str], selects: dict[str, str] | None = None) -> None:
    form = page.locator(f"#action-{action}")
    form.locator("summary").click()
    for label, value in fields.items():
        form.get_by_label(label).fill(value)
    for label, value in (selects or {}).items():
        form.get_by_label(label).select_option(value)
    form.get_by_role("button").click()
    page.wait_for_load_state("networkidle")


def _approve(page: Page, url: str) -> None:
    page.goto(url)
    page.get_by_label("审批意见").fill("同意")
    page.get_by_role("button", name="同意").click()
    page.wait_for_load_state("networkidle")


def _upload(page: Page, kind: str, name: str) -> None:
    page.get_by_label("证据文件").set_input_files(files=[{"name": name, "mimeType": "image/jpeg", "buffer": JPEG}])
    page.get_by_label("证据种类").select_option(kind)
    page.get_by_role("button", name="上传证据").click()
    page.wait_for_load_state("networkidle")


def test_an_enforcement_case_from_filing_to_the_decision_download(open_context, city) -> None:
    _, page, console = open_context(viewport=DESK, accept_downloads=True)
    log_in(page, "officer_a1")
    page.goto("/penalty-cases")
    page.get_by_role("link", name="新建案件").click()
    shot(page, "60-penalty-new")

    # the form first sent incomplete: the errors sit next to their fields, in Chinese
    page.get_by_label("办案机关").select_option(str(city.org["A1_squad"]))
    page.get_by_role("button", name="登记案件").click()
    expect(page.locator("#f-title-error")).to_have_text("必填")
    expect(page.get_by_label("案件名称")).to_have_attribute("aria-invalid", "true")
    shot(page, "61-penalty-new-errors")
    page.get_by_label("案件来源").select_option("inspection")
    page.get_by_label("案由").select_option("AY001")
    page.get_by_label("案件名称").fill("占道经营")
    page.get_by_label("简要案情").fill("当事人在东街道路口占道摆摊销售水果")
    page.get_by_label("违法行为发生时间").fill(_local(3))
    page.get_by_label("发现时间").fill(_local(1))
    page.get_by_label("当事人类型").select_option("citizen")
    page.locator("#f-party_name").fill("张三")
    page.get_by_label("证件号码/统一社会信用代码").fill(f"1101011990{secrets.randbelow(10**8):08d}")
    page.get_by_label("officer_a2").check()
    page.get_by_role("button", name="登记案件").click()
    expect(page.locator("#case-state")).to_have_text("案件来源")
    case_url = page.url

    _take(page, "file", {"立案理由": "日常巡查发现"})
    expect(page.locator(".pending")).to_contain_text("立案")
    _, head, head_console = open_context(viewport=DESK)
    log_in(head, "agency_head_a")
    _approve(head, case_url)
    expect(head.locator("#case-state")).to_have_text("调查取证")

    page.reload()
    _upload(page, "audiovisual", "现场照片.jpg")
    expect(page.locator("table.evidence tbody tr", has_text="现场照片.jpg")).to_have_count(1)
    _take(
        page, "finish_investigation", {"调查终结报告": "违法事实清楚，证据确凿"},
        {"需法制审核(法58)": "no", "需集体讨论(法57)": "no"},
    )  # fmt: skip
    expect(page.locator("table.advice")).to_contain_text("一般")
    shot(page, "62-penalty-deciding-advice")

    _take(page, "notify", {"裁量档次": "一般", "拟罚款(元)": "2000"}, {"处罚种类": "fine"})
    _approve(head, case_url)
    expect(head.locator("#case-state")).to_have_text("告知·陈述申辩")

    page.reload()
    _upload(page, "statement", "放弃陈述申辩声明.jpg")
    waive = page.locator("#action-waive")
    waive.locator("summary").click()
    waive.get_by_label("书面声明要点").fill("当事人书面放弃陈述、申辩和听证")
    waive.locator('input[name="evidence_ids"]').last.check()
    waive.get_by_role("button").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator("#case-state")).to_have_text("告知·陈述申辩")

    head.goto(case_url)
    _take(head, "decide", {"罚款(元)": "2000"})
    expect(head.locator("#case-state")).to_have_text("决定·待送达")
    shot(head, "63-penalty-decided")

    page.reload()
    decision = page.locator("ul.documents li", has_text="行政处罚决定书")
    with page.expect_download() as caught:
        decision.get_by_role("link", name="下载").click()
    assert caught.value.path().read_bytes()[:4] == b"%PDF"
    shot(page, "64-penalty-documents")
    console.clean()
    head_console.clean()
