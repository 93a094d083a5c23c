"""`chengguan grid import|locate|list` against the test database."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from chengguan.cli import app as cli
from tests.factories import SampleGrid, quadrants

runner = CliRunner()


@pytest.fixture
def cli_env(cli_store: None, grid: SampleGrid) -> None:
    """The CLI on the test store, with this domain's data in it."""


def test_import_refuses_a_bad_file_with_line_numbers_then_takes_a_good_one(
    cli_env, empty_community: str, tmp_path: Path
) -> None:
    west, east, _, _ = quadrants(116.2, 40.0, 116.4, 40.1)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "code,name,area_class,wkt\n"
        f'{empty_community}001,西,C,"{west.wkt}"\n'
        f'{empty_community}002,东,Z,"{east.wkt}"\n'
        f'{empty_community}003,北,A,"POLYGON ((1 2"\n',
        encoding="utf-8",
    )
    res = runner.invoke(cli, ["grid", "import", str(bad)])
    assert res.exit_code == 2
    assert "line 3: area_class" in res.output and "line 4: geometry" in res.output
    assert "nothing was imported" in res.output
    listed = runner.invoke(cli, ["grid", "list", "--org", empty_community])
    assert listed.exit_code == 0 and "0 of 0 cells" in listed.output

    good = tmp_path / "good.csv"
    good.write_text(f'code,name,area_class,wkt\n{empty_community}001,西,C,"{west.wkt}"\n', encoding="utf-8")
    res = runner.invoke(cli, ["grid", "import", str(good)])
    assert res.exit_code == 0, res.output
    assert "imported 1 cells in 1 communities" in res.output
    listed = runner.invoke(cli, ["grid", "list", "--org", empty_community])
    assert f"{empty_community}001  C" in listed.output and "1 of 1 cells" in listed.output


def test_locate_prints_the_chain_and_fails_outside(cli_env, grid: SampleGrid) -> None:
    res = runner.invoke(cli, ["grid", "locate", "116.15", "39.95"])
    assert res.exit_code == 0, res.output
    assert grid.code("A2c1", 1) in res.output  # the shared vertex of 西街道一社区's cells
    assert "甲区 990101000000 > 西街道 990101002000 > A2一社区" in res.output
    outside = runner.invoke(cli, ["grid", "locate", "100", "30"])
    assert outside.exit_code == 1 and "outside every grid cell" in outside.output


def test_list_filters_by_class(cli_env, grid: SampleGrid) -> None:
    res = runner.invoke(cli, ["grid", "list", "--area-class", "A", "--org", grid.community["A1c1"]])
    assert res.exit_code == 0
    assert res.output.splitlines()[0].startswith(f"{grid.code('A1c1', 1)}  A")
    assert "1 of 1 cells" in res.output
    assert runner.invoke(cli, ["grid", "list", "--org", "nope"]).exit_code == 2
