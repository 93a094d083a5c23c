"""The demo city's year of reports: made by `chengguan demo --history N`, through the intake
pipeline, into a freshly built demo city; the patterns it promises are checked in what the
pipeline wrote."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from chengguan.calendar.models import CalendarDay
from chengguan.cases.models import Event, EventStatus
from chengguan.db import create_engine
from chengguan.demo import history
from chengguan.demo.history_mix import CHANNEL_SHARES, DUPLICATE_SHARE
from chengguan.intake.models import Report, ReportStatus
from chengguan.intake.schemas import ReportIn
from tests.demo.conftest import DemoRuns, demo_cli

REPORTS = 12_000  # ~33 a day: enough for every pattern below to stand out of the noise
LOCAL = dt.timezone(dt.timedelta(hours=8))


@dataclass(frozen=True)
class HistoryRuns:
    url: str
    first: str  # output of `chengguan demo --history REPORTS` on the city built without history
    second: str  # the same, run again


@pytest.fixture(scope="module")
def runs(demo_runs: DemoRuns, tmp_path_factory: pytest.TempPathFactory) -> HistoryRuns:
    with demo_cli(demo_runs.url, tmp_path_factory.mktemp("history-data")) as run:
        options = ("--history", str(REPORTS))
        return HistoryRuns(demo_runs.url, run(*options), run(*options))


@pytest.fixture(scope="module")
def engine(runs: HistoryRuns) -> Iterator[Engine]:
    engine = create_engine(runs.url)
    yield engine
    engine.dispose()


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session:
        yield session


@dataclass(frozen=True)
class Row:
    channel: str
    category: str
    at: dt.datetime  # local time
    status: str
    crs: str | None
    reporter_name: str | None
    reporter_phone: str | None
    cell_id: int | None
    location_source: str
    pending_reasons: list[str]


@pytest.fixture(scope="module")
def rows(engine: Engine) -> list[Row]:
    with Session(engine) as session:
        found = session.execute(
            select(
                Report.channel,
                Report.category_key,
                Report.submitted_at,
                Report.status,
                Report.crs,
                Report.reporter_name,
                Report.reporter_phone,
                Report.cell_id,
                Report.location_source,
                Report.pending_reasons,
            )
        ).all()
    return [Row(r[0], r[1], r[2].astimezone(LOCAL), *r[3:]) for r in found]


@pytest.fixture(scope="module")
def events(engine: Engine) -> list[Event]:
    with Session(engine) as session:
        return list(session.scalars(select(Event)).all())


def per_day(rows: list[Row], days: set[dt.date]) -> float:
    """Mean reports a day over ``days``."""
    return sum(r.at.date() in days for r in rows) / len(days)


def span(first: dt.date, last: dt.date) -> set[dt.date]:
    return {first + dt.timedelta(days=i) for i in range((last - first).days + 1)}


# -- the load ----------------------------------------------------------------------------------


def test_the_demo_command_loads_the_history_through_the_pipeline(runs: HistoryRuns, rows: list[Row]) -> None:
    assert "history loaded" in runs.first
    summary = re.search(r"reports ([\d,]+) · events ([\d,]+) · merged ([\d.]+)%", runs.first)
    assert summary is not None, runs.first
    assert int(summary.group(1).replace(",", "")) == REPORTS == len(rows)
    assert "refused 0" in runs.first
    assert re.search(r"^  hotline\s+[\d,]+\s+1\d\.\d%", runs.first, flags=re.M)
    assert "already holds reports" in runs.second and "history loaded" not in runs.second


def test_every_report_is_placed_inside_the_city(rows: list[Row]) -> None:
    assert all(r.cell_id is not None for r in rows)
    assert {r.location_source for r in rows} == {"coordinates", "address"}
    assert not any("location" in r.pending_reasons or "category" in r.pending_reasons for r in rows)
    assert {r.at.date() for r in rows} <= span(history.FIRST_DAY, history.FIRST_DAY + dt.timedelta(days=364))


def test_sources_keep_the_seeds_proportions(rows: list[Row]) -> None:
    shares = Counter(r.channel for r in rows)
    for channel, share in CHANNEL_SHARES.items():
        assert abs(shares[channel] / len(rows) - share) < 0.015, (channel, shares[channel])
    # the grid's inspectors outnumber the hotline 4:1 and the supervisors come third, as in 海淀
    assert shares["patrol"] > 3 * shares["hotline"] > 3 * shares["supervision"] * 0.9


def test_phones_send_gcj02_and_most_coordinates_are_wgs84(rows: list[Row]) -> None:
    stated = Counter((r.channel, r.crs) for r in rows)
    assert stated["citizen", "gcj02"] > stated["citizen", "bd09"] > 0  # apps on Amap, some on Baidu
    assert stated["patrol", "wgs84"] == sum(r.channel == "patrol" for r in rows)
    wgs84 = sum(n for (_, crs), n in stated.items() if crs == "wgs84")
    assert wgs84 > 0.8 * sum(r.location_source == "coordinates" for r in rows)
    hotline = [r for r in rows if r.channel == "hotline"]
    assert 0.15 < sum(r.location_source == "address" for r in hotline) / len(hotline) < 0.35


def test_reporters_are_clearly_fake(rows: list[Row]) -> None:
    phones = {r.reporter_phone for r in rows if r.reporter_phone}
    assert phones and all(re.fullmatch(r"138\d{4}0000", p) for p in phones)
    names = {r.reporter_name for r in rows if r.reporter_name}
    assert all(re.fullmatch(r"\w(先生|女士)|采集员\d{4}|考评员\d{2}", n) for n in names), names
    machines = [r for r in rows if r.channel in {"video_ai", "iot", "remote_sensing"}]
    assert machines and not any(r.reporter_name or r.reporter_phone for r in machines)


# -- when --------------------------------------------------------------------------------------


def test_quiet_at_night_busy_in_the_morning(rows: list[Row]) -> None:
    by_hour = Counter(r.at.hour for r in rows)
    night = sum(by_hour[h] for h in range(1, 6)) / 5
    morning = sum(by_hour[h] for h in (9, 10, 11)) / 3
    assert night < 0.15 * morning
    assert max(by_hour, key=by_hour.__getitem__) in range(8, 12)


def test_barbecue_and_night_building_noise_come_in_the_evening(rows: list[Row]) -> None:
    barbecue = Counter(r.at.hour for r in rows if r.category == "E0504")
    assert sum(barbecue[h] for h in range(19, 23)) > 2 * sum(barbecue[h] for h in range(8, 12))
    night_works = Counter(r.at.hour for r in rows if r.category == "E0307")
    assert sum(night_works[h] for h in (22, 23, 0, 1)) > sum(night_works[h] for h in range(9, 17))


def test_working_days_are_busier_than_weekends(rows: list[Row], db: Session) -> None:
    holidays = set(db.scalars(select(CalendarDay.day)))
    year = span(history.FIRST_DAY, history.FIRST_DAY + dt.timedelta(days=364)) - holidays
    weekdays = {d for d in year if d.weekday() < 5}
    weekends = year - weekdays
    assert per_day(rows, weekdays) > 1.15 * per_day(rows, weekends)
    # … except for what the rest day causes: renovation noise
    renovation = [r for r in rows if r.category == "E0311"]
    assert per_day(renovation, weekends) > 1.5 * per_day(renovation, weekdays)


def test_seasons_shift_the_mix(rows: list[Row]) -> None:
    def share(category: str, months: set[int]) -> float:
        season = [r for r in rows if r.at.month in months]
        return sum(r.category == category for r in season) / len(season)

    summer, winter, spring, autumn = {6, 7, 8}, {12, 1, 2}, {3, 4, 5}, {9, 10, 11}
    assert share("E0504", summer) > 5 * share("E0504", winter)  # 露天烧烤
    assert share("E0407", winter) > 20 * share("E0407", summer)  # 道路积雪结冰
    assert share("E0405", winter) > 10 * share("E0405", summer)  # 供热管道破裂: the heating season
    assert share("E0303", spring) > 1.5 * share("E0303", autumn)  # 工地扬尘
    assert share("E0406", summer) > 20 * share("E0406", winter)  # 道路积水: summer storms


def test_the_spring_festival_empties_the_city(rows: list[Row], db: Session) -> None:
    festival = set(
        db.scalars(select(CalendarDay.day).where(CalendarDay.name == "春节", CalendarDay.day > history.FIRST_DAY))
    )
    assert len(festival) >= 7
    before = span(min(festival) - dt.timedelta(days=42), min(festival) - dt.timedelta(days=15))
    assert per_day(rows, festival) < 0.6 * per_day(rows, before)


def test_chronic_hot_spots_come_back_all_year(engine: Engine) -> None:
    """新发地's street market is reported in most months of the year, always within a few hundred metres."""
    with Session(engine) as session:
        found = session.execute(
            select(Report.submitted_at).where(
                Report.category_key == "E0502", Report.title.like("新发地农产品批发市场%")
            )
        ).all()
    months = {at.astimezone(LOCAL).strftime("%Y-%m") for (at,) in found}
    assert len(found) > 20 and len(months) >= 9


# -- duplicates and closure ------------------------------------------------------------------------


def test_repeats_are_merged_into_their_events(rows: list[Row], events: list[Event]) -> None:
    statuses = Counter(r.status for r in rows)
    merged = statuses[ReportStatus.MERGED] / len(rows)
    assert 0.7 * DUPLICATE_SHARE < merged < 1.2 * DUPLICATE_SHARE  # most repeats, and a few look-alikes
    assert statuses[ReportStatus.PENDING] / len(rows) < 0.05  # the grey band goes to the clerk
    assert len(events) == statuses[ReportStatus.CREATED] < len(rows)
    assert sum(e.report_count for e in events) == statuses[ReportStatus.CREATED] + statuses[ReportStatus.MERGED]
    noisy = [e.report_count for e in events if e.category_key in {"E0307", "E0510", "E0209"}]
    assert sum(noisy) / len(noisy) > sum(e.report_count for e in events) / len(events)  # neighbours all call


def test_most_events_close_within_their_time_limit(events: list[Event]) -> None:
    end = history.HistorySpec().end
    closed = [e for e in events if e.status == EventStatus.CLOSED]
    assert all(e.closed_at is not None and e.first_reported_at <= e.closed_at < end for e in closed)
    older = [e for e in events if e.first_reported_at < end - dt.timedelta(days=60)]
    assert sum(e.status == EventStatus.CLOSED for e in older) / len(older) > 0.95
    on_time = sum(e.deadline_at is not None and e.closed_at <= e.deadline_at for e in closed) / len(closed)
    assert 0.75 < on_time < 0.95  # some overdue
    last_weeks = [e for e in events if e.first_reported_at >= end - dt.timedelta(days=14)]
    still_open = sum(e.status != EventStatus.CLOSED for e in last_weeks) / len(last_weeks)
    assert 0.1 < still_open < 0.9


# -- the generator itself ------------------------------------------------------------------------


def test_the_same_seed_makes_the_same_history(db: Session) -> None:
    city = history.read_city(db)
    spec = history.HistorySpec(reports=3_000, batch=1_000, seed=7)

    def made(spec: history.HistorySpec) -> list[ReportIn]:
        return [r for batch in history.generate(city, spec) for r in batch]

    first = made(spec)
    assert len(first) == 3_000 and [r.model_dump() for r in first] == [r.model_dump() for r in made(spec)]
    times = [r.submitted_at for r in first if r.submitted_at is not None]
    assert len(times) == 3_000 and times == sorted(times)  # fed in the order they were submitted
    other = made(history.HistorySpec(reports=3_000, batch=1_000, seed=8))
    assert len(other) == 3_000 and [r.model_dump() for r in other] != [r.model_dump() for r in first]
