"""The lake sync: what it exports, incrementally, idempotently, and after an interruption."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import insert, update
from tests.analytics.conftest import SOURCE, TZ, Synthetic, lake_settings, sync
from tests.factories import SampleCity
from typer.testing import CliRunner

from chengguan.analytics import lake
from chengguan.audit import platform_actor
from chengguan.cli import app as cli_app
from chengguan.config import Settings
from chengguan.db import unit_of_work, utcnow
from chengguan.intake.models import Report

PERSONAL = {"reporter_name", "reporter_phone", "reporter_user_id", "title", "description", "actor_name", "note"}


def read(root: Path, table: str) -> pa.Table:
    """A fact table as one Arrow table, sorted by id, with its month partition column."""
    parts = []
    for path in sorted((root / table).glob(f"month=*/{lake.DATA_FILE}")):
        part = pq.read_table(path)
        month = path.parent.name.removeprefix("month=")
        parts.append(part.append_column("month", pa.array([month] * part.num_rows, pa.string())))
    return pa.concat_tables(parts).sort_by("id")


def mine(table: pa.Table) -> pa.Table:
    return table.filter(pa.compute.starts_with(table.column("source"), SOURCE))


def test_sync_exports_every_row_once_without_personal_data(synced: Settings, synthetic: Synthetic) -> None:
    root = synced.lake_path
    reports = mine(read(root, "reports"))
    assert sorted(reports.column("id").to_pylist()) == sorted(synthetic.frame["id"])
    for table in lake.TABLE_NAMES:
        columns = set(pq.read_schema(next((root / table).glob(f"month=*/{lake.DATA_FILE}"))).names)
        assert not columns & PERSONAL, table
    for path in root.rglob("*.parquet"):
        assert b"13800138000" not in path.read_bytes() and "张三".encode() not in path.read_bytes()
    manifest = json.loads((root / lake.MANIFEST).read_text())
    assert manifest["schema_version"] == lake.SCHEMA_VERSION
    assert set(manifest["cursors"]) == set(lake.TABLE_NAMES)
    assert not (root / lake.STAGING).exists()


def test_local_time_columns_and_months_follow_the_city_time_zone(synced: Settings, synthetic: Synthetic) -> None:
    reports = mine(read(synced.lake_path, "reports")).to_pandas()
    expected = synthetic.frame.set_index("id").loc[reports["id"]]
    local = expected["received_at"].dt.tz_convert(TZ)
    assert list(reports["day"]) == list(local.dt.date)
    assert list(reports["hour"]) == list(local.dt.hour)
    assert list(reports["weekday"]) == list(local.dt.day_of_week + 1)
    assert list(reports["month"]) == list(local.dt.strftime("%Y-%m"))
    assert list(reports["category_key"]) == list(expected["category_key"])
    assert list(reports["major_key"]) == list(expected["major_key"])
    assert list(reports["cell_code"]) == list(expected["cell_code"])
    assert reports["area_path"].str.startswith(synthetic.area_path).all()
    assert reports["street_id"].notna().all() and reports["district_id"].notna().all()


def test_dimensions_cover_the_cells_and_the_calendar(synced: Settings, synthetic: Synthetic) -> None:
    cells = pq.read_table(synced.lake_path / "dim_cells" / lake.DATA_FILE).to_pandas()
    assert set(synthetic.cells) <= set(cells["code"])
    days = pq.read_table(synced.lake_path / "dim_days" / lake.DATA_FILE).to_pandas().set_index("day")
    assert days.loc[dt.date(2025, 10, 1), "kind"] == "holiday"  # 国庆节
    assert days.loc[dt.date(2025, 9, 28), "kind"] == "makeup"  # a Sunday worked (调休)
    assert days.loc[dt.date(2025, 3, 8), "kind"] == "weekend"
    assert bool(days.loc[dt.date(2025, 3, 10), "working"])


def test_a_second_sync_exports_only_what_changed(
    app, settings: Settings, synthetic: Synthetic, city: SampleCity, tmp_path: Path
) -> None:
    configured = lake_settings(settings, tmp_path, settle_s=60)
    sync(app, configured)
    before = read(tmp_path, "reports")
    assert all(r.rows == 0 for r in sync(app, configured).values())  # nothing changed
    assert read(tmp_path, "reports").equals(before)

    changed_id = int(synthetic.frame["id"].iloc[0])
    received = dt.datetime(2026, 2, 20, 3, 0, tzinfo=dt.UTC)
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        session.execute(update(Report).where(Report.id == changed_id).values(category_key="X9", updated_at=utcnow()))
        new_id = session.scalar(
            insert(Report).returning(Report.id),
            [_report(f"{SOURCE}-late", "late-1", received, city.org["A1"])],
        )
    assert sync(app, configured)["reports"].rows == 0  # changes younger than lake_settle_s wait
    result = sync(app, lake_settings(settings, tmp_path))
    assert result["reports"].rows == 2 and result["events"].rows == 0
    after = read(tmp_path, "reports")
    ids = after.column("id").to_pylist()
    assert len(ids) == len(set(ids)) == before.num_rows + 1
    by_id = {r["id"]: r for r in after.to_pylist()}
    assert by_id[changed_id]["category_key"] == "X9"
    assert by_id[new_id]["month"] == "2026-02" and by_id[new_id]["hour"] == 11  # 03:00 UTC is 11:00 in Beijing


def _report(channel: str, external_id: str, received: dt.datetime, org_id: int) -> dict[str, object]:
    return {
        "channel": channel,
        "external_id": external_id,
        "status": "pending",
        "pending_reasons": [],
        "title": "t",
        "description": "",
        "submitted_at": received,
        "received_at": received,
        "location_source": "none",
        "org_id": org_id,
    }


def test_an_interrupted_sync_resumes_to_the_same_lake(
    app, settings: Settings, synthetic: Synthetic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    interrupted = lake_settings(settings, tmp_path / "interrupted")
    merged: list[Path] = []
    real_merge = lake.merge_month

    def merge_then_die(month_dir: Path, staged: Path, key: str) -> None:
        if len(merged) == 3:
            raise KeyboardInterrupt  # the process is stopped half-way through the reports
        real_merge(month_dir, staged, key)
        merged.append(month_dir)

    monkeypatch.setattr(lake, "merge_month", merge_then_die)
    with pytest.raises(KeyboardInterrupt):
        sync(app, interrupted)
    monkeypatch.undo()
    assert not (tmp_path / "interrupted" / lake.MANIFEST).exists()  # no table finished, no cursor moved
    assert len(list((tmp_path / "interrupted" / "reports").glob("month=*"))) == 3

    sync(app, interrupted)
    clean = lake_settings(settings, tmp_path / "clean")
    sync(app, clean)
    for table in lake.TABLE_NAMES:
        assert read(interrupted.lake_path, table).equals(read(clean.lake_path, table)), table


def test_a_manifest_of_another_schema_version_rebuilds_the_lake(
    app, settings: Settings, synthetic: Synthetic, tmp_path: Path
) -> None:
    configured = lake_settings(settings, tmp_path)
    sync(app, configured)
    stale = tmp_path / "reports" / "month=1999-01"
    stale.mkdir()
    pq.write_table(read(tmp_path, "reports").drop_columns(["month"]).slice(0, 1), stale / lake.DATA_FILE)
    manifest = json.loads((tmp_path / lake.MANIFEST).read_text())
    (tmp_path / lake.MANIFEST).write_text(json.dumps({**manifest, "schema_version": 0}))
    result = sync(app, configured)
    assert result["reports"].rows >= len(synthetic.frame)
    assert not stale.exists()


def test_cli_sync_and_status(cli_store: None, synthetic: Synthetic) -> None:
    runner = CliRunner()
    done = runner.invoke(cli_app, ["lake", "sync"])
    assert done.exit_code == 0, done.output
    assert "reports:" in done.output
    status = runner.invoke(cli_app, ["lake", "status"])
    assert status.exit_code == 0, status.output
    body = json.loads(status.output)
    assert body["schema_version"] == lake.SCHEMA_VERSION and "2025-01" in body["months"]


def test_raw_driver_values_become_the_lake_types() -> None:
    """SQLite's text timestamps (UTC) and integer booleans, PostgreSQL's aware datetimes, as whole columns."""
    text = lake._column(["2025-01-01 16:30:00.250000", "2025-01-02 03:04:05", None], lake.TS)
    aware = lake._column(
        [dt.datetime(2025, 1, 2, 0, 30, 0, 250000, tzinfo=dt.timezone(dt.timedelta(hours=8)))], lake.TS
    )
    assert text.to_pylist() == [
        dt.datetime(2025, 1, 1, 16, 30, 0, 250000, tzinfo=dt.UTC),
        dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        None,
    ]
    assert aware.to_pylist() == [dt.datetime(2025, 1, 1, 16, 30, 0, 250000, tzinfo=dt.UTC)]
    assert lake._column([1, 0, None], lake.BOOL).to_pylist() == [True, False, None]
    assert lake._column([None, None], lake.I64).type == lake.I64
