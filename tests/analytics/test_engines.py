"""One definition per metric, two engines: the standard set on DuckDB and on Spark (local mode)
gives the same rows. One Spark session for the module keeps Spark's share of the CI time small."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from tests.analytics.conftest import SOURCE, Synthetic

from chengguan.analytics import metrics
from chengguan.analytics.engines import DuckDBEngine, Engine
from chengguan.analytics.metrics import Filters, Subject
from chengguan.analytics.spark import SparkEngine, local_session
from chengguan.config import Settings


@pytest.fixture(scope="module")
def engines(synced: Settings) -> Iterator[tuple[Engine, Engine]]:
    spark = local_session()
    duck = DuckDBEngine(synced.lake_path)
    yield duck, SparkEngine(synced.lake_path, spark)
    duck.close()
    spark.stop()


def slice_of(subject: Subject, synthetic: Synthetic) -> Filters:
    """Reports over a period (so hot types run too), events in one district and 大类."""
    if subject is Subject.REPORTS:
        return Filters(start=dt.date(2025, 3, 1), end=dt.date(2025, 12, 1), source=SOURCE)
    major = str(synthetic.frame["major_key"].iloc[0])
    return Filters(area_path=f"{synthetic.area_path}990101000000/", category=major, source=SOURCE)


@pytest.mark.parametrize("subject", list(Subject))
def test_standard_set_is_equal_on_duckdb_and_spark(
    engines: tuple[Engine, Engine], synthetic: Synthetic, subject: Subject
) -> None:
    duck, spark = engines
    compared = 0
    for name, arguments in metrics.standard_set(slice_of(subject, synthetic), at=dt.date(2026, 2, 10)):
        expected = metrics.run(duck, name, subject, **dict(arguments))
        got = metrics.run(spark, name, subject, **dict(arguments))
        assert got == expected, (name, arguments)
        compared += bool(expected.rows)
    assert compared >= 18  # the comparisons were about data, not empty answers
