"""The web pages' fixtures: a browser-like client per user (its own cookie jar), logged in through
the login form, and events to show (the event-flow tests' own: reported in 东街道 and dispatched
by the list to its squad)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import uvicorn
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.cases.conftest import new_event, photo  # noqa: F401 - shared fixtures
from tests.conftest import PASSWORD
from tests.intake.conftest import intake_city  # noqa: F401 - new_event needs it
from tests.web.browser import CHROMIUM, Console, free_port

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page carries no CSRF token"
    return found.group(1)


def web_login(client: TestClient, username: str, password: str = PASSWORD) -> None:
    page = client.get("/login")
    res = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text), "next": "/"},
        follow_redirects=False,
    )
    assert res.status_code == 303, res.text


@pytest.fixture
def browser(app, city) -> Iterator[Callable[[str | None], TestClient]]:
    """``browser("clerk_a")`` → a client with its own cookies, logged in (None: not logged in)."""
    clients: list[TestClient] = []

    def make(username: str | None = None) -> TestClient:
        client = TestClient(app, follow_redirects=False)
        clients.append(client)
        if username is not None:
            web_login(client, username)
        return client

    yield make
    for client in clients:
        client.close()


# -- the browser tests' fixtures: one server and one Chromium for the whole run (Playwright's sync
# API allows one instance per thread, so these must not be redefined or imported by test modules)


@pytest.fixture(scope="session")
def live_url(app, city) -> Iterator[str]:
    """The test app served by uvicorn on a free loopback port, in this process (same database)."""
    port = free_port()
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
