"""`chengguan import`: exit codes (0 all imported, 3 finished with rejects, 2 refused), the summary,
the template, and carrying on after a crash through the real root CLI."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from chengguan.cli import app as cli_app
from chengguan.config import get_settings
from chengguan.intake import batch_rows
from chengguan.intake.profiles import TEMPLATE_COLUMNS
from tests.intake.import_fixtures import (
    BOSTON,
    LA_SLICE,
    NYC_SLICE,
    ImportStore,
    csv_records,
    write_csv,
)
from tests.intake.test_import_files import MANHATTAN

runner = CliRunner()


@pytest.fixture
def cli(import_store: ImportStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ImportStore]:
    monkeypatch.setenv("CHENGGUAN_DATABASE_URL", import_store.url)
    monkeypatch.setenv("CHENGGUAN_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield import_store
    get_settings.cache_clear()


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(cli_app, ["import", *map(str, args)])
    return result.exit_code, result.stdout, result.stderr


def test_finished_with_rejects_exits_3_and_says_where_they_are(cli: ImportStore, tmp_path: Path) -> None:
    path = Path(shutil.copy(NYC_SLICE, tmp_path))
    code, out, _ = invoke("--profile", "nyc311", path)
    assert code == 3, out
    assert "read 400" in out and "rejected 3" in out and f"{path}.rejects.csv" in out
    assert len(csv_records(Path(f"{path}.rejects.csv"))) == 3


def test_everything_imported_exits_0(cli: ImportStore, tmp_path: Path) -> None:
    path = tmp_path / "clean.csv"
    write_csv(
        path,
        ["工单编号", "受理时间", "诉求内容", "经度", "纬度"],
        [["C1", "2025-03-03 09:00", "路口有人占道经营", *MANHATTAN]],
    )
    code, out, err = invoke("-p", "12345", path)
    assert code == 0, out + err
    assert "read 1 · imported 1" in out and "rejected 0" in out
    assert not Path(f"{path}.rejects.csv").exists() and not Path(f"{path}.checkpoint.json").exists()
    code, out, _ = invoke("-p", "12345", path)  # again: already there, still a success
    assert code == 0 and "imported 0" in out and "repeated 1" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--profile", "chicago311", "{nyc}"), "unknown profile 'chicago311'"),
        (("{nyc}",), "give --profile and FILE"),
        (("--profile", "la311", "{nyc}"), "line 1: not a la311 file: missing column(s) SRNumber, CreatedDate"),
        (("--profile", "open311", "{broken}"), "element 2: broken JSON"),
        (("--profile", "open311", "{nyc}", "--timezone", "Mars/Olympus"), "unknown time zone"),
        (("--profile", "nyc311", "{missing}"), "no such file"),
        (("--profile", "nyc311", "{nyc}", "--resume"), "nothing to resume"),
    ],
)
def test_bad_invocations_and_unreadable_files_exit_2(
    cli: ImportStore, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(json.loads(BOSTON.read_text())[:1])[:-1] + ', {"x": ]')
    paths = {"nyc": shutil.copy(NYC_SLICE, tmp_path), "broken": broken, "missing": tmp_path / "nope.csv"}
    code, out, err = invoke(*(a.format(**paths) for a in args))
    assert code == 2, out + err
    assert message in err


def test_the_same_command_carries_on_after_a_crash(
    cli: ImportStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = Path(shutil.copy(LA_SLICE, tmp_path))
    real, calls = batch_rows.write, []  # what the writer process runs (forked: patched too)

    def failing(*args: object) -> object:
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("killed")
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(batch_rows, "write", failing)
    code, _, _ = invoke("-p", "la311", path, "--batch-size", "100")
    assert code == 1  # the crash itself: an uncaught error, the checkpoint left behind
    assert json.loads(Path(f"{path}.checkpoint.json").read_text())["last_line"] == 201
    monkeypatch.setattr(batch_rows, "write", real)
    code, out, _ = invoke("-p", "la311", path, "--batch-size", "100")
    assert code == 3  # la311_slice's last record lies outside the jurisdiction
    assert "(resumed after line 201)" in out and "read 465" in out and "repeated 0" in out
    assert "rejected 1" in out and not Path(f"{path}.checkpoint.json").exists()


def test_template_is_the_12345_header(cli: ImportStore, tmp_path: Path) -> None:
    code, out, _ = invoke("template", tmp_path / "t.xlsx")
    assert code == 0, out
    book = load_workbook(tmp_path / "t.xlsx", read_only=True)
    assert [c for c in next(book.worksheets[0].iter_rows(values_only=True))] == list(TEMPLATE_COLUMNS)
    assert book.sheetnames == ["工单", "说明"]
    assert invoke("template", tmp_path / "t.csv")[0] == 0
    assert (tmp_path / "t.csv").read_text(encoding="utf-8-sig").strip() == ",".join(TEMPLATE_COLUMNS)
    assert invoke("template", tmp_path / "t.txt")[0] == 2
