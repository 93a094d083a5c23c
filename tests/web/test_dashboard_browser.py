"""The analysis dashboard in a real browser over the seeded test lake: every card draws (the
warning board, forecast against actual, duty table, report against enforcement, the 三高 charts
and the stored reports), a report is generated and downloaded, and no JavaScript error."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from chengguan.analytics import report_store
from chengguan.analytics.metrics import Period
from chengguan.audit import platform_actor
from chengguan.config import Settings
from chengguan.db import unit_of_work
from chengguan.web.dashboard import CARDS
from tests.analytics.conftest import SOURCE
from tests.factories import SampleCity
from tests.web.browser import DESK, log_in, shot

PERIOD = f"start=2025-06-01&end=2025-06-30&source={SOURCE}"
MODELS = re.compile("^(seasonal_naive|poisson_regression|ets)$")
SLOW = 60_000  # ms: the forecast and duty cards fit their models on a loaded machine


@pytest.fixture
def lake_app(app, synced: Settings, city: SampleCity, tmp_path: Path) -> Iterator[Settings]:
    """The served app reading the synced test lake, with 甲区's June report stored."""
    original = app.state.settings
    settings = synced.model_copy(update={"data_dir": tmp_path})
    app.state.settings = settings
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        made = report_store.generate(session, settings, "/", city.org["A"], Period.MONTH, dt.date(2025, 6, 1))
    report_store.store(settings, made)
    yield settings
    app.state.settings = original


def test_every_card_draws_and_a_report_downloads(open_context, lake_app: Settings) -> None:
    _, page, console = open_context(viewport=DESK)
    log_in(page, "analyst_a")
    page.goto(f"/dashboard?{PERIOD}")
    board = page.locator("#card-warnings table.dash-table")
    expect(board).to_be_visible(timeout=SLOW)
    assert board.locator("td.area").all_inner_texts() and set(board.locator("td.area").all_inner_texts()) <= {
        "东街道",
        "西街道",
    }
    assert board.locator("td.warn:not(.none)").count() > 0
    expect(page.locator("#card-forecast")).to_have_attribute("data-model", MODELS, timeout=SLOW)
    expect(page.locator("#card-forecast canvas")).to_be_visible()
    duty = page.locator("#card-duty table.dash-table tbody tr")
    expect(duty).to_have_count(2, timeout=SLOW)  # 东街道 and 西街道
    expect(page.locator("#card-versus canvas")).to_be_visible(timeout=SLOW)
    links = page.locator("#card-reports table.dash-table a")
    expect(links).to_have_count(3)  # HTML, PDF, Excel of the stored June report
    for card in CARDS:
        expect(page.locator(f"#card-{card.key} .dash-state")).to_be_hidden(timeout=SLOW)
    page.wait_for_load_state("networkidle")
    shot(page, "34-dashboard-cards")
    # recompute the duty with fewer officers: three per street, one a shift
    page.get_by_label("每个区域在岗队员").fill("3")
    page.locator("#duty-form button").click()
    expect(page.locator("#card-duty tbody td.num").first).to_have_text("1", timeout=SLOW)
    assert set(page.locator("#card-duty tbody td.num").all_inner_texts()) == {"1"}
    page.locator("#card-reports").scroll_into_view_if_needed()
    shot(page, "35-dashboard-duty-reports")
    with page.expect_download() as stored:
        links.nth(2).click()
    assert stored.value.suggested_filename.endswith(".xlsx")
    page.select_option("#report-period", "week")
    page.fill("#report-at", "2025-06-18")
    page.select_option("#report-format", "pdf")
    with page.expect_download(timeout=SLOW) as made:
        page.locator("#report-form button").click()
    assert made.value.suggested_filename.endswith(".pdf")
    assert Path(made.value.path()).read_bytes().startswith(b"%PDF")
    console.clean()
