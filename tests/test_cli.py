from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chengguan.cli import app
from chengguan.config import Settings

BIN = Path(sys.executable).parent


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=120)


def test_python_dash_m_is_the_same_command() -> None:
    # `db --help`, not the root's: listing every command imports every domain's sub-app
    a = _run(sys.executable, "-m", "chengguan", "db", "--help")
    b = _run(str(BIN / "chengguan"), "db", "--help")
    assert a.returncode == b.returncode == 0
    assert a.stdout == b.stdout


@pytest.mark.parametrize(
    "command",
    [
        ["db", "upgrade"],
        ["demo"],
        ["serve"],
        ["user", "add"],
        ["user", "list"],
        ["grid", "import"],
        ["taxonomy", "import"],
        ["legal", "load"],
        ["case", "act"],
        ["worker"],
        ["lake", "sync"],
        ["settings"],
    ],
)
def test_every_documented_command_has_help(command: list[str]) -> None:
    # in-process: the installed entry point itself is run by test_python_dash_m_is_the_same_command
    res = CliRunner().invoke(app, [*command, "--help"])
    assert res.exit_code == 0, res.output
    assert "Usage" in res.output


def test_db_upgrade_and_user_commands_on_a_fresh_store(tmp_path: Path) -> None:
    env = {"CHENGGUAN_DATA_DIR": str(tmp_path), "CHENGGUAN_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    assert _run(str(BIN / "chengguan"), "db", "upgrade", env=env).returncode == 0
    bad = _run(
        str(BIN / "chengguan"),
        "user",
        "add",
        "someone",
        "--role",
        "clerk",
        "--org",
        "NOPE",
        "--password",
        "Secret123",
        env=env,
    )
    assert bad.returncode == 2 and "organisation 'NOPE' not found" in bad.stderr
    ok = _run(
        str(BIN / "chengguan"), "user", "add", "citizen1", "--role", "citizen", "--password", "Secret123", env=env
    )
    assert ok.returncode == 0, ok.stderr
    listed = _run(str(BIN / "chengguan"), "user", "list", env=env)
    assert "citizen1" in listed.stdout and "1 user(s)" in listed.stdout


def test_production_refuses_a_placeholder_secret(tmp_path: Path) -> None:
    env = {"CHENGGUAN_ENV": "production", "CHENGGUAN_DATA_DIR": str(tmp_path)}
    res = _run(str(BIN / "chengguan"), "settings", env=env)
    assert res.returncode != 0 and "CHENGGUAN_SECRET_KEY" in res.stderr


def test_dev_makes_its_own_secret_once_and_keeps_it_private(tmp_path: Path) -> None:
    first = Settings(env="dev", data_dir=tmp_path).signing_key
    assert len(first) >= 32 and Settings(env="dev", data_dir=tmp_path).signing_key == first
    assert (tmp_path / "secret.key").stat().st_mode & 0o077 == 0


def test_serve_runs_the_app_with_the_startup_heap_frozen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``chengguan serve`` hands uvicorn the factory that freezes what startup built, so that the
    cyclic collector's full passes no longer walk it in the middle of a request."""
    import chengguan.cli

    seen: dict[str, object] = {}
    monkeypatch.setattr(chengguan.cli.uvicorn, "run", lambda target, **options: seen.update(options, target=target))
    assert CliRunner().invoke(app, ["serve", "--port", "8123"]).exit_code == 0
    assert seen["factory"] is True and seen["port"] == 8123
    module, factory = str(seen["target"]).split(":")
    code = f"import gc; from {module} import {factory}; {factory}(); print(gc.get_freeze_count())"
    env = {"CHENGGUAN_DATA_DIR": str(tmp_path), "CHENGGUAN_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    res = _run(sys.executable, "-c", code, env=env)
    assert res.returncode == 0, res.stderr
    assert int(res.stdout) > 100_000  # the modules, models and routes (about 360,000 objects)
