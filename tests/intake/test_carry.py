"""A history run keeps its dedup index from one committed batch to the next: later batches merge
into the events of earlier ones under their real ids, events closed meanwhile take no more
reports, and a batch that rolls back leaves nothing behind in it."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from chengguan.audit import platform_actor
from chengguan.cases.models import Event
from chengguan.db import unit_of_work
from chengguan.intake import pipeline
from chengguan.intake.schemas import ReportIn
from tests.intake.conftest import report
from tests.intake.import_fixtures import ImportStore

T0 = dt.datetime(2025, 6, 2, 1, 0, tzinfo=dt.UTC)
MANHATTAN = (-73.97, 40.78)
ELSEWHERE = (-73.97, 40.80)  # 2.2 km north: never a duplicate of MANHATTAN


def old(minutes: int, where: tuple[float, float] = MANHATTAN, closed_after_h: float | None = None) -> ReportIn:
    at = T0 + dt.timedelta(minutes=minutes)
    body = report(lon=where[0], lat=where[1], crs="wgs84", submitted_at=at.isoformat())
    if closed_after_h is not None:
        body["closed_at"] = (at + dt.timedelta(hours=closed_after_h)).isoformat()
    return ReportIn.model_validate(body)


def run_context(store: ImportStore) -> pipeline.Context:
    with unit_of_work(store.factory, actor=platform_actor("tests")) as session:
        return pipeline.context(session, classifier=None, historical=True)


def batch(store: ImportStore, ctx: pipeline.Context, reports: list[ReportIn]) -> list[pipeline.Item]:
    with unit_of_work(store.factory, actor=platform_actor("tests")) as session:
        result = pipeline.process(session, reports, ctx)
    assert not result.refused
    return result.items


def stored(store: ImportStore, event_id: int | None) -> Event:
    with unit_of_work(store.factory, actor=platform_actor("tests")) as session:
        event = session.get(Event, event_id, execution_options={"skip_scope": True})
        assert event is not None
        return event


def event_count(store: ImportStore) -> int:
    with unit_of_work(store.factory, actor=platform_actor("tests")) as session:
        return session.scalar(select(func.count()).select_from(Event).execution_options(skip_scope=True)) or 0


def test_later_batches_merge_into_earlier_ones_from_the_carried_index(import_store: ImportStore) -> None:
    ctx = run_context(import_store)
    assert ctx.carry is not None
    (first,) = batch(import_store, ctx, [old(0)])
    carried = ctx.carry.index
    assert carried is not None and ctx.carry.trusted
    second, elsewhere = batch(import_store, ctx, [old(60), old(61, ELSEWHERE)])
    third, near_elsewhere = batch(import_store, ctx, [old(120), old(121, ELSEWHERE)])
    assert ctx.carry.index is carried  # served from memory, not loaded again
    assert second.merged and third.merged and second.event_ref == third.event_ref == first.event_ref
    assert not elsewhere.merged and near_elsewhere.merged and near_elsewhere.event_ref == elsewhere.event_ref
    event = stored(import_store, first.event_ref)
    assert event.report_count == 3 and event.last_reported_at == T0 + dt.timedelta(minutes=120)


def test_a_rolled_back_batch_leaves_nothing_in_the_carried_index(import_store: ImportStore) -> None:
    ctx = run_context(import_store)
    assert ctx.carry is not None
    (kept,) = batch(import_store, ctx, [old(0)])
    with pytest.raises(RuntimeError), unit_of_work(import_store.factory, actor=platform_actor("tests")) as session:
        (lost,) = pipeline.process(session, [old(30, ELSEWHERE)], ctx).items
        assert lost.event_ref is not None and not lost.merged
        raise RuntimeError("the batch fails after the pipeline ran")
    assert ctx.carry.index is None
    again, repeat = batch(import_store, ctx, [old(60, ELSEWHERE), old(61)])
    assert not again.merged  # the lost event is in neither the database nor the index
    assert repeat.merged and repeat.event_ref == kept.event_ref
    assert event_count(import_store) == 2


def test_an_event_closed_in_an_earlier_batch_takes_no_later_report(import_store: ImportStore) -> None:
    ctx = run_context(import_store)
    (closed,) = batch(import_store, ctx, [old(0, closed_after_h=1)])
    carried = ctx.carry.index if ctx.carry else None
    (within,) = batch(import_store, ctx, [old(50)])
    (after,) = batch(import_store, ctx, [old(120)])
    assert ctx.carry is not None and ctx.carry.index is carried
    assert within.merged and within.event_ref == closed.event_ref
    assert not after.merged and after.event_ref != closed.event_ref


def test_a_loaded_event_is_retired_when_the_run_passes_its_close(import_store: ImportStore) -> None:
    (earlier,) = batch(import_store, run_context(import_store), [old(0, closed_after_h=3)])
    ctx = run_context(import_store)  # a second import: the event comes from the database
    (within,) = batch(import_store, ctx, [old(60)])
    (after,) = batch(import_store, ctx, [old(240)])
    assert within.merged and within.event_ref == earlier.event_ref
    assert not after.merged and after.event_ref != earlier.event_ref


def test_a_newest_first_run_falls_back_to_loading_each_batch(import_store: ImportStore) -> None:
    ctx = run_context(import_store)
    (latest,) = batch(import_store, ctx, [old(24 * 60)])
    (earlier,) = batch(import_store, ctx, [old(-24 * 60)])  # before the carried index's horizon
    (between,) = batch(import_store, ctx, [old(0)])
    assert ctx.carry is not None and ctx.carry.backwards and ctx.carry.index is None
    assert earlier.merged and between.merged and earlier.event_ref == between.event_ref == latest.event_ref
    event = stored(import_store, latest.event_ref)
    assert event.first_reported_at == T0 - dt.timedelta(days=1) and event.report_count == 3
