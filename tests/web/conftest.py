"""The web pages' fixtures: a browser-like client per user (its own cookie jar), logged in through
the login form, and events to show (the event-flow tests' own: reported in 东街道 and dispatched
by the list to its squad)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from tests.cases.conftest import new_event, photo  # noqa: F401 - shared fixtures
from tests.conftest import PASSWORD
from tests.intake.conftest import intake_city  # noqa: F401 - new_event needs it

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
