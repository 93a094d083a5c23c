"""The README is part of the product: its claims are checked here."""

from __future__ import annotations

import re
from pathlib import Path

from chengguan.config import Settings

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented_in_the_readme() -> None:
    documented = set(re.findall(r"`CHENGGUAN_([A-Z_]+)`", README))
    assert {name.upper() for name in Settings.model_fields} <= documented


def test_readme_opens_with_the_two_commands_and_ci_runs_the_second() -> None:
    commands = re.findall(r"^\./scripts/(\w+)", README, flags=re.M)
    assert commands[:2] == ["demo", "test"]
    ci = (Path(__file__).parents[1] / ".ci" / "run").read_text()
    assert "scripts/test" in ci
