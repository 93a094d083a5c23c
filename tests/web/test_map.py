"""一张图 without a browser: the layers are scoped to the user's subtree, the aggregated layer's
counts equal a direct count of the events with their lights, the filters narrow it, the events in
a view and their cards, the wall screen and its minute of shared counts, the index the layer
reads, and the base-tile setting's CSP."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from sqlalchemy import delete, func, insert, select

from chengguan import revisions
from chengguan.audit import platform_actor
from chengguan.auth import scoping
from chengguan.calendar import service as calendar_service
from chengguan.cases import clock, sweep
from chengguan.cases.models import OPEN_ROWS, OPEN_STATUSES, Event, EventAreaCount
from chengguan.db import sqlite_plan, statements_sent, utcnow
from chengguan.dispatch import map_layer
from chengguan.dispatch.map_layer import MapFilters
from chengguan.errors import ChengguanError
from chengguan.geo.models import GridCell
from chengguan.geo.service import GRID
from chengguan.orgs.models import Organisation, Scope
from chengguan.web import routing

EVERYWHERE = "115.0,39.0,117.0,41.0"
CELL = map_layer.Level.CELL


def areas_of(res) -> dict[int | None, dict]:
    """The aggregate's columns as a row an area: {id, total, red, yellow, green, none}."""
    assert res.status_code == 200, res.text
    body, lights = res.json(), ("red", "yellow", "green", "none")
    assert all(len(body[light]) == len(body["ids"]) for light in lights)
    rows = [{"id": area, **{light: body[light][i] for light in lights}} for i, area in enumerate(body["ids"])]
    return {row["id"]: row | {"total": sum(row[light] for light in lights)} for row in rows}


def direct_counts(session, column: str, **equal: object) -> dict[int | None, Counter]:
    """Open events per area and light, each light from ``clock.light_at`` (what the desk shows)."""
    session.expire_all()
    calendar, now = calendar_service.get_calendar(session), utcnow()
    stmt = select(Event).where(Event.status.in_(OPEN_STATUSES), *(getattr(Event, k) == v for k, v in equal.items()))
    out: dict[int | None, Counter] = {}
    for event in session.scalars(stmt):
        light = clock.light_at(calendar, event, now)
        out.setdefault(getattr(event, column), Counter())[light.value if light else "none"] += 1
    return out


def test_the_aggregate_equals_a_direct_count_at_every_level(browser, new_event, platform_session) -> None:
    new_event(), new_event()
    admin = browser("admin_city")
    for level, column in (("district", "district_id"), ("street", "street_id"), ("cell", "cell_id")):
        got = areas_of(admin.get("/map/aggregate", params={"level": level, "source": "patrol"}))
        want = direct_counts(platform_session, column, source="patrol")
        assert set(got) == set(want), level
        for area, lights in want.items():
            row = got[area]
            assert {k: row[k] for k in ("red", "yellow", "green", "none") if row[k]} == dict(lights), (level, area)
            assert row["total"] == sum(lights.values())


def test_a_street_user_sees_only_its_subtree(browser, new_event, city) -> None:
    event = new_event()  # in 东街道 (A1), dispatched to its squad
    east, west, district = browser("officer_a1"), browser("officer_a2"), browser("admin_a")
    assert event["cell_id"] in areas_of(east.get("/map/aggregate"))
    assert event["cell_id"] in areas_of(district.get("/map/aggregate"))
    for wall in ("false", "true"):  # the wall screen's shared counts are shared within a scope only
        assert event["cell_id"] in areas_of(district.get("/map/aggregate", params={"wall": wall}))
        west_counts = areas_of(west.get("/map/aggregate", params={"level": "street", "wall": wall}))
        assert set(west_counts) <= {city.org["A2"]}  # only 西街道's own events, never 东街道's
    ids = [row[0] for row in west.get("/map/events", params={"bbox": EVERYWHERE}).json()["events"]]
    assert event["id"] not in ids
    assert west.get(f"/map/events/{event['id']}/card").status_code == 404

    layers = west.get("/map/areas").json()
    assert layers["districts"]["features"] == []  # the district above is not the map's extent
    assert [f["properties"]["name"] for f in layers["streets"]["features"]] == ["西街道"]
    codes = {f["properties"]["code"] for f in layers["cells"]["features"]}
    assert codes and all(code.startswith("990101002") for code in codes)
    whole = district.get("/map/areas").json()
    assert {f["properties"]["name"] for f in whole["streets"]["features"]} == {"东街道", "西街道"}


def test_every_light_is_counted_at_every_level(browser, new_event, platform_session) -> None:
    """Each light goes through the aggregate's packed sum: overdue, past 80 %, fresh, a stopped
    clock, and a bulk row without its 80 % mark yet (its stored light stands)."""
    admin = browser("admin_city")
    levels = (("district", "district_id"), ("street", "street_id"), ("cell", "cell_id"))
    ids = [new_event()["id"] for _ in range(5)]
    before = {level: areas_of(admin.get("/map/aggregate", params={"level": level})) for level, _ in levels}
    now, hour = utcnow(), dt.timedelta(hours=1)
    clocks = {  # light: (deadline_at, yellow_at, stored light)
        "red": (now - hour, now - 2 * hour, "green"),  # the stored light lags: the clock decides
        "yellow": (now + hour, now - hour / 60, "green"),
        "green": (now + 2 * hour, now + hour, "red"),
        "none": (None, None, None),
        "yellow ": (now + 2 * hour, None, "yellow"),
    }
    events = [platform_session.get(Event, event_id) for event_id in ids]
    for event, (deadline, yellow, light) in zip(events, clocks.values(), strict=True):
        event.deadline_at, event.yellow_at, event.light = deadline, yellow, light
    platform_session.commit()
    for level, column in levels:
        after = areas_of(admin.get("/map/aggregate", params={"level": level}))
        want: dict[int | None, Counter] = {}
        for event, light in zip(events, clocks, strict=True):  # each was green before
            change = want.setdefault(getattr(event, column), Counter())
            change[light.strip()] += 1
            change["green"] -= 1
        for area, change in want.items():
            got = {k: after[area][k] - before[level][area][k] for k in ("red", "yellow", "green", "none")}
            assert got == {k: change[k] for k in got}, (level, area)
            assert after[area]["total"] == before[level][area]["total"]


def test_the_counts_pack_and_unpack_exactly() -> None:
    weights = map_layer.PACK_WEIGHTS
    top = (1 << map_layer.PACK_BITS) - 1  # the most events of one light an area holds
    for lights in ({"red": 3, "yellow": 0, "none": 7, "green": 2}, {"red": top, "yellow": 0, "none": 0, "green": 0}):
        packed = sum(weights[light] * n for light, n in lights.items())
        assert map_layer.unpack(sum(lights.values()), packed) == lights
    with pytest.raises(ChengguanError):
        map_layer.unpack(top + 1, (top + 1) * weights["red"])


def test_a_scope_holding_every_organisation_counts_without_the_scope_condition(app, city, new_event) -> None:
    """A city-wide user's counts leave the scope's per-row condition out (it holds for every event)
    and equal the platform's; a district's keep it, and see no more than those."""
    new_event()
    filters = MapFilters(source="patrol")

    def counts(scope: Scope | None) -> tuple[bool, str, dict[int | None, tuple[int, ...]]]:
        with app.state.sessionmaker() as session:
            scoping.bind(session, platform_actor("tests"), scope)
            with statements_sent(session.get_bind()) as sent:
                area = map_layer.roll_up(map_layer.cell_counts(session, filters, utcnow()), map_layer.Level.CELL)
            rows = dict(zip(area.ids, zip(*area.lights.values(), strict=True), strict=True))
            return map_layer.sees_every_organisation(session), sent[-1][0], rows

    everything, statement, whole = counts(Scope("/"))  # every path starts with "/"
    assert everything and "org_id IN" not in statement and whole == counts(None)[2]
    with app.state.sessionmaker() as session:
        district = session.scalars(select(Organisation.path).where(Organisation.id == city.org["A"])).one()
    everything, statement, part = counts(Scope(district))
    assert not everything and "org_id IN" in statement and part
    assert all(area in whole and sum(part[area]) <= sum(whole[area]) for area in part)


def test_the_scan_reads_the_open_rows_index(platform_session) -> None:
    """The scan (any question the kept counts do not answer): the open-status condition is written
    with literals, as in the partial index's WHERE (else SQLite would not use it: 9 s instead of a
    fraction of one over 500,000 events), and on SQLite the aggregate is an index-only scan with no
    sort for its GROUP BY."""
    engine = platform_session.get_bind()
    with statements_sent(engine) as sent:
        map_layer.scanned_counts(platform_session, MapFilters(), utcnow(), everything=False)
    statement, parameters = sent[-1]
    assert OPEN_ROWS.removeprefix("status ") in statement
    if engine.dialect.name == "sqlite":
        plan = sqlite_plan(platform_session, statement, parameters)
        assert "COVERING INDEX ix_events_open_map" in plan and "TEMP B-TREE" not in plan, plan


def test_the_city_view_reads_the_kept_counts_on_sqlite_and_scans_on_postgresql(platform_session) -> None:
    """Unfiltered, the platform's (and a city-wide user's) count on SQLite reads the counts the
    triggers keep and seeks the rows whose light turned since the sweep, never scanning the events;
    on PostgreSQL (no triggers: EventAreaCount's doc) it is the scan."""
    engine = platform_session.get_bind()
    with statements_sent(engine) as sent:
        map_layer.cell_counts(platform_session, MapFilters(), utcnow())
    statements = [statement for statement, _ in sent]
    if engine.dialect.name != "sqlite":
        assert not any("event_area_counts" in statement for statement in statements)
        assert "GROUP BY events.cell_id" in statements[-1]
        return
    assert any("FROM event_area_counts" in statement for statement in statements)
    plan = sqlite_plan(platform_session, *sent[-1])
    parts = [step for step in plan.split(" | ") if step.startswith(("SCAN events", "SEARCH events"))]
    assert len(parts) == 6 and all(step.startswith("SEARCH events") for step in parts), plan


def test_the_kept_counts_follow_every_change_of_the_events(app, new_event, platform_session) -> None:
    """Through the workflow's writes, bulk rows, clocks that passed their marks before the sweep,
    the sweep, a stopped clock, a move to another cell, closing and deleting, the kept counts
    (corrected by the turned rows) equal a scan of the events. On PostgreSQL nothing keeps them."""

    def same() -> None:
        platform_session.flush()
        now = utcnow()
        scanned = map_layer.roll_up(
            map_layer.scanned_counts(platform_session, MapFilters(), now, everything=False), CELL
        )
        if platform_session.get_bind().dialect.name != "sqlite":
            assert platform_session.scalar(select(func.count()).select_from(EventAreaCount)) == 0
            return
        kept = map_layer.roll_up(map_layer.kept_counts(platform_session, now), CELL)
        assert kept == scanned

    ids = [new_event()["id"] for _ in range(6)]
    same()
    events = [platform_session.get(Event, event_id) for event_id in ids]
    now, hour = utcnow(), dt.timedelta(hours=1)
    clocks = [  # (deadline_at, yellow_at, stored light): marks passed since the light was stored
        (now - hour, now - 2 * hour, None),
        (now - hour, now - 2 * hour, "yellow"),
        (now + hour, now - hour, None),
        (now + 2 * hour, now + hour, "yellow"),
        (now + 2 * hour, now + hour, "red"),
        (now + 2 * hour, None, "yellow"),  # a bulk row without its 80 % mark: the stored light stands
    ]
    for event, (deadline, yellow, light) in zip(events, clocks, strict=True):
        event.deadline_at, event.yellow_at, event.light = deadline, yellow, light
    same()
    bulk = {k: getattr(events[0], k) for k in ("title", "org_id", "source", "first_reported_at", "last_reported_at")}
    rows = [
        bulk | {"status": "dispatched", "cell_id": events[1].cell_id, "deadline_at": now - hour},
        bulk | {"status": "accepted"},
    ]
    bulk_ids = [platform_session.scalar(insert(Event).values(row).returning(Event.id)) for row in rows]
    same()
    sweep.sweep(platform_session, now)  # stores the lights: nothing left to correct
    same()
    events[0].deadline_at = None  # suspended: the clock stops
    events[1].cell_id, events[1].street_id = events[2].cell_id, events[2].street_id
    events[2].status = "closed"
    platform_session.execute(delete(Event).where(Event.id.in_(bulk_ids)))  # bulk rows have no reports
    same()


def test_a_minute_of_counts_is_shared_within_its_scope(app, city, new_event) -> None:
    counts, filters = map_layer.MinuteCounts(size=4), MapFilters(source="patrol")
    minute = utcnow().replace(second=10)
    new_event()

    def counted(scope: Scope | None, at: dt.datetime) -> tuple[dt.datetime, int]:
        with app.state.sessionmaker() as session:
            scoping.bind(session, platform_actor("tests"), scope)
            when, cells = counts.get(session, filters, at)
            return when, sum(int(column.sum()) for column in cells.lights.values())

    first = counted(None, minute)
    new_event()
    assert counted(None, minute + dt.timedelta(seconds=40)) == first  # the same minute: the same counts
    assert counted(None, minute + dt.timedelta(minutes=1)) == (minute + dt.timedelta(minutes=1), first[1] + 1)
    with app.state.sessionmaker() as session:
        west = Scope(session.scalars(select(Organisation.path).where(Organisation.id == city.org["A2"])).one())
    when, seen = counted(west, minute)  # the same minute under another scope: its own scan
    assert when == minute and seen < first[1]  # the events reported in 东街道 are not 西街道's


def test_the_area_layers_are_drawn_light_and_rebuilt_with_the_grid(browser, city, platform_session) -> None:
    west = browser("officer_a2")
    first = west.get("/map/areas")
    assert first.status_code == 200 and first.headers["content-type"] == "application/json"
    cells = first.json()["cells"]["features"]
    for feature in cells:  # written to 5 decimals (≈ 1 m)
        for lon, lat in feature["geometry"]["coordinates"][0]:
            assert round(lon, 5) == lon and round(lat, 5) == lat
    cell = platform_session.get(GridCell, cells[0]["properties"]["id"])
    old_name, cell.name = cell.name, f"{cell.name}·改"
    platform_session.commit()
    assert west.get("/map/areas").json() == first.json()  # the same grid revision: the layers built before
    revisions.bump(platform_session, GRID)  # what every grid change in geo.service does
    platform_session.commit()
    names = {f["properties"]["id"]: f["properties"]["name"] for f in west.get("/map/areas").json()["cells"]["features"]}
    assert names[cell.id] == f"{old_name}·改"
    cell.name = old_name
    revisions.bump(platform_session, GRID)


def test_the_filters_narrow_the_layers(browser, new_event) -> None:
    event = new_event()
    admin = browser("admin_city")

    def cell_total(**params: str) -> int:
        row = areas_of(admin.get("/map/aggregate", params=params)).get(event["cell_id"])
        return 0 if row is None else row["total"]

    everything = cell_total()
    minor = event["category_key"]
    assert 1 <= cell_total(category=minor) <= cell_total(category=minor[:3]) <= everything  # a 大类 takes its 小类
    assert cell_total(category="ZZZ") == 0
    assert cell_total(source="hotline") < everything
    assert cell_total(status="dispatched") >= 1  # one state of the flow
    assert everything + cell_total(status="closed") <= cell_total(status="all")
    tomorrow = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    assert cell_total(start=tomorrow) == 0
    assert cell_total(end="2000-01-01") == 0
    assert admin.get("/map/aggregate", params={"status": "nonsense"}).status_code == 422
    assert admin.get("/map/aggregate", params={"start": "2026-02-02", "end": "2026-01-01"}).status_code == 422
    assert admin.get("/map/events", params={"bbox": "1,2,3"}).status_code == 422


def test_events_in_a_view_and_their_card(browser, new_event) -> None:
    event = new_event()
    admin = browser("admin_city")
    lon, lat = event["lon"], event["lat"]
    box = f"{lon - 0.001},{lat - 0.001},{lon + 0.001},{lat + 0.001}"
    answer = admin.get("/map/events", params={"bbox": box}).json()
    rows = {row[0]: row for row in answer["events"]}
    assert answer["more"] is False
    assert rows[event["id"]][1:4] == [lat, lon, "green"]
    elsewhere = f"{lon + 0.01},{lat + 0.01},{lon + 0.02},{lat + 0.02}"
    assert event["id"] not in {r[0] for r in admin.get("/map/events", params={"bbox": elsewhere}).json()["events"]}
    card = admin.get(f"/map/events/{event['id']}/card")
    assert card.status_code == 200
    assert f'href="/events/{event["id"]}"' in card.text and event["number"] in card.text and "打开案卷" in card.text


def test_the_page_its_wall_mode_and_english(browser) -> None:
    client = browser("dispatcher_a")
    page = client.get("/map")
    assert page.status_code == 200 and "城市管理一张图" in page.text and 'href="/map?wall=true"' in page.text
    assert '<option value="open">' in page.text and "12345热线" in page.text
    wall = client.get("/map", params={"wall": "true"})
    assert 'class="desk map-page wall"' in wall.text and '"refresh_s": 60' in wall.text
    client.get("/lang/en")
    assert "Command map" in client.get("/map").text
    assert browser(None).get("/map").status_code == 303


def test_a_tile_server_is_allowed_by_the_content_security_policy() -> None:
    plain = routing._headers_with_tiles(None)["Content-Security-Policy"]
    assert "img-src 'self' data: blob:" in plain
    tianditu = routing._headers_with_tiles("https://t{s}.tianditu.gov.cn/vec_w/wmts?tk=KEY&x={x}&y={y}&l={z}")
    assert "img-src 'self' https://*.tianditu.gov.cn data:" in tianditu["Content-Security-Policy"]
    own = routing._headers_with_tiles("https://tiles.city.gov.cn/{z}/{x}/{y}.png")
    assert "img-src 'self' https://tiles.city.gov.cn data:" in own["Content-Security-Policy"]
