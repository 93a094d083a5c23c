"""The demo city (without its year of history) for the intake benchmarks: built by the real CLI
in a directory, or copied from one built before."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def cli_env(data_dir: Path) -> dict[str, str]:
    """The environment that points ``chengguan`` at ``data_dir`` and its SQLite file ``d.db``."""
    return {
        **os.environ,
        "CHENGGUAN_DATA_DIR": str(data_dir),
        "CHENGGUAN_DATABASE_URL": f"sqlite:///{data_dir / 'd.db'}",
    }


def build_demo(data_dir: Path) -> None:
    """``chengguan db upgrade && chengguan demo --history 0`` into ``data_dir/d.db``."""
    env, chengguan = cli_env(data_dir), [sys.executable, "-m", "chengguan"]
    subprocess.run([*chengguan, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run([*chengguan, "demo", "--history", "0"], env=env, check=True, capture_output=True)


def city_copy(built: Path | None, prefix: str) -> Path:
    """A fresh work directory holding ``base.db``: a copy of ``built/d.db``, or a city built now."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    if built is not None:
        shutil.copy(built / "d.db", work / "base.db")
    else:
        build_demo(work)
        (work / "d.db").rename(work / "base.db")
    return work
