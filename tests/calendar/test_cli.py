"""`chengguan calendar show|load|deadline` against the test database."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from chengguan.cli import app as cli

runner = CliRunner()


@pytest.fixture
def cli_env(cli_store: None, seeded) -> None:
    """The CLI on the test store, with this domain's data in it."""


def test_show_prints_the_days_and_the_status(cli_env) -> None:
    res = runner.invoke(cli, ["calendar", "show", "2026"])
    assert res.exit_code == 0, res.output
    assert "official 国办发明电〔2025〕7号" in res.output
    assert "2026-02-14 周六  workday  春节调休上班" in res.output
    assert "working hours: 09:00–12:00, 13:30–17:30" in res.output
    assert "provisional" in runner.invoke(cli, ["calendar", "show", "2027"]).output
    assert "no schedule loaded" in runner.invoke(cli, ["calendar", "show", "2036"]).output


def test_load_is_idempotent(cli_env) -> None:
    res = runner.invoke(cli, ["calendar", "load"])
    assert res.exit_code == 0 and "0 row(s) written" in res.output


def test_deadline_explains_itself(cli_env) -> None:
    res = runner.invoke(cli, ["calendar", "deadline", "2026-02-12T10:00+08:00", "5", "working_days"])
    assert res.exit_code == 0, res.output
    assert "deadline: 2026-02-26T17:30:00+08:00" in res.output
    assert "2026-02-13, 2026-02-14, 2026-02-24, 2026-02-25, 2026-02-26" in res.output
    # without an offset the start is city time; a period into 2027 warns that it is provisional
    res = runner.invoke(cli, ["calendar", "deadline", "2026-12-20T10:00", "15", "calendar_days"])
    assert "deadline: 2027-01-05T00:00:00+08:00" in res.output and "2027 schedule is provisional" in res.output


def test_bad_input_exits_2_naming_the_line(cli_env, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "date,kind,name,year_status\n2031-01-01,holiday,元旦,provisional\n2031-01-06,workday,x,provisional\n"
    )
    res = runner.invoke(cli, ["calendar", "load", str(bad)])
    assert res.exit_code == 2
    assert "line 3: kind" in res.output and "nothing was imported" in res.output
    res = runner.invoke(cli, ["calendar", "deadline", "2026-02-12T10:00+08:00", "1.5", "working_days"])
    assert res.exit_code == 2 and "[amount]" in res.output
    assert runner.invoke(cli, ["calendar", "load", str(tmp_path / "missing.csv")]).exit_code == 2
