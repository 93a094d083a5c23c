"""`chengguan model train|eval|show`: the text classifier (free text → 小类)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from chengguan.config import get_settings
from chengguan.console import cli_session, reports_errors
from chengguan.errors import Invalid
from chengguan.intake import model_store
from chengguan.intake.classifier import FOLDS, TARGET_PRECISION, Evaluation, TextClassifier, cross_validate
from chengguan.kit.tabular import read_table

app = typer.Typer(help="Text classifier / 文本分类模型 (free text → 小类)", no_args_is_help=True)

FILE = typer.Argument(
    None, exists=True, dir_okay=False, help=".csv or .xlsx of labelled texts; default: the city's confirmed reports"
)
TEXT = typer.Option(["text"], "--text", help="column(s) holding the text, joined by a line break (repeatable)")
LABEL = typer.Option("label", "--label", help="column holding the label (category key)")
FOLDS_OPTION = typer.Option(FOLDS, "--folds", min=2, max=20, help="cross-validation folds")
SEED = typer.Option(0, "--seed", help="shuffles the folds")
TARGET = typer.Option(
    TARGET_PRECISION, "--target-precision", min=0.0, max=1.0, help="precision the confident predictions must reach"
)


@app.command("train")
@reports_errors
def train(
    file: Path | None = FILE,
    text: list[str] = TEXT,
    label: str = LABEL,
    folds: int = FOLDS_OPTION,
    seed: int = SEED,
    target_precision: float = TARGET,
    threshold: float | None = typer.Option(None, min=0.0, max=1.0, help="fixed threshold instead of the chosen one"),
) -> None:
    """Cross-validate, train on all samples and make the model the active one."""
    texts, labels, source = _samples(file, text, label)
    model = TextClassifier.train(
        texts, labels, threshold=threshold, target_precision=target_precision, folds=folds, seed=seed
    )
    path = model_store.activate(get_settings(), model, {"source": source})
    _print_summary(model.evaluation)
    typer.echo(f"active model: {path}")


@app.command("eval")
@reports_errors
def evaluate(
    file: Path | None = FILE,
    text: list[str] = TEXT,
    label: str = LABEL,
    folds: int = FOLDS_OPTION,
    seed: int = SEED,
    target_precision: float = TARGET,
) -> None:
    """Cross-validation report (per class too); changes nothing."""
    texts, labels, _ = _samples(file, text, label)
    evaluation = cross_validate(texts, labels, folds, seed, target_precision=target_precision)
    _print_summary(evaluation)
    typer.echo(f"{'label':<24} {'precision':>9} {'recall':>7} {'F1':>6} {'support':>8}")
    for c in evaluation.per_class:
        typer.echo(f"{c.label:<24} {c.precision:>9.3f} {c.recall:>7.3f} {c.f1:>6.3f} {c.support:>8}")


@app.command("show")
def show() -> None:
    """The active model's metadata (exit code 1 when there is none yet)."""
    meta = model_store.active_meta(get_settings())
    if meta is None:
        typer.echo("no model yet: run `chengguan model train` / 尚无模型")
        raise typer.Exit(1)
    typer.echo(json.dumps(meta, ensure_ascii=False, indent=2))


def _samples(file: Path | None, text_columns: list[str], label: str) -> tuple[list[str], list[str], str]:
    """(texts, labels, where from) out of a file, or out of the city's confirmed reports."""
    if file is None:
        with cli_session("model.samples") as session:
            rows = model_store.training_rows(session)
        typer.echo(f"{len(rows)} confirmed reports in the database")
        return [t for t, _ in rows], [y for _, y in rows], "database"
    table = read_table(file.read_bytes(), file.name, required=(*text_columns, label))
    texts, labels = [], []
    for row in table:
        body = "\n".join(row.get(c) for c in text_columns).strip()
        if body and row.get(label):
            texts.append(body)
            labels.append(row.get(label))
    if not texts:
        raise Invalid(f"{file.name}: no row has both a text and a label", field="file")
    typer.echo(f"{len(texts)} labelled rows in {file.name} ({len(table) - len(texts)} without text or label skipped)")
    return texts, labels, f"file:{file.name}"


def _print_summary(e: Evaluation) -> None:
    dropped = (
        f"; too few samples, left out: {', '.join(f'{k} ({v})' for k, v in e.dropped.items())}" if e.dropped else ""
    )
    typer.echo(f"{e.samples} samples, {len(e.classes)} classes{dropped}")
    typer.echo(
        f"cross-validated ({e.folds} folds): accuracy {e.accuracy:.3f}, macro-F1 {e.macro_f1:.3f}, "
        f"top-3 {e.top3_accuracy:.3f}; majority class ({e.majority_label}): accuracy {e.majority_accuracy:.3f}, "
        f"macro-F1 {e.majority_macro_f1:.3f}"
    )
    typer.echo(
        f"threshold {e.threshold:.3f} (for precision >= {e.target_precision:.2f}): {e.confident_share:.1%} confident "
        f"(accuracy {e.confident_accuracy:.3f}), {e.clerk_share:.1%} to the clerk / 转人工"
    )
