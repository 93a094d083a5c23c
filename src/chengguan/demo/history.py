"""A year of reports for the demo city, fed through the intake pipeline like any bulk import.

``chengguan demo`` loads 500,000 reports made up here, 2025-11-22 … 2026-11-21 (Asia/Shanghai),
in batches of 5,000 through the bulk path of a history import (:class:`chengguan.intake.bulk.BulkRun`,
each batch its own unit of work): the pipeline places them, merges repeats, dispatches by the
responsibility list and writes events and reports, exactly as for a real history import.

How a year is made (all from one seed, so a seed gives the same reports every time), from the
city as :mod:`history_city` reads it:

1. **Plan** (:mod:`history_plan`, whole year, small arrays): the problems per day and 小类, from
   each 小类's weight (:mod:`history_mix`) shaped by its season, rest days, holidays (from the
   calendar: the Spring Festival empties the city) and weather (storms, snowfalls drawn from the
   seed); then the repeat reports per day and 小类 (18 % of all reports repeat a problem).
2. **Week by week** (also :mod:`history_plan`): each problem gets a channel (in the seeds'
   proportions, machines only for what they can see), an hour (the 小类's daily curve times the
   channel's working hours), a place (a hot spot of the gazetteer or a synthetic 早市/老旧小区,
   else a point in a grid cell weighted by area class and activity) and a closing time on the
   working calendar (most within the 小类's time limit, some late, a few never; those after the
   year's end stay open). Repeats follow their problem within hours, from a few metres away.
3. **Words** (:mod:`history_writer`, :mod:`history_text`): each report in its channel's voice,
   with an address the gazetteer resolves; phones send GCJ-02 or BD-09, some hotline tickets
   only an address.

Only a week of numbers and one batch of texts are held at a time.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from chengguan.audit import Actor
from chengguan.db import unit_of_work
from chengguan.demo.history_city import City, read_city
from chengguan.demo.history_plan import BATCH, DAY_S, DAYS, DEFAULT_REPORTS, FIRST_DAY, HistorySpec, Plan, Rows
from chengguan.demo.history_writer import Writer
from chengguan.intake import pipeline
from chengguan.intake.bulk import BulkRun
from chengguan.intake.models import Report
from chengguan.intake.schemas import ReportIn

__all__ = [
    "BATCH",
    "DAYS",
    "DEFAULT_REPORTS",
    "FIRST_DAY",
    "City",
    "HistoryResult",
    "HistorySpec",
    "generate",
    "has_reports",
    "load_history",
    "read_city",
]
CHUNK_DAYS = 7  # the plan's rows are made a week at a time


def generate(city: City, spec: HistorySpec) -> Iterator[list[ReportIn]]:
    """The history in batches of ``spec.batch`` reports, in the order they were submitted."""
    plan = Plan(city, spec)
    writer = Writer(plan)
    carry = Rows()
    pending: list[Rows] = []
    held = 0
    for first in range(0, spec.days, CHUNK_DAYS):
        last = min(first + CHUNK_DAYS, spec.days)
        rows = Rows.concat([carry, plan.week(first, last)])
        if not len(rows):
            continue
        rows = rows.take(np.argsort(rows.columns["t"], kind="stable"))
        cut = plan.start + last * DAY_S if last < spec.days else math.inf
        due = rows.columns["t"] < cut
        carry = rows.take(~due)
        pending.append(rows.take(due))
        held += int(due.sum())
        while held >= spec.batch:
            ready = Rows.concat(pending)
            yield writer.reports(ready.take(np.arange(spec.batch)))
            rest = ready.take(np.arange(spec.batch, len(ready)))
            pending, held = [rest], len(rest)
    ready = Rows.concat(pending)
    if len(ready):
        yield writer.reports(ready)


# -- loading through the intake pipeline ------------------------------------------------------------


@dataclass
class HistoryResult:
    """What a load did, from the pipeline's own outcomes."""

    reports: int = 0  # written
    events: int = 0  # opened by a report
    merged: int = 0  # reports merged into an open event
    pending: int = 0  # reports waiting for a clerk (possible duplicate)
    repeated: int = 0  # already in the database (same channel and external id): skipped
    refused: list[str] = field(default_factory=list)  # "index field: message" of refused reports
    by_channel: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    generating: float = 0.0  # of which making the reports

    def add(self, outcome: pipeline.Result) -> None:
        for it in outcome.items:
            if it.repeated:
                self.repeated += 1
                continue
            self.reports += 1
            self.by_channel[it.source.code] += 1
            self.merged += it.merged
            self.pending += bool(it.pending)
            self.events += not (it.merged or it.pending)
        self.refused += [f"{r.index} {r.error.field}: {r.error.message}" for r in outcome.refused]


def has_reports(session: Session) -> bool:
    return session.scalar(select(func.count()).select_from(Report).execution_options(skip_scope=True)) != 0


def load_history(
    factory: sessionmaker[Session],
    actor: Actor,
    spec: HistorySpec,
    progress: Callable[[HistoryResult], None] | None = None,
) -> HistoryResult:
    """Generate the history and feed it to the intake pipeline as a bulk run (one context, one
    unit of work per batch, written by the run's writer while the next is made and decided; a
    failure keeps the batches before it; reports carry their source ids, so a second run with
    the same spec skips what is there and adds the rest)."""
    started = time.perf_counter()
    with unit_of_work(factory, actor=actor) as session:
        city = read_city(session)
        ctx = pipeline.context(session, classifier=None, historical=True)
    result = HistoryResult()

    def written(outcome: pipeline.Result) -> None:
        result.add(outcome)
        if progress is not None:
            progress(result)

    batches = generate(city, spec)
    with BulkRun(factory, actor, ctx) as run:
        while True:
            before = time.perf_counter()
            batch = next(batches, None)
            result.generating += time.perf_counter() - before
            if batch is None:
                break
            run.submit(batch, written)
    result.seconds = time.perf_counter() - started
    return result
