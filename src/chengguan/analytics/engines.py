"""The engines that run metric SQL over the lake: DuckDB (embedded, the default) and Apache Spark.

Both see the same tables under the same names: each fact table (``reports``, ``events`` …, with
its ``month`` partition column as a string) and each dimension (``dim_days``, ``dim_cells`` …).
An engine answers a query with plain Python rows (int, float, str, date, bool, None) so that the
metric layer treats both alike and a test can compare them with ``==``.

Spark is an optional extra (``pip install chengguan[spark]``): its module is imported only when
asked for by name, so the platform runs without a JVM.
"""

from __future__ import annotations

import importlib
import tempfile
from pathlib import Path
from typing import Any, Protocol

import duckdb

from chengguan.analytics.lake import DATA_FILE, DIMENSIONS, TABLE_NAMES
from chengguan.errors import Invalid

ENGINES = ("duckdb", "spark")
# DuckDB's ceiling for its own buffers: the 40 M-record benchmark must stay under 2 GB of process
# memory in all (Python and Arrow included); past it, large aggregations spill to disk, not fail.
DUCKDB_SETTINGS = {
    "memory_limit": "1200MB",
    # metrics sort what they return themselves: unordered scans use less memory and run in parallel
    "preserve_insertion_order": "false",
    # the month files are read again by every metric of a request: parse each footer once
    "parquet_metadata_cache": "true",
    # spills go to the system's temporary folder, never to the server's working directory
    "temp_directory": str(Path(tempfile.gettempdir()) / "chengguan-duckdb"),
}


class Engine(Protocol):
    name: str
    tables: frozenset[str]

    def rows(self, sql: str) -> list[tuple[Any, ...]]: ...

    def close(self) -> None: ...


def lake_tables(root: Path) -> dict[str, Path]:
    """The tables the lake holds so far, each with the folder an engine reads."""
    found = {name: root / name for name in TABLE_NAMES if any((root / name).glob(f"month=*/{DATA_FILE}"))}
    found |= {name: root / name for name in DIMENSIONS if (root / name / DATA_FILE).exists()}
    return found


def _quoted(value: str | Path) -> str:
    return "'" + str(value).replace("'", "''") + "'"


class DuckDBEngine:
    name = "duckdb"

    def __init__(self, root: Path, threads: int | None = None) -> None:
        self.con = duckdb.connect(":memory:")
        settings = {**DUCKDB_SETTINGS, **({"threads": str(int(threads))} if threads else {})}
        for name, value in settings.items():
            self.con.execute(f"SET {name} = {_quoted(value)}")
        tables = lake_tables(root)
        for table, folder in tables.items():
            if table in TABLE_NAMES:
                source = (
                    f"read_parquet({_quoted(folder / 'month=*' / DATA_FILE)}, hive_partitioning = true, "
                    "hive_types = {'month': VARCHAR})"
                )
            else:
                source = f"read_parquet({_quoted(folder / DATA_FILE)})"
            self.con.execute(f"CREATE VIEW {table} AS SELECT * FROM {source}")
        self.tables = frozenset(tables)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return self.con.execute(sql).fetchall()

    def close(self) -> None:
        self.con.close()


def open_engine(name: str, root: Path) -> Engine:
    if name == "duckdb":
        return DuckDBEngine(root)
    if name == "spark":
        # imported by name: pyspark is an optional extra, absent from a default install
        spark: Any = importlib.import_module("chengguan.analytics.spark")
        engine: Engine = spark.SparkEngine(root)
        return engine
    raise Invalid(f"unknown engine {name!r}; one of {', '.join(ENGINES)} / 未知计算引擎", field="engine")
