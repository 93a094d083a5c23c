"""Bulk import of historical reports from a file, in atomic batches that survive a crash.

The file is streamed (:mod:`chengguan.intake.sources`), each record mapped by its profile
(:mod:`chengguan.intake.profiles`) and every batch run through the intake pipeline with
``historical=True`` in its own transaction. A record the mapping or the pipeline refuses goes to
the reject file (line, field, reason and the original record) and writes nothing else.

After each committed batch a checkpoint records the file's identity (path, size, SHA-256 of its
first MB), the last line committed, the reject file's length and the running counts. Importing
the same file again with its checkpoint present carries on after that line: a batch is either
committed whole or not at all, the reject file is cut back to what the checkpoint knew, and
idempotency on (channel, external id) is the second line of defence against a report imported
twice. A finished import removes its checkpoint.
"""

from __future__ import annotations

import bisect
import csv
import dataclasses
import datetime as dt
import hashlib
import itertools
import json
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, cast

from sqlalchemy.orm import Session, sessionmaker

from chengguan.audit import Actor
from chengguan.db import unit_of_work
from chengguan.errors import FieldError, Invalid
from chengguan.intake import pipeline
from chengguan.intake.bulk import BulkRun
from chengguan.intake.profiles import Layout, Profile
from chengguan.intake.schemas import ReportIn
from chengguan.intake.sources import Record, Source, open_source
from chengguan.kit.gcpause import gc_paused

# Rows a transaction: each commit rewrites the index pages the batch touched, so bigger batches
# write less (10,000: the writer's commits half the time of 5,000's, 7 % of the bulk path's).
BATCH_SIZE = 10_000
HEAD_BYTES = 1 << 20  # the file's identity hashes its first MB
REJECT_COLUMNS = ("line", "field", "reason")
CHECKPOINT_VERSION = 1


@dataclass
class Counts:
    """``read`` = ``imported`` + ``repeated`` + ``rejected``; of the imported, ``created`` opened
    an event, ``merged`` joined one and ``pending`` wait for a clerk (place, category or a
    possible duplicate)."""

    read: int = 0
    imported: int = 0
    created: int = 0
    merged: int = 0
    pending: int = 0
    repeated: int = 0
    rejected: int = 0
    out_of_order: int = 0  # reported before the latest report of an earlier batch

    def add(self, other: Counts) -> None:
        for f in dataclasses.fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


@dataclass
class Summary:
    counts: Counts
    seconds: float  # of this run (a resumed run times only what it did)
    rows_this_run: int
    resumed_after: int  # the line a resumed run carried on after (0: from the start)
    rejects: Path
    layout: str

    @property
    def rows_per_second(self) -> float:
        return self.rows_this_run / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class Identity:
    path: str
    size: int
    head_sha256: str

    @classmethod
    def of(cls, path: Path) -> Identity:
        with path.open("rb") as f:
            head = hashlib.sha256(f.read(HEAD_BYTES)).hexdigest()
        return cls(str(path.resolve()), path.stat().st_size, head)


@dataclass
class Checkpoint:
    identity: Identity
    profile: str
    source: str
    last_line: int = 0
    rejects_size: int = 0
    counts: Counts = field(default_factory=Counts)
    latest_at: dt.datetime | None = None  # the latest time reported in the batches committed

    def save(self, path: Path) -> None:
        """Atomically (write, fsync, rename): a crash leaves the old checkpoint or the new one."""
        body = {
            "version": CHECKPOINT_VERSION,
            "identity": dataclasses.asdict(self.identity),
            "profile": self.profile,
            "source": self.source,
            "last_line": self.last_line,
            "rejects_size": self.rejects_size,
            "counts": dataclasses.asdict(self.counts),
            "latest_at": self.latest_at.isoformat() if self.latest_at else None,
        }
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as f:
            json.dump(body, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> Checkpoint:
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                Identity(**body["identity"]),
                body["profile"],
                body["source"],
                int(body["last_line"]),
                int(body["rejects_size"]),
                Counts(**body["counts"]),
                dt.datetime.fromisoformat(body["latest_at"]) if body["latest_at"] else None,
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise Invalid(f"unreadable checkpoint {path}: {exc}", field="checkpoint") from exc


def default_rejects(path: Path) -> Path:
    return path.with_name(path.name + ".rejects.csv")


def default_checkpoint(path: Path) -> Path:
    return path.with_name(path.name + ".checkpoint.json")


@dataclass
class ImportJob:
    """One file into the store. ``resume``: True carries on from the checkpoint (which must
    match the file), False starts over (the checkpoint is dropped), None carries on when a
    checkpoint for this very file exists and starts fresh when there is none."""

    path: Path
    profile: Profile
    factory: sessionmaker[Session]
    actor: Actor
    classifier: pipeline.Classifier | None = None
    auto_dispatch: bool = True
    source: str | None = None  # prefixed to the source's ids; default: the profile name
    batch_size: int = BATCH_SIZE
    rejects: Path | None = None
    checkpoint: Path | None = None
    resume: bool | None = None
    on_progress: Callable[[int, int], None] | None = None  # (position, total) after each batch

    def run(self) -> Summary:
        if self.batch_size < 1:
            raise Invalid("the batch size must be at least 1", field="batch_size")
        started = time.perf_counter()
        source_name = self.source or self.profile.name
        rejects_path = self.rejects or default_rejects(self.path)
        checkpoint_path = self.checkpoint or default_checkpoint(self.path)
        state = self._starting_state(checkpoint_path, Identity.of(self.path), source_name)
        resumed_after = state.last_line
        with unit_of_work(self.factory, actor=self.actor) as session:
            ctx = pipeline.context(
                session, classifier=self.classifier, auto_dispatch=self.auto_dispatch, historical=True
            )
        reader = open_source(self.path)
        try:
            layout = self.profile.layout_for(reader.header)
            mapper = self.profile.mapper(layout, source_name, reader.header, strings=reader.strings)
            with _Rejects(rejects_path, reader.header, state.rejects_size) as rejects:
                this_run = self._batches(reader, mapper, layout, ctx, rejects, state, checkpoint_path)
        finally:
            reader.close()
        checkpoint_path.unlink(missing_ok=True)  # finished: a new import of this file starts over
        if not state.counts.rejected:
            rejects_path.unlink(missing_ok=True)  # no header-only reject files lying about
        return Summary(
            state.counts,
            time.perf_counter() - started,
            this_run,
            resumed_after,
            rejects_path,
            layout.name,
        )

    def _starting_state(self, checkpoint_path: Path, identity: Identity, source_name: str) -> Checkpoint:
        fresh = Checkpoint(identity, self.profile.name, source_name)
        exists = checkpoint_path.exists()
        if self.resume is False or (self.resume is None and not exists):
            checkpoint_path.unlink(missing_ok=True)
            return fresh
        if not exists:
            raise Invalid(f"nothing to resume: no checkpoint at {checkpoint_path}", field="resume")
        saved = Checkpoint.load(checkpoint_path)
        if saved.identity != identity or saved.profile != self.profile.name or saved.source != source_name:
            raise Invalid(
                f"the checkpoint {checkpoint_path} belongs to another file, profile or source "
                f"({saved.identity.path}, {saved.identity.size} bytes, profile {saved.profile}); "
                "--restart to import this file from the start / 断点记录与文件不符",
                field="checkpoint",
            )
        return saved

    def _batches(
        self,
        reader: Source,
        mapper: Callable[[Record], ReportIn | FieldError],
        layout: Layout,
        ctx: pipeline.Context,
        rejects: _Rejects,
        state: Checkpoint,
        checkpoint_path: Path,
    ) -> int:
        """Each batch decided and its rejects written while the run's writer writes the batch
        before; the checkpoint moves past a batch once it is committed and its rejects are on
        disk, in file order."""
        steps: deque[_Step] = deque()
        done = 0

        def advance() -> None:
            nonlocal done
            while steps and steps[0].committed and steps[0].rejects_size is not None:
                step = steps.popleft()
                state.counts.add(step.counts)
                state.last_line = step.batch.records[-1].line
                state.latest_at, state.rejects_size = step.latest_at, cast(int, step.rejects_size)
                state.save(checkpoint_path)
                done += len(step.batch.records)
                if self.on_progress is not None:
                    self.on_progress(reader.position(), reader.total)

        def committed(step: _Step) -> Callable[[pipeline.Result], None]:
            def mark(_result: pipeline.Result) -> None:
                step.committed = True
                advance()

            return mark

        latest = state.latest_at
        with BulkRun(self.factory, self.actor, ctx) as run:
            for batch in mapped_batches(reader, mapper, self.batch_size, after=state.last_line):
                reports, taken = batch.reports, batch.taken
                step = _Step(batch, Counts(read=len(batch.records), out_of_order=_before(reports, latest)))
                if reports:
                    last = cast(dt.datetime, reports[-1].submitted_at)
                    latest = last if latest is None else max(latest, last)
                step.latest_at = latest
                steps.append(step)
                result = run.submit(reports, committed(step))
                refused = batch.refused + [
                    (taken[r.index], FieldError(layout.column_of(r.error.field), r.error.message))
                    for r in result.refused
                ]
                for record, error in sorted(refused, key=lambda pair: pair[0].line):
                    rejects.add(record, error)
                _count(step.counts, result)
                step.counts.rejected = len(refused)
                step.rejects_size = rejects.sync()
                advance()
        return done


@dataclass
class _Step:
    """A batch on its way: counted and its rejects written when decided, committed later."""

    batch: MappedBatch
    counts: Counts
    latest_at: dt.datetime | None = None
    rejects_size: int | None = None
    committed: bool = False


@dataclass
class MappedBatch:
    records: list[Record]
    reports: list[ReportIn]  # in time order
    taken: list[Record]  # the record of each report
    refused: list[tuple[Record, FieldError]]  # by the mapping (or malformed)


def mapped_batches(
    reader: Source, mapper: Callable[[Record], ReportIn | FieldError], size: int, *, after: int = 0
) -> Iterator[MappedBatch]:
    """The file's records after line ``after``, ``size`` at a time, mapped. History goes through
    the pipeline in time order, so that a report merges into what was reported before it: each
    batch is sorted by the time reported (files newest first, as the NYC export, are turned round).
    The cyclic GC is paused while a batch is read and mapped: its many small dicts would
    otherwise set off collections that walk the whole heap (the pipeline's snapshots are large),
    which cost more than the mapping itself; none of them is cyclic garbage."""
    records = (r for r in reader.records() if r.line > after)
    while True:
        with gc_paused():
            chunk = list(itertools.islice(records, size))
            if not chunk:
                return
            mapped: list[tuple[ReportIn, Record]] = []
            refused: list[tuple[Record, FieldError]] = []
            for record in chunk:
                report = FieldError("row", record.problem) if record.problem else mapper(record)
                if isinstance(report, FieldError):
                    refused.append((record, report))
                else:
                    mapped.append((report, record))
            mapped.sort(key=lambda pair: cast(dt.datetime, pair[0].submitted_at))
        yield MappedBatch(chunk, [m[0] for m in mapped], [m[1] for m in mapped], refused)


def _count(counts: Counts, result: pipeline.Result) -> None:
    for it in result.items:
        if it.repeated:
            counts.repeated += 1
            continue
        counts.imported += 1
        if it.pending:
            counts.pending += 1
        elif it.merged:
            counts.merged += 1
        else:
            counts.created += 1


def _before(reports: list[ReportIn], latest: dt.datetime | None) -> int:
    """How many of the (time-ordered) reports come before ``latest``."""
    if latest is None:
        return 0
    return bisect.bisect_left([cast(dt.datetime, r.submitted_at) for r in reports], latest)


class _Rejects:
    """The reject file: ``line, field, reason`` and then the original record — its columns for
    a table, the record as JSON (column ``record``) for a JSON source. Opened at ``size`` (what
    the checkpoint knew; anything after it belongs to a batch that was not committed)."""

    def __init__(self, path: Path, header: list[str] | None, size: int) -> None:
        self.path, self.header, self.size = path, header, size
        self._file: IO[str] | None = None

    def __enter__(self) -> _Rejects:
        if not self.path.exists():
            self.size = 0  # removed since the checkpoint: start it again
        self._file = self.path.open("r+" if self.size else "w", encoding="utf-8", newline="")
        self._file.truncate(self.size)
        self._file.seek(self.size)
        self._writer = csv.writer(self._file)
        if not self.size:
            self._writer.writerow([*REJECT_COLUMNS, *(self.header if self.header is not None else ["record"])])
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()

    def add(self, record: Record, error: FieldError) -> None:
        values = record.values
        original = [json.dumps(values, ensure_ascii=False, default=str)] if isinstance(values, dict) else values
        self._writer.writerow([record.line, error.field, error.message, *original])

    def sync(self) -> int:
        """Flush to disk; the file's length, for the checkpoint."""
        assert self._file is not None
        self._file.flush()
        os.fsync(self._file.fileno())
        return self._file.tell()
