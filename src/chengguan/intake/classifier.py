"""Free text → 小类: a linear classifier over character n-grams, trained from the city's own
labelled reports. Pure: no database, no settings (``model_store`` keeps the active model).

Model: :class:`~chengguan.intake.text_features.NgramTfidf` (characters and character pairs)
and a one-vs-rest linear SVM (liblinear, balanced class weights). Choices measured in
``benchmarks/README.md``. Its margins become probabilities by a softmax whose temperature is
fitted on cross-validated margins (temperature scaling, Guo et al. 2017), so a "0.9" means about
nine in ten right. The confidence threshold is also chosen on cross-validated predictions: the
lowest probability at which the predictions at or above it are still right at least
``target_precision`` of the time, i.e. as few reports as possible go to the clerk's queue
while those that do not are right that often. Training therefore runs the cross-validation
itself, and the model carries its measured :class:`Evaluation`.

Prediction needs only numpy and scipy; scikit-learn is used for fitting and for the metrics.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support  # type: ignore[import-untyped]
from sklearn.model_selection import StratifiedKFold  # type: ignore[import-untyped]
from sklearn.svm import LinearSVC  # type: ignore[import-untyped]

from chengguan.db import utcnow
from chengguan.errors import Invalid
from chengguan.intake.text_features import NgramTfidf

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

FORMAT = "chengguan-text-classifier/1"
TARGET_PRECISION = 0.9
FOLDS = 5
TOP = 3
_CHUNK = 2048  # texts per step of a batch prediction: keeps the n-gram arrays in cache (measured best)
_SVM_C = 1.0


@dataclass(frozen=True, slots=True)
class Prediction:
    """The model's answer for one text."""

    label: str  # a category key such as "E0502" (or any label string the model was trained on)
    probability: float
    top3: tuple[tuple[str, float], ...]
    confident: bool  # probability >= the model's threshold; otherwise the report goes to the clerk's queue


@dataclass(frozen=True)
class ClassFigures:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Evaluation:
    """Cross-validated figures: every sample is predicted by a model that did not see it."""

    samples: int
    folds: int
    seed: int
    classes: tuple[str, ...]
    accuracy: float
    macro_f1: float
    top3_accuracy: float  # the right label among the three offered to the clerk
    majority_label: str
    majority_accuracy: float  # always answering the most frequent label
    majority_macro_f1: float
    target_precision: float
    threshold: float  # chosen for target_precision; 1.0 when unattainable (all to the clerk)
    confident_share: float  # share of reports at or above the threshold; the rest go to the clerk
    confident_accuracy: float  # accuracy on those
    temperature: float
    per_class: tuple[ClassFigures, ...]
    confusion: tuple[tuple[int, ...], ...]  # rows: true label, columns: predicted, in `classes` order
    dropped: dict[str, int] = field(default_factory=dict)  # labels with too few samples to learn

    @property
    def clerk_share(self) -> float:
        return 1.0 - self.confident_share

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Evaluation:
        return cls(
            **{
                **data,
                "classes": tuple(data["classes"]),
                "per_class": tuple(ClassFigures(**c) for c in data["per_class"]),
                "confusion": tuple(tuple(r) for r in data["confusion"]),
            }
        )


@dataclass
class _Linear:
    """One-vs-rest weights, laid out for ``X @ coef``: (features, classes)."""

    coef: NDArray[np.float32]
    intercept: NDArray[np.float32]

    @classmethod
    def fit(cls, x: sp.csr_matrix, y: IntArray, n_classes: int) -> _Linear:
        svm = LinearSVC(C=_SVM_C, class_weight="balanced", random_state=0).fit(x, y)
        coef, intercept = svm.coef_, svm.intercept_
        if n_classes == 2:  # one margin for the second class; the first gets its negative
            coef, intercept = np.vstack([-coef, coef]), np.concatenate([-intercept, intercept])
        return cls(np.ascontiguousarray(coef.T, dtype=np.float32), intercept.astype(np.float32))

    def margins(self, x: sp.csr_matrix) -> NDArray[np.float32]:
        return np.asarray(x @ self.coef) + self.intercept


def _split(texts: Sequence[str], labels: Sequence[str], folds: int) -> tuple[list[str], list[str], dict[str, int]]:
    """Drop the labels with fewer samples than folds: they cannot be learnt, nor measured."""
    if len(texts) != len(labels):
        raise Invalid(f"{len(texts)} texts but {len(labels)} labels", field="labels")
    counts = Counter(labels)
    dropped = {label: n for label, n in sorted(counts.items()) if n < folds}
    kept = [(t, y) for t, y in zip(texts, labels, strict=True) if y not in dropped]
    if len(counts) - len(dropped) < 2:
        raise Invalid(
            f"need at least two labels with {folds} or more examples each / 至少需要两个各有{folds}条以上样本的类别",
            field="labels",
        )
    return [t for t, _ in kept], [y for _, y in kept], dropped


def _fit(texts: Sequence[str], y: IntArray, n_classes: int) -> tuple[NgramTfidf, _Linear]:
    features = NgramTfidf.fit(texts)
    return features, _Linear.fit(features.transform(texts), y, n_classes)


def _out_of_fold_margins(
    texts: list[str], y: IntArray, n_classes: int, folds: int, seed: int
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Each text's margins from a model (vocabulary included) fitted without it, and whether
    that model knew none of its n-grams."""
    margins = np.zeros((len(texts), n_classes))
    empty = np.zeros(len(texts), dtype=bool)
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(texts, y):
        features, linear = _fit([texts[i] for i in train], y[train], n_classes)
        x = features.transform([texts[i] for i in test])
        margins[test], empty[test] = linear.margins(x), np.diff(x.indptr) == 0
    return margins, empty


def _fit_temperature(margins: FloatArray, y: IntArray) -> float:
    """The softmax temperature that makes the margins' probabilities best (least log loss)."""

    def loss(log_t: float) -> float:
        return -float(log_softmax(margins / np.exp(log_t), axis=1)[np.arange(len(y)), y].mean())

    return float(np.exp(minimize_scalar(loss, bounds=(-5.0, 5.0), method="bounded").x))


def _probabilities(margins: FloatArray, empty: NDArray[np.bool_], temperature: float) -> FloatArray:
    """Softmax of the margins at the temperature; equal for a text with no known n-gram (no
    evidence: its margins would be the intercepts alone)."""
    z = margins / temperature
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    z[empty] = 1.0 / z.shape[1]
    return z


def choose_threshold(probability: FloatArray, correct: NDArray[np.bool_], target_precision: float) -> float:
    """The lowest probability t such that the predictions with probability >= t are right at
    least ``target_precision`` of the time; 1.0 when no t reaches it."""
    order = np.argsort(-probability, kind="stable")
    p, hits = probability[order], np.cumsum(correct[order])
    last = np.flatnonzero(np.r_[p[1:] != p[:-1], True])  # cut only between distinct probabilities
    precision = hits[last] / (last + 1)
    good = np.flatnonzero(precision >= target_precision)
    return float(p[last[good[-1]]]) if len(good) else 1.0


def _evaluate(
    texts: list[str],
    labels: list[str],
    folds: int,
    seed: int,
    target_precision: float,
    threshold: float | None,
    dropped: dict[str, int],
) -> Evaluation:
    classes = tuple(sorted(set(labels)))
    y = np.searchsorted(np.array(classes), np.array(labels)).astype(np.int64)
    margins, empty = _out_of_fold_margins(texts, y, len(classes), folds, seed)
    temperature = _fit_temperature(margins, y)
    probability = _probabilities(margins, empty, temperature)
    predicted = probability.argmax(axis=1)
    best = probability.max(axis=1)
    correct = predicted == y
    if threshold is None:
        threshold = choose_threshold(best, correct, target_precision)
    confident = best >= threshold
    majority = Counter(labels).most_common(1)[0][0]
    majority_y = np.full_like(y, classes.index(majority))
    precision, recall, f1, support = precision_recall_fscore_support(
        y, predicted, labels=range(len(classes)), zero_division=0
    )
    top = np.argsort(-probability, axis=1, kind="stable")[:, :TOP]
    return Evaluation(
        samples=len(texts),
        folds=folds,
        seed=seed,
        classes=classes,
        accuracy=float(correct.mean()),
        macro_f1=_macro_f1(y, predicted, len(classes)),
        top3_accuracy=float((top == y[:, None]).any(axis=1).mean()),
        majority_label=majority,
        majority_accuracy=float((majority_y == y).mean()),
        majority_macro_f1=_macro_f1(y, majority_y, len(classes)),
        target_precision=target_precision,
        threshold=threshold,
        confident_share=float(confident.mean()),
        confident_accuracy=float(correct[confident].mean()) if confident.any() else 0.0,
        temperature=temperature,
        per_class=tuple(
            ClassFigures(c, float(p), float(r), float(f), int(s))
            for c, p, r, f, s in zip(classes, precision, recall, f1, support, strict=True)
        ),
        confusion=tuple(tuple(int(v) for v in row) for row in confusion_matrix(y, predicted)),
        dropped=dropped,
    )


def _macro_f1(y: IntArray, predicted: IntArray, n_classes: int) -> float:
    return float(f1_score(y, predicted, labels=range(n_classes), average="macro", zero_division=0))


def cross_validate(
    texts: Sequence[str],
    labels: Sequence[str],
    folds: int = FOLDS,
    seed: int = 0,
    *,
    target_precision: float = TARGET_PRECISION,
    threshold: float | None = None,
) -> Evaluation:
    """Stratified k-fold figures of the model :meth:`TextClassifier.train` would build, beside
    a majority-class baseline, with the threshold chosen for ``target_precision`` unless one is
    given. Labels with fewer than ``folds`` samples are left out (listed in ``Evaluation.dropped``)."""
    kept_texts, kept_labels, dropped = _split(texts, labels, folds)
    return _evaluate(kept_texts, kept_labels, folds, seed, target_precision, threshold, dropped)


class TextClassifier:
    """A trained model. Build it with :meth:`train` or :meth:`load`; it does not change after."""

    def __init__(
        self,
        features: NgramTfidf,
        linear: _Linear,
        classes: tuple[str, ...],
        temperature: float,
        threshold: float,
        evaluation: Evaluation,
        trained_at: str,
    ) -> None:
        self.features = features
        self.linear = linear
        self.classes = classes
        self.temperature = temperature
        self.threshold = threshold
        self.evaluation = evaluation
        self.trained_at = trained_at
        self._labels = np.array(classes, dtype=object)

    @classmethod
    def train(
        cls,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        threshold: float | None = None,
        target_precision: float = TARGET_PRECISION,
        folds: int = FOLDS,
        seed: int = 0,
    ) -> TextClassifier:
        """Cross-validate (for the temperature, the threshold and the figures), then fit on all
        samples: ``folds + 1`` fits in all. ``threshold`` overrides the chosen one."""
        evaluation = cross_validate(texts, labels, folds, seed, target_precision=target_precision, threshold=threshold)
        kept = set(evaluation.classes)
        pairs = [(t, y) for t, y in zip(texts, labels, strict=True) if y in kept]
        y = np.searchsorted(np.array(evaluation.classes), np.array([y for _, y in pairs])).astype(np.int64)
        features, linear = _fit([t for t, _ in pairs], y, len(evaluation.classes))
        trained_at = utcnow().isoformat(timespec="seconds")
        return cls(
            features, linear, evaluation.classes, evaluation.temperature, evaluation.threshold, evaluation, trained_at
        )

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        top, probability = self.predict_arrays(texts)
        names = self._labels[top]
        # built column-wise by zip and map, in C: per-object Python code would cost more than the model
        pairs = [zip(names[:, i].tolist(), probability[:, i].tolist(), strict=True) for i in range(top.shape[1])]
        best = probability[:, 0]
        return list(
            map(
                Prediction,
                names[:, 0].tolist(),
                best.tolist(),
                zip(*pairs, strict=True),
                (best >= self.threshold).tolist(),
            )
        )

    def predict_arrays(self, texts: Sequence[str]) -> tuple[IntArray, FloatArray]:
        """The columnar form of :meth:`predict`, for bulk work: indices into ``classes`` of the
        best three (best first) and their probabilities, each of shape (len(texts), k ≤ 3)."""
        k = min(TOP, len(self.classes))
        top = np.empty((len(texts), k), dtype=np.int64)
        probability = np.empty((len(texts), k))
        for start in range(0, len(texts), _CHUNK):
            rows = slice(start, start + _CHUNK)
            top[rows], probability[rows] = self._top(texts[rows], k)
        return top, probability

    def _top(self, texts: Sequence[str], k: int) -> tuple[IntArray, FloatArray]:
        x = self.features.transform(texts)
        p = _probabilities(self.linear.margins(x).astype(np.float64), np.diff(x.indptr) == 0, self.temperature)
        rows = np.arange(len(p))
        top = np.empty((len(p), k), dtype=np.int64)
        picked = np.empty((len(p), k))
        for i in range(k):  # k argmax passes: cheaper than sorting every row
            top[:, i] = p.argmax(axis=1)
            picked[:, i] = p[rows, top[:, i]]
            p[rows, top[:, i]] = -1.0
        return top, picked

    # -- files -------------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """A numpy ``.npz`` archive of plain arrays and a JSON header (no pickled objects)."""
        header = {
            "format": FORMAT,
            "classes": list(self.classes),
            "max_n": self.features.max_n,
            "temperature": self.temperature,
            "threshold": self.threshold,
            "trained_at": self.trained_at,
            "evaluation": self.evaluation.to_dict(),
        }
        with path.open("wb") as f:
            np.savez(
                f,
                header=np.array(json.dumps(header, ensure_ascii=False)),
                vocabulary=self.features.vocabulary,
                idf=self.features.idf,
                coef=self.linear.coef,
                intercept=self.linear.intercept,
            )

    @classmethod
    def load(cls, path: Path) -> TextClassifier:
        """Read a model written by :meth:`save`. Loading runs no code from the file (no pickle),
        but only load models this platform trained: a crafted file could still claim any
        figures or make the process allocate without bound."""
        with np.load(path, allow_pickle=False) as archive:
            header = json.loads(str(archive["header"]))
            if header.get("format") != FORMAT:
                raise Invalid(f"{path.name} is not a {FORMAT} model", field="model")
            features = NgramTfidf(int(header["max_n"]), archive["vocabulary"], archive["idf"])
            linear = _Linear(archive["coef"], archive["intercept"])
        return cls(
            features,
            linear,
            tuple(header["classes"]),
            float(header["temperature"]),
            float(header["threshold"]),
            Evaluation.from_dict(header["evaluation"]),
            str(header["trained_at"]),
        )
