"""The case desk's pages (issue 7: inbox and event pages ≤ 100 ms at p95).

    .venv/bin/python -u benchmarks/web_pages.py --built /tmp/mapbench2 --events 500000 --runs 30

On a copy of the demo city (``--built``: a directory holding one made by ``demo_city.build_demo``),
``--events`` events are bulk-inserted in the demo's grid cells the way ``map_layer.py`` does, then
made a year's history: four in five closed (reported over the past year), the rest open and held
by the community they were reported in (their unit). One more event is built through the JSON API
as the city's people would: ``--reports`` patrol reports at one spot merged into it, a photo for
each of its ``--rounds`` rounds of 督办 → 处理反馈 → 核查不通过 (a long timeline), left open.

Timed through the real app (TestClient: the pages' login cookie, the organisation scope in SQL,
the templates), ``--runs`` requests each after a warm-up: ``GET /inbox`` of a street's officer
and of a district's dispatcher, first page and a later one, and ``GET /events/{id}`` of the rich
event as the district's dispatcher (its actions' forms included). Baseline in the same run:
``GET /health``. Medians and p95 of wall time, and the median CPU time of the process
(``time.process_time``) beside it: on a shared machine the wall time carries other people's load.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text

from chengguan.app import served_app
from chengguan.audit import platform_actor
from chengguan.config import Settings
from chengguan.db import unit_of_work, utcnow
from chengguan.web.desk import INBOX_PAGE
from demo_city import city_copy  # benchmarks/demo_city.py
from map_layer import PASSWORD, insert_events, logged_in, timed  # benchmarks/map_layer.py

STREET_OFFICER = "dongcheng.officer"  # 东华门街道
DISTRICT_DISPATCHER = "dongcheng.dispatcher"  # 东城区
SUPERVISOR = "dongcheng.shift_leader"  # 督办 and 核查
SPOT = (116.3975, 39.9135)  # inside 东华门街道
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
LATER_PAGE = 20  # "a later page" of the inbox: its 21st of 50 events, or its last if it has fewer


def make_history(factory, n: int) -> None:
    """``n`` bulk events as ``map_layer.py`` writes them (open, no unit), then four in five
    closed and reported over the past year, the rest held by their own community."""
    insert_events(factory, n, utcnow())
    with unit_of_work(factory, actor=platform_actor("bench")) as session:
        session.execute(text("UPDATE events SET unit_id = org_id WHERE source = 'bench'"))
        session.execute(
            text(
                "UPDATE events SET status = 'closed', deadline_at = NULL, yellow_at = NULL,"
                " first_reported_at = datetime(first_reported_at, '-' || (id % 365) || ' days'),"
                " last_reported_at = datetime(last_reported_at, '-' || (id % 365) || ' days')"
                " WHERE source = 'bench' AND id % 5 <> 0"
            )
        )
        session.execute(text("ANALYZE"))


def bearer(client: TestClient, username: str) -> dict[str, str]:
    res = client.post("/api/auth/token", data={"username": username, "password": PASSWORD})
    assert res.status_code == 200, res.text
    return {"Authorization": f"Bearer {res.json()['access_token']}"}


def ok(res, *codes: int) -> dict:
    assert res.status_code in (codes or (200,)), f"{res.request.url}: {res.status_code} {res.text[:400]}"
    return res.json()


def rich_event(client: TestClient, reports: int, rounds: int) -> int:
    """An open event with ``reports`` merged reports, a photo per round and ``rounds`` rounds of
    督办 → 处理反馈 → 核查不通过, all through the JSON API."""
    officer, dispatcher, leader = (bearer(client, u) for u in (STREET_OFFICER, DISTRICT_DISPATCHER, SUPERVISOR))
    ids = set()
    for i in range(reports):
        body = {"channel": "patrol", "description": "路口有人占道经营卖水果", "category_key": "E0502"}
        body |= {"external_id": f"pages-{i}", "lon": SPOT[0] + i * 1e-5, "lat": SPOT[1], "crs": "wgs84"}
        ids.add(ok(client.post("/api/intake/reports", json=body, headers=officer), 200, 201)["event_id"])
    assert len(ids) == 1, f"the reports did not merge into one event: {ids}"
    event_id = ids.pop()

    def act(who: dict[str, str], key: str, fields: dict, evidence: list[int] | None = None) -> None:
        body = {"fields": fields} | ({"evidence_ids": evidence} if evidence else {})
        ok(client.post(f"/api/events/{event_id}/actions/{key}", json=body, headers=who), 200, 201)

    for r in range(rounds):
        files = {"file": (f"现场{r}.jpg", io.BytesIO(JPEG + os.urandom(64)), "image/jpeg")}
        data = {"subject_type": "event", "subject_id": str(event_id), "evidence_type": "audiovisual"}
        photo = ok(client.post("/api/evidence", data=data, files=files, headers=officer), 201)["id"]
        act(leader, "supervise", {"note": f"请加快处置（第{r + 1}次）"})
        act(dispatcher, "feedback", {"result": "已劝离，待核查"}, [photo])
        act(leader, "verify_fail", {"reason": "现场仍有摊点，返工"})
    return event_id


def get(client: TestClient, url: str, needle: str) -> Callable[[], None]:
    def call() -> None:
        res = client.get(url)
        assert res.status_code == 200 and needle in res.text, f"{url}: {res.status_code}"

    return call


def later_page(client: TestClient) -> str:
    """The inbox's page ``LATER_PAGE`` (counted from 0), or its last."""
    total = int(client.get("/inbox").text.split('<span class="count">', 1)[1].split("<", 1)[0])
    return f"/inbox?offset={min(LATER_PAGE, (total - 1) // INBOX_PAGE) * INBOX_PAGE}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--built", type=Path, default=None, help="a directory holding a built demo city d.db")
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--reports", type=int, default=12, help="reports merged into the rich event")
    parser.add_argument("--rounds", type=int, default=8, help="督办 → 反馈 → 核查不通过 rounds of the rich event")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    work = city_copy(args.built, "pagesbench-")
    shutil.move(work / "base.db", work / "d.db")
    app = served_app(Settings(data_dir=work, database_url=f"sqlite:///{work / 'd.db'}"))  # as `chengguan serve`
    factory = app.state.sessionmaker
    print(
        f"{platform.node()} · {os.cpu_count()} cores · {utcnow():%Y-%m-%d %H:%M} UTC · SQLite {sqlite3.sqlite_version}"
    )
    t0 = time.perf_counter()
    make_history(factory, args.events)
    event_id = rich_event(TestClient(app), args.reports, args.rounds)
    with factory() as session:
        counts = dict(session.execute(text("SELECT status, count(*) FROM events GROUP BY status")).all())
    print(f"events by state: {counts}; rich event {event_id}; set up in {time.perf_counter() - t0:.0f} s")

    street, district = logged_in(app, STREET_OFFICER), logged_in(app, DISTRICT_DISPATCHER)
    street_later, district_later = later_page(street), later_page(district)
    rows = [
        ("GET /health (baseline)", get(street, "/health", "")),
        (f"GET /inbox  {STREET_OFFICER}", get(street, "/inbox", "<table")),
        (f"GET {street_later}  {STREET_OFFICER}", get(street, street_later, "<table")),
        (f"GET /inbox  {DISTRICT_DISPATCHER}", get(district, "/inbox", "<table")),
        (f"GET {district_later}  {DISTRICT_DISPATCHER}", get(district, district_later, "<table")),
        (f"GET /events/{event_id}  {DISTRICT_DISPATCHER}", get(district, f"/events/{event_id}", "<h1")),
    ]
    print(f"\nruns {args.runs} (+1 warm-up); load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    print(f"{'request':52} {'median':>9} {'p95':>9} {'CPU med':>9} {'× health':>9}")
    base = None
    for name, fn in rows:
        median, p95, cpu = timed(fn, args.runs)
        base = base or median
        print(f"{name:52} {median:7.1f}ms {p95:7.1f}ms {cpu:7.1f}ms {median / base:9.1f}")
    print(f"load average at the end: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    shutil.rmtree(work)


if __name__ == "__main__":
    sys.exit(main())
