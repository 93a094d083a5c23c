"""The login form in a real browser (Debian's chromium through Playwright): its labels, its focus
order and its refusal. The walk across roles, desk and phone, is ``test_walk_browser.py``.

Every page visited must log no JavaScript error. Screenshots of the main screens go to
``test-artifacts/ui/`` (look at them after a change to a page)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.web.browser import DESK, shot, tab_order


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
