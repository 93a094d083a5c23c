"""Open311 GET requests (the public read path third parties poll) against the platform's own
event list, in process, on a migrated SQLite store.

    .venv/bin/python benchmarks/open311_api.py          # --events 1000 --runs 30

A city (one district, street and community), one responsible unit and ``--events`` dispatched
events of three categories in the last 90 days are written once; then each run asks, through
FastAPI's TestClient (the same client cost on every side):

- baseline: ``GET /api/events?limit=N`` as a city administrator (JSON, the platform's own list);
- ``GET /open311/v2/requests.json`` and ``.xml`` (public; every event of the window, max 1,000);
- ``GET /open311/v2/services.json`` and ``.xml`` (the shipped taxonomy's 小类).

Before timing, the Open311 answers are checked: as many requests as events (1,000 at most),
JSON and XML carrying the same numbers. Medians of ``--runs`` after two warm-up calls.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path
from xml.etree import ElementTree as ET

from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from chengguan import migrate
from chengguan.app import create_app
from chengguan.audit import platform_actor
from chengguan.auth import service as auth_service
from chengguan.auth.roles import Role
from chengguan.auth.schemas import UserIn
from chengguan.cases.models import Event, EventStatus
from chengguan.config import Settings
from chengguan.db import unit_of_work, utcnow
from chengguan.legal import service as legal_service
from chengguan.orgs import service as orgs_service
from chengguan.orgs.models import OrgKind
from chengguan.orgs.schemas import OrgIn
from chengguan.taxonomy import service as taxonomy_service
from chengguan.taxonomy.models import Category

PASSWORD = "Bench-2026-open311"
CODES = ("E0502", "E0510", "C0101")


def build(settings: Settings, events: int) -> None:
    migrate.upgrade(settings.db_url)
    app = create_app(settings)
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("benchmark")) as session:
        legal_service.load_causes(session)
        taxonomy_service.load_seed(session)
        org: dict[str, int] = {}
        for key, code, name, kind, parent in (
            ("city", "980000000000", "基准市", OrgKind.CITY, None),
            ("district", "980101000000", "基准区", OrgKind.DISTRICT, "city"),
            ("street", "980101001000", "基准街道", OrgKind.STREET, "district"),
            ("community", "980101001001", "基准社区", OrgKind.COMMUNITY, "street"),
            ("squad", "980101001-ZFD", "基准街道综合执法队", OrgKind.SQUAD, "street"),
        ):
            org[key] = orgs_service.create(
                session, OrgIn(code=code, name=name, kind=kind, parent_id=org.get(parent or ""))
            ).id
        auth_service.create_user(
            session,
            UserIn(
                username="bench_admin", display_name="基准", password=PASSWORD, roles=[Role.ADMIN], org_id=org["city"]
            ),
        )
        categories = {c.key: c.id for c in session.scalars(select(Category).where(Category.key.in_(CODES)))}
        now = utcnow()
        rows = []
        for i in range(events):
            at = now - dt.timedelta(minutes=60 * 24 * 80 * i / events + 1)
            key = CODES[i % len(CODES)]
            rows.append(
                {
                    "status": EventStatus.DISPATCHED,
                    "category_id": categories[key],
                    "category_key": key,
                    "title": f"基准事件 {i}",
                    "description": f"基准事件 {i}：路口有人占道经营卖水果，影响通行",
                    "address": f"基准街道 {i} 号",
                    "lon": 116.0 + i * 1e-5,
                    "lat": 39.9 + i * 1e-5,
                    "area_class": "B",
                    "org_id": org["community"],
                    "street_id": org["street"],
                    "district_id": org["district"],
                    "unit_id": org["squad"],
                    "source": "hotline",
                    "first_reported_at": at,
                    "last_reported_at": at,
                    "deadline_at": at + dt.timedelta(days=2),
                    "dispatched_at": at,
                    "created_at": at,
                    "updated_at": at,
                }
            )
        session.execute(insert(Event), rows)
    app.state.engine.dispose()


def timed(client: TestClient, path: str, runs: int, **kwargs: object) -> float:
    for _ in range(2):
        assert client.get(path, **kwargs).status_code == 200, path  # type: ignore[arg-type]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        res = client.get(path, **kwargs)  # type: ignore[arg-type]
        times.append(time.perf_counter() - start)
        assert res.status_code == 200
    return statistics.median(times) * 1000


def check(client: TestClient, events: int) -> None:
    as_json = client.get("/open311/v2/requests.json").json()
    root = ET.fromstring(client.get("/open311/v2/requests.xml").content)
    numbers = [r["service_request_id"] for r in as_json]
    if len(numbers) != min(events, 1000) or numbers != [r.findtext("service_request_id") for r in root]:
        sys.exit(f"wrong answer: {len(numbers)} requests in JSON, {len(root)} in XML, expected {min(events, 1000)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(env="dev", data_dir=Path(tmp), database_url=f"sqlite:///{Path(tmp) / 'bench.db'}")
        build(settings, args.events)
        app = create_app(settings)
        with TestClient(app) as client:
            check(client, args.events)
            token = client.post("/api/auth/token", data={"username": "bench_admin", "password": PASSWORD}).json()
            headers = {"Authorization": f"Bearer {token['access_token']}"}
            limit = min(args.events, 1000)
            baseline = timed(client, f"/api/events?limit={limit}", args.runs, headers=headers)
            print(f"{args.events} events, medians of {args.runs} runs")
            print(f"  {'GET /api/events (baseline)':<34} {baseline:8.1f} ms  1.00×")
            for path in ("requests.json", "requests.xml", "services.json", "services.xml"):
                ms = timed(client, f"/open311/v2/{path}", args.runs)
                print(f"  {'GET /open311/v2/' + path:<34} {ms:8.1f} ms  {ms / baseline:.2f}×")
        app.state.engine.dispose()


if __name__ == "__main__":
    main()
