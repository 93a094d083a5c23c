"""Where the active model lives (versions, metadata, per-process cache), what it learns from in
the database, and `chengguan model train|eval|show`."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from chengguan.cli import app as cli
from chengguan.config import Settings, get_settings
from chengguan.errors import ChengguanError
from chengguan.intake import model_store
from chengguan.intake.classifier import TextClassifier
from chengguan.intake.models import Report, ReportStatus
from tests.factories import SampleCity
from tests.intake.classifier_fixtures import UNSEEN, labelled

runner = CliRunner()


@pytest.fixture(scope="module")
def small_model() -> TextClassifier:
    return TextClassifier.train(*labelled(12))


@pytest.fixture
def own_settings(tmp_path: Path) -> Settings:
    """A data directory of this test's own: the session's is shared with the intake API tests,
    which must not see a model appear."""
    return Settings(env="test", data_dir=tmp_path, secret_key=secrets.token_urlsafe(48))


@pytest.fixture
def model_cli(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The CLI on the test database, with its own data directory."""
    monkeypatch.setenv("CHENGGUAN_DATABASE_URL", settings.db_url)
    monkeypatch.setenv("CHENGGUAN_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


# -- the store -----------------------------------------------------------------------------------


def test_no_model_until_one_is_activated(own_settings: Settings, small_model: TextClassifier) -> None:
    assert model_store.active_classifier(own_settings) is None
    assert model_store.active_meta(own_settings) is None
    path = model_store.activate(own_settings, small_model, {"source": "test"})
    assert path.parent == own_settings.data_dir / "models" and path.suffix == ".npz"
    meta = model_store.active_meta(own_settings)
    assert meta is not None and meta["file"] == path.name and meta["source"] == "test"
    assert meta["samples"] == 48 and meta["classes"] == list(small_model.classes)
    assert meta["threshold"] == small_model.threshold and meta["accuracy"] == small_model.evaluation.accuracy
    assert json.loads(path.with_suffix(".json").read_text(encoding="utf-8")) == meta
    active = model_store.active_classifier(own_settings)
    assert active is not None and active.predict(["路灯不亮"]) == small_model.predict(["路灯不亮"])


def test_loaded_once_per_process_and_again_after_a_new_activation(
    own_settings: Settings, small_model: TextClassifier
) -> None:
    first_path = model_store.activate(own_settings, small_model, {})
    first = model_store.active_classifier(own_settings)
    assert model_store.active_classifier(own_settings) is first  # cached
    bigger = TextClassifier.train(*labelled(20, seed=5))
    second_path = model_store.activate(own_settings, bigger, {})
    second = model_store.active_classifier(own_settings)
    assert second is not first and second is not None
    assert second.evaluation.samples == 80
    assert first_path.exists() and second_path.exists()  # versions are kept
    files = {p.name for p in (own_settings.data_dir / "models").iterdir()}
    versions = {first_path, first_path.with_suffix(".json"), second_path, second_path.with_suffix(".json")}
    assert files == {p.name for p in versions} | {"active.json"}


def test_a_missing_active_model_file_is_an_error_not_silence(
    own_settings: Settings, small_model: TextClassifier
) -> None:
    path = model_store.activate(own_settings, small_model, {})
    os.remove(path)
    with pytest.raises(ChengguanError, match=r"active model file .* is missing"):
        model_store.active_classifier(own_settings)


# -- what it learns from -------------------------------------------------------------------------


def _report(city: SampleCity, n: int, text: str, key: str | None, source: str | None, status: str) -> Report:
    return Report(
        channel="patrol",
        external_id=f"classifier-test-{n}",
        status=status,
        title=text,
        description=f"详情{n}",
        submitted_at=dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC),
        org_id=city.org["A1"],
        category_key=key,
        category_source=source,
    )


@pytest.fixture
def history(platform_session: Session, city: SampleCity, seeded: int) -> Iterator[dict[str, str]]:
    """Reports of every kind: confirmed ones (by the source or a clerk) and ones that are not.
    Removed afterwards, so the intake tests sharing the database never see them."""
    rows = {
        "井盖丢失甲": ("C0101", "source", ReportStatus.CREATED),
        "路灯不亮乙": ("C0116", "clerk", ReportStatus.MERGED),
        "路灯不亮丙": ("C0116", "model", ReportStatus.CREATED),  # the model's own guess
        "井盖丢失丁": ("C0101", "clerk", ReportStatus.REJECTED),  # not a matter for the city
        "井盖丢失戊": (None, None, ReportStatus.CREATED),
        "井盖丢失己": ("E9999", "clerk", ReportStatus.CREATED),  # no such 小类 (any more)
        "井盖丢失庚": ("C01", "clerk", ReportStatus.CREATED),  # a 大类
    }
    texts, labels = labelled(6, seed=11)
    rows |= {
        f"{t}#{i}": (y, "source", ReportStatus.CREATED) for i, (t, y) in enumerate(zip(texts, labels, strict=True))
    }
    platform_session.add_all(
        _report(city, n, text, key, source, status) for n, (text, (key, source, status)) in enumerate(rows.items())
    )
    platform_session.commit()
    yield {text: key for text, (key, source, status) in rows.items() if key}
    platform_session.execute(delete(Report).where(Report.external_id.like("classifier-test-%")))
    platform_session.commit()


def test_training_rows_are_the_confirmed_categories(platform_session: Session, history: dict[str, str]) -> None:
    rows = dict(model_store.training_rows(platform_session))
    assert rows["井盖丢失甲\n详情0"] == "C0101"
    assert rows["路灯不亮乙\n详情1"] == "C0116"
    assert not any(
        text.startswith(("路灯不亮丙", "井盖丢失丁", "井盖丢失戊", "井盖丢失己", "井盖丢失庚")) for text in rows
    )
    assert sum(text.split("\n")[0] in history for text in rows) == 2 + 24  # 24 from `labelled`


def test_cli_trains_from_the_database(model_cli: Settings, history: dict[str, str]) -> None:
    res = runner.invoke(cli, ["model", "train", "--folds", "3"])
    assert res.exit_code == 0, res.output
    assert "confirmed reports in the database" in res.output and "active model:" in res.output
    meta = model_store.active_meta(model_cli)
    assert meta is not None and meta["source"] == "database"
    assert {"C0101", "C0116", "E0101", "E0502"} <= set(meta["classes"])


# -- the command line ----------------------------------------------------------------------------


def _csv(path: Path, per_class: int) -> Path:
    texts, labels = labelled(per_class, seed=2)
    lines = ["标题,详情,小类"] + [f"{t[:4]},{t[4:]},{y}" for t, y in zip(texts, labels, strict=True)]
    path.write_text("\n".join([*lines, "没有类别的一行,,", ",,E0101"]) + "\n", encoding="utf-8")
    return path


def test_cli_train_show_eval_from_a_file(model_cli: Settings, tmp_path: Path) -> None:
    assert runner.invoke(cli, ["model", "show"]).exit_code == 1
    data = _csv(tmp_path / "history.csv", 10)
    args = ["--text", "标题", "--text", "详情", "--label", "小类"]
    res = runner.invoke(cli, ["model", "train", str(data), *args, "--target-precision", "0.95"])
    assert res.exit_code == 0, res.output
    assert "40 labelled rows in history.csv (2 without text or label skipped)" in res.output
    assert "40 samples, 4 classes" in res.output and "majority class" in res.output
    assert "for precision >= 0.95" in res.output and "to the clerk" in res.output
    shown = runner.invoke(cli, ["model", "show"])
    assert shown.exit_code == 0
    meta = json.loads(shown.output)
    assert meta["samples"] == 40 and meta["source"] == "file:history.csv" and meta["target_precision"] == 0.95
    model = model_store.active_classifier(model_cli)
    assert model is not None
    assert [p.label for p in model.predict([t for t, _ in UNSEEN])] == [k for _, k in UNSEEN]

    res = runner.invoke(cli, ["model", "eval", str(data), *args, "--folds", "4"])
    assert res.exit_code == 0, res.output
    assert "cross-validated (4 folds)" in res.output and "E0502" in res.output and "support" in res.output
    assert model_store.active_meta(model_cli) == meta  # eval changes nothing


def test_cli_refuses_missing_columns_and_too_few_labels(model_cli: Settings, tmp_path: Path) -> None:
    data = _csv(tmp_path / "history.csv", 10)
    res = runner.invoke(cli, ["model", "train", str(data), "--text", "正文", "--label", "小类"])
    assert res.exit_code == 2 and "missing column(s) 正文" in res.output
    few = tmp_path / "few.csv"
    few.write_text("text,label\n路灯不亮,C0116\n井盖丢失,C0101\n", encoding="utf-8")
    res = runner.invoke(cli, ["model", "train", str(few)])
    assert res.exit_code == 2 and "at least two labels" in res.output
    assert model_store.active_meta(model_cli) is None
