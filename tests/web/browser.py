"""What the browser tests share besides their fixtures (``tests/web/conftest.py``): viewports,
the screenshot directory, the console watcher, logging in through the form."""

from __future__ import annotations

import socket
from pathlib import Path

from playwright.sync_api import ConsoleMessage, Page, Response
from playwright.sync_api import Error as PlaywrightError

from tests.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).parents[2] / "test-artifacts" / "ui"
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1366, "height": 900}
PLACE = {"latitude": 39.9302, "longitude": 116.0301}
JPEG = (Path(__file__).parent / "photo.jpg").read_bytes()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


def shot(page: Page, name: str) -> None:
    """A full-page screenshot for the eye. Chromium's capture has failed now and then after the
    page was checked (fonts loaded, then no frame for 30 s; or "Unable to capture screenshot"):
    a later attempt takes it. The screenshot asserts nothing, so a retry hides no failure of the
    page; a third failure still fails the test."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = str(SHOTS / f"{name}.png")
    for attempt in range(3):
        try:
            page.screenshot(path=path, full_page=True, timeout=15_000)
            return
        except PlaywrightError:
            if attempt == 2:
                raise
            page.wait_for_timeout(500)


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
