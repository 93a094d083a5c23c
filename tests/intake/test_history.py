"""History through the pipeline: source times are kept, closed reports make closed events, and a
report is never merged into an event that closed before it arrived."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from chengguan.cases.models import Event, EventStatus
from chengguan.dispatch.models import Consultation
from chengguan.intake import pipeline
from chengguan.intake.schemas import ReportIn
from tests.intake.conftest import IntakeCity, report
from tests.intake.test_api import post, spot

T0 = dt.datetime(2025, 3, 3, 1, 0, tzinfo=dt.UTC)  # a Monday, 09:00 in Beijing


def old(n: int, hours: float, closed_after_h: float | None = None, **fields: object) -> ReportIn:
    lon, lat = spot(n, street="A2")
    at = T0 + dt.timedelta(hours=hours)
    closed = at + dt.timedelta(hours=closed_after_h) if closed_after_h is not None else None
    body = report(lon=lon, lat=lat, crs="wgs84", submitted_at=at.isoformat(), **fields)
    if closed is not None:
        body["closed_at"] = closed.isoformat()
    return ReportIn.model_validate(body)


def test_history_keeps_source_times_and_closes_events(platform_session, intake_city: IntakeCity) -> None:
    ctx = pipeline.context(platform_session, classifier=None, historical=True)
    result = pipeline.process(platform_session, [old(20, 0, closed_after_h=30), old(20, 1)], ctx)
    assert not result.refused
    first, repeat = result.items
    assert repeat.merged and repeat.event_ref == first.event_ref
    event = platform_session.get(Event, first.event_ref)
    assert event is not None and event.status == EventStatus.CLOSED
    assert event.closed_at == T0 + dt.timedelta(hours=30) and event.report_count == 2
    assert event.first_reported_at == T0 and event.created_at == T0
    # 西街道 has no rule for 街面秩序: a closed history event leaves no 会商 open
    assert platform_session.scalar(select(Consultation.id).where(Consultation.event_id == event.id)) is None


def test_a_report_after_the_close_opens_a_new_event(platform_session, intake_city: IntakeCity) -> None:
    ctx = pipeline.context(platform_session, classifier=None, historical=True)
    closed = pipeline.process(platform_session, [old(21, 0, closed_after_h=2)], ctx).items[0]
    later = pipeline.process(platform_session, [old(21, 5)], ctx).items[0]
    assert not later.merged and later.event_ref != closed.event_ref
    still_open = pipeline.process(platform_session, [old(22, 0, closed_after_h=48)], ctx).items[0]
    within = pipeline.process(platform_session, [old(22, 6)], ctx).items[0]
    assert within.merged and within.event_ref == still_open.event_ref
    event = platform_session.get(Event, still_open.event_ref)
    assert event is not None and event.report_count == 2 and event.last_reported_at == T0 + dt.timedelta(hours=6)


def test_history_needs_its_time_and_a_sane_close(platform_session, intake_city: IntakeCity) -> None:
    ctx = pipeline.context(platform_session, classifier=None, historical=True)
    lon, lat = spot(23, street="A2")
    undated = ReportIn.model_validate(report(lon=lon, lat=lat, crs="wgs84"))
    backwards = old(23, 5, closed_after_h=-1)
    refused = pipeline.process(platform_session, [undated, backwards], ctx).refused
    assert [(r.index, r.error.field) for r in refused] == [(0, "submitted_at"), (1, "closed_at")]


def test_live_intake_refuses_closed_at(client, as_user, intake_city: IntakeCity) -> None:
    lon, lat = spot(24, street="A2")
    body = report(lon=lon, lat=lat, crs="wgs84", closed_at="2025-01-01T00:00:00+08:00")
    res = post(client, as_user("officer_a1"), body)
    assert res.status_code == 422 and res.json()["errors"][0]["field"] == "closed_at"


def test_within_a_batch_a_closed_event_takes_no_later_report(platform_session, intake_city: IntakeCity) -> None:
    ctx = pipeline.context(platform_session, classifier=None, historical=True)
    batch = [old(25, 0, closed_after_h=1), old(25, 3), old(25, 4)]
    first, second, third = pipeline.process(platform_session, batch, ctx).items
    assert not second.merged and second.event_ref != first.event_ref
    # The batch's index does not learn the reopened problem (a known under-merge), but nothing
    # joins the closed event.
    assert third.event_ref != first.event_ref


def test_a_suggestion_may_name_an_event_of_the_same_batch(client, as_user, intake_city: IntakeCity) -> None:
    lon, lat = spot(26, street="A2")
    batch = [
        report(lon=lon, lat=lat, crs="wgs84", description="路口有人占道经营卖水果"),
        report(lon=lon, lat=lat + 0.00135, crs="wgs84", description="路口有人摆摊卖水果和蔬菜挡住了路"),  # 150 m
    ]
    res = client.post("/api/intake/reports/batch", json={"reports": batch}, headers=as_user("clerk_a")).json()
    first, maybe = res["outcomes"]
    assert maybe["status"] == "pending" and [s["event_id"] for s in maybe["suggestions"]] == [first["event_id"]]


def test_an_earlier_report_in_a_later_batch_widens_the_event(platform_session, intake_city: IntakeCity) -> None:
    ctx = pipeline.context(platform_session, classifier=None, historical=True)
    later = pipeline.process(platform_session, [old(27, 10, closed_after_h=48)], ctx).items[0]
    earlier = pipeline.process(platform_session, [old(27, 8)], ctx).items[0]  # a newest-first export
    assert earlier.merged and earlier.event_ref == later.event_ref
    event = platform_session.get(Event, later.event_ref)
    assert event is not None and event.first_reported_at == T0 + dt.timedelta(hours=8)
    assert event.last_reported_at == T0 + dt.timedelta(hours=10)
