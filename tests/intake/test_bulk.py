"""`chengguan.intake.bulk`: a run whose batches a writer process writes while the next ones are
decided writes exactly what the pipeline writes batch by batch; a report repeating one still
being written is a repeat, a merge into an event still being written joins it; a failed write
stops the run with the batches before it committed."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from chengguan.audit import AuditEntry, platform_actor
from chengguan.cases.models import Event
from chengguan.db import unit_of_work
from chengguan.intake import batch_rows, bulk, pipeline
from chengguan.intake.bulk import BulkRun, WriteFailed
from chengguan.intake.models import Report
from chengguan.intake.schemas import ReportIn
from tests.intake.conftest import report
from tests.intake.import_fixtures import ImportStore, clear_intake
from tests.intake.test_import import snapshot

T0 = dt.datetime(2025, 6, 2, 1, 0, tzinfo=dt.UTC)
PLACES = [(-73.97, 40.78), (-73.97, 40.80), (-73.95, 40.78)]  # kilometres apart: never duplicates
TEXTS = ["路口有人占道经营卖水果", "夜间施工噪音扰民", "商铺出店经营占道"]


def stream(n: int) -> list[ReportIn]:
    """Reports on three places, every few minutes, some closing, a few sent twice (the same
    external id later on): merges within and across batches, events closing in between."""
    reports = []
    for i in range(n):
        at = T0 + dt.timedelta(minutes=7 * i)
        lon, lat = PLACES[i % 3 if i % 5 else (i // 5) % 3]
        body = report(
            channel="hotline",
            external_id=f"h-{i - 4 if i % 9 == 8 else i}",  # every 9th repeats the report 4 before it
            description=TEXTS[(i // 2) % 3],
            lon=lon + (i % 4) * 1e-5,
            lat=lat,
            crs="wgs84",
            submitted_at=at.isoformat(),
        )
        if i % 7 == 3:
            body["closed_at"] = (at + dt.timedelta(minutes=40)).isoformat()
        reports.append(ReportIn.model_validate(body))
    return reports


def context(store: ImportStore) -> pipeline.Context:
    with unit_of_work(store.factory, actor=platform_actor("tests")) as session:
        return pipeline.context(session, classifier=None, historical=True)


def counts(store: ImportStore) -> tuple[int, int, int]:
    with unit_of_work(store.factory, actor=platform_actor("tests")) as session:
        return (
            session.scalar(select(func.count()).select_from(Event).execution_options(skip_scope=True)) or 0,
            session.scalar(select(func.count()).select_from(Report).execution_options(skip_scope=True)) or 0,
            session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "intake.batch"))
            or 0,
        )


@pytest.mark.parametrize("separate", [True, False], ids=["writer-process", "in-process"])
def test_a_bulk_run_writes_what_the_pipeline_writes_batch_by_batch(
    import_store: ImportStore, monkeypatch: pytest.MonkeyPatch, separate: bool
) -> None:
    reports = stream(60)
    ctx = context(import_store)
    audits_before = counts(import_store)[2]
    for start in range(0, len(reports), 4):
        with unit_of_work(import_store.factory, actor=platform_actor("tests")) as session:
            pipeline.process(session, reports[start : start + 4], ctx)
    expected, expected_counts = snapshot(import_store), counts(import_store)
    merged = [r for r in expected if r[1] == "merged"]
    assert merged and any(r[6] and r[6][3] is not None for r in expected)  # it merges, and events close
    clear_intake(import_store)

    monkeypatch.setattr(bulk, "CHUNK", 4)  # batches of 12 in chunks of 4: the batches above
    written: list[pipeline.Result] = []
    ctx = context(import_store)
    with BulkRun(import_store.factory, platform_actor("tests"), ctx, separate=separate) as run:
        for start in range(0, len(reports), 12):
            result = run.submit(reports[start : start + 12], written.append)
            assert [it.index for it in result.items] == list(range(12))
    assert snapshot(import_store) == expected
    events, rows, audits = counts(import_store)
    assert (events, rows) == expected_counts[:2] and audits - audits_before == 2 * (expected_counts[2] - audits_before)
    assert len(written) == 5 and all(it.report_id for result in written for it in result.items if not it.repeated)
    assert sum(it.repeated for result in written for it in result.items) == 6


def test_what_a_batch_still_being_written_holds_counts(
    import_store: ImportStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = batch_rows.write

    def slow(*args: Any) -> Any:  # in the writer process: the next batch is decided meanwhile
        time.sleep(0.5)
        return real(*args)

    monkeypatch.setattr(batch_rows, "write", slow)
    first = [ReportIn.model_validate(report(channel="hotline", external_id="x-1", submitted_at=T0.isoformat(),
                                            lon=PLACES[0][0], lat=PLACES[0][1], crs="wgs84"))]  # fmt: skip
    later = T0 + dt.timedelta(minutes=10)
    second = [
        first[0],  # sent again
        ReportIn.model_validate(report(channel="hotline", external_id="x-2", submitted_at=later.isoformat(),
                                       lon=PLACES[0][0], lat=PLACES[0][1], crs="wgs84")),
    ]  # fmt: skip
    ctx = context(import_store)
    results: list[pipeline.Result] = []
    with BulkRun(import_store.factory, platform_actor("tests"), ctx, separate=True) as run:
        run.submit(first, results.append)
        decided = run.submit(second, results.append)
        assert not results  # nothing written yet when the second batch was decided
        repeat, joined = decided.items
        assert repeat.repeated and joined.merged and joined.event_ref is not None and joined.event_ref < 0
    (opened,), (_, joined) = results[0].items, results[1].items
    assert joined.event_ref == opened.event_ref and opened.event_ref is not None and opened.event_ref > 0
    with unit_of_work(import_store.factory, actor=platform_actor("tests")) as session:
        event = session.get(Event, opened.event_ref, execution_options={"skip_scope": True})
        assert event is not None and event.report_count == 2
        ids = session.scalars(select(Report.external_id).execution_options(skip_scope=True)).all()
    assert sorted(ids) == ["x-1", "x-2"]


def test_a_failed_write_stops_the_run_and_keeps_the_batches_before_it(
    import_store: ImportStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    real, calls = batch_rows.write, []

    def failing(*args: Any) -> Any:  # runs in the writer process, which the fork gave this patch
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return real(*args)

    monkeypatch.setattr(batch_rows, "write", failing)
    reports = stream(40)
    ctx = context(import_store)
    committed: list[pipeline.Result] = []
    failure = r"batch 3 of this run was not written: RuntimeError: disk full"
    with (
        pytest.raises(WriteFailed, match=failure),
        BulkRun(import_store.factory, platform_actor("tests"), ctx, separate=True) as run,
    ):
        for start in range(0, len(reports), 10):
            run.submit(reports[start : start + 10], committed.append)
    assert len(committed) == 2
    with pytest.raises(WriteFailed, match="batch 3"):
        run.submit(reports[:1])  # the run has stopped
    fresh = sum(not it.repeated for result in committed for it in result.items)
    assert counts(import_store)[1] == fresh  # the two batches, nothing of the third or the fourth
    assert ctx.carry is not None and ctx.carry.index is None  # it held the lost batches' events


def test_a_batch_the_carried_index_cannot_serve_is_decided_whole(
    import_store: ImportStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file newest first: a batch before the run's horizon is decided against the database,
    which does not yet hold the batch's own earlier part; so it is not split."""
    monkeypatch.setattr(bulk, "CHUNK", 2)

    def at(minutes: int, place: int, key: str) -> ReportIn:
        lon, lat = PLACES[place]
        when = (T0 + dt.timedelta(minutes=minutes)).isoformat()
        return ReportIn.model_validate(
            report(channel="hotline", external_id=key, submitted_at=when, lon=lon, lat=lat, crs="wgs84")
        )

    later = [at(10 * 24 * 60, 2, "late")]
    earlier = [at(0, 0, "a"), at(5, 1, "b"), at(10, 0, "c"), at(15, 1, "d")]  # c repeats a, d repeats b
    ctx = context(import_store)
    results: list[pipeline.Result] = []
    with BulkRun(import_store.factory, platform_actor("tests"), ctx, separate=True) as run:
        run.submit(later, results.append)
        run.submit(earlier, results.append)
    a, b, c, d = results[1].items
    assert ctx.carry is not None and ctx.carry.backwards
    assert c.merged and c.event_ref == a.event_ref and d.merged and d.event_ref == b.event_ref


@pytest.mark.parametrize("separate", [True, False], ids=["writer-process", "in-process"])
def test_a_run_stopped_in_the_middle_of_a_batch_rolls_that_batch_back(
    import_store: ImportStore, monkeypatch: pytest.MonkeyPatch, separate: bool
) -> None:
    monkeypatch.setattr(bulk, "CHUNK", 5)
    real, calls = pipeline.decide, []

    def interrupted(*args: Any, **kw: Any) -> pipeline.Decided:
        calls.append(1)
        if len(calls) == 4:  # the second chunk of the second batch
            raise KeyboardInterrupt
        return real(*args, **kw)

    monkeypatch.setattr(pipeline, "decide", interrupted)
    reports = stream(20)
    ctx = context(import_store)
    committed: list[pipeline.Result] = []
    started = time.perf_counter()
    with (
        pytest.raises(KeyboardInterrupt),
        BulkRun(import_store.factory, platform_actor("tests"), ctx, separate=separate) as run,
    ):
        for start in range(0, len(reports), 10):
            run.submit(reports[start : start + 10], committed.append)
    assert time.perf_counter() - started < 10  # no wait on a lock the open batch held
    assert len(committed) == 1
    assert counts(import_store)[1] == sum(not it.repeated for it in committed[0].items)
