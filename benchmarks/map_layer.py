"""The command map's aggregated layer (issue 7: server time ≤ 200 ms over 500,000 events).

    .venv/bin/python benchmarks/map_layer.py --built /tmp/mapbench --events 500000 --runs 11

On a copy of the demo city (``chengguan demo --history 0``, SQLite; ``--built`` reuses one made by
``demo_city.build_demo``), ``--events`` open events are bulk-inserted at points inside the demo's
grid cells, with deadlines spread so that about a third are red, a third yellow, a third green,
and their stored lights as the sweep leaves them except for ``STALE`` of them (their clock passed a
mark since: the count must move them). First the bulk path's price for the layer: 50,000 rows
inserted as the schema is, without the counts' triggers, and without ``ix_events_open_map`` too.
Then, timed in one process: the scan (what a filtered or scoped question costs), then
``map_layer.aggregate`` at each level (platform session: the kept counts), the same through
``GET /map/aggregate`` as the city's admin (TestClient: login cookie, the organisation scope, which
for a user holding every organisation leaves the kept counts usable, the columnar JSON), and the
wall screen's request (``wall=true``: the minute's shared counts); twice: as the application leaves
the database (no statistics), and after ANALYZE. Wall time and the process's CPU time (medians).
Baseline in the same run: a bare ``SELECT count(*) FROM events``. Correctness first: the
cell-level counts of the inserted rows equal a pandas count, and the kept counts equal the scan.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, text

import chengguan.schema  # noqa: F401 - every table, for the foreign keys of the bulk inserts
from chengguan.app import served_app
from chengguan.audit import platform_actor
from chengguan.auth import scoping
from chengguan.auth.models import User
from chengguan.cases.models import Event
from chengguan.config import Settings
from chengguan.db import bulk_insert_columns, sqlite_plan, statements_sent, unit_of_work, utcnow
from chengguan.dispatch import map_layer
from chengguan.dispatch.map_layer import Level, MapFilters
from chengguan.geo.models import GridCell
from chengguan.orgs.models import Organisation, Scope
from demo_city import city_copy  # benchmarks/demo_city.py

PASSWORD = "Demo@2026"
STALE = 0.02  # the share of rows whose light turned since the sweep (a minute's worth, and more)
USER = "admin"


def insert_events(factory, n: int, now: dt.datetime) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    with unit_of_work(factory, actor=platform_actor("bench")) as session:
        session.execute(delete(Event).where(Event.source == "bench"))
        cells = session.execute(select(GridCell.id, GridCell.org_id, GridCell.min_lon, GridCell.min_lat)).all()
        parent = dict(session.execute(select(Organisation.id, Organisation.parent_id)).all())
        pick = rng.integers(0, len(cells), n)
        # a third overdue, a third past 80 %, a third fresh
        kind = rng.integers(0, 3, n)
        deadline = [now + dt.timedelta(hours=float(h)) for h in np.where(kind == 0, -5, 10)]
        yellow = [now + dt.timedelta(hours=float(h)) for h in np.where(kind == 2, 5, -1)]
        # the lights as the last sweep stored them (green is left empty), except STALE of the rows,
        # whose clock passed its mark since: their stored light is the one before
        stale = rng.random(n) < STALE
        step = np.where(stale, np.minimum(kind + 1, 2), kind)  # kind 0 red, 1 yellow, 2 green
        stored = np.array(["red", "yellow", None], dtype=object)[step]
        rows = [
            {
                "title": "bench",
                "description": "",
                "lon": cells[c].min_lon + 1e-4,
                "lat": cells[c].min_lat + 1e-4,
                "cell_id": cells[c].id,
                "org_id": cells[c].org_id,
                "street_id": parent[cells[c].org_id],
                "district_id": parent[parent[cells[c].org_id]],
                "source": "bench",
                "status": "dispatched",
                "first_reported_at": now - dt.timedelta(days=1),
                "last_reported_at": now - dt.timedelta(days=1),
                "deadline_at": deadline[i],
                "yellow_at": yellow[i],
                "light": stored[i],
                "report_count": 1,
            }
            for i, c in enumerate(pick)
        ]
        for start in range(0, n, 50_000):  # the intake pipeline's bulk path
            part = rows[start : start + 50_000]
            bulk_insert_columns(session, Event, {key: [row[key] for row in part] for key in part[0]})
    light = np.array(["red", "green", "yellow"])[np.where(kind == 0, 0, np.where(kind == 2, 1, 2))]
    return pd.DataFrame({"cell_id": [cells[c].id for c in pick], "light": light})


def insert_cost(factory, now: dt.datetime, n: int = 50_000) -> list[float]:
    """µs per row of the bulk insert: as the schema is; without the counts' triggers; without
    ``ix_events_open_map`` too (each dropped in turn, then put back)."""
    with factory() as session:
        kept = text(
            "SELECT name, sql FROM sqlite_master WHERE name LIKE 'events_area_count_%' OR name = 'ix_events_open_map'"
        )
        created = {name: sql for name, sql in session.execute(kept)}
    per_row = []
    triggers = [f"DROP TRIGGER {name}" for name in created if name.startswith("events_area_count_")]
    for ddl in ([], triggers, ["DROP INDEX ix_events_open_map"]):
        with unit_of_work(factory, actor=platform_actor("bench")) as session:
            # the last round's rows leave while its triggers still count them
            session.execute(delete(Event).where(Event.source == "bench"))
            for statement in ddl:
                session.execute(text(statement))
        t0 = time.perf_counter()
        insert_events(factory, n, now)
        per_row.append((time.perf_counter() - t0) / n * 1e6)
    with unit_of_work(factory, actor=platform_actor("bench")) as session:
        session.execute(delete(Event).where(Event.source == "bench"))  # uncounted: no triggers now
        for sql in created.values():
            session.execute(text(sql))
    return per_row


def plan(factory, scope: Scope | None) -> str:
    """SQLite's plan for the aggregate's statement as it is sent (after the scoping listener)."""
    with factory() as session:
        scoping.bind(session, platform_actor("bench"), scope)
        with statements_sent(session.get_bind()) as sent:
            map_layer.cell_counts(session, MapFilters(), utcnow())
        return sqlite_plan(session, *sent[-1])


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float, float]:
    """(median wall ms, p95 wall ms, median CPU ms of this process) of ``runs`` calls after a
    warm-up: on a shared machine the wall time carries other people's load, the CPU time less so."""
    fn()
    wall, cpu = [], []
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - w0) * 1000)
    wall.sort()
    return statistics.median(wall), wall[min(len(wall) - 1, round(0.95 * (len(wall) - 1)))], statistics.median(cpu)


def logged_in(app, username: str = USER) -> TestClient:
    """A client holding ``username``'s login cookies (the pages' own login form)."""
    client = TestClient(app)
    page = client.get("/login")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    res = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}, follow_redirects=False
    )
    assert res.status_code == 303, res.text
    return client


def measure(factory, client: TestClient, runs: int) -> None:
    """The rows of the table: in-process, through HTTP, and the wall screen's."""

    def count() -> None:
        with factory() as s:
            s.execute(text("SELECT count(*) FROM events")).scalar()

    base = timed(count, runs)
    print(f"{'what':44} {'median':>9} {'p95':>9} {'CPU med':>9} {'× count(*)':>10}")
    print(f"{'SELECT count(*) FROM events (baseline)':44} {base[0]:7.1f}ms {base[1]:7.1f}ms {base[2]:7.1f}ms {1:10.2f}")

    def scan() -> None:
        with unit_of_work(factory, actor=platform_actor("bench")) as session:
            map_layer.scanned_counts(session, MapFilters(), utcnow(), everything=False)

    median, p95, cpu = timed(scan, runs)
    name = "the scan instead (filters, a scoped user)"
    print(f"{name:44} {median:7.1f}ms {p95:7.1f}ms {cpu:7.1f}ms {median / base[0]:10.2f}")
    for level in Level:

        def service(level: Level = level) -> None:
            with unit_of_work(factory, actor=platform_actor("bench")) as session:
                map_layer.aggregate(session, MapFilters(), level, utcnow())

        def http(level: Level = level) -> None:
            assert client.get("/map/aggregate", params={"level": level}).status_code == 200

        def wall(level: Level = level) -> None:
            assert client.get("/map/aggregate", params={"level": level, "wall": "true"}).status_code == 200

        rows = [
            (f"aggregate({level}) in-process", service),
            (f"GET /map/aggregate?level={level}", http),
            ("  … &wall=true (the minute's counts)", wall),
        ]
        for name, fn in rows:
            median, p95, cpu = timed(fn, runs)
            print(f"{name:44} {median:7.1f}ms {p95:7.1f}ms {cpu:7.1f}ms {median / base[0]:10.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--built", type=Path, default=None, help="a directory holding a built demo city d.db")
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    work = city_copy(args.built, "mapbench-")
    shutil.move(work / "base.db", work / "d.db")
    settings = Settings(data_dir=work, database_url=f"sqlite:///{work / 'd.db'}")
    app = served_app(settings)  # as `chengguan serve` runs it (startup's heap frozen)
    factory = app.state.sessionmaker
    now = utcnow()
    print(f"{platform.node()} · {os.cpu_count()} cores · {now:%Y-%m-%d %H:%M} UTC · SQLite {sqlite3.sqlite_version}")
    full, no_triggers, bare = insert_cost(factory, now)
    print(
        f"bulk insert of 50,000 events: {full:.1f} µs/row as the schema is, {no_triggers:.1f} without the"
        f" counts' triggers, {bare:.1f} without ix_events_open_map too"
    )
    expected = insert_events(factory, args.events, now)
    with factory() as session:
        total = session.scalar(text("SELECT count(*) FROM events"))
        admin = session.scalar(select(User).where(User.username == USER))
        assert admin is not None, USER
        admin_scope = Scope(session.scalar(select(Organisation.path).where(Organisation.id == admin.org_id)))

    # correctness: the cell level against pandas
    with unit_of_work(factory, actor=platform_actor("bench")) as session:
        got = map_layer.aggregate(session, MapFilters(source="bench"), Level.CELL, now)
    want = expected.groupby(["cell_id", "light"]).size()
    counted = {
        (area, light): n for light, column in got.lights.items() for area, n in zip(got.ids, column, strict=True) if n
    }
    assert counted == want.to_dict(), "wrong counts"
    # the city's view (every open event) from the kept counts equals the scan's
    with unit_of_work(factory, actor=platform_actor("bench")) as session:
        kept = map_layer.roll_up(map_layer.kept_counts(session, now), Level.CELL)
        scanned = map_layer.roll_up(map_layer.scanned_counts(session, MapFilters(), now, everything=False), Level.CELL)
    assert kept == scanned, "the kept counts differ from the scan"
    print(f"events in the table: {total:,}; {len(got.ids)} cells with events; runs {args.runs} (+1 warm-up)")

    # The city's admin holds every organisation: the scope's condition is left out of the count
    # (map_layer.sees_every_organisation), so their statement is planned as the platform's (printed).
    client = logged_in(app)
    for state in ("no statistics (as the application leaves it)", "after ANALYZE"):
        if state == "after ANALYZE":
            with unit_of_work(factory, actor=platform_actor("bench")) as session:
                session.execute(text("ANALYZE"))
        print(f"\n-- {state}; load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
        print(f"plan, platform: {plan(factory, None)}")
        print(f"plan, as {USER}: {plan(factory, admin_scope)}")
        measure(factory, client, args.runs)
    print(f"load average at the end: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    shutil.rmtree(work)


if __name__ == "__main__":
    sys.exit(main())
