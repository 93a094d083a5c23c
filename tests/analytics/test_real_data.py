"""Real 311 data (NYC, one day; LA, two days) through the lake's own conversion and the metric SQL,
against pandas reading the same CSV: hot types and hot hours must be equal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from chengguan.analytics import lake, metrics
from chengguan.analytics.engines import DuckDBEngine
from chengguan.analytics.metrics import Filters

DATA = Path(__file__).parents[1] / "data" / "analytics"
TIME_FORMAT = "%m/%d/%Y %I:%M:%S %p"
CITIES = {
    # file, time column, type column, source column (None: one channel), time zone
    "nyc": ("nyc311_2023-02-28.csv", "Created Date", "Complaint Type", None, "America/New_York"),
    "la": ("la311_2017-12-29_30.csv", "CreatedDate", "RequestType", "RequestSource", "America/Los_Angeles"),
}
REPORTS = next(t for t in lake.TABLES if t.name == "reports")


def _empty(key_type: pa.DataType, values: dict[str, pa.DataType]) -> lake.Lookup:
    """A lookup that finds nothing: these cities have no taxonomy or grid of ours."""
    return lake.Lookup(pa.array([], key_type), {name: pa.array([], typ) for name, typ in values.items()})


def load(city: str) -> pd.DataFrame:
    name, time_col, type_col, source_col, _ = CITIES[city]
    raw = pd.read_csv(DATA / name, dtype=str)
    return pd.DataFrame(
        {
            "id": range(1, len(raw) + 1),
            "local": pd.to_datetime(raw[time_col], format=TIME_FORMAT),
            "type": raw[type_col],
            "source": raw[source_col] if source_col else "311",
        }
    )


def to_lake(frame: pd.DataFrame, tz: str, root: Path) -> None:
    """The CSV as report rows in the order of the lake's columns, converted by the lake's own code."""
    zone = ZoneInfo(tz)
    rows = []
    for r in frame.itertuples():
        at = r.local.to_pydatetime().replace(tzinfo=zone).astimezone(dt.UTC)
        rows.append((r.id, r.source, "created", None, at, at, 1, None, None, None, "none", r.type, "source", at))
    ctx = lake.Context(
        tz=tz,
        orgs=lake.Lookup(
            pa.array([1], pa.int64()),
            {
                "area_path": pa.array(["/1/"]),
                "district_id": pa.array([None], pa.int64()),
                "street_id": pa.array([None], pa.int64()),
            },
        ),
        categories=_empty(pa.string(), {"major_key": pa.string(), "category_id": pa.int64()}),
        cells=_empty(pa.int64(), {"cell_code": pa.string()}),
    )
    table, months = lake.to_arrow(REPORTS, rows, ctx)
    for month in pc.unique(months).to_pylist():
        lake.write_table_file(root / "reports" / f"month={month}", table.filter(pc.equal(months, month)))


@pytest.fixture(scope="module", params=list(CITIES))
def city(request, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[pd.DataFrame, DuckDBEngine]]:
    frame = load(request.param)
    root = tmp_path_factory.mktemp(request.param)
    to_lake(frame, CITIES[request.param][4], root)
    engine = DuckDBEngine(root)
    yield frame, engine
    engine.close()


def test_hot_hours_equal_pandas(city: tuple[pd.DataFrame, DuckDBEngine]) -> None:
    frame, engine = city
    got = dict(metrics.run(engine, "counts", by="hour").rows)
    assert got == frame["local"].dt.hour.value_counts().to_dict()
    assert sum(got.values()) == len(frame)


def test_hot_types_equal_pandas(city: tuple[pd.DataFrame, DuckDBEngine]) -> None:
    frame, engine = city
    last = frame["local"].dt.date.max()
    start, end = last, last + dt.timedelta(days=1)
    result = metrics.run(engine, "hot_types", filters=Filters(start=start, end=end), limit=10)
    day = frame["local"].dt.date
    now = frame[day == start]["type"].value_counts()
    before = frame[day == start - dt.timedelta(days=1)]["type"].value_counts()
    expected = sorted(now.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    assert [(k, n) for k, n, *_ in result.rows] == expected
    for key, n, share, previous, change in result.rows:
        assert share == pytest.approx(n / len(frame[day == start]))
        assert previous == before.get(key, 0)
        assert change == (pytest.approx((n - previous) / previous) if previous else None)
