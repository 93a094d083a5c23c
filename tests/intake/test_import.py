"""`chengguan.intake.importer`: the real NYC, LA and Boston records into a city that covers them.
Every row is imported or in the reject file with a reason; times, closing and merging are what
the source says; a crash in the middle and a resume end exactly where a clean run does."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from chengguan.audit import platform_actor
from chengguan.cases.models import Event, EventStatus
from chengguan.db import unit_of_work
from chengguan.errors import FieldError, Invalid
from chengguan.intake import batch_rows, importer
from chengguan.intake.importer import ImportJob, Summary
from chengguan.intake.models import Report, ReportStatus
from chengguan.intake.profiles import Profile, profile
from chengguan.intake.sources import open_source
from tests.intake.import_fixtures import (
    BOSTON,
    LA_SLICE,
    NYC_SLICE,
    ImportStore,
    clear_intake,
    csv_records,
)

UTC = dt.UTC
NEW_YORK = ZoneInfo("America/New_York")


def run(store: ImportStore, path: Path, name: str, **options: Any) -> Summary:
    return ImportJob(
        path=path, profile=profile(name), factory=store.factory, actor=platform_actor("tests"), **options
    ).run()


def copy(src: Path, tmp_path: Path) -> Path:
    return Path(shutil.copy(src, tmp_path / src.name))


def rejects_of(summary: Summary) -> list[dict[str, str]]:
    return csv_records(summary.rejects)


def reports_by_id(store: ImportStore, prefix: str) -> dict[str, Report]:
    with unit_of_work(store.factory, actor=platform_actor("tests")) as session:
        rows = session.scalars(select(Report).where(Report.external_id.startswith(prefix))).all()
        session.expunge_all()
    return {r.external_id or "": r for r in rows}


def event(store: ImportStore, event_id: int | None) -> Event:
    with unit_of_work(store.factory, actor=platform_actor("tests")) as session:
        found = session.get(Event, event_id)
        assert found is not None
        session.expunge(found)
    return found


def snapshot(store: ImportStore) -> list[tuple[Any, ...]]:
    """Everything the import wrote, with database ids replaced by the reports they join."""
    with unit_of_work(store.factory, actor=platform_actor("tests")) as session:
        reports = session.execute(
            select(Report.external_id, Report.status, Report.event_id, Report.category_key, Report.submitted_at,
                   Report.pending_reasons, Report.org_id)
        ).all()  # fmt: skip
        events = {
            e.id: (e.status, e.report_count, e.category_key, e.closed_at, e.first_reported_at, e.last_reported_at,
                   e.unit_id, e.deadline_at)
            for e in session.scalars(select(Event))
        }  # fmt: skip
    members: dict[int, list[str]] = {}
    for r in reports:
        if r.event_id is not None:
            members.setdefault(r.event_id, []).append(r.external_id)
    return sorted(
        (
            r.external_id, r.status, r.category_key, r.submitted_at, tuple(r.pending_reasons or ()), r.org_id,
            events.get(r.event_id), tuple(sorted(members.get(r.event_id, ()))),
        )
        for r in reports
    )  # fmt: skip


def test_nyc_export_every_row_imported_or_rejected(import_store: ImportStore, tmp_path: Path) -> None:
    source = csv_records(NYC_SLICE)
    summary = run(import_store, copy(NYC_SLICE, tmp_path), "nyc311", batch_size=100)
    c = summary.counts
    assert summary.layout == "NYC Open Data export"
    assert c.read == len(source) == 400
    assert c.imported + c.repeated + c.rejected == c.read and c.repeated == 0
    assert c.created + c.merged + c.pending == c.imported
    stored = reports_by_id(import_store, "nyc311:")
    rejected = rejects_of(summary)
    assert len(stored) == c.imported and len(rejected) == c.rejected
    # every source row is exactly once in the store or the reject file, and each reject says why
    assert sorted([*stored, *(f"nyc311:{r['Unique Key']}" for r in rejected)]) == sorted(
        f"nyc311:{r['Unique Key']}" for r in source
    )
    assert all(r["reason"] and r["field"] and int(r["line"]) >= 2 for r in rejected)
    # the sample's dirt: closed before it was created, and a row with neither coordinates nor address
    backwards = [r for r in source if r["Status"] == "Closed" and _us(r["Closed Date"]) < _us(r["Created Date"])]
    no_place = [r for r in source if not r["Latitude"] and not r["Incident Address"]]
    assert backwards and no_place
    by_key = {r["Unique Key"]: r for r in rejected}
    assert all(by_key[r["Unique Key"]]["field"] == "Closed Date" for r in backwards)
    assert all("location" in by_key[r["Unique Key"]]["reason"] for r in no_place)
    assert c.rejected == len(backwards) + len(no_place)


def _us(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%m/%d/%Y %I:%M:%S %p")


def test_nyc_times_categories_pending_and_merges(import_store: ImportStore, tmp_path: Path) -> None:
    summary = run(import_store, copy(NYC_SLICE, tmp_path), "nyc311")
    stored = reports_by_id(import_store, "nyc311:")
    source = csv_records(NYC_SLICE)
    # Unique Key 56917959: Illegal Parking, created 02/28/2023 11:43:22 PM in New York (EST, UTC−5)
    (known,) = [r for r in source if r["Unique Key"] == "56917959"]
    assert (known["Created Date"], known["Complaint Type"]) == ("02/28/2023 11:43:22 PM", "Illegal Parking")
    report = stored["nyc311:56917959"]
    assert report.submitted_at == dt.datetime(2023, 3, 1, 4, 43, 22, tzinfo=UTC)
    assert report.category_key == "E0505"  # 机动车乱停放, from the category map
    assert report.attributes is not None and report.attributes["Complaint Type"] == "Illegal Parking"
    assert report.attributes["Descriptor"] == known["Descriptor"] == "Blocked Hydrant"
    # unmapped complaint types (HEAT/HOT WATER …) wait for a clerk: no classifier in this store
    heat = [stored[f"nyc311:{r['Unique Key']}"] for r in source if r["Complaint Type"] == "HEAT/HOT WATER"]
    assert heat and all(r.category_key is None and r.pending_reasons == ["category"] for r in heat)
    # duplicates merged: reports joined to an event another report opened, counted on the event
    merged = [r for r in stored.values() if r.status == ReportStatus.MERGED]
    assert len(merged) == summary.counts.merged > 0
    for r in merged:
        joined = event(import_store, r.event_id)
        assert joined.report_count >= 2 and joined.category_key == r.category_key
        assert joined.first_reported_at <= r.submitted_at
        assert len([o for o in stored.values() if o.event_id == r.event_id]) == joined.report_count


def test_nyc_closed_rows_make_closed_events_with_the_source_time(import_store: ImportStore, tmp_path: Path) -> None:
    run(import_store, copy(NYC_SLICE, tmp_path), "nyc311")
    stored = reports_by_id(import_store, "nyc311:")
    checked = 0
    for row in csv_records(NYC_SLICE):
        report = stored.get(f"nyc311:{row['Unique Key']}")
        if report is None or report.status != ReportStatus.CREATED:
            continue  # rejected, merged into another report's event, or pending
        e = event(import_store, report.event_id)
        if row["Status"] == "Closed" and row["Closed Date"]:
            assert e.status == EventStatus.CLOSED
            assert e.closed_at == _us(row["Closed Date"]).replace(tzinfo=NEW_YORK).astimezone(UTC)  # EST or EDT
            checked += 1
        else:
            assert e.status != EventStatus.CLOSED and e.closed_at is None
    assert checked > 50


def test_nyc_api_columns_are_detected_and_read_alike(tmp_path: Path) -> None:
    """The same records in the API's snake_case columns and ISO times map to the same reports."""
    rows = csv_records(NYC_SLICE)
    header = [c.lower().replace(" ", "_").replace("(", "").replace(")", "") for c in rows[0]]
    api = tmp_path / "nyc_api.csv"
    with api.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(header)
        for r in rows:
            out.writerow([_iso(v) if k.endswith("Date") else v for k, v in r.items()])
    nyc = profile("nyc311")
    export, snake = (_mapped(nyc, p) for p in (NYC_SLICE, api))
    assert len(export) == 400 and snake == export
    assert nyc.layout_for(header).name == "NYC Open Data API (snake_case)"


def _iso(value: str) -> str:
    return _us(value).isoformat(timespec="milliseconds") if value else ""


def _mapped(p: Profile, path: Path) -> list[Any]:
    """What each record maps to, but for the kept source columns (named as the layout names them)."""
    source = open_source(path)
    mapper = p.mapper(p.layout_for(source.header), "nyc311", source.header, strings=True)
    out: list[Any] = []
    for record in source.records():
        m = mapper(record)
        out.append(m.message if isinstance(m, FieldError) else m.model_dump(exclude={"attributes"}))
    source.close()
    return out


def test_la_times_pending_places_and_outside_jurisdiction(import_store: ImportStore, tmp_path: Path) -> None:
    source = csv_records(LA_SLICE)
    summary = run(import_store, copy(LA_SLICE, tmp_path), "la311", batch_size=150)
    c = summary.counts
    assert c.read == len(source) and c.imported + c.rejected == c.read
    stored = reports_by_id(import_store, "la311:")
    first = stored["la311:1-870704831"]  # 12/31/2017 11:59:58 PM in Los Angeles (PST, UTC−8)
    assert first.submitted_at == dt.datetime(2018, 1, 1, 7, 59, 58, tzinfo=UTC)
    assert first.attributes is not None and first.attributes["RequestType"] == "Homeless Encampment"
    # the last record lies outside every 2012 council district: refused, in the reject file
    rejected = {r["SRNumber"]: r for r in rejects_of(summary)}
    assert rejected["1-870568501"]["field"] == "Longitude, Latitude"
    assert "outside jurisdiction" in rejected["1-870568501"]["reason"]
    assert rejected["1-870568501"]["line"] == str(len(source) + 1)
    # no coordinates but an address: kept for a clerk to place (this store has no gazetteer)
    unplaced = [r for r in source if not r["Latitude"]]
    assert unplaced and all(stored[f"la311:{r['SRNumber']}"].pending_reasons[:1] == ["location"] for r in unplaced)
    graffiti = [
        stored[f"la311:{r['SRNumber']}"] for r in source if r["RequestType"] == "Graffiti Removal" and r["Latitude"]
    ]
    assert graffiti and all(r.category_key == "E0201" for r in graffiti)


def test_boston_georeport_json_imports(import_store: ImportStore, tmp_path: Path) -> None:
    records = json.loads(BOSTON.read_text())
    summary = run(import_store, copy(BOSTON, tmp_path), "open311", source="boston311")
    c = summary.counts
    assert c.read == len(records) == 50 and c.imported + c.rejected == c.read
    stored = reports_by_id(import_store, "boston311:")
    assert all(r.channel == "open311" for r in stored.values())
    for line, record in enumerate(records, start=1):
        report = stored.get(f"boston311:{record['service_request_id']}")
        if report is None:  # the one request with neither coordinates nor an address
            (reject,) = [r for r in rejects_of(summary) if r["line"] == str(line)]
            assert json.loads(reject["record"])["service_request_id"] == record["service_request_id"]
            assert record.get("lat") is None and not record.get("address")
            continue
        assert report.submitted_at == dt.datetime.fromisoformat(record["requested_datetime"])
        if record["status"] == "closed" and report.status == ReportStatus.CREATED:
            closed = event(import_store, report.event_id)
            assert closed.status == EventStatus.CLOSED
            assert closed.closed_at == dt.datetime.fromisoformat(record["updated_datetime"])
    assert c.rejected == 1


def test_a_crash_then_resume_ends_as_a_clean_run(
    import_store: ImportStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_dir, crash_dir = tmp_path / "clean", tmp_path / "crash"
    clean_dir.mkdir()
    crash_dir.mkdir()
    clean = run(import_store, copy(NYC_SLICE, clean_dir), "nyc311", batch_size=50)
    expected, expected_rejects = snapshot(import_store), clean.rejects.read_text(encoding="utf-8")
    clear_intake(import_store)

    path = copy(NYC_SLICE, crash_dir)
    real, calls = batch_rows.write, []  # what the writer process runs (forked: patched too)

    def failing(*args: Any) -> Any:
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("power cut")
        return real(*args)

    monkeypatch.setattr(batch_rows, "write", failing)
    with pytest.raises(RuntimeError, match="power cut"):
        run(import_store, path, "nyc311", batch_size=50)
    monkeypatch.setattr(batch_rows, "write", real)
    checkpoint = json.loads(importer.default_checkpoint(path).read_text())
    assert checkpoint["last_line"] == 101  # two batches of 50 records (lines 2–101) committed
    assert len(snapshot(import_store)) == checkpoint["counts"]["imported"] < clean.counts.imported

    resumed = run(import_store, path, "nyc311", batch_size=50, resume=True)
    assert resumed.resumed_after == 101 and resumed.rows_this_run == 300
    assert snapshot(import_store) == expected
    assert resumed.rejects.read_text(encoding="utf-8") == expected_rejects
    assert resumed.counts == clean.counts
    assert not importer.default_checkpoint(path).exists()


def test_resume_refuses_another_file_and_a_missing_checkpoint(import_store: ImportStore, tmp_path: Path) -> None:
    path = copy(NYC_SLICE, tmp_path)
    with pytest.raises(Invalid, match="nothing to resume"):
        run(import_store, path, "nyc311", resume=True)
    stale = importer.Checkpoint(importer.Identity(str(path.resolve()), 1, "0" * 64), "nyc311", "nyc311", 101)
    stale.save(importer.default_checkpoint(path))
    with pytest.raises(Invalid, match="belongs to another file"):
        run(import_store, path, "nyc311")
    summary = run(import_store, path, "nyc311", resume=False)  # --restart
    assert summary.resumed_after == 0 and summary.counts.read == 400


def test_importing_again_writes_nothing_new(import_store: ImportStore, tmp_path: Path) -> None:
    path = copy(LA_SLICE, tmp_path)
    first = run(import_store, path, "la311")
    before = snapshot(import_store)
    again = run(import_store, path, "la311")
    assert again.counts.repeated == first.counts.imported and again.counts.imported == 0
    assert again.counts.rejected == first.counts.rejected
    assert snapshot(import_store) == before


def test_malformed_rows_go_to_the_reject_file_with_their_line(import_store: ImportStore, tmp_path: Path) -> None:
    path = copy(NYC_SLICE, tmp_path)
    path.chmod(0o644)
    header = list(csv_records(NYC_SLICE)[0])
    good = csv_records(NYC_SLICE)[10]
    with path.open("a", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow([*good.values(), "one cell too many"])  # line 402
        out.writerow([{"Unique Key": "99000001", "Created Date": "yesterday"}.get(c, good[c]) for c in header])
        out.writerow([{"Unique Key": "99000002", "Latitude": "40,7"}.get(c, good[c]) for c in header])
    summary = run(import_store, path, "nyc311")
    rejected = {r["line"]: r for r in rejects_of(summary)}
    assert summary.counts.read == 403 and len(rejected) == summary.counts.rejected
    assert rejected["402"]["field"] == "row" and "47 cells but 46 columns" in rejected["402"]["reason"]
    assert (rejected["403"]["field"], rejected["403"]["Unique Key"]) == ("Created Date", "99000001")
    assert rejected["403"]["reason"].startswith("not a date and time: 'yesterday'")
    assert (rejected["404"]["field"], rejected["404"]["Unique Key"]) == ("Latitude", "99000002")
    assert "99000001" not in str(reports_by_id(import_store, "nyc311:99"))
