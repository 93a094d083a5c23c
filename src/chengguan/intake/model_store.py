"""Where the active text classifier lives, and what it is trained from.

``<data_dir>/models/`` holds every model trained here as ``classifier-<UTC time>.npz`` with its
metadata beside it (``.json``: trained when, on how many samples, classes, cross-validated
accuracy and macro-F1, threshold …); ``active.json`` is a copy of the active model's metadata
and names its file. Files are written under a temporary name and renamed, ``active.json`` last,
so a reader sees the old model or the new one, never half of either. Old models stay, for the
record and to go back to.

Each process caches the loaded model, keyed by the identity of ``active.json`` (inode, size,
modification time): a newly activated model is picked up on the next call, for one ``stat``.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, load_only

from chengguan.config import Settings
from chengguan.db import utcnow
from chengguan.errors import ChengguanError
from chengguan.intake.classifier import TextClassifier
from chengguan.intake.models import Report, ReportStatus
from chengguan.taxonomy.models import Category, CategoryLevel

MODELS_DIR = "models"
ACTIVE = "active.json"
# Whose category is a label to learn from: sent by the source (an officer's or a supervisor's
# choice) or set by a clerk. The model's own guesses are not: it would learn its mistakes.
CONFIRMED_SOURCES = ("source", "clerk")

_lock = threading.Lock()
_cache: dict[Path, tuple[tuple[int, int, int], TextClassifier]] = {}


def models_dir(settings: Settings) -> Path:
    return settings.data_dir / MODELS_DIR


def describe(model: TextClassifier) -> dict[str, Any]:
    """The metadata kept beside a model file: its measured figures, without the per-class detail."""
    e = model.evaluation
    return {
        "trained_at": model.trained_at,
        "samples": e.samples,
        "classes": list(model.classes),
        "dropped": e.dropped,
        "folds": e.folds,
        "accuracy": e.accuracy,
        "macro_f1": e.macro_f1,
        "top3_accuracy": e.top3_accuracy,
        "majority_accuracy": e.majority_accuracy,
        "majority_macro_f1": e.majority_macro_f1,
        "threshold": model.threshold,
        "target_precision": e.target_precision,
        "confident_share": e.confident_share,
        "confident_accuracy": e.confident_accuracy,
    }


def activate(settings: Settings, model: TextClassifier, meta: dict[str, Any]) -> Path:
    """Store ``model`` as a new version and make it the active one; ``meta`` (e.g. where the
    training data came from) is added to its metadata. Returns the model file."""
    directory = models_dir(settings)
    directory.mkdir(parents=True, exist_ok=True)
    now = utcnow()
    path = directory / f"classifier-{now:%Y%m%dT%H%M%S%fZ}.npz"
    record = {**describe(model), **meta, "file": path.name, "activated_at": now.isoformat(timespec="seconds")}
    _replace(path, model.save)
    text = json.dumps(record, ensure_ascii=False, indent=2)
    _replace(path.with_suffix(".json"), lambda p: p.write_text(text, encoding="utf-8"))
    _replace(directory / ACTIVE, lambda p: p.write_text(text, encoding="utf-8"))
    return path


def _replace(path: Path, write: Callable[[Path], object]) -> None:
    partial = path.with_name(f".{path.name}.partial")
    write(partial)
    os.replace(partial, path)


def active_meta(settings: Settings) -> dict[str, Any] | None:
    """The active model's metadata, or None before the first ``chengguan model train``."""
    pointer = models_dir(settings) / ACTIVE
    try:
        return dict(json.loads(pointer.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None


def active_classifier(settings: Settings) -> TextClassifier | None:
    """The active model, loaded once per process and again after another one is activated."""
    pointer = models_dir(settings) / ACTIVE
    try:
        stat = pointer.stat()
    except FileNotFoundError:
        return None
    version = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
    cached = _cache.get(pointer)
    if cached is not None and cached[0] == version:
        return cached[1]
    with _lock:
        cached = _cache.get(pointer)
        if cached is None or cached[0] != version:
            cached = (version, _load_active(settings))
            _cache[pointer] = cached
    return cached[1]


def _load_active(settings: Settings) -> TextClassifier:
    meta = active_meta(settings) or {}
    path = models_dir(settings) / str(meta.get("file", ""))
    if not path.is_file():
        raise ChengguanError(f"the active model file {path} is missing; run `chengguan model train`", status=500)
    return TextClassifier.load(path)


def training_rows(session: Session) -> list[tuple[str, str]]:
    """(text, category key) of every report whose category a person chose or confirmed, in the
    session's scope (the whole city for the CLI). Left out: rejected reports, and categories
    that are no longer an active 小类 (the model must only answer what the pipeline accepts)."""
    stmt = (
        select(Report)
        .join(Category, Category.key == Report.category_key)
        .options(load_only(Report.title, Report.description, Report.category_key))
        .where(
            Report.category_source.in_(CONFIRMED_SOURCES),
            Report.status != ReportStatus.REJECTED,
            Category.active,
            Category.level == CategoryLevel.MINOR,
        )
        .order_by(Report.id)
    )
    return [(r.text, r.category_key) for r in session.scalars(stmt) if r.category_key is not None]
