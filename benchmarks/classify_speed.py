"""Classification speed: batch and single predictions of ``chengguan.intake.classifier`` against
the same model built the usual scikit-learn way, on three workloads.

    .venv/bin/python benchmarks/classify_speed.py            # 200,000 texts per workload
    .venv/bin/python benchmarks/classify_speed.py --n 50000 --runs 3

Workloads (data in ../shared/data, see its SOURCES.txt):

- ``nyc``: NYC 311 ``Descriptor`` texts (16 characters on average); the model of 75 complaint
  types trained on the 4,905 usable rows.
- ``titles``: the 4,326 message titles of tipdm 附件3 (Chinese, 20 characters on average); the
  model of 7 一级分类 trained on the 495 labelled messages of 附件2.
- ``synth``: the 10,681 synthetic reports of ``benchmarks/dedup_synth.py`` (seed 0; hotline,
  app, WeChat and patrol wording, 34 characters on average) and their 14 小类: the texts the
  intake throughput benchmark feeds the pipeline.
- ``reports``: 附件3 title + message cut to 100 characters; 144 classes, the taxonomy's count of
  小类, with labels drawn at random (speed depends on text length, vocabulary and the number of
  classes, not on whether the labels are right).

Each workload's texts are repeated to ``--n``. Baselines, in the same run, fitted on the same
data: scikit-learn ``TfidfVectorizer(analyzer="char", ngram_range=(1, 2), min_df=2)`` +
``LinearSVC``, and ``HashingVectorizer`` (2^20 features) + ``TfidfTransformer`` + ``LinearSVC``;
both predict with ``decision_function``, a softmax and a top-3 sort, as the platform needs.

Correctness first: our features must equal those of ``TfidfVectorizer(...,
preprocessor=text_features.normalise)`` fitted on the same texts (same vocabulary, values within
1e-5 on 2,000 texts), or the script exits non-zero; how often the labels of the two models agree
is printed (liblinear's solution depends slightly on the column order).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.svm import LinearSVC

import dedup_synth  # benchmarks/, beside this script
from chengguan.intake.classifier import TextClassifier
from chengguan.intake.text_features import normalise

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TIPDM = DATA / "tipdm2020c"
NYC = DATA / "nyc311" / "nyc311_2023-02-28_oneday_4999.csv"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def nyc() -> tuple[list[str], list[str], list[str]]:
    rows = [r for r in _rows(NYC) if r["Descriptor"].strip()]
    texts, labels = [r["Descriptor"] for r in rows], [r["Complaint Type"] for r in rows]
    kept = {y for y in labels if labels.count(y) >= 5}  # what training keeps (5 folds)
    pairs = [(t, y) for t, y in zip(texts, labels, strict=True) if y in kept]
    return [t for t, _ in pairs], [y for _, y in pairs], texts


def titles() -> tuple[list[str], list[str], list[str]]:
    labelled = _rows(TIPDM / "messages_labeled_sample_附件2_495.csv")
    texts = [f"{r['留言主题']}\n{r['留言详情']}" for r in labelled]
    queries = [r["留言主题"] for r in _rows(TIPDM / "hot_messages_full_附件3_4326.csv")]
    return texts, [r["一级分类"] for r in labelled], queries


def reports() -> tuple[list[str], list[str], list[str]]:
    texts = [f"{r['留言主题']}\n{r['留言详情']}"[:100] for r in _rows(TIPDM / "hot_messages_full_附件3_4326.csv")]
    rng = random.Random(0)
    labels = [f"E{i % 144:04d}" for i in range(len(texts))]
    rng.shuffle(labels)
    return texts, labels, texts


def synth() -> tuple[list[str], list[str], list[str]]:
    reports = dedup_synth.generate(0)
    texts = [r.text for r in reports]
    return texts, [r.true_key for r in reports], texts


WORKLOADS: dict[str, Callable[[], tuple[list[str], list[str], list[str]]]] = {
    "nyc": nyc,
    "titles": titles,
    "synth": synth,
    "reports": reports,
}


def sklearn_tfidf(preprocessor: Callable[[str], str] | None = None) -> Pipeline:
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), min_df=2, preprocessor=preprocessor)
    return make_pipeline(vectorizer, LinearSVC(class_weight="balanced", random_state=0))


def sklearn_hashing() -> Pipeline:
    hashing = HashingVectorizer(analyzer="char", ngram_range=(1, 2), n_features=2**20, alternate_sign=False, norm=None)
    return make_pipeline(hashing, TfidfTransformer(), LinearSVC(class_weight="balanced", random_state=0))


def sklearn_top3(model: Pipeline, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """What a scikit-learn pipeline needs to give the platform's answer: probabilities, top 3."""
    margins = model.decision_function(texts)
    z = np.exp(margins - margins.max(axis=1, keepdims=True))
    p = z / z.sum(axis=1, keepdims=True)
    top = np.argsort(-p, axis=1)[:, :3]
    return top, np.take_along_axis(p, top, axis=1)


def same_features(ours: TextClassifier, same: Pipeline, texts: Sequence[str]) -> bool:
    vectorizer = same[0]
    if set(ours.features.terms()) != set(vectorizer.vocabulary_):
        return False
    columns = [vectorizer.vocabulary_[term] for term in ours.features.terms()]
    expected = vectorizer.transform(texts)[:, columns].toarray()
    return bool(np.allclose(ours.features.transform(texts).toarray(), expected, atol=1e-5))


def median_seconds(fn: Callable[[], Any], runs: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def latency_us(fn: Callable[[str], Any], texts: Sequence[str]) -> tuple[float, float]:
    """Median and 99th percentile of one call per text, in microseconds."""
    fn(texts[0])
    times = []
    for text in texts:
        start = time.perf_counter()
        fn(text)
        times.append(time.perf_counter() - start)
    times.sort()
    return statistics.median(times) * 1e6, times[int(len(times) * 0.99)] * 1e6


def run(name: str, n: int, runs: int) -> bool:
    texts, labels, queries = WORKLOADS[name]()
    batch = (queries * (n // len(queries) + 1))[:n]
    chars = sum(map(len, batch)) / len(batch)
    start = time.perf_counter()
    ours = TextClassifier.train(texts, labels)
    train_s = time.perf_counter() - start
    kept = [i for i, y in enumerate(labels) if y in set(ours.classes)]
    fit_texts, fit_labels = [texts[i] for i in kept], [labels[i] for i in kept]
    same = sklearn_tfidf(normalise).fit(fit_texts, fit_labels)
    plain = sklearn_tfidf().fit(fit_texts, fit_labels)
    hashing = sklearn_hashing().fit(fit_texts, fit_labels)
    with tempfile.TemporaryDirectory() as tmp:
        ours.save(Path(tmp) / "m.npz")
        size_mb = os.path.getsize(Path(tmp) / "m.npz") / 2**20

    sample = batch[:20_000]
    features_equal = same_features(ours, same, queries[:2000])
    agree = float(np.mean(np.array([p.label for p in ours.predict(sample)]) == same.predict(sample)))
    print(f"\n## {name}: {len(fit_texts):,} training texts, {len(ours.classes)} classes")
    print(f"- vocabulary {len(ours.features):,} n-grams (characters and pairs in at least 2 texts)")
    print(f"- batch of {n:,} texts, {chars:.1f} characters on average; model file {size_mb:.1f} MiB")
    print(f"- train (5-fold cross-validation + final fit): {train_s:.2f} s")
    print(f"- features equal to scikit-learn's: {features_equal}; labels agreeing: {agree:.2%} of {len(sample):,}")

    timings = {
        "chengguan predict_arrays": median_seconds(lambda: ours.predict_arrays(batch), runs),
        "chengguan predict (objects)": median_seconds(lambda: ours.predict(batch), runs),
        "sklearn TfidfVectorizer + LinearSVC": median_seconds(lambda: sklearn_top3(plain, batch), runs),
        "sklearn HashingVectorizer + LinearSVC": median_seconds(lambda: sklearn_top3(hashing, batch), runs),
    }
    base = timings["sklearn TfidfVectorizer + LinearSVC"]
    print("\n| method | median s | texts/s | vs sklearn TF-IDF |\n| --- | ---: | ---: | ---: |")
    for method, seconds in timings.items():
        print(f"| {method} | {seconds:.3f} | {n / seconds:,.0f} | {base / seconds:.1f}× |")
    singles = queries[:2000]
    ours_med, ours_p99 = latency_us(lambda t: ours.predict([t]), singles)
    sk_med, sk_p99 = latency_us(lambda t: sklearn_top3(plain, [t]), singles)
    print(f"\nsingle text (2,000 calls): chengguan median {ours_med:.0f} µs, p99 {ours_p99:.0f} µs; ")
    print(f"sklearn median {sk_med:.0f} µs, p99 {sk_p99:.0f} µs")
    return features_equal


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000, help="texts per batch")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per method (median reported)")
    parser.add_argument("--workload", choices=sorted(WORKLOADS), action="append", help="default: all")
    args = parser.parse_args()
    print(f"# classify_speed {dt.date.today()}, load average {os.getloadavg()[0]:.2f}")
    ok = [run(name, args.n, args.runs) for name in args.workload or WORKLOADS]
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}")
    if not all(ok):
        sys.exit("features differ from scikit-learn's: the feature code is wrong")


if __name__ == "__main__":
    main()
