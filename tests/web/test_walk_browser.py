"""Issue 7's walk, every step through the pages as the person who does it would, in a real browser:
a citizen on a phone reports a problem (map pick, the phone's position, a photo, an SMS-verified
number, no category: the system has no confident guess, so it waits for a clerk); a clerk at a
desk classifies it in the queue and it is dispatched by the responsibility list to 东街道's squad;
the squad's officer, on a phone, takes photos (one while offline: queued by the service worker and
sent when the network is back) and reports back; a supervisor passes 核查 at the desk and auto-结案
follows; the citizen tracks the number, sees it closed with the reply, rates it once, and looks at
the public map.

Each step's refusal is shown next to its field, in Chinese; no context logs a JavaScript error.
Screenshots ``9x-walk-*`` go to ``test-artifacts/ui/``."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from playwright.sync_api import BrowserContext, Locator, Page, expect
from sqlalchemy import func, select

from chengguan.evidence.models import EvidenceItem
from tests.cases.conftest import spot
from tests.web.browser import DESK, JPEG, PHONE, Console, log_in, shot, tab_order
from tests.web.test_citizen import event_of, sent_codes

LON, LAT = spot(357)  # in 东街道, apart from every other test's spot
HERE = {"latitude": LAT, "longitude": LON}
MOBILE = "13800138000"
DESCRIPTION = "菜市场门口有人占道摆摊卖菜，行人只能走机动车道"
REPLY = "已劝离摊贩，现场已清理"
SQUAD = "东街道综合执法队"

OpenContext = Callable[..., tuple[BrowserContext, Page, Console]]


@dataclass(frozen=True)
class Citizen:
    page: Page
    console: Console
    number: str  # the tracking number as shown: XXXX-XXXX-XXXX


def _on_a_phone(open_context: OpenContext) -> tuple[BrowserContext, Page, Console]:
    return open_context(viewport=PHONE, is_mobile=True, has_touch=True, geolocation=HERE, permissions=["geolocation"])


def _photo(name: str) -> dict[str, object]:
    """A photo of its own bytes: the pages show a file once, however many times it was sent."""
    return {"name": name, "mimeType": "image/jpeg", "buffer": JPEG + name.encode()}


def _photos_of(platform_session, event_id: int) -> int:
    stmt = select(func.count()).select_from(EvidenceItem).where(EvidenceItem.subject_id == str(event_id))
    platform_session.expire_all()
    return int(platform_session.scalar(stmt) or 0)


def _shows_photos(photos: Locator, count: int) -> None:
    """``count`` photos, each of them loaded (served and decoded, not a broken image)."""
    expect(photos).to_have_count(count)
    for i in range(count):
        photos.nth(i).scroll_into_view_if_needed()  # they load lazily
        expect(photos.nth(i)).to_have_js_property("complete", True)
        assert photos.nth(i).evaluate("img => img.naturalWidth") > 0


def _fits_a_phone(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


# -- the citizen reports -------------------------------------------------------------------------------


def _citizen_reports(open_context: OpenContext, platform_session) -> Citizen:
    _, page, console = _on_a_phone(open_context)
    page.goto("/citizen")
    shot(page, "90-walk-citizen-home")
    page.get_by_role("navigation", name="市民服务导航").get_by_role("link", name="我要上报").click()
    expect(page.locator("#pick-map path")).not_to_have_count(0)  # the districts drawn, no tiles needed

    # sent empty: each error next to its field, in Chinese
    page.get_by_role("button", name="提交", exact=True).click()
    expect(page.locator("#description-error")).to_have_text("请描述问题")
    expect(page.locator("#location-error")).to_have_text("请在地图上选点或填写地址")
    expect(page.get_by_label("问题描述")).to_have_attribute("aria-invalid", "true")
    shot(page, "90-walk-citizen-errors")

    # the place: a tap on the map, then the phone's own position
    page.locator("#pick-map").tap(position={"x": 170, "y": 120})
    expect(page.locator("#lat")).not_to_have_value("")
    expect(page.locator("#picked")).to_contain_text("已选位置")
    expect(page.locator("#pick-map path.leaflet-interactive")).to_have_count(1)  # the marker
    page.get_by_role("button", name="使用我的位置").click()
    expect(page.locator("#lat")).to_have_value(f"{LAT:.6f}")
    expect(page.locator("#lon")).to_have_value(f"{LON:.6f}")
    # no category: "不确定，由系统判断"; the city has no confident classifier, so a clerk decides
    expect(page.get_by_label("问题类型")).to_have_value("")
    page.get_by_label("问题描述").fill(DESCRIPTION)
    page.get_by_label("照片").set_input_files(files=[_photo("现场.jpg")])
    # the phone, verified by the code the SMS sender would deliver (htmx swaps the phone block only)
    page.get_by_label("手机号码", exact=True).fill(MOBILE)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.locator("#code-status")).to_have_text("验证码已发送至138****8000，10分钟内有效。")
    page.get_by_label("短信验证码").fill(sent_codes(platform_session, MOBILE)[-1])
    shot(page, "91-walk-citizen-filled")
    _fits_a_phone(page)
    page.get_by_role("button", name="提交", exact=True).click()

    expect(page.get_by_role("heading", name="提交成功")).to_be_visible()
    number = page.locator("#tracking-number").inner_text()
    assert len(number) == 14 and number.count("-") == 2
    expect(page.locator("#stage")).to_have_text("待核实")  # waiting for a clerk, no event yet
    expect(page.locator("body")).to_contain_text("待确定")  # the category
    expect(page.locator("body")).not_to_contain_text(MOBILE)
    shot(page, "91-walk-citizen-submitted")
    return Citizen(page, console, number)


# -- the clerk classifies it, the list dispatches it ------------------------------------------------------


def _in_queue(page: Page, text: str) -> Locator:
    """The queue item showing ``text``, paging on as a clerk would (oldest first: other tests'
    reports may fill the first pages when the whole suite runs)."""
    while True:
        item = page.locator(".queue-item", has_text=text)
        if item.count():
            return item
        following = page.get_by_role("navigation", name="分页").get_by_role("link", name="下一页")
        assert following.count(), f"no item {text!r} in the queue"
        following.click()
        page.wait_for_load_state()


def _clerk_accepts(open_context: OpenContext) -> int:
    _, page, console = open_context(viewport=DESK)
    log_in(page, "clerk_a")
    page.get_by_role("link", name="进入受理队列").click()
    page.get_by_role("link", name="待分类").click()
    item = _in_queue(page, DESCRIPTION)
    expect(item).to_contain_text("没有分类建议。")
    expect(item).to_contain_text("市民上报")  # the channel
    expect(item.locator(".queue-map path.leaflet-interactive")).to_have_count(1)  # the citizen's point
    _shows_photos(item.locator("ul.photos img"), 1)  # the citizen's photo

    # accepted without a category: refused, the reason by the field
    item.get_by_role("button", name="受理为新事件").click()
    expect(item.locator(".field-error")).to_have_text("请选择小类")
    other = item.get_by_label("或填写其他小类编码")
    expect(other).to_have_attribute("aria-invalid", "true")
    shot(page, "92-walk-queue-refused")
    other.fill("E0502")
    item.get_by_role("button", name="受理为新事件").click()
    expect(item).to_have_attribute("role", "status")
    expect(item).to_contain_text("已受理为新事件")
    expect(item).to_contain_text(f"已派遣至{SQUAD}")  # by the responsibility list
    shot(page, "92-walk-queue-accepted")

    item.get_by_role("link").click()
    expect(page.locator("#event-state")).to_have_text("处置")
    expect(page.locator("dl.facts")).to_contain_text(SQUAD)
    expect(page.locator("dl.facts")).to_contain_text("占道经营 E0502")  # the 小类's name beside its code
    expect(page.locator("#h-reports + ul")).to_contain_text("市民上报")  # the channel's name, not its code
    _shows_photos(page.locator("ul.photos img"), 1)  # the citizen's, sent with the report
    shot(page, "93-walk-desk-dispatched")
    console.clean()
    return int(page.url.rstrip("/").rsplit("/", 1)[1])


def _citizen_sees_it_handled(citizen: Citizen) -> None:
    citizen.page.reload()
    expect(citizen.page.locator("#stage")).to_have_text("处置中")
    expect(citizen.page.locator("body")).to_contain_text(SQUAD)


# -- the officer handles it on a phone ----------------------------------------------------------------


def _officer_handles(open_context: OpenContext, platform_session, event_id: int) -> None:
    phone, page, console = _on_a_phone(open_context)
    log_in(page, "officer_a1")
    assert page.url.endswith("/m/")
    shot(page, "94-walk-phone-tasks")
    page.locator(f'a[href="/m/events/{event_id}"]').click()
    expect(page.locator("#event-state")).to_have_text("处置")
    title = page.get_by_role("heading", level=1).inner_text()
    where = f"{LAT},{LON}"
    expect(page.get_by_role("link", name="导航前往")).to_have_attribute(
        "href", f"geo:{where}?q={where}({quote(title)})"
    )
    page.evaluate("navigator.serviceWorker.ready")
    page.wait_for_function("navigator.serviceWorker.controller !== null")

    # a photo, with the phone's GPS
    page.get_by_role("button", name="上传照片").click()
    expect(page.locator("#photo-error")).to_have_text("请先拍照或选择照片")
    page.get_by_label("拍照取证").set_input_files(files=[_photo("现场1.jpg")])
    expect(page.locator("#photo-where")).to_contain_text(f"GPS {LAT:.6f}, {LON:.6f}")
    page.get_by_role("button", name="上传照片").click()
    page.wait_for_load_state("networkidle")
    _shows_photos(page.locator("ul.photos img"), 2)  # the officer's, then the citizen's
    expect(page.locator("ul.photos li").last).to_contain_text("上报照片")
    shot(page, "94-walk-phone-task")

    # offline: the service worker keeps the photo and sends it when the network is back
    phone.set_offline(True)
    page.get_by_label("拍照取证").set_input_files(files=[_photo("离线.jpg")])
    page.get_by_role("button", name="上传照片").click()
    expect(page.locator("#photo-status")).to_have_text("网络不通，照片已保存，联网后自动上传。")
    expect(page.locator("#net-status")).to_contain_text("待上传照片：1 张")
    shot(page, "95-walk-phone-offline-queued")
    assert _photos_of(platform_session, event_id) == 1
    phone.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    deadline = time.monotonic() + 15
    while _photos_of(platform_session, event_id) < 2:
        assert time.monotonic() < deadline, "the queued photo was not sent"
        time.sleep(0.2)
    page.reload()
    expect(page.locator("ul.photos img")).to_have_count(3)

    # 处理反馈: first without a result (the error sits next to the field), then with one
    feedback = page.locator("#action-feedback")
    feedback.locator("summary").click()
    feedback.get_by_role("button", name="提交").click()
    expect(feedback.locator(".field-error")).to_have_text("必填")
    expect(feedback.get_by_label("处置结果")).to_have_attribute("aria-invalid", "true")
    shot(page, "95-walk-phone-feedback-error")
    feedback.get_by_label("处置结果").focus()
    assert tab_order(page, 3)[-1] == "BUTTON"  # result → the photos to attach → submit
    feedback.get_by_label("处置结果").fill(REPLY)
    feedback.get_by_role("button", name="提交").click()
    expect(page.locator("#event-state")).to_have_text("核查")
    _fits_a_phone(page)
    shot(page, "95-walk-phone-reported")
    console.clean()


# -- the supervisor passes 核查 ----------------------------------------------------------------------------


def _supervisor_passes(open_context: OpenContext, event_id: int) -> None:
    _, desk, console = open_context(viewport=DESK)
    log_in(desk, "supervisor_a")
    shot(desk, "96-walk-desk-home-supervisor")
    desk.goto("/inbox")
    expect(desk.locator(f'a[href="/events/{event_id}"]')).to_be_visible()
    shot(desk, "96-walk-desk-inbox")
    desk.locator(f'a[href="/events/{event_id}"]').click()
    expect(desk.locator("#map .leaflet-interactive")).to_have_count(2)  # the grid cell and the point
    _shows_photos(desk.locator("ul.photos img"), 3)
    shot(desk, "96-walk-desk-verifying")
    verify = desk.locator("#action-verify_pass")
    verify.locator("summary").click()
    verify.get_by_label("核查意见").fill("现场已恢复")
    verify.get_by_role("button", name="提交").click()
    expect(desk.locator("#event-state")).to_have_text("结案")
    nodes = desk.locator("table.nodes tbody tr td:nth-child(2)")
    expect(nodes).to_have_text(["处置", "核查", "待结案", "结案"])
    expect(desk.locator("ol.steps")).to_contain_text("系统自动")
    shot(desk, "97-walk-desk-closed")
    desk.get_by_role("link", name="English").click()
    expect(desk.locator("#event-state")).to_have_text("Closed")
    console.clean()


# -- the citizen sees it closed and rates it ---------------------------------------------------------------


def _citizen_rates(citizen: Citizen) -> None:
    page = citizen.page
    page.goto("/citizen/track")
    page.get_by_label("查询编号").fill(citizen.number.lower())
    page.get_by_role("button", name="查询").click()
    expect(page.locator("#stage")).to_have_text("已办结")
    expect(page.locator("#reply")).to_have_text(REPLY)
    expect(page.locator("#timeline")).to_contain_text("派遣")
    expect(page.locator("#timeline")).to_contain_text("结案")
    expect(page.locator("body")).not_to_contain_text("officer_a1")  # no officer names
    expect(page.locator("body")).not_to_contain_text(MOBILE)
    shot(page, "98-walk-citizen-closed")
    _fits_a_phone(page)
    page.locator('label[for="rating-4"]').click()
    page.get_by_label("评价意见（选填）").fill("处理很及时")
    page.get_by_role("button", name="提交评价").click()
    expect(page.locator("#rated")).to_contain_text("您的评价：4星")
    expect(page.get_by_role("button", name="提交评价")).to_have_count(0)  # once only
    shot(page, "98-walk-citizen-rated")

    page.goto("/citizen/map")
    expect(page.locator("#map-summary")).to_contain_text("共")
    expect(page.locator("#public-map path.leaflet-interactive")).not_to_have_count(0)
    shot(page, "99-walk-citizen-map")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Problem map")).to_be_visible()
    citizen.console.clean()


def test_a_citizens_report_walks_through_clerk_officer_and_supervisor_to_a_rating(
    open_context, intake_city, platform_session
) -> None:
    """``intake_city``: the taxonomy and the responsibility list that dispatches 街面秩序 in 东街道
    to its squad."""
    citizen = _citizen_reports(open_context, platform_session)
    event_id = _clerk_accepts(open_context)
    assert event_of(platform_session, citizen.number.replace("-", "")).id == event_id
    _citizen_sees_it_handled(citizen)
    _officer_handles(open_context, platform_session, event_id)
    _supervisor_passes(open_context, event_id)
    _citizen_rates(citizen)
