"""`chengguan evidence add|sth|bundle|verify|audit|rotate-key` against the test store."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from typer.testing import CliRunner

from chengguan.cli import app as cli
from chengguan.evidence import verify
from tests.evidence.conftest import case_number, photo

runner = CliRunner()


def test_add_sign_bundle_verify_audit_rotate(cli_store, city, tmp_path: Path) -> None:
    case = case_number()
    file = tmp_path / "照片.jpg"
    file.write_bytes(photo())
    added = runner.invoke(
        cli, ["evidence", "add", str(file), "--case", case, "--type", "physical", "--org", "990101001000"]
    )
    assert added.exit_code == 0, added.output
    signed = runner.invoke(cli, ["evidence", "sth"])
    assert signed.exit_code == 0 and "tree size" in signed.output
    key = signed.output.split("key ")[-1].strip()

    out = tmp_path / "bundle.zip"
    assert runner.invoke(cli, ["evidence", "bundle", case, "-o", str(out)]).exit_code == 0
    ok = runner.invoke(cli, ["evidence", "verify", str(out), "--key", key])
    assert ok.exit_code == 0 and "VERIFIED" in ok.output
    foreign = runner.invoke(cli, ["evidence", "verify", str(out), "--key", "ab" * 32])
    assert foreign.exit_code == 2 and "not among the trusted keys" in foreign.output
    missing = runner.invoke(cli, ["evidence", "verify", str(tmp_path / "nope.zip"), "--key", key])
    assert missing.exit_code == 2 and "NOT VERIFIED" in missing.output

    audited = runner.invoke(cli, ["evidence", "audit"])
    assert audited.exit_code == 0 and "the log is intact" in audited.output, audited.output
    rotated = runner.invoke(cli, ["evidence", "rotate-key"])
    assert rotated.exit_code == 0 and "new signing key" in rotated.output
    assert runner.invoke(cli, ["evidence", "audit", "--workers", "2"]).exit_code == 0


def test_bundle_with_a_missing_file_is_not_verified(cli_store, city, tmp_path: Path) -> None:
    case = case_number()
    file = tmp_path / "doc.jpg"
    file.write_bytes(photo())
    runner.invoke(cli, ["evidence", "add", str(file), "--case", case, "--type", "documentary", "--org", "990101001000"])
    out = tmp_path / "b.zip"
    assert runner.invoke(cli, ["evidence", "bundle", case, "-o", str(out)]).exit_code == 0
    with zipfile.ZipFile(out) as src, zipfile.ZipFile(tmp_path / "cut.zip", "w") as dst:
        for info in src.infolist():
            if not info.filename.startswith("files/"):
                dst.writestr(info, src.read(info))
        key = verify.TreeHead.from_json(json.loads(src.read("manifest.json"))["sth"]).key_id
    verdict = verify.verify_bundle(str(tmp_path / "cut.zip"), [key])
    assert not verdict.ok and "bundle lacks files/" in (verdict.failure or "")


def test_add_refuses_a_text_file_with_exit_code_2(cli_store, city, tmp_path: Path) -> None:
    file = tmp_path / "notes.jpg"
    file.write_text("not a photo")
    res = runner.invoke(
        cli, ["evidence", "add", str(file), "--case", "X-1", "--type", "physical", "--org", "990101001000"]
    )
    assert res.exit_code == 2 and "[file]" in res.output
