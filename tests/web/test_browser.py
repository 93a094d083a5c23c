"""The desk and the officer's phone in a real browser (Debian's chromium through Playwright): an
event reported and dispatched by the list; the officer, on a phone-sized screen, opens it, takes a
photo (one of them while offline: queued and sent when the network is back) and reports back; a
supervisor passes 核查 and auto-结案 closes it; the event page shows it closed with its timeline.

Every page visited must log no JavaScript error. Screenshots of the main screens go to
``test-artifacts/ui/`` (look at them after a change to a page)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Response, expect, sync_playwright
from sqlalchemy import func, select

from chengguan.evidence.models import EvidenceItem
from tests.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).parents[2] / "test-artifacts" / "ui"
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1366, "height": 900}
PLACE = {"latitude": 39.9302, "longitude": 116.0301}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def live_url(app, city) -> Iterator[str]:
    """The test app served by uvicorn on a free loopback port, in this process (same database)."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


# Chromium logs every 4xx response as a console error; the refusals these tests provoke on purpose
# (401 for a wrong password, 422 for a form shown again with its errors) are checked by status.
NETWORK_LOG = "Failed to load resource: the server responded with a status of 4"


class Console:
    """JavaScript errors of every page of a context, and responses that should not happen: a
    missing file (404) or a server error (5xx)."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def watch(self, page: Page) -> Page:
        page.on("console", self._message)
        page.on("pageerror", lambda exc: self.errors.append(f"{page.url}: {exc}"))
        page.on("response", self._response)
        return page

    def _message(self, msg: ConsoleMessage) -> None:
        if msg.type == "error" and not msg.text.startswith(NETWORK_LOG):
            self.errors.append(f"{msg.location.get('url')}: {msg.text}")

    def _response(self, response: Response) -> None:
        if response.status == 404 or response.status >= 500:
            self.errors.append(f"{response.url}: HTTP {response.status}")

    def clean(self) -> None:
        assert self.errors == [], self.errors


@pytest.fixture
def open_context(chromium: Browser, live_url: str) -> Iterator[Callable[..., tuple[BrowserContext, Page, Console]]]:
    contexts: list[BrowserContext] = []

    def make(**options: object) -> tuple[BrowserContext, Page, Console]:
        context = chromium.new_context(base_url=live_url, locale="zh-CN", **options)  # type: ignore[arg-type]
        contexts.append(context)
        console = Console()
        context.on("page", console.watch)
        return context, console.watch(context.new_page()), console

    yield make
    for context in contexts:
        context.close()


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def tab_order(page: Page, count: int) -> list[str]:
    """The ids of the next ``count`` elements the Tab key reaches."""
    ids = []
    for _ in range(count):
        page.keyboard.press("Tab")
        ids.append(page.evaluate("document.activeElement.id || document.activeElement.tagName"))
    return ids


def log_in(page: Page, username: str) -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state("networkidle")


def photos_of(platform_session, event_id: int) -> int:
    stmt = select(func.count()).select_from(EvidenceItem).where(EvidenceItem.subject_id == str(event_id))
    platform_session.expire_all()
    return int(platform_session.scalar(stmt) or 0)


JPEG = (Path(__file__).parent / "photo.jpg").read_bytes()


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
