"""The citizen's end of the walk in a real browser, on a phone-sized screen: report a problem with a
map pick (refined by the phone's position) and a photo, get a tracking number; once the case is
driven to 结案 (through the API, as the squad and the supervisor), track it, see it closed with its
reply and rate it; then the public map. No JavaScript errors; screenshots in ``test-artifacts/ui/``."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.cases.conftest import spot
from tests.web.browser import JPEG, PHONE, shot
from tests.web.test_citizen import close, event_of, sent_codes

LON, LAT = spot(359)  # in 东街道, apart from every other test's spot
HERE = {"latitude": LAT, "longitude": LON}
MOBILE = "13800138000"


def test_a_citizen_reports_on_a_phone_tracks_it_to_closed_and_rates_it(
    open_context,
    intake_city,
    client,
    as_user,
    photo,
    platform_session,
) -> None:
    """``intake_city``: the taxonomy and the responsibility list that dispatches to 东街道's squad."""
    _, page, console = open_context(
        viewport=PHONE, is_mobile=True, has_touch=True, geolocation=HERE, permissions=["geolocation"]
    )
    page.goto("/citizen")
    shot(page, "40-citizen-home")
    page.get_by_role("navigation", name="市民服务导航").get_by_role("link", name="我要上报").click()
    expect(page.locator("#pick-map path")).not_to_have_count(0)  # the districts drawn, no tiles needed

    # sent empty: each error next to its field, in Chinese
    page.get_by_role("button", name="提交", exact=True).click()
    expect(page.locator("#description-error")).to_have_text("请描述问题")
    expect(page.locator("#location-error")).to_have_text("请在地图上选点或填写地址")
    expect(page.get_by_label("问题描述")).to_have_attribute("aria-invalid", "true")
    shot(page, "41-citizen-report-errors")

    # the place: a tap on the map, then the phone's own position
    page.locator("#pick-map").tap(position={"x": 170, "y": 120})
    expect(page.locator("#lat")).not_to_have_value("")
    expect(page.locator("#picked")).to_contain_text("已选位置")
    expect(page.locator("#pick-map path.leaflet-interactive")).to_have_count(1)  # the marker
    page.get_by_role("button", name="使用我的位置").click()
    expect(page.locator("#lat")).to_have_value(f"{LAT:.6f}")
    expect(page.locator("#lon")).to_have_value(f"{LON:.6f}")
    page.get_by_label("问题类型").select_option("E0502")
    page.get_by_label("问题描述").fill("菜市场门口有人占道摆摊卖菜，行人只能走机动车道")
    page.get_by_label("照片").set_input_files(files=[{"name": "现场.jpg", "mimeType": "image/jpeg", "buffer": JPEG}])
    # the phone, verified by the code the SMS sender would deliver (htmx swaps the phone block only)
    page.get_by_label("手机号码", exact=True).fill(MOBILE)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.locator("#code-status")).to_have_text("验证码已发送至138****8000，10分钟内有效。")
    page.get_by_label("短信验证码").fill(sent_codes(platform_session, MOBILE)[-1])
    shot(page, "42-citizen-report-filled")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.get_by_role("button", name="提交", exact=True).click()
    expect(page.get_by_role("heading", name="提交成功")).to_be_visible()
    number = page.locator("#tracking-number").inner_text()
    assert len(number) == 14 and number.count("-") == 2
    expect(page.locator("#stage")).to_have_text("处置中")
    expect(page.locator("body")).not_to_contain_text(MOBILE)
    shot(page, "43-citizen-submitted")

    # the squad reports back with a photo, the supervisor passes 核查, auto-结案 follows
    close(client, as_user, photo, event_of(platform_session, number.replace("-", "")).id)

    page.goto("/citizen/track")
    page.get_by_label("查询编号").fill(number.lower())
    page.get_by_role("button", name="查询").click()
    expect(page.locator("#stage")).to_have_text("已办结")
    expect(page.locator("#reply")).to_have_text("已劝离摊贩，现场已清理")
    expect(page.locator("#timeline")).to_contain_text("结案")
    expect(page.locator("#timeline")).to_contain_text("派遣")  # dispatched on arrival: its time stands for the step
    shot(page, "44-citizen-closed")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing wider than a phone
    page.locator('label[for="rating-4"]').click()
    page.get_by_label("评价意见（选填）").fill("处理很及时")
    page.get_by_role("button", name="提交评价").click()
    expect(page.locator("#rated")).to_contain_text("您的评价：4星")
    expect(page.get_by_role("button", name="提交评价")).to_have_count(0)  # once only
    shot(page, "45-citizen-rated")

    page.goto("/citizen/map")
    expect(page.locator("#map-summary")).to_contain_text("共")
    expect(page.locator("#public-map path.leaflet-interactive")).not_to_have_count(0)
    shot(page, "46-citizen-map")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Problem map")).to_be_visible()
    console.clean()
