"""Analysis reports: built from a small seeded lake, their figures equal a direct pandas
computation; the PDF, HTML and Excel outputs carry them; the API keeps each user to their area;
the worker's job stores each ended period's reports once.

The lake is written here straight to Parquet (the sync has its own tests), so that every fact in
it is known: 3,000 reports over fourteen months in the test city's cells, half of them with an
event that has a deadline and is closed on time, late, or not at all.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from tests.conftest import PASSWORD
from tests.factories import SampleCity, SampleGrid

from chengguan.analytics import lake, report_store, reports
from chengguan.analytics.engines import DuckDBEngine
from chengguan.analytics.metrics import Period
from chengguan.analytics.report_html import render_html
from chengguan.analytics.report_pdf import render_pdf
from chengguan.analytics.report_xlsx import render_xlsx
from chengguan.audit import platform_actor
from chengguan.auth import service as auth_service
from chengguan.auth.roles import Role
from chengguan.auth.schemas import UserIn
from chengguan.calendar import service as calendar_service
from chengguan.config import Settings
from chengguan.db import unit_of_work
from chengguan.taxonomy.models import Category

TZ = ZoneInfo("Asia/Shanghai")
N = 3000
FIRST = dt.date(2025, 11, 1)
DAYS = 426  # to 2026-12-31
AT = dt.date(2026, 11, 30)  # a Monday: the week 11-30 … 12-06, the month November
SOURCES = ("hotline", "citizen", "patrol")
STREET_USER = "rpt_analyst_a1"


@dataclass
class Seeded:
    settings: Settings
    reports: pd.DataFrame  # one row per report, with the lake's derived columns
    events: pd.DataFrame
    orgs: pd.DataFrame  # dim_orgs


def _facts(spec: lake.TableSpec, data: dict[str, list[object]], n: int) -> pa.Table:
    """A fact table in the lake's schema: the given columns, the rest null, or zero where the lake
    requires a value (the reports never read those)."""
    columns = {f.name: pa.array(data[f.name], f.type) if f.name in data else _absent(f, n) for f in spec.schema}
    return pa.table(columns, schema=spec.schema)


def _absent(column: pa.Field, n: int) -> pa.Array:
    return pa.nulls(n, column.type) if column.nullable else pa.repeat(pa.scalar(0, pa.int64()), n).cast(column.type)


def _write_months(root: Path, spec: lake.TableSpec, frame: pd.DataFrame, columns: list[str]) -> None:
    for month, part in frame.groupby(frame["day"].map(lambda d: d.strftime("%Y-%m"))):
        data = {c: [None if pd.isna(v) else v for v in part[c].tolist()] for c in columns}
        lake.write_table_file(root / spec.name / f"month={month}", _facts(spec, data, len(part)))


def _reports_frame(orgs: pd.DataFrame, cells: pd.DataFrame, categories: pd.DataFrame) -> pd.DataFrame:
    """``categories``: the chosen 小类, indexed by key, with their major_key and id."""
    rng = np.random.default_rng(20261130)
    cell = cells.sample(n=N, replace=True, random_state=7, weights=np.linspace(3, 1, len(cells))).reset_index()
    keys = sorted(categories.index)
    local = [
        dt.datetime.combine(FIRST + dt.timedelta(days=int(d)), dt.time(int(h), int(m)), TZ)
        for d, h, m in zip(rng.integers(0, DAYS, N), rng.integers(0, 24, N), rng.integers(0, 60, N), strict=True)
    ]
    by_org = orgs.set_index("id")
    frame = pd.DataFrame(
        {
            "id": np.arange(1, N + 1),
            "received_at": [t.astimezone(dt.UTC) for t in local],
            "day": [t.date() for t in local],
            "hour": [t.hour for t in local],
            "weekday": [t.isoweekday() for t in local],
            "org_id": cell["org_id"],
            "cell_id": cell["id"],
            "cell_code": cell["code"],
            "category_key": rng.choice(keys, N, p=np.linspace(4, 1, len(keys)) / np.linspace(4, 1, len(keys)).sum()),
            "source": rng.choice(SOURCES, N, p=[0.5, 0.3, 0.2]),
        }
    )
    frame["major_key"] = frame["category_key"].map(categories["major_key"])
    frame["category_id"] = frame["category_key"].map(categories["id"])
    for column, lake_column in (("path", "area_path"), ("district_id", "district_id"), ("street_id", "street_id")):
        frame[lake_column] = frame["org_id"].map(by_org[column])
    return frame


def _events_frame(rep: pd.DataFrame) -> pd.DataFrame:
    """An event for every other report; its deadline two days on; closed early, late or never."""
    rng = np.random.default_rng(3)
    ev = rep.iloc[::2].copy()
    ev["first_reported_at"] = ev["received_at"]
    ev["deadline_at"] = ev["received_at"] + pd.Timedelta(days=2)
    outcome = rng.choice(["on_time", "late", "open"], len(ev), p=[0.7, 0.2, 0.1])
    ev["closed_at"] = [
        r + pd.Timedelta(days=1) if o == "on_time" else r + pd.Timedelta(days=3) if o == "late" else None
        for r, o in zip(ev["received_at"], outcome, strict=True)
    ]
    ev["unit_id"] = ev["street_id"]
    return ev


@pytest.fixture(scope="module")
def seeded_lake(app, settings: Settings, city: SampleCity, grid: SampleGrid, seeded: int, tmp_path_factory) -> Seeded:
    root = tmp_path_factory.mktemp("report-lake")
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        calendar_service.load_seed(session)
        orgs = lake.org_frame(session)
        renames = {"path": "area_path", "district_id": "district_id", "street_id": "street_id"}
        org_lookup = lake.Lookup(
            orgs.column("id").combine_chunks(), {n: orgs.column(c).combine_chunks() for c, n in renames.items()}
        )
        cells = lake.cell_frame(session, org_lookup)
        minors = session.execute(
            Category.__table__.select().where(Category.level == "minor").order_by(Category.key).limit(5)
        ).all()
        categories_frame = lake.category_frame(session)
        calendar = calendar_service.get_calendar(session)
    categories = categories_frame.to_pandas().set_index("key").loc[sorted(r.key for r in minors)]
    test_cells = cells.filter(pa.compute.is_in(cells.column("code"), pa.array(sorted(grid.cells)))).to_pandas()
    rep = _reports_frame(orgs.to_pandas(), test_cells, categories)
    ev = _events_frame(rep)
    fact = ["id", "day", "hour", "weekday", "org_id", "area_path", "district_id", "street_id", "cell_id", "cell_code"]
    fact += ["category_key", "major_key", "category_id", "source"]
    _write_months(root, lake.TABLES[0], rep, [*fact, "received_at"])
    _write_months(root, lake.TABLES[1], ev, [*fact, "first_reported_at", "deadline_at", "closed_at", "unit_id"])
    lake.write_table_file(root / "dim_orgs", orgs)
    lake.write_table_file(root / "dim_categories", categories_frame)
    lake.write_table_file(root / "dim_cells", cells)
    lake.write_table_file(root / "dim_days", lake.day_frame(calendar, dt.date(2025, 1, 1), dt.date(2026, 12, 31)))
    configured = settings.model_copy(update={"lake_dir": root, "data_dir": tmp_path_factory.mktemp("report-data")})
    return Seeded(configured, rep, ev, orgs.to_pandas())


def _build(seeded: Seeded, period: Period, path: str, at: dt.date = AT) -> reports.Report:
    engine = DuckDBEngine(seeded.settings.lake_path)
    try:
        return reports.build(engine, period, at, path, TZ)
    finally:
        engine.close()


def _path(seeded: Seeded, org_id: int) -> str:
    return str(seeded.orgs.set_index("id").loc[org_id, "path"])


def _within(frame: pd.DataFrame, path: str, start: dt.date, end: dt.date) -> pd.DataFrame:
    return frame[frame["area_path"].str.startswith(path) & (frame["day"] >= start) & (frame["day"] < end)]


def test_a_weekly_city_report_has_the_figures_pandas_finds(seeded_lake: Seeded, city: SampleCity) -> None:
    path = _path(seeded_lake, city.org["city"])
    report = _build(seeded_lake, Period.WEEK, path)
    rep = seeded_lake.reports
    start, end = dt.date(2026, 11, 30), dt.date(2026, 12, 7)
    now = _within(rep, path, start, end)
    before = _within(rep, path, start - dt.timedelta(days=7), start)
    last_year = _within(rep, path, start - dt.timedelta(weeks=52), end - dt.timedelta(weeks=52))
    assert (report.start, report.end) == (start, end)
    assert (report.volume.n, report.volume.previous, report.volume.last_year) == (
        len(now),
        len(before),
        len(last_year),
    )
    assert report.volume.mom == pytest.approx((len(now) - len(before)) / len(before))
    assert [n for _, n in report.trend] == [int((now["day"] == start + dt.timedelta(days=i)).sum()) for i in range(7)]

    types_now, types_before = now["category_key"].value_counts(), before["category_key"].value_counts()
    expected = sorted(types_now.items(), key=lambda kv: (-kv[1], kv[0]))
    assert [(t.key, t.n) for t in report.hot_types] == expected
    assert [t.share for t in report.hot_types] == pytest.approx([n / len(now) for _, n in expected])
    assert [t.previous for t in report.hot_types] == [int(types_before.get(k, 0)) for k, _ in expected]

    streets = now["street_id"].value_counts()
    assert {int(p.key): p.n for p in report.hot_streets} == dict(streets.items())
    cells = sorted(now["cell_code"].value_counts().items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    assert [(p.key, p.n) for p in report.hot_cells] == cells
    heat = now.groupby(["weekday", "hour"]).size()
    assert report.heatmap == [[int(heat.get((d, h), 0)) for h in range(24)] for d in range(1, 8)]
    assert {s.key: s.n for s in report.sources} == dict(now["source"].value_counts().items())
    assert report.sources[0].name == "12345热线"


def test_closure_counts_on_time_and_overdue_against_the_periods_end(seeded_lake: Seeded, city: SampleCity) -> None:
    path = _path(seeded_lake, city.org["A"])
    report = _build(seeded_lake, Period.MONTH, path)
    start, end = dt.date(2026, 11, 1), dt.date(2026, 12, 1)
    ev = _within(seeded_lake.events, path, start, end)
    period_end = pd.Timestamp(dt.datetime.combine(end, dt.time(), TZ))
    due = ev[ev["deadline_at"] < period_end]
    on_time = due[due["closed_at"].notna() & (due["closed_at"] <= due["deadline_at"])]
    overdue = due.drop(on_time.index)
    closure = report.closure
    assert closure is not None
    assert (closure.events, closure.closed, closure.due) == (len(ev), int(ev["closed_at"].notna().sum()), len(due))
    assert (closure.on_time, closure.overdue) == (len(on_time), len(overdue))
    assert closure.on_time_rate == pytest.approx(len(on_time) / len(due))
    assert {int(u.key): u.n for u in closure.overdue_by_unit} == dict(overdue["unit_id"].value_counts().items())
    assert any("按期办结率" in s for s in report.findings)


def test_a_streets_checkup_stands_beside_its_district_and_city(seeded_lake: Seeded, city: SampleCity) -> None:
    report = _build(seeded_lake, Period.MONTH, _path(seeded_lake, city.org["A1"]))
    start, end = dt.date(2026, 11, 1), dt.date(2026, 12, 1)
    rep = seeded_lake.reports
    district = _within(rep, _path(seeded_lake, city.org["A"]), start, end)
    everything = _within(rep, _path(seeded_lake, city.org["city"]), start, end)
    own = district[district["street_id"] == city.org["A1"]]
    assert report.title.endswith("体检报告") and report.hot_streets == []
    assert report.checkup is not None
    rows = {b.label: b.volume for b in report.checkup.rows}
    assert rows == {"东街道": len(own), "甲区街道平均": len(district) / 2, "测试市街道平均": len(everything) / 3}
    other = len(district) - len(own)
    assert (report.checkup.rank, report.checkup.streets) == (1 if len(own) >= other else 2, 2)
    sentence = report.findings[-1]
    assert f"为甲区街道平均的{len(own) / (len(district) / 2):.2f}倍" in sentence and "2个街道" in sentence


def test_findings_state_the_volume_and_its_changes(seeded_lake: Seeded, city: SampleCity) -> None:
    report = _build(seeded_lake, Period.WEEK, _path(seeded_lake, city.org["city"]))
    v = report.volume
    first = report.findings[0]
    assert first.startswith(f"本周（2026-11-30至2026-12-06）测试市共受理诉求{v.n}件，环比")
    assert reports.change_words(v.mom) in first and f"上周{v.previous}件" in first
    assert reports.change_words(0.125) == "上升12.5%" and reports.change_words(-0.03) == "下降3.0%"
    assert reports.change_words(None) == "无可比数据" and reports.change_words(0.0) == "持平"


def _plain(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_the_pdf_opens_and_carries_the_findings(seeded_lake: Seeded, city: SampleCity) -> None:
    report = _build(seeded_lake, Period.MONTH, _path(seeded_lake, city.org["A1"]))
    pdf = render_pdf(report, seeded_lake.settings)
    reader = PdfReader(io.BytesIO(pdf))
    text = _plain("".join(page.extract_text() for page in reader.pages))
    assert reader.metadata is not None and reader.metadata.title == report.title
    for sentence in report.findings:
        assert _plain(sentence) in text
    assert "八、体检对比" in text
    assert render_pdf(report, seeded_lake.settings) == pdf  # deterministic


def test_the_workbook_reads_back(seeded_lake: Seeded, city: SampleCity) -> None:
    report = _build(seeded_lake, Period.QUARTER, _path(seeded_lake, city.org["city"]))
    book = openpyxl.load_workbook(io.BytesIO(render_xlsx(report)))
    assert book.sheetnames[:3] == ["概况", "趋势", "高发类型"] and "办结情况" in book.sheetnames
    types = list(book["高发类型"].iter_rows(min_row=2, values_only=True))
    assert [(r[1], r[2], r[3]) for r in types] == [(t.key, t.n, pytest.approx(t.share)) for t in report.hot_types]
    heat = list(book["高发时段"].iter_rows(min_row=2, values_only=True))
    assert [list(r[1:]) for r in heat] == report.heatmap
    summary = [r[0] for r in book["概况"].iter_rows(values_only=True)]
    assert report.findings[0] in summary
    assert sum(r[1] for r in book["趋势"].iter_rows(min_row=2, values_only=True)) == report.volume.n


def test_the_html_page_carries_findings_tables_and_chart_data(seeded_lake: Seeded, city: SampleCity) -> None:
    report = _build(seeded_lake, Period.YEAR, _path(seeded_lake, city.org["city"]))
    page = render_html(report)
    assert report.findings[0] in page and "/static/vendor/echarts/echarts.min.js" in page
    assert [k for k, _ in report.trend] == [f"2026-{m:02d}" for m in range(1, 13)]
    assert '"trend": {"labels": ["2026-01"' in page
    offline = render_html(report, inline_echarts=True)
    assert "/static/vendor/echarts/echarts.min.js" not in offline and len(offline) > 1_000_000


# -- the API and the worker's job -----------------------------------------------------------------


@pytest.fixture(scope="module")
def street_analyst(app, city: SampleCity) -> str:
    """An analyst of 东街道 (the test city has analysts only at district level)."""
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        user = UserIn(
            username=STREET_USER,
            display_name="东街道分析员",
            password=PASSWORD,
            roles=[Role.ANALYST],
            org_id=city.org["A1"],
        )
        auth_service.create_user(session, user)
    return STREET_USER


@pytest.fixture
def report_client(app, seeded_lake: Seeded, client: TestClient) -> Iterator[TestClient]:
    original = app.state.settings
    app.state.settings = seeded_lake.settings
    yield client
    app.state.settings = original


def test_a_street_user_gets_their_own_report_and_no_other(
    report_client: TestClient, as_user, street_analyst: str, city: SampleCity
) -> None:
    headers = as_user(street_analyst)
    url = "/api/analytics/reports/generate"
    own = report_client.get(url, params={"period": "month", "at": "2026-11-15", "format": "pdf"}, headers=headers)
    assert own.status_code == 200, own.text
    assert own.headers["content-type"] == "application/pdf" and own.content.startswith(b"%PDF")
    assert "attachment" in own.headers["content-disposition"]
    beside = report_client.get(url, params={"at": "2026-11-15", "area": city.org["A2"]}, headers=headers)
    assert beside.status_code == 404
    above = report_client.get(url, params={"at": "2026-11-15", "area": city.org["A"]}, headers=headers)
    assert above.status_code == 403
    clerk = report_client.get(url, params={"at": "2026-11-15"}, headers=as_user("clerk_a"))
    assert clerk.status_code == 403


def test_the_job_stores_each_ended_periods_reports_once_and_the_api_lists_them_by_area(
    report_client: TestClient, seeded_lake: Seeded, as_user, street_analyst: str, city: SampleCity
) -> None:
    settings = seeded_lake.settings
    now = dt.datetime(2026, 12, 1, 9, 0, tzinfo=TZ)  # November, and 2026-11-30, have ended
    assert report_store.generate_due(settings, now) == {}  # the lake was never synced past them
    lake.Manifest(synced_at={"reports": now.astimezone(dt.UTC).isoformat()}).write(settings.lake_path)
    made = report_store.generate_due(settings, now)
    # the city and its 2 districts for every period, and its 3 streets for month, quarter and year: the day
    # 11-30, the week of 11-23, November, the third quarter and 2025 have ended
    assert made == {"day": 3, "week": 3, "month": 6, "quarter": 6, "year": 6}
    assert set(report_store.generate_due(settings, now).values()) == {0}
    month_a1 = f"month-2026-11-01-{city.org['A1']}"
    a1 = city.org["A1"]
    listed = report_client.get("/api/analytics/reports", headers=as_user(street_analyst)).json()
    assert [r["key"] for r in listed["items"]] == [month_a1, f"quarter-2026-07-01-{a1}", f"year-2025-01-01-{a1}"]
    in_a = report_client.get("/api/analytics/reports", headers=as_user("analyst_a")).json()
    assert in_a["total"] == 5 + 2 * 3  # 甲区's five periods, and its two streets' month, quarter and year
    got = report_client.get(
        f"/api/analytics/reports/{month_a1}", params={"format": "xlsx"}, headers=as_user(street_analyst)
    )
    assert got.status_code == 200 and openpyxl.load_workbook(io.BytesIO(got.content))["体检对比"]
    other = f"month-2026-11-01-{city.org['A2']}"
    assert report_client.get(f"/api/analytics/reports/{other}", headers=as_user(street_analyst)).status_code == 404
    assert report_client.get("/api/analytics/reports/..%2Fsecret", headers=as_user("admin_city")).status_code == 404
