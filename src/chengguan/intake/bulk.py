"""A bulk run of the intake pipeline: batches decided in this process while a writer process
writes the ones before them, each in its own transaction, in order.

Deciding a batch (normalise … dispatch, the rows built) and writing it (SQLite's inserts and
their bindings) each take about half of the bulk path's time, and one Python process runs only
one of them at a time: a writer thread was measured at 17,000 reports/s where the work is worth
20,000, held back by the GIL. So the writer is a process of its own, forked (it shares the
pipeline's code and the engine's settings; a spawned one would spend seconds importing them).
A batch is decided in chunks (:data:`CHUNK`) that the writer takes as they come, when the run's
carried dedup index serves it all (``pipeline.divisible``); what the pipeline judges per call
(the events closed by the latest report, left out) is then judged per chunk.

What the pipeline reads while batches are in flight stays right:
- a report repeats one of a batch not yet written: their (channel, external id) are kept here
  (:class:`pipeline.Unwritten`) until the writer commits them;
- merges and suggestions may name a new event of a batch not yet written, by its temporary
  id: the writer keeps each temporary id's real one until every batch that may name it is
  written, and the run's dedup index learns them as batches are settled;
- before the pipeline reads open events from the database (a run's first batch, or a batch out
  of time order) it waits for every batch in flight.

A failed write stops the run: the batches before it stay committed (their ``on_written`` ran),
the ones after it are not written, and :class:`WriteFailed` names the batch. An in-memory
database cannot be shared with another process: there (and given ``separate=False``) each
batch is written in this process right after it is decided, by the same code.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import pickle
import signal
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from chengguan.audit import Actor
from chengguan.db import unit_of_work
from chengguan.intake import batch_rows, pipeline
from chengguan.intake.schemas import ReportIn
from chengguan.kit.gcpause import gc_paused

# A batch is decided and written in chunks, all of one batch in one transaction: the writer
# starts on a batch's first chunk while the rest is decided, and the run's start and end wait
# for one chunk instead of a batch (a tenth of a 100,000-report run at batches of 10,000).
CHUNK = 2_500
# Chunks decided and handed to the writer, not yet written: the writer always has the next one
# while this process decides the one after.
IN_FLIGHT = 2
STOP_TIMEOUT_S = 60.0
FULL_COLLECTION_EVERY = 100  # batches


class WriteFailed(RuntimeError):
    """A batch could not be written; the ones before it are committed, none after it."""


@dataclass
class _Batch:
    number: int
    on_written: Callable[[pipeline.Result], None] | None
    result: pipeline.Result = field(default_factory=lambda: pipeline.Result([], []))
    keys: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _Chunk:
    batch: _Batch
    decided: pipeline.Decided
    last: bool  # the batch's last: written, the batch is committed


class _Writer(Protocol):
    def send(self, rows: batch_rows.Rows, forget: list[int], commit: bool) -> None: ...
    def ready(self) -> bool: ...
    def receive(self) -> batch_rows.Written: ...
    def close(self) -> None: ...


@dataclass
class BulkRun:
    """``with BulkRun(factory, actor, ctx) as run: run.submit(batch, on_written=…)`` for each
    batch; leaving the block waits for the last writes. ``ctx`` is the run's (historical)
    context, built once; ``on_written(result)`` runs here, in batch order, once the batch is
    committed, with the reports' ids filled in."""

    factory: sessionmaker[Session]
    actor: Actor
    ctx: pipeline.Context
    separate: bool | None = None  # a writer process; None: unless the database is in memory
    _writer: _Writer | None = None
    _flight: deque[_Chunk] = field(default_factory=deque)
    _forget: list[int] = field(default_factory=list)  # temporary ids no batch still to come names
    _submitted: int = 0
    _failed: WriteFailed | None = None
    _collecting: bool = True  # the cyclic GC was on before the run

    def __enter__(self) -> BulkRun:
        engine = self.factory.kw["bind"]
        in_memory = engine.url.get_backend_name() == "sqlite" and engine.url.database in (None, "", ":memory:")
        if self.separate is None:
            self.separate = not in_memory
        if self.separate and in_memory:
            raise ValueError("an in-memory database cannot be written by another process")
        self._writer = _Process(self.factory, self.actor) if self.separate else _InProcess(self.factory, self.actor)
        self.ctx.unwritten = pipeline.Unwritten(set(), self.wait)
        self._collecting = gc.isenabled()
        gc.disable()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            if kind is None:
                self.wait()
            else:  # what is in flight was decided rightly: written, it keeps its on_written
                with contextlib.suppress(WriteFailed):
                    self.wait()
        finally:
            assert self._writer is not None
            self._writer.close()
            self.ctx.unwritten = None
            gc.unfreeze()
            if self._collecting:
                gc.enable()

    def submit(
        self, reports: Sequence[ReportIn], on_written: Callable[[pipeline.Result], None] | None = None
    ) -> pipeline.Result:
        """Decide a batch and hand it to the writer; its result (temporary event ids, no report
        ids yet) at once, and again, complete, to ``on_written`` once it is committed."""
        if self._failed is not None:  # the run has stopped
            raise self._failed
        assert self._writer is not None and self.ctx.unwritten is not None, "use BulkRun as a context manager"
        self._submitted += 1
        batch = _Batch(self._submitted, on_written)
        part = CHUNK if pipeline.divisible(self.ctx, reports) else max(len(reports), 1)
        for start in range(0, max(len(reports), 1), part):
            self._collect(block=False)
            forget, self._forget = self._forget, []  # settled before this chunk is decided
            with unit_of_work(self.factory, actor=self.actor) as session:
                decided = pipeline.decide(session, reports[start : start + part], self.ctx, first=start)
            batch.result.items.extend(decided.result.items)
            batch.result.refused.extend(decided.result.refused)
            keys = [(it.source.code, it.data.external_id) for it in decided.fresh if it.data.external_id]
            self.ctx.unwritten.keys.update(keys)
            batch.keys += keys
            while len(self._flight) >= IN_FLIGHT:
                self._collect_one()
            last = start + part >= len(reports)
            self._flight.append(_Chunk(batch, decided, last))
            self._writer.send(decided.rows, forget, last)
        self._set_aside()
        if not self.separate:
            self._collect(block=True)
        return batch.result

    def _set_aside(self) -> None:
        """The cyclic GC stays off for the run: what a batch leaves alive (its reports until
        written, the dedup index's growth) is moved out of the collector's sight, which costs
        nothing, instead of being walked by collections (an eighth of this process's time, when
        each batch paused and resumed it as ``pipeline.process`` does). Short-lived objects are
        freed by reference counting all the same; every ``FULL_COLLECTION_EVERY`` batches one full
        collection takes the cyclic garbage (sessions) set aside meanwhile."""
        if self._submitted % FULL_COLLECTION_EVERY == FULL_COLLECTION_EVERY - 1:
            gc.unfreeze()
            gc.collect()
        gc.freeze()

    def wait(self) -> None:
        """Until every batch handed to the writer is committed (or one failed)."""
        self._collect(block=True)

    def _collect(self, *, block: bool) -> None:
        assert self._writer is not None
        while self._flight and (block or self._writer.ready()):
            self._collect_one()

    def _collect_one(self) -> None:
        assert self._writer is not None and self.ctx.unwritten is not None
        if self._failed is not None:
            raise self._failed
        chunk = self._flight[0]
        try:
            written = self._writer.receive()
        except WriteFailed as exc:
            self._fail(WriteFailed(f"batch {chunk.batch.number} of this run was not written: {exc}"))
            raise self._failed from exc  # type: ignore[misc]
        self._flight.popleft()
        pipeline.settle(self.ctx, chunk.decided, written)
        self._forget += chunk.decided.rows.event_refs
        if chunk.last:
            self.ctx.unwritten.keys.difference_update(chunk.batch.keys)
            if chunk.batch.on_written is not None:
                chunk.batch.on_written(chunk.batch.result)

    def _fail(self, failure: WriteFailed) -> None:
        """Nothing after a failed batch is written; the run's carried dedup index, which holds
        their events, is dropped."""
        self._failed = failure
        self._flight.clear()
        if self.ctx.carry is not None:
            self.ctx.carry.index = None
        assert self.ctx.unwritten is not None
        self.ctx.unwritten.keys.clear()


class _Transaction:
    """The writer's side, in whichever process: chunks into the transaction of their batch,
    committed with its last chunk, rolled back whole on any failure."""

    def __init__(self, factory: sessionmaker[Session], actor: Actor) -> None:
        self._factory, self._actor = factory, actor
        self._known: dict[int, int] = {}  # temporary event id → real, while a chunk to come may name it
        self._open: contextlib.ExitStack | None = None
        self._session: Session | None = None

    def write(self, rows: batch_rows.Rows, forget: list[int], commit: bool) -> batch_rows.Written | WriteFailed:
        for ref in forget:
            self._known.pop(ref, None)
        try:
            with gc_paused():
                if self._open is None:
                    self._open = contextlib.ExitStack()
                    self._session = self._open.enter_context(unit_of_work(self._factory, actor=self._actor))
                assert self._session is not None
                written = batch_rows.write(self._session, rows, self._known)
                if commit:
                    self._end()
                return written
        except Exception as exc:  # the run stops, and says why
            if self._open is not None:
                self._end(exc)
            return WriteFailed("".join(traceback.format_exception_only(exc)).strip())

    def abandon(self) -> None:
        """Roll back a batch left open (the run stopped before its last chunk)."""
        if self._open is not None:
            self._end(RuntimeError("the run stopped in the middle of a batch"))

    def _end(self, failure: Exception | None = None) -> None:
        """Commit (or, on ``failure``, roll back) and close the batch's unit of work."""
        stack, self._open, self._session = self._open, None, None
        assert stack is not None
        if failure is None:
            stack.close()
        else:
            with contextlib.suppress(Exception):
                stack.__exit__(type(failure), failure, failure.__traceback__)


class _InProcess:
    """Each chunk written here as soon as it is handed over."""

    def __init__(self, factory: sessionmaker[Session], actor: Actor) -> None:
        self._transaction = _Transaction(factory, actor)
        self._done: deque[batch_rows.Written | WriteFailed] = deque()

    def send(self, rows: batch_rows.Rows, forget: list[int], commit: bool) -> None:
        self._done.append(self._transaction.write(rows, forget, commit))

    def ready(self) -> bool:
        return bool(self._done)

    def receive(self) -> batch_rows.Written:
        return _reply(self._done.popleft())

    def close(self) -> None:
        self._done.clear()
        self._transaction.abandon()


class _Process:
    """The writer process, forked, fed chunks through a pipe; it answers each with the ids it
    wrote or the failure, and stops at the first failure."""

    def __init__(self, factory: sessionmaker[Session], actor: Actor) -> None:
        # No connection may cross the fork (SQLite's locks are per process): the pool is emptied
        # here and the child's engine starts its own.
        factory.kw["bind"].dispose()
        context = multiprocessing.get_context("fork")
        self._pipe, theirs = context.Pipe()
        self._process = context.Process(target=_serve, args=(theirs, factory, actor), daemon=True, name="intake-writer")
        self._process.start()
        theirs.close()

    def send(self, rows: batch_rows.Rows, forget: list[int], commit: bool) -> None:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # it stopped: ``receive`` says why
            self._pipe.send_bytes(_pickled((rows, forget, commit)))

    def ready(self) -> bool:
        return self._pipe.poll()

    def receive(self) -> batch_rows.Written:
        try:
            reply = self._pipe.recv()
        except EOFError:
            self._process.join(STOP_TIMEOUT_S)
            raise WriteFailed(f"the writer process stopped (exit code {self._process.exitcode})") from None
        return _reply(reply)

    def close(self) -> None:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._pipe.send_bytes(_pickled(None))
        self._process.join(STOP_TIMEOUT_S)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._pipe.close()


def _serve(pipe: Connection, factory: sessionmaker[Session], actor: Actor) -> None:
    """The writer process's loop, until told to stop, a chunk fails or the run's process is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the run's to handle: it waits for what is in flight
    engine = factory.kw["bind"]
    engine.dispose(close=False)  # the parent's pool (emptied before the fork) is not ours
    gc.freeze()  # the inherited heap: never walked by a collection here (nor copied page by page)
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:
        event.listen(engine, "connect", _bulk_wal)
    transaction = _Transaction(factory, actor)
    while True:
        try:
            message = pickle.loads(pipe.recv_bytes())
        except EOFError:  # the run's process is gone: its open batch rolls back with the connection
            return
        if message is None:
            transaction.abandon()
            break
        reply = transaction.write(*message)
        pipe.send(reply)
        if isinstance(reply, WriteFailed):
            return
    if sqlite:
        with engine.connect() as connection:  # the run's WAL into the database, and the file emptied
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


# The writer's WAL is copied into the database every 256 MiB instead of SQLite's 4 MiB: a batch
# rewrites the same index pages as the batch before it, and each checkpoint copies them and
# syncs the file again (a third of the writer's time at 5,000 reports a batch). Other connections
# keep the default; the run ends with a checkpoint.
BULK_WAL_PAGES = 65_536


def _bulk_wal(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={BULK_WAL_PAGES}")


def _pickled(message: Any) -> bytes:
    """Plain pickle: the pipe's own (``ForkingPickler``) looks up every object's type in a
    Python-level table, which took five times as long for a batch's columns."""
    return pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)


def _reply(reply: Any) -> batch_rows.Written:
    if isinstance(reply, WriteFailed):
        raise reply
    return reply
