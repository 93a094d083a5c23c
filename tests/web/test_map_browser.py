"""一张图 and the dashboard in a real browser: no JavaScript error, the aggregated layer drawn from
the city's own geometry, a click on an event marker opens its card with the link to the desk."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.web.browser import DESK, log_in, shot


def test_the_map_layers_and_an_event_card(open_context, new_event) -> None:
    new_event()
    _, page, console = open_context(viewport=DESK)
    log_in(page, "dispatcher_a")
    page.goto("/map")
    expect(page.locator(".map-count").first).to_be_visible()
    assert int(page.locator('#map-totals [data-light="green"]').inner_text()) >= 1
    shot(page, "30-map-areas")
    page.get_by_label("单个事件").check()
    expect(page.locator("#command-map")).to_have_attribute("data-layer", "events")
    marker = page.locator("path.event-marker").last  # drawn last, on top: no other marker covers it
    expect(marker).to_be_visible()
    marker.click()
    link = page.locator("#map-card .event-card a.button")
    expect(link).to_have_text("打开案卷")
    shot(page, "31-map-event-card")
    link.click()
    expect(page.locator("#event-state")).to_be_visible()
    page.goto("/map?wall=true")
    expect(page.locator(".map-count").first).to_be_visible()
    shot(page, "32-map-wall")
    console.clean()


def test_the_dashboard_opens_without_errors(open_context) -> None:
    _, page, console = open_context(viewport=DESK)
    log_in(page, "analyst_a")
    page.goto("/dashboard")
    expect(page.locator("#card-warnings .dash-state")).not_to_have_text("加载中…")
    page.wait_for_load_state("networkidle")
    shot(page, "33-dashboard")
    # without a synced lake a card's metric may answer 404 and say so; nothing else may fail
    console.errors = [e for e in console.errors if "/dashboard/data/" not in e or not e.endswith("HTTP 404")]
    console.clean()
