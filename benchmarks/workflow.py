"""The event flow's performance targets (issue 4): one transition through the API, and the
deadline sweep over 100,000 open events, on copies of the demo city's SQLite store.

    .venv/bin/python benchmarks/workflow.py                                   # both parts, builds a demo city
    .venv/bin/python benchmarks/workflow.py --data-dir /tmp/demo api          # reuses a built one (copies its d.db)
    .venv/bin/python benchmarks/workflow.py --data-dir /tmp/demo sweep --events 100000

``api``: ``chengguan serve --workers 2``, a bounded loopback load (``--concurrency`` in flight)
of single transitions, each on its own dispatched event of 海淀区: 督办 (``supervise``: no node
change), 处理反馈 (``feedback``: leaves 处置 for 核查, checks the attached photo, which was uploaded
beforehand, untimed) and 核查通过 (``verify_pass``: 核查 → 待结案, then auto-结案 in the same
request). Baseline in the same run: ``GET /health``. Then the same transitions in-process
(``workflow.take`` in a unit of work, no HTTP, no token) to show where the time goes.

``sweep``: open events written by the intake bulk path (``pipeline.process`` in history mode,
reports at points near every demo cell, ``--spacing`` seconds apart, every one with its 小类),
then ``cases.sweep.sweep`` timed in its own committed transaction: (a) the first pass, which
fills ``yellow_at`` for the bulk rows (at the first report's time: no light changes), (b) a pass
at the instant closest to ~10 % of the rows turning yellow and ~10 % red, (c) the same pass
again (nothing left to change). Baseline in the same run, on the same rows: one bare
``UPDATE events SET light = … WHERE <open>`` committed. Every run on a fresh copy; medians.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

import chengguan.schema  # noqa: F401 - every table, for the foreign keys of the bulk inserts
from chengguan.audit import platform_actor
from chengguan.auth import scoping
from chengguan.auth import service as auth_service
from chengguan.auth.models import User
from chengguan.auth.principal import Principal
from chengguan.auth.roles import Role
from chengguan.auth.schemas import UserIn
from chengguan.cases import service as cases_service
from chengguan.cases import workflow
from chengguan.cases.models import OPEN_STATUSES, CaseStep, Event, EventStatus, Light
from chengguan.cases.sweep import sweep
from chengguan.db import create_engine, make_sessionmaker, unit_of_work, utcnow
from chengguan.dispatch.flow import EVENT_FLOW
from chengguan.evidence.models import EvidenceItem
from chengguan.geo.models import GridCell
from chengguan.intake import pipeline
from chengguan.intake.schemas import ReportIn
from chengguan.kit.coords import CRS
from chengguan.orgs.models import Organisation
from chengguan.outbox import OutboxMessage
from demo_city import city_copy, cli_env  # benchmarks/demo_city.py
from intake_api import free_port, load, login, summary, wait_ready  # benchmarks/intake_api.py
from intake_pipeline import TEXTS  # benchmarks/intake_pipeline.py

HAIDIAN = "/110000000000/110108000000/"  # 海淀区: its demo users act on its events
PASSWORD = os.environ.get("CHENGGUAN_DEMO_PASSWORD", "Demo@2026")
OFFICER = "haidian.bench_officer"  # a 区执法大队 officer: holds over every unit of the district
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
TRANSITIONS = ("supervise", "feedback", "verify_pass")
STATS = ("rate", "p50", "p95", "p99")
USERS = {"supervise": "haidian.supervisor", "feedback": OFFICER, "verify_pass": "haidian.supervisor"}  # who acts


# -- open events through the intake bulk path --------------------------------------------------------


def cell_points(session: Session, rng: random.Random, path: str | None = None) -> list[tuple[float, float]]:
    """A point inside every active grid cell (those of the area at ``path`` only, if given)."""
    stmt = select(GridCell.geometry).where(GridCell.active).execution_options(skip_scope=True)
    if path is not None:
        stmt = stmt.join(Organisation, Organisation.id == GridCell.org_id).where(Organisation.path.startswith(path))
    points = [(p.x, p.y) for p in (g.representative_point() for g in session.scalars(stmt))]
    rng.shuffle(points)
    return points


def reports(
    points: list[tuple[float, float]], n: int, start: dt.datetime, spacing: float, rng: random.Random
) -> list[ReportIn]:
    """``n`` patrol reports with their 小类, each near a random point, ``spacing`` seconds apart."""
    tag = uuid.uuid4().hex[:8]
    out = []
    for i in range(n):
        key = rng.choice(list(TEXTS))
        x, y = rng.choice(points)
        out.append(
            ReportIn(
                channel="patrol",
                external_id=f"wf-{tag}-{i}",
                description=rng.choice(TEXTS[key]),
                category_key=key,
                lon=x + rng.uniform(-1e-3, 1e-3),
                lat=y + rng.uniform(-1e-3, 1e-3),
                crs=CRS.WGS84,
                submitted_at=start + dt.timedelta(seconds=spacing * i),
            )
        )
    return out


def open_count(session: Session, *where: Any) -> int:
    stmt = select(func.count()).select_from(Event).where(Event.status.in_(OPEN_STATUSES), *where)
    return session.scalar(stmt.execution_options(skip_scope=True)) or 0


def fill_events(
    factory: sessionmaker[Session],
    points: list[tuple[float, float]],
    target: int,
    *where: Any,
    start: dt.datetime,
    spacing: float,
    seed: int,
    batch: int = 5_000,
) -> tuple[int, int]:
    """Batches of reports through ``pipeline.process`` (one transaction each) until ``target``
    open events match ``where``; (reports sent, matching events)."""
    rng = random.Random(seed)
    with unit_of_work(factory, actor=platform_actor("bench")) as session:
        ctx = pipeline.context(session, classifier=None, historical=True)
    sent = found = 0
    while found < target:
        size = min(batch, max(100, int((target - found) * 1.3)))
        chunk = reports(points, size, start + dt.timedelta(seconds=spacing * sent), spacing, rng)
        with unit_of_work(factory, actor=platform_actor("bench")) as session:
            pipeline.process(session, chunk, ctx)
            found = open_count(session, *where)
        sent += size
    return sent, found


# -- part 1: one transition through the API ----------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """One transition: the action, its event and its request body."""

    action: str
    event_id: int
    body: dict[str, Any]


def bodies(photos: dict[int, int]) -> dict[str, Callable[[int], dict[str, Any]]]:
    return {
        "supervise": lambda eid: {"fields": {"note": "请加快处置"}},
        "feedback": lambda eid: {"fields": {"result": "已清理完毕"}, "evidence_ids": [photos[eid]]},
        "verify_pass": lambda eid: {"fields": {"note": "现场已恢复"}},
    }


def http_request(method: str, path: str, token: str, body: bytes, content_type: str) -> tuple[bytes, bytes]:
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    return head, body


def action_request(token: str, job: Job) -> tuple[bytes, bytes]:
    body = json.dumps(job.body, ensure_ascii=False).encode()
    return http_request("POST", f"/api/events/{job.event_id}/actions/{job.action}", token, body, "application/json")


def photo_request(token: str, event_id: int) -> tuple[bytes, bytes]:
    """A multipart upload of one small JPEG as the event's 现场照片."""
    boundary = uuid.uuid4().hex
    fields = {"subject_type": "event", "subject_id": str(event_id), "evidence_type": "audiovisual"}
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="photo.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n".encode()
        + JPEG
        + os.urandom(64)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return http_request("POST", "/api/evidence", token, b"".join(parts), f"multipart/form-data; boundary={boundary}")


def add_officer(factory: sessionmaker[Session]) -> None:
    """An officer of the district itself (the demo's own officer belongs to one street)."""
    with unit_of_work(factory, actor=platform_actor("bench")) as session:
        district = session.scalars(
            select(Organisation).where(Organisation.path == HAIDIAN).execution_options(skip_scope=True)
        ).one()
        auth_service.create_user(
            session,
            UserIn(
                username=OFFICER,
                display_name="海淀区执法大队队员",
                password=PASSWORD,
                roles=[Role.OFFICER],
                org_id=district.id,
            ),
        )


def dispatched_in_haidian() -> tuple[Any, ...]:
    units = select(Organisation.id).where(Organisation.path.startswith(HAIDIAN))
    return (Event.status == EventStatus.DISPATCHED, Event.unit_id.in_(units))


def event_ids(factory: sessionmaker[Session]) -> list[int]:
    with unit_of_work(factory, actor=platform_actor("bench")) as session:
        stmt = select(Event.id).where(*dispatched_in_haidian()).order_by(Event.id).execution_options(skip_scope=True)
        return list(session.scalars(stmt))


def upload_photos(port: int, token: str, ids: list[int], concurrency: int) -> None:
    """One photo per event through ``POST /api/evidence`` (not timed); event id → evidence id."""
    _, _, statuses = asyncio.run(load(port, [photo_request(token, i) for i in ids], concurrency))
    if statuses != {201: len(ids)}:
        raise SystemExit(f"photo uploads failed: {statuses}")


def photo_ids(factory: sessionmaker[Session], ids: list[int]) -> dict[int, int]:
    with unit_of_work(factory, actor=platform_actor("bench")) as session:
        stmt = select(EvidenceItem.subject_id, EvidenceItem.id).where(EvidenceItem.subject_type == "event")
        rows = session.execute(stmt.execution_options(skip_scope=True)).all()
    found = {int(s): int(i) for s, i in rows}
    return {i: found[i] for i in ids}


def run_load(port: int, requests: list[tuple[bytes, bytes]], concurrency: int, name: str) -> dict[str, float]:
    elapsed, latencies, statuses = asyncio.run(load(port, requests, concurrency))
    if set(statuses) != {200}:
        raise SystemExit(f"{name}: not every request succeeded: {statuses}")
    return summary(name, elapsed, latencies, statuses)


def check_closed(factory: sessionmaker[Session], ids: list[int]) -> None:
    """Correctness: every verified event was auto-closed and has its three steps (plus 结案)."""
    with unit_of_work(factory, actor=platform_actor("bench")) as session:
        states = set(session.scalars(select(Event.status).where(Event.id.in_(ids)).execution_options(skip_scope=True)))
        steps = session.scalar(
            select(func.count())
            .select_from(CaseStep)
            .where(CaseStep.subject == "event", CaseStep.subject_id.in_(ids))
            .execution_options(skip_scope=True)
        )
    if states != {EventStatus.CLOSED} or steps != 4 * len(ids):
        raise SystemExit(f"events not closed as expected: states {states}, {steps} steps for {len(ids)} events")


def principals(factory: sessionmaker[Session]) -> dict[str, Principal]:
    """Who takes each transition (as in the API loads)."""
    with unit_of_work(factory, actor=platform_actor("bench")) as session:
        found = {
            u.username: auth_service.principal_of(session, u)
            for u in session.scalars(select(User).where(User.username.in_(set(USERS.values()))))
        }
    return {action: found[name] for action, name in USERS.items()}


def in_process(factory: sessionmaker[Session], jobs: list[Job], who: dict[str, Principal]) -> dict[str, list[float]]:
    """Each job in its own unit of work as the API runs it (lock the row, take, commit), timed
    whole and in its parts (ms): the transition before the commit, and the commit."""
    timings: dict[str, list[float]] = {"total": [], "take": [], "commit": []}
    for job in jobs:
        principal = who[job.action]
        t0 = time.perf_counter()
        with unit_of_work(factory) as session:
            scoping.bind(session, principal.actor(), principal.scope)
            event = cases_service.get_event(session, job.event_id, for_update=True)
            body = job.body
            workflow.take(
                session, EVENT_FLOW, event, job.action, principal, body["fields"], evidence_ids=body.get("evidence_ids")
            )
            t1 = time.perf_counter()
        t2 = time.perf_counter()
        timings["total"].append((t2 - t0) * 1000)
        timings["take"].append((t1 - t0) * 1000)
        timings["commit"].append((t2 - t1) * 1000)
    return timings


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def api_part(args: argparse.Namespace, built: Path | None) -> None:
    work = city_copy(built, "chengguan-wf-api-")
    (work / "base.db").rename(work / "d.db")
    engine = create_engine(f"sqlite:///{work / 'd.db'}")
    factory = make_sessionmaker(engine)
    with unit_of_work(factory, actor=platform_actor("bench")) as session:
        points = cell_points(session, random.Random(args.seed), HAIDIAN)
    warm, per_run, local = 4 * args.concurrency, args.requests, args.in_process
    need = warm + per_run * args.runs + local
    start = utcnow() - dt.timedelta(hours=2)  # recent reports: their nodes began today
    sent, found = fill_events(factory, points, need, *dispatched_in_haidian(), start=start, spacing=1, seed=args.seed)
    add_officer(factory)
    ids = event_ids(factory)[:need]
    print(f"{len(points)} cells of 海淀区, {sent:,} reports → {found:,} dispatched events; {need:,} used")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "chengguan", "serve", "--port", str(port), "--workers", str(args.workers)],
        env=cli_env(work),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base)
        upload_photos(port, login(base, OFFICER, PASSWORD), ids, args.concurrency)
        photos = photo_ids(factory, ids)
        make = bodies(photos)
        slices = [ids[warm + r * per_run : warm + (r + 1) * per_run] for r in range(args.runs)]
        results: dict[str, list[dict[str, float]]] = {k: [] for k in ("health", *TRANSITIONS)}
        load_avg = [os.getloadavg()[0]]
        for r, chunk in enumerate([ids[:warm], *slices]):
            tokens = {a: login(base, u, PASSWORD) for a, u in USERS.items()}
            health = [(b"GET /health HTTP/1.1\r\nHost: bench\r\n\r\n", b"")] * per_run
            measured = {"health": run_load(port, health, args.concurrency, "health")}
            for action in TRANSITIONS:
                reqs = [action_request(tokens[action], Job(action, eid, make[action](eid))) for eid in chunk]
                measured[action] = run_load(port, reqs, args.concurrency, action)
            if r:  # the first round warms every worker
                for k, v in measured.items():
                    results[k].append(v)
            load_avg.append(os.getloadavg()[0])
        check_closed(factory, ids[: warm + per_run * args.runs])
    finally:
        server.terminate()
        server.wait(timeout=30)
    jobs_local = ids[need - local :]
    who = principals(factory)
    local_times = {
        action: in_process(factory, [Job(action, eid, make[action](eid)) for eid in jobs_local], who)
        for action in TRANSITIONS
    }
    check_closed(factory, jobs_local)
    engine.dispose()
    print(
        f"\n{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC  {os.cpu_count()} CPUs  {args.workers} workers  "
        f"{per_run} requests × {args.runs} runs, {args.concurrency} in flight; load average "
        + " → ".join(f"{x:.1f}" for x in load_avg)
    )
    print("medians over the runs:")
    med = {k: {m: statistics.median(r[m] for r in v) for m in STATS} for k, v in results.items()}
    for k, m in med.items():
        ratio = m["rate"] / med["health"]["rate"]
        print(
            f"  {k:<12} {m['rate']:>7,.0f} req/s  "
            + "  ".join(f"{q} {m[q]:5.1f} ms" for q in ("p50", "p95", "p99"))
            + f"  rate vs /health {ratio:.3f}"
        )
    print(f"in-process, one at a time ({local} events each; ms, median / p95):")
    for action, t in local_times.items():
        parts = "  ".join(f"{k} {statistics.median(v):5.2f} / {percentile(v, 95):5.2f}" for k, v in t.items())
        print(f"  {action:<12} {parts}")
    shutil.rmtree(work)


# -- part 2: the deadline sweep ----------------------------------------------------------------------


def _open_where() -> Any:
    return Event.status.in_(OPEN_STATUSES), Event.deadline_at.is_not(None)


def pick_now(session: Session) -> tuple[dt.datetime, float, float]:
    """The instant (among deadlines) closest to ~10 % of the open rows yellow and ~10 % red."""
    rows = session.execute(
        select(Event.yellow_at, Event.deadline_at).where(*_open_where()).execution_options(skip_scope=True)
    ).all()
    yellow = np.array([r.yellow_at.timestamp() for r in rows])
    due = np.array([r.deadline_at.timestamp() for r in rows])

    def shares(t: float) -> tuple[float, float]:
        return float(((yellow <= t) & (due >= t)).mean()), float((due < t).mean())

    candidates = np.quantile(due, np.linspace(0.01, 0.4, 157))
    best = min(candidates, key=lambda t: sum(abs(s - 0.1) for s in shares(t)))
    return dt.datetime.fromtimestamp(float(best), dt.UTC), *shares(float(best))


def timed_sweep(factory: sessionmaker[Session], now: dt.datetime) -> tuple[float, Any]:
    t = time.perf_counter()
    with unit_of_work(factory, actor=platform_actor("bench")) as session:
        result = sweep(session, now)
    return time.perf_counter() - t, result


def bare_update(engine: Engine) -> float:
    """The baseline: one UPDATE of the light over the same open rows, committed."""
    statuses = ", ".join(f"'{s.value}'" for s in OPEN_STATUSES)
    t = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(
            text(f"UPDATE events SET light = 'green' WHERE status IN ({statuses}) AND deadline_at IS NOT NULL")
        )
    return time.perf_counter() - t


def check_sweep(factory: sessionmaker[Session], marked: int, yellow: int, red: int, idle: Any) -> None:
    """Correctness: every open row has its mark, the lights and notifications match the pass."""
    with unit_of_work(factory, actor=platform_actor("bench")) as session:
        unmarked = open_count(session, Event.deadline_at.is_not(None), Event.yellow_at.is_(None))
        lights = {
            light: open_count(session, Event.light == light.value, Event.deadline_at.is_not(None))
            for light in (Light.YELLOW, Light.RED)
        }
        supervised = session.scalar(select(func.sum(Event.supervision_count)).execution_options(skip_scope=True))
        notes = session.scalar(select(func.count()).select_from(OutboxMessage))
    expected = {Light.YELLOW: yellow, Light.RED: red}
    if unmarked or lights != expected or supervised != red or notes != yellow + red or marked == 0:
        raise SystemExit(f"sweep state wrong: {unmarked} unmarked, lights {lights}, {supervised} 督办, {notes} notes")
    if idle.marked or idle.yellow or idle.red:
        raise SystemExit(f"the idle pass changed something: {idle}")


def sweep_part(args: argparse.Namespace, built: Path | None) -> None:
    work = city_copy(built, "chengguan-wf-sweep-")
    engine = create_engine(f"sqlite:///{work / 'base.db'}")
    factory = make_sessionmaker(engine)
    with unit_of_work(factory, actor=platform_actor("bench")) as session:
        points = cell_points(session, random.Random(args.seed))
    start = dt.datetime(2026, 3, 2, 1, tzinfo=dt.UTC)  # a Monday, 09:00 in Beijing
    t = time.perf_counter()
    sent, found = fill_events(
        factory, points, args.events, Event.deadline_at.is_not(None), start=start, spacing=args.spacing, seed=args.seed
    )
    print(f"intake: {sent:,} reports → {found:,} open events with a deadline in {time.perf_counter() - t:.0f} s")
    engine.dispose()
    times: dict[str, list[float]] = {k: [] for k in ("a", "b", "c", "bare")}
    now_b: dt.datetime | None = None
    load_avg = [os.getloadavg()[0]]
    for run in range(args.runs):
        db = work / f"run{run}.db"
        shutil.copy(work / "base.db", db)
        engine = create_engine(f"sqlite:///{db}")
        factory = make_sessionmaker(engine)
        elapsed, first = timed_sweep(factory, start)
        times["a"].append(elapsed)
        if now_b is None:
            with unit_of_work(factory, actor=platform_actor("bench")) as session:
                now_b, yellow_share, red_share = pick_now(session)
            print(f"pass (b) at {now_b:%Y-%m-%d %H:%M} UTC: expect {yellow_share:.1%} yellow, {red_share:.1%} red")
        elapsed, turned = timed_sweep(factory, now_b)
        times["b"].append(elapsed)
        elapsed, idle = timed_sweep(factory, now_b)
        times["c"].append(elapsed)
        check_sweep(factory, first.marked, turned.yellow, turned.red, idle)
        times["bare"].append(bare_update(engine))
        engine.dispose()
        db.unlink()
        load_avg.append(os.getloadavg()[0])
        print(
            f"  run {run + 1}: (a) {times['a'][-1]:.2f} s marked {first.marked:,}  (b) {times['b'][-1]:.2f} s "
            f"yellow {turned.yellow:,} red {turned.red:,}  (c) {times['c'][-1]:.2f} s  bare {times['bare'][-1]:.3f} s"
        )
    med = {k: statistics.median(v) for k, v in times.items()}
    print(
        f"\n{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC  {os.cpu_count()} CPUs  {found:,} open events, "
        f"{args.runs} runs; load average " + " → ".join(f"{x:.1f}" for x in load_avg)
    )
    labels = {"a": "(a) first pass", "b": "(b) lights turn", "c": "(c) idle", "bare": "bare UPDATE"}
    for k, label in labels.items():
        print(f"  {label:<30} {med[k]:7.3f} s  vs bare {med[k] / med['bare']:6.1f}×")
    shutil.rmtree(work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, help="a directory holding a built demo (d.db), copied")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=4)
    parts = parser.add_subparsers(dest="part")
    api = parts.add_parser("api", help="one transition through the API")
    api.add_argument("--requests", type=int, default=300, help="transitions of each kind per run")
    api.add_argument("--in-process", type=int, default=100, help="events per transition timed in-process")
    api.add_argument("--concurrency", type=int, default=4)
    api.add_argument("--workers", type=int, default=2)
    swept = parts.add_parser("sweep", help="the deadline sweep")
    swept.add_argument("--events", type=int, default=100_000, help="open events to sweep")
    swept.add_argument("--spacing", type=float, default=3.0, help="seconds between reports")
    args = parser.parse_args()
    built = args.data_dir
    if args.part in (None, "api"):
        defaults = api.parse_args([])
        api_part(args if args.part else argparse.Namespace(**{**vars(defaults), **vars(args)}), built)
    if args.part in (None, "sweep"):
        defaults = swept.parse_args([])
        sweep_part(args if args.part else argparse.Namespace(**{**vars(defaults), **vars(args)}), built)


if __name__ == "__main__":
    main()
