"""The desk and the officer's phone in a real browser (Debian's chromium through Playwright): an
event reported and dispatched by the list; the officer, on a phone-sized screen, opens it, takes a
photo (one of them while offline: queued and sent when the network is back) and reports back; a
supervisor passes 核查 and auto-结案 closes it; the event page shows it closed with its timeline.

Every page visited must log no JavaScript error. Screenshots of the main screens go to
``test-artifacts/ui/`` (look at them after a change to a page)."""

from __future__ import annotations

import time
from urllib.parse import quote

from playwright.sync_api import expect
from sqlalchemy import func, select

from chengguan.evidence.models import EvidenceItem
from tests.web.browser import DESK, JPEG, PHONE, PLACE, log_in, shot, tab_order


def photos_of(platform_session, event_id: int) -> int:
    stmt = select(func.count()).select_from(EvidenceItem).where(EvidenceItem.subject_id == str(event_id))
    platform_session.expire_all()
    return int(platform_session.scalar(stmt) or 0)


def test_login_form_labels_and_focus_order(open_context) -> None:
    _, page, console = open_context(viewport=DESK)
    page.goto("/login")
    expect(page.get_by_label("用户名")).to_be_focused()  # autofocus
    assert tab_order(page, 2) == ["password", "BUTTON"]
    shot(page, "01-login")
    page.get_by_label("用户名").fill("clerk_a")
    page.get_by_label("密码").fill("wrong")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_have_text("用户名或密码错误")
    shot(page, "02-login-error")
    console.clean()


def test_an_event_from_the_list_to_closed_across_desk_and_phone(open_context, new_event, platform_session) -> None:
    event = new_event()
    eid = event["id"]

    # -- the officer, on a phone ------------------------------------------------------------------
    phone, page, console = open_context(
        viewport=PHONE, is_mobile=True, has_touch=True, geolocation=PLACE, permissions=["geolocation"]
    )
    log_in(page, "officer_a1")
    assert page.url.endswith("/m/")
    shot(page, "10-phone-tasks")
    page.locator(f'a[href="/m/events/{eid}"]').click()
    expect(page.locator("#event-state")).to_have_text("处置")
    where = f"{event['lat']},{event['lon']}"
    geo = f"geo:{where}?q={where}({quote(event['title'])})"
    expect(page.get_by_role("link", name="导航前往")).to_have_attribute("href", geo)
    page.evaluate("navigator.serviceWorker.ready")
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    shot(page, "11-phone-task")

    page.get_by_label("拍照取证").set_input_files(files=[_photo("现场1.jpg")])
    expect(page.locator("#photo-where")).to_contain_text("GPS 39.930200, 116.030100")
    page.get_by_role("button", name="上传照片").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator("ul.photos img")).to_have_count(1)

    # offline: the service worker keeps the photo and sends it when the network is back
    phone.set_offline(True)
    page.get_by_label("拍照取证").set_input_files(files=[_photo("离线.jpg")])
    page.get_by_role("button", name="上传照片").click()
    expect(page.locator("#photo-status")).to_have_text("网络不通，照片已保存，联网后自动上传。")
    expect(page.locator("#net-status")).to_contain_text("待上传照片：1 张")
    shot(page, "12-phone-offline-queued")
    assert photos_of(platform_session, eid) == 1
    phone.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    deadline = time.monotonic() + 15
    while photos_of(platform_session, eid) < 2:
        assert time.monotonic() < deadline, "the queued photo was not sent"
        time.sleep(0.2)
    page.reload()
    expect(page.locator("ul.photos img")).to_have_count(2)

    # 处理反馈: first without a result (the error sits next to the field), then with one
    feedback = page.locator("#action-feedback")
    feedback.locator("summary").click()
    feedback.get_by_role("button", name="提交").click()
    expect(feedback.locator(".field-error")).to_have_text("必填")
    expect(feedback.get_by_label("处置结果")).to_have_attribute("aria-invalid", "true")
    shot(page, "13-phone-feedback-error")
    feedback.get_by_label("处置结果").focus()
    assert tab_order(page, 3)[-1] == "BUTTON"  # result → the photos to attach → submit
    feedback.get_by_label("处置结果").fill("已劝离，现场已清理")
    feedback.get_by_role("button", name="提交").click()
    expect(page.locator("#event-state")).to_have_text("核查")
    shot(page, "14-phone-after-feedback")
    console.clean()

    # -- the supervisor, at a desk ------------------------------------------------------------------
    _, desk, desk_console = open_context(viewport=DESK)
    log_in(desk, "supervisor_a")
    shot(desk, "20-desk-home-supervisor")
    desk.goto("/inbox")
    expect(desk.locator(f'a[href="/events/{eid}"]')).to_be_visible()
    shot(desk, "21-desk-inbox")
    desk.locator(f'a[href="/events/{eid}"]').click()
    expect(desk.locator("#map .leaflet-interactive")).to_have_count(2)  # the grid cell and the point
    shot(desk, "22-desk-event-verifying")
    verify = desk.locator("#action-verify_pass")
    verify.locator("summary").click()
    verify.get_by_label("核查意见").fill("现场已恢复")
    verify.get_by_role("button", name="提交").click()
    expect(desk.locator("#event-state")).to_have_text("结案")
    nodes = desk.locator("table.nodes tbody tr td:nth-child(2)")
    expect(nodes).to_have_text(["处置", "核查", "待结案", "结案"])
    expect(desk.locator("ol.steps")).to_contain_text("系统自动")
    shot(desk, "23-desk-event-closed")
    desk.get_by_role("link", name="English").click()
    expect(desk.locator("#event-state")).to_have_text("Closed")
    shot(desk, "24-desk-event-closed-en")
    desk_console.clean()


def _photo(name: str) -> dict[str, object]:
    return {"name": name, "mimeType": "image/jpeg", "buffer": JPEG}
