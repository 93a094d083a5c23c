"""Evidence log: durable appends, tree building, proofs and audit on SQLite, against pymerkle.

    .venv/bin/python benchmarks/evidence_log.py [--append 1000000] [--size 10000000] [--proofs 200] [--rounds 3]

1. Appends: ``--append`` entries (~120-byte canonical JSON case-transition events), committed in
   transactions of 100,000 on a migrated SQLite store (WAL, synchronous=NORMAL, the embedded
   default), the next transaction's entries hashed while one commits (``ledger.prepared_ahead``),
   ``--rounds`` fresh stores, median; pymerkle 7 ``SqliteTree.append_entries`` on the same entries,
   same count, as many fresh files, median; in wall time and in process CPU time (the machine is
   shared). "Append" stores entries and leaf hashes (what pymerkle's bulk
   append stores); "append + tree" also builds and commits the tiles and signs a tree head, i.e.
   the log is then ready to prove.
2. Proofs at ``--size`` entries: inclusion (random index) and consistency (random first size)
   against the full size, each from a fresh session (no cache carried between proofs), checked
   with the standalone verifier; pymerkle's ``prove_inclusion`` / ``prove_consistency`` on a
   SqliteTree of the same size, same random choices (fewer of them: they are slow).
3. Audit of the whole log at ``--size`` entries (``integrity.audit``), inline and with two worker
   processes, in wall and CPU time (of the process and its workers).
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from pymerkle import SqliteTree

from chengguan import migrate
from chengguan.audit import platform_actor
from chengguan.config import Settings
from chengguan.db import create_engine, make_sessionmaker
from chengguan.evidence import integrity, ledger, sth, tree, verify
from chengguan.evidence.storage import blob_store

TX = 100_000


def entries(n: int, offset: int = 0) -> list[bytes]:
    return [
        b'{"at":"2026-11-22T03:43:%02d.000+00:00","data":{"case":"ZF-2026-%07d","from":"registered","to":"investigating"},'
        b'"kind":"case.transition"}' % (i % 60, offset + i)
        for i in range(n)
    ]


def store(directory: Path):
    url = f"sqlite:///{directory / 'log.db'}"
    migrate.upgrade(url)
    engine = create_engine(url)
    settings = Settings(env="dev", data_dir=directory, database_url=url)
    return engine, make_sessionmaker(engine), settings


def session_of(factory):
    session = factory()
    session.info["actor"] = platform_actor("benchmark")
    return session


def append_committed(factory, lots) -> None:
    """The bulk appender: each lot appended and committed in its own transaction, the next lot
    hashed meanwhile (ledger.prepared_ahead)."""
    for prepared in ledger.prepared_ahead(lots):
        with session_of(factory) as session:
            ledger.append_prepared(session, prepared)
            session.commit()


def rates(n: int, run) -> tuple[float, float]:
    """Entries per second of ``run()``: of wall time, and of this process's CPU time (all its
    threads), which other engineers' load on the shared machine disturbs far less. Setup's
    garbage is collected first, so neither side pays for it."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return n / (time.perf_counter() - wall), n / (time.process_time() - cpu)


def ours(n: int, with_tree: bool) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        engine, factory, settings = store(Path(tmp))
        data = entries(n)

        def run() -> None:
            append_committed(factory, (data[lo : lo + TX] for lo in range(0, n, TX)))
            if with_tree:
                with session_of(factory) as session:
                    sth.issue_sth(session, settings)
                    session.commit()

        measured = rates(n, run)
        engine.dispose()
    return measured


def pymerkle_bulk(n: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        data = entries(n)
        t = SqliteTree(os.path.join(tmp, "pm.db"))
        measured = rates(n, lambda: t.append_entries(data, chunksize=TX))
        t.close()
    return measured


def build_large(directory: Path, size: int):
    engine, factory, settings = store(directory)
    start = time.perf_counter()
    append_committed(factory, (entries(min(TX, size - lo), lo) for lo in range(0, size, TX)))
    appended = time.perf_counter() - start
    with session_of(factory) as session:
        sth.issue_sth(session, settings)
        session.commit()
    print(f"built {size:,} entries: append {appended:.1f} s, tree + STH {time.perf_counter() - start - appended:.1f} s")
    return engine, factory, settings


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def our_proofs(factory, size: int, picks: list[int]) -> tuple[float, float]:
    with session_of(factory) as session:
        root = tree.root(session, size)
    inclusion, consistency = [], []
    for k in picks:
        with session_of(factory) as session:
            leaf = tree.Nodes(session).node(0, k)
            inclusion.append(timed(lambda s=session, k=k: tree.inclusion_proof(s, k, size)))
            verify.verify_inclusion(k, size, leaf, tree.inclusion_proof(session, k, size), root)
        with session_of(factory) as session:
            first = k + 1
            consistency.append(timed(lambda s=session, f=first: tree.consistency_proof(s, f, size)))
            proof = tree.consistency_proof(session, first, size)
            verify.verify_consistency(first, size, proof, tree.root(session, first), root)
    return statistics.median(inclusion), statistics.median(consistency)


def audited(factory, settings, workers: int) -> bool:
    """One full audit, timed in wall time and in CPU time of this process and its workers."""
    with session_of(factory) as session:
        gc.collect()
        wall, cpu = time.perf_counter(), cpu_seconds()
        report = integrity.audit(session, blob_store(settings), workers=workers)
        wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    print(f"audit ({workers} workers) of {report.entries:,} entries, {report.tiles:,} tiles: ", end="")
    print(f"{wall:.1f} s, {cpu:.1f} CPU-s, ", end="")
    print(f"load average {os.getloadavg()[0]:.1f}")
    if not report.ok:
        print(report.problems[:5])
    return report.ok


def cpu_seconds() -> float:
    """User and system CPU time of this process and of its finished children (audit workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def pymerkle_proofs(directory: Path, size: int, picks: list[int]) -> tuple[float, float, float]:
    t = SqliteTree(str(directory / "pm.db"))
    start = time.perf_counter()
    for lo in range(0, size, TX):
        t.append_entries(entries(min(TX, size - lo), lo), chunksize=TX)
    built = time.perf_counter() - start
    inclusion, consistency = [], []
    for k in picks:  # each proof cold, as ours are: pymerkle's subroot cache is emptied first
        t.cache_clear()
        inclusion.append(timed(lambda k=k: t.prove_inclusion(k + 1, size)))
        t.cache_clear()
        consistency.append(timed(lambda k=k: t.prove_consistency(k + 1, size)))
    t.close()
    return built, statistics.median(inclusion), statistics.median(consistency)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--append", type=int, default=1_000_000)
    parser.add_argument("--size", type=int, default=10_000_000)
    parser.add_argument("--proofs", type=int, default=200)
    parser.add_argument("--pymerkle-proofs", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3, help="append measurements per contender")
    args = parser.parse_args()
    print(f"{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, load average {os.getloadavg()}")

    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in ("pymerkle", "append", "append+tree")}
    for _ in range(args.rounds):
        runs["pymerkle"].append(pymerkle_bulk(args.append))
        runs["append"].append(ours(args.append, with_tree=False))
        runs["append+tree"].append(ours(args.append, with_tree=True))
    for kind, label in ((0, "entries/s"), (1, "entries per CPU-second")):
        base = statistics.median(r[kind] for r in runs["pymerkle"])
        print(f"{label} (median of {args.rounds}; each round's ratio to that round's pymerkle):")
        for name, measured in runs.items():
            rate = statistics.median(r[kind] for r in measured)
            paired = [round(r[kind] / p[kind], 2) for r, p in zip(measured, runs["pymerkle"], strict=True)]
            print(f"  {name:12s} {rate:>12,.0f}  ({rate / base:.2f}× pymerkle)  rounds {paired}")

    rng = random.Random(2026)
    picks = [rng.randrange(args.size - 1) for _ in range(args.proofs)]
    with tempfile.TemporaryDirectory() as tmp:
        engine, factory, settings = build_large(Path(tmp), args.size)
        inc, con = our_proofs(factory, args.size, picks)
        print(f"proofs at {args.size:,} (median of {len(picks)}): inclusion {inc * 1e3:.3f} ms, ", end="")
        print(f"consistency {con * 1e3:.3f} ms")
        for workers in (0, 2):  # inline (the default), then with two worker processes
            if not audited(factory, settings, workers):
                return 1
        engine.dispose()
    with tempfile.TemporaryDirectory() as tmp:
        built, pinc, pcon = pymerkle_proofs(Path(tmp), args.size, picks[: args.pymerkle_proofs])
        print(f"pymerkle at {args.size:,} (median of {args.pymerkle_proofs}): built in {built:.1f} s; ", end="")
        print(f"inclusion {pinc * 1e3:.1f} ms ({pinc / inc:.0f}× ours), ", end="")
        print(f"consistency {pcon * 1e3:.1f} ms ({pcon / con:.0f}× ours)")
    print(f"load average at the end {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
