"""Reports through the HTTP API: `chengguan serve --workers 2` on the demo city (SQLite), a
bounded loopback load of single-report POSTs, throughput and latency percentiles.

    .venv/bin/python benchmarks/intake_api.py                       # builds a demo city in a temp dir
    .venv/bin/python benchmarks/intake_api.py --data-dir /tmp/demo  # reuses a built one (its d.db)

The client is a minimal asyncio HTTP/1.1 client on keep-alive connections (``--concurrency``
requests in flight at most: a bounded load, so latency measures the server, not a queue the
client built). Two loads: single-report requests, and batches (``--batch`` reports per request,
as the hotline, IoT and video-AI systems send them). Each report is one patrol report at its own
random point near a demo cell, so dedup, dispatch and the inserts do real work. The baseline,
measured the same way in the same run, is ``GET /health`` (the framework's floor on this
machine). Medians of ``--runs`` runs.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from sqlalchemy import select

from chengguan.db import create_engine, make_sessionmaker
from chengguan.geo.models import GridCell
from demo_city import build_demo, cli_env  # benchmarks/demo_city.py

TEXTS = (
    "路口有人占道经营卖水果",
    "夜间施工噪音扰民",
    "小区门口有人摆摊",
    "人行道上有人违规设置广告牌",
    "店外堆放杂物占用人行道",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spots(url: str, n: int, seed: int) -> list[tuple[float, float]]:
    engine = create_engine(url)
    with make_sessionmaker(engine)() as session:
        cells = session.scalars(select(GridCell.geometry).execution_options(skip_scope=True)).all()
    engine.dispose()
    rng = random.Random(seed)
    return [(p.x, p.y) for p in (g.representative_point() for g in rng.sample(list(cells), n))]


def login(base: str, username: str, password: str) -> str:
    body = urllib.parse.urlencode({"username": username, "password": password}).encode()
    with urllib.request.urlopen(urllib.request.Request(f"{base}/api/auth/token", data=body)) as res:
        return str(json.load(res)["access_token"])


def wait_ready(base: str, timeout: float = 300) -> None:  # two workers importing the app on a loaded machine
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/health") as res:
                if res.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not become ready")


class Conn:
    """One keep-alive HTTP/1.1 connection: send a request, read status, headers and body."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def request(self, head: bytes, body: bytes = b"") -> int:
        self.writer.write(head + body)
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return status


async def load(
    port: int, requests: list[tuple[bytes, bytes]], concurrency: int
) -> tuple[float, list[float], dict[int, int]]:
    queue: asyncio.Queue[tuple[bytes, bytes]] = asyncio.Queue()
    for r in requests:
        queue.put_nowait(r)
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def worker() -> None:
        conn = Conn(*await asyncio.open_connection("127.0.0.1", port))
        while not queue.empty():
            head, body = queue.get_nowait()
            t = time.perf_counter()
            code = await conn.request(head, body)
            latencies.append(time.perf_counter() - t)
            statuses[code] = statuses.get(code, 0) + 1
        conn.writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - start, latencies, statuses


def one_report(points: list[tuple[float, float]], rng: random.Random) -> dict[str, object]:
    x, y = rng.choice(points)
    return {
        "channel": "patrol",
        "description": rng.choice(TEXTS),
        "category_key": "E0502",
        "lon": x + rng.uniform(-3e-3, 3e-3),
        "lat": y + rng.uniform(-3e-3, 3e-3),
        "crs": "wgs84",
    }


def report_requests(
    token: str, points: list[tuple[float, float]], n: int, rng: random.Random, batch: int = 1
) -> list[tuple[bytes, bytes]]:
    """``n`` requests, each one report (POST /reports) or ``batch`` reports (POST /reports/batch)."""
    out = []
    for _ in range(n):
        if batch == 1:
            path, doc = "/api/intake/reports", one_report(points, rng)
        else:
            path, doc = "/api/intake/reports/batch", {"reports": [one_report(points, rng) for _ in range(batch)]}
        body = json.dumps(doc, ensure_ascii=False).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        out.append((head, body))
    return out


def summary(name: str, elapsed: float, latencies: list[float], statuses: dict[int, int]) -> dict[str, float]:
    lat = sorted(latencies)
    p = {q: lat[min(len(lat) - 1, int(q / 100 * len(lat)))] * 1000 for q in (50, 95, 99)}
    rate = len(lat) / elapsed
    print(f"  {name:<8} {rate:>7,.0f} req/s  p50 {p[50]:5.1f} ms  p95 {p[95]:5.1f} ms  p99 {p[99]:5.1f} ms  {statuses}")
    return {"rate": rate, "p50": p[50], "p95": p[95], "p99": p[99]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, help="a directory holding a built demo (d.db); default: build one")
    parser.add_argument("--requests", type=int, default=5_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--batch", type=int, default=50, help="reports per request in the batch load")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="chengguan-api-bench-"))
    url = f"sqlite:///{data_dir / 'd.db'}"
    env = cli_env(data_dir)
    if args.data_dir is None:
        build_demo(data_dir)
    points = spots(url, 3_000, args.seed)
    port = free_port()
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "chengguan", "serve", "--port", str(port), "--workers", str(args.workers)),
            "--no-access-log",  # a proxy keeps the access log in production; here it would time the logger
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base)
        token = login(base, "haidian.officer", os.environ.get("CHENGGUAN_DEMO_PASSWORD", "Demo@2026"))
        rng = random.Random(args.seed)
        health = [(b"GET /health HTTP/1.1\r\nHost: bench\r\n\r\n", b"")] * args.requests
        asyncio.run(load(port, report_requests(token, points, 300, rng), args.concurrency))  # warm every worker
        print(
            f"{dt.date.today()} {os.cpu_count()} CPUs, {args.workers} workers, "
            f"{args.requests} requests × {args.runs} runs, {args.concurrency} in flight"
        )
        results: dict[str, list[dict[str, float]]] = {"health": [], "report": [], f"batch{args.batch}": []}
        for _ in range(args.runs):
            results["health"].append(summary("health", *asyncio.run(load(port, health, args.concurrency))))
            reqs = report_requests(token, points, args.requests, rng)
            results["report"].append(summary("report", *asyncio.run(load(port, reqs, args.concurrency))))
            reqs = report_requests(token, points, args.requests // args.batch, rng, args.batch)
            name = f"batch{args.batch}"
            results[name].append(summary(name, *asyncio.run(load(port, reqs, args.concurrency))))
        med = {
            k: {m: statistics.median(r[m] for r in v) for m in ("rate", "p50", "p95", "p99")}
            for k, v in results.items()
        }
        print("medians:")
        for k, m in med.items():
            print(
                f"  {k:<8} {m['rate']:>7,.0f} req/s  " + "  ".join(f"{q} {m[q]:5.1f} ms" for q in ("p50", "p95", "p99"))
            )
        print(f"single reports/s as a share of the /health floor: {med['report']['rate'] / med['health']['rate']:.2f}")
        print(f"reports/s in batches of {args.batch}: {med[f'batch{args.batch}']['rate'] * args.batch:,.0f}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
