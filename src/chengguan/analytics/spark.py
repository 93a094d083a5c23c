"""The Apache Spark engine (the ``spark`` extra): the same metric SQL on a cluster, or locally.

``local_session`` starts Spark in local mode (the tests and a single machine); on a cluster, pass
a session built for it. Partition type inference is off so that ``month`` stays the string
"2026-01", as DuckDB reads it, and the session time zone is UTC so no conversion happens on read.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession

from chengguan.analytics.engines import lake_tables
from chengguan.analytics.lake import TABLE_NAMES


def local_session(cores: int = 2) -> SparkSession:
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # never bind to the machine's other addresses
    return (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("chengguan-analytics")
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(cores))  # small answers: few partitions, less overhead
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .getOrCreate()
    )


class SparkEngine:
    name = "spark"

    def __init__(self, root: Path, session: SparkSession | None = None) -> None:
        self.spark = session or local_session()
        tables = lake_tables(root)
        for table, folder in tables.items():
            if table in TABLE_NAMES:
                frame = self.spark.read.option("basePath", str(folder)).parquet(str(folder))
            else:
                frame = self.spark.read.parquet(str(folder))
            frame.createOrReplaceTempView(table)
        self.tables = frozenset(tables)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.spark.sql(sql).collect()]

    def close(self) -> None:
        """The session is shared by the process (Spark allows one): it is left running."""
