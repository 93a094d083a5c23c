"""The clerk's queue and the 会商 queue in a real browser: a clerk accepts a classification item
with one of the classifier's choices (after a refusal shown next to the field), merges a duplicate
suggestion, and a dispatcher names the owning unit of a 会商; htmx swaps each item for its result.
No JavaScript error on any page; screenshots 70–79 go to ``test-artifacts/ui/``."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.web.browser import DESK, PHONE, log_in, shot
from tests.web.test_queue_pages import (  # noqa: F401 - fixtures
    duplicate,
    report_of,
    street_users,
    submit,
    vague_model,
)


def test_the_queues_worked_in_a_browser(open_context, submit, duplicate, platform_session, city) -> None:  # noqa: F811
    vague = submit()
    first, maybe = duplicate()
    unowned = submit("路口有人占道经营卖水果", street="A2", category_key="E0502")

    # -- the clerk, at a desk ---------------------------------------------------------------------
    _, page, console = open_context(viewport=DESK)
    log_in(page, "clerk_a")
    page.get_by_role("link", name="进入受理队列").click()
    expect(page.get_by_role("heading", name="待受理上报")).to_be_visible()
    page.get_by_role("link", name="待分类").click()
    item = page.locator(f"#report-{vague.report_id}")
    expect(item.locator(".queue-map path.leaflet-interactive")).to_have_count(1)
    expect(item.locator("input[name=category_key]")).to_have_count(3)
    shot(page, "70-queue-classification")

    # a category the taxonomy does not know: the error sits next to the field, the item stays
    item.get_by_label("或填写其他小类编码").fill("ZZ999")
    item.get_by_role("button", name="受理为新事件").click()
    expect(item.locator(".field-error")).to_contain_text("无此分类")
    expect(item.get_by_label("或填写其他小类编码")).to_have_attribute("aria-invalid", "true")
    shot(page, "71-queue-refused")
    item.get_by_label("或填写其他小类编码").fill("")
    item.locator("input[name=category_key]").nth(1).check()
    chosen = item.locator("input[name=category_key]").nth(1).get_attribute("value")
    item.get_by_role("button", name="受理为新事件").click()
    expect(item).to_contain_text("已受理为新事件")
    expect(item).to_have_attribute("role", "status")
    assert report_of(platform_session, vague.report_id).category_key == chosen

    # the duplicate suggestion: the candidate's point is on the item's map, merged in one click
    page.get_by_role("link", name="疑似重复").click()
    item = page.locator(f"#report-{maybe.report_id}")
    expect(item.locator(".queue-map path.leaflet-interactive")).to_have_count(2)
    expect(item).to_contain_text("相似度")
    shot(page, "72-queue-duplicate")
    _, phone, phone_console = open_context(viewport=PHONE, is_mobile=True, has_touch=True)
    log_in(phone, "clerk_a")
    phone.goto("/queue?reason=duplicate")
    expect(phone.locator(f"#report-{maybe.report_id} .queue-map path.leaflet-interactive")).to_have_count(2)
    shot(phone, "75-queue-phone")
    phone_console.clean()
    _, english, english_console = open_context(viewport=DESK)
    log_in(english, "clerk_a")
    english.goto("/lang/en?next=/queue%3Freason%3Dduplicate")
    expect(english.get_by_role("heading", name="Reports awaiting a clerk")).to_be_visible()
    expect(english.locator(f"#report-{maybe.report_id}")).to_contain_text("same subcategory")
    shot(english, "74-queue-en")
    english_console.clean()
    item.get_by_role("button", name="合并到所选事件").click()
    expect(item).to_contain_text("已合并到")
    shot(page, "73-queue-merged")
    assert report_of(platform_session, maybe.report_id).event_id == first.event_id

    console.clean()

    # -- the dispatcher settles the 会商 --------------------------------------------------------------
    _, page, console = open_context(viewport=DESK)
    log_in(page, "dispatcher_a")
    page.get_by_role("link", name="进入会商队列").click()
    expect(page.get_by_role("heading", name="会商")).to_be_visible()
    cards = page.locator(".queue-item")
    dom_id = cards.filter(has=page.locator(f'a[href="/events/{unowned.event_id}"]')).get_attribute("id")
    item = page.locator(f"#{dom_id}")
    expect(item).to_contain_text("清单未给出责任单位")
    shot(page, "76-consultations")
    item.get_by_role("button", name="确定并派遣").click()
    expect(item.locator(".field-error").first).to_have_text("此项必填")
    shot(page, "77-consultation-refused")
    item.get_by_label("责任单位").select_option(label="甲区水务局")
    item.get_by_label("会商意见").fill("现场为水务设施，由水务局处理")
    item.get_by_role("button", name="确定并派遣").click()
    expect(item).to_have_attribute("role", "status")
    expect(item).to_contain_text("已确定由甲区水务局负责")
    shot(page, "78-consultation-resolved")
    page.get_by_role("link", name=f"SJ{unowned.event_id:010d}").last.click()
    expect(page.locator("#event-state")).to_have_text("处置")
    console.clean()
