"""`chengguan legal load|lookup|search` against the test database."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from chengguan.cli import app as cli

runner = CliRunner()


@pytest.fixture
def cli_env(cli_store: None, legal_loaded) -> None:
    """The CLI on the test store, with this domain's data in it."""


def test_load_again_changes_nothing(cli_env) -> None:
    res = runner.invoke(cli, ["legal", "load"])
    assert res.exit_code == 0, res.output
    assert "documents: 0 added, 0 updated, 31 unchanged" in res.output
    assert "case causes: 0 added or updated" in res.output
    assert "not among the loaded texts" not in res.output


def test_lookup_prints_citation_and_text(cli_env) -> None:
    res = runner.invoke(cli, ["legal", "lookup", "BJ市容 35 para 5"])
    assert res.exit_code == 0, res.output
    assert res.output.startswith("北京市市容环境卫生条例第三十五条第五款\n违反第一款规定的")


def test_search_prints_hits(cli_env) -> None:
    res = runner.invoke(cli, ["legal", "search", "露天烧烤", "--limit", "2"])
    assert res.exit_code == 0, res.output
    assert "大气污染防治法第八十一条 [2]" in res.output and "3 article(s) match" in res.output


def test_refused_input_exits_2_with_a_clear_line(cli_env, tmp_path: Path) -> None:
    res = runner.invoke(cli, ["legal", "lookup", "BJ市容 35 para 9"])
    assert res.exit_code == 2
    assert "[ref.paragraph]" in res.output and "has 5 paragraph(s)" in res.output
    bad = tmp_path / "bad.md"
    bad.write_text("# 坏条例\n\n<!-- INFO END -->\n\n散句。\n", encoding="utf-8")
    res = runner.invoke(cli, ["legal", "load", str(tmp_path)])
    assert res.exit_code == 2 and "bad.md line 5" in res.output
    assert runner.invoke(cli, ["legal", "search", " "]).exit_code == 2


@pytest.mark.parametrize("command", ["load", "lookup", "search"])
def test_help(command: str) -> None:
    res = runner.invoke(cli, ["legal", command, "--help"])
    assert res.exit_code == 0 and "Usage" in res.output
