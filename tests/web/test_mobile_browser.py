"""The officer's phone in a real browser (390×844, GPS granted): 上报 with a photo (once online,
once offline: queued by the service worker and sent when the network is back), a 当场处罚 warning,
a 50 元 fine collected on the spot (first refused above 法68's 100 元, the reason by the field)
with its 当场处罚决定书 downloaded, and 掌上查. No JavaScript error on any page; screenshots to
``test-artifacts/ui/8x-*``."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from chengguan.intake.models import Report
from tests.factories import SampleCity
from tests.legal.conftest import legal_loaded  # noqa: F401 - the shipped laws and causes
from tests.web.browser import JPEG, PHONE, PLACE, log_in, shot

pytestmark = pytest.mark.usefixtures("legal_loaded", "intake_city")


def _photo(name: str) -> dict[str, object]:
    return {"name": name, "mimeType": "image/jpeg", "buffer": JPEG + name.encode()}


def _patrol_reports(platform_session, text: str) -> int:
    platform_session.expire_all()
    stmt = select(func.count()).select_from(Report).where(Report.channel == "patrol", Report.description == text)
    return int(platform_session.scalar(stmt) or 0)


def _report(page: Page, text: str, photo: str) -> None:
    page.goto("/m/report")
    expect(page.locator("[data-where]")).to_contain_text("GPS 39.930200, 116.030100")
    page.get_by_label("问题类型").select_option("E0502")
    page.get_by_label("问题描述").fill(text)
    page.get_by_label("拍照取证").set_input_files(files=[_photo(photo)])


def _penalty(page: Page, city: SampleCity, kind: str, amount: str, collected: str) -> None:
    page.goto("/m/")
    page.get_by_role("link", name="当场处罚").click()
    page.get_by_label("当事人类型").select_option("citizen")
    page.locator("#party_name").fill("王五")
    page.get_by_label("案由").select_option("AY001")
    page.get_by_label("简要案情").fill("在东街道路口占道摆摊")
    page.get_by_label("现场照片").set_input_files(files=[_photo(f"penalty-{kind}-{amount}.jpg")])
    page.get_by_label("处罚种类").select_option(kind)
    page.get_by_label("罚款金额(元)").fill(amount)
    page.get_by_label("当场收缴").select_option(collected)
    page.get_by_label("同行执法人员").select_option(str(city.user["officer_a2"]))


def test_report_decide_on_the_spot_and_look_up_the_law_on_a_phone(
    open_context,
    city: SampleCity,
    platform_session,
) -> None:
    phone, page, console = open_context(
        viewport=PHONE, is_mobile=True, has_touch=True, geolocation=PLACE, permissions=["geolocation"],
        accept_downloads=True,
    )  # fmt: skip
    log_in(page, "officer_a1")
    page.evaluate("navigator.serviceWorker.ready")
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    shot(page, "80-phone-tasks-links")

    # 上报: first without a description (the error by the field), then with it and a photo
    page.get_by_role("link", name="上报问题").click()
    page.get_by_role("button", name="上报").click()
    expect(page.locator("#description-error")).to_have_text("请描述问题")
    _report(page, "路口有人占道经营卖水果", "上报.jpg")
    shot(page, "81-phone-report-form")
    page.get_by_role("button", name="上报").click()
    # new, or merged into the open event an earlier test reported at the same spot (dedup)
    expect(page.locator("h2#h-outcome")).to_have_text(re.compile("已立为新问题|已合并到正在处理的问题"))
    expect(page.locator("#outcome-event")).to_have_attribute("href", re.compile(r"/m/events/\d+"))
    shot(page, "82-phone-report-result")

    # offline: the service worker keeps the report and sends it when the network is back
    _report(page, "离线上报：人行道堆放杂物", "离线上报.jpg")
    phone.set_offline(True)
    page.get_by_role("button", name="上报").click()
    expect(page.locator("#report-status")).to_have_text("网络不通，上报已保存，联网后自动发送。")
    shot(page, "83-phone-report-queued")
    assert _patrol_reports(platform_session, "离线上报：人行道堆放杂物") == 0
    phone.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    deadline = time.monotonic() + 15
    while _patrol_reports(platform_session, "离线上报：人行道堆放杂物") < 1:
        assert time.monotonic() < deadline, "the queued report was not sent"
        time.sleep(0.2)

    # 当场处罚: a warning
    _penalty(page, city, "warning", "", "no")
    shot(page, "84-phone-penalty-form")
    page.get_by_role("button", name="作出当场处罚决定").click()
    expect(page.locator("#case-state")).to_have_text("结案")
    expect(page.locator("#case-kind")).to_have_text("警告")

    # a fine of 150 元 collected on the spot: refused by 法68, the reason by the field; then 50 元
    _penalty(page, city, "fine", "150", "yes")
    page.get_by_role("button", name="作出当场处罚决定").click()
    expect(page.locator("#collected-error")).to_contain_text("法 68")
    expect(page.get_by_label("当场收缴")).to_have_attribute("aria-invalid", "true")
    page.locator("#collected-error").scroll_into_view_if_needed()
    shot(page, "85-phone-penalty-refused")
    _penalty(page, city, "fine", "50", "yes")
    page.get_by_role("button", name="作出当场处罚决定").click()
    expect(page.locator("#case-kind")).to_have_text("罚款 50元")
    expect(page.locator("#case-state")).to_have_text("结案")
    shot(page, "86-phone-penalty-decided")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载").first.click()
    pdf = download.value.path().read_bytes()
    assert pdf.startswith(b"%PDF")

    # 掌上查
    page.goto("/m/")
    page.get_by_role("navigation", name="掌上办").get_by_role("link", name="法规查询").click()
    page.get_by_label("关键词（空格分隔）").fill("摆摊 占用")
    page.get_by_role("button", name="查询").click()
    expect(page.locator("ol.hits li").first).to_be_visible()
    shot(page, "87-phone-laws")
    page.locator("ol.hits li a").first.click()
    expect(page.locator("article.law")).to_contain_text("摆")
    shot(page, "88-phone-law-article")
    page.get_by_role("link", name="English").click()
    page.goto("/m/penalty/new")
    expect(page.get_by_role("button", name="Decide on the spot")).to_be_visible()
    shot(page, "89-phone-penalty-form-en")
    console.clean()
