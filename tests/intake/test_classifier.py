"""The text classifier as a pure library: features, training, prediction, evaluation, files."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from chengguan.errors import Invalid
from chengguan.intake.classifier import TextClassifier, choose_threshold, cross_validate
from chengguan.intake.text_features import MAX_CHARS, KeyTable, NgramTfidf, normalise
from tests.intake.classifier_fixtures import UNSEEN, labelled


@pytest.fixture(scope="module")
def model() -> TextClassifier:
    texts, labels = labelled(30)
    return TextClassifier.train(texts, labels)


# -- features --------------------------------------------------------------------------------


@pytest.mark.parametrize("max_n", [1, 2, 3])
def test_features_equal_sklearn_tfidf(max_n: int) -> None:
    texts, _ = labelled(10)
    texts += ["路灯路灯路灯不亮", "ＡＢＣ  abc\n\n路灯", "⑴井盖丢失\u3000\t路灯", "路灯" * MAX_CHARS]
    ours = NgramTfidf.fit(texts, max_n=max_n, min_df=2)
    theirs = TfidfVectorizer(analyzer="char", ngram_range=(1, max_n), min_df=2, preprocessor=normalise).fit(texts)
    columns = [theirs.vocabulary_[term] for term in ours.terms()]
    assert sorted(columns) == list(range(len(theirs.vocabulary_)))
    expected = theirs.transform(texts).toarray()[:, columns]
    assert np.allclose(ours.transform(texts).toarray(), expected, atol=1e-6)


def test_normalise_is_nfkc_and_lower_case_with_white_space_squeezed() -> None:
    text = "Ａ市⼈⾏道，占道经营！ Loud  Music\n\t"
    assert normalise(text) == "a市人行道,占道经营! loud music "
    assert normalise("50㎡⑴Ⅻ") == "50㎡⑴ⅻ"  # several characters in NFKC: only lower-cased
    assert normalise("a\nb") == "a\nb" and normalise("路" * (MAX_CHARS + 1)) == "路" * MAX_CHARS


def test_ngrams_never_span_two_texts_and_fullwidth_equals_ascii() -> None:
    features = NgramTfidf.fit(["abcd"], max_n=2, min_df=1)
    assert features.terms() == ["a", "b", "c", "d", "ab", "bc", "cd"]
    joined = features.transform(["abcd"])
    apart = features.transform(["ab", "cd"])
    assert joined.nnz == 7 and apart.nnz == 6  # "bc" would span the two texts
    assert (features.transform(["ＡＢｃｄ"]) != joined).nnz == 0  # NFKC, then lower case


def test_characters_fold_to_their_nfkc_lower_case_form() -> None:
    features = NgramTfidf.fit(["人行道，占道经营 abc"], max_n=1, min_df=1)
    folded = features.transform(["⼈⾏道,占道经营 ABC"])  # Kangxi radicals, ASCII comma, capitals
    assert (folded != features.transform(["人行道，占道经营 abc"])).nnz == 0
    assert folded.nnz == len(features)
    assert features.transform(["\ud800人"]).nnz == 1  # a lone surrogate is just an unknown character


def test_long_texts_are_cut_and_separator_characters_are_harmless() -> None:
    features = NgramTfidf.fit(["路灯不亮", "井盖丢失"], max_n=2, min_df=1)
    x = features.transform(["路灯\x00不亮", "井" * (MAX_CHARS + 500) + "盖", "", "路灯 不亮"])
    assert x.shape == (4, len(features))
    assert (x[0] != x[3]).nnz == 0  # the NUL is read as a space
    assert x[1].nnz == 1  # cut before the 盖: only 井
    assert x[2].nnz == 0


def test_min_df_and_max_features_bound_the_vocabulary() -> None:
    texts = ["甲乙", "甲丙", "甲丁"]
    assert len(NgramTfidf.fit(texts, max_n=2, min_df=2)) == 1  # only 甲 is in two texts
    assert NgramTfidf.fit(texts, max_n=2, min_df=1, max_features=3).terms() == ["丁", "丙", "甲"]  # df, then key
    with pytest.raises(ValueError, match="1 to 3 characters"):
        NgramTfidf.fit(texts, max_n=4)


def test_key_table_finds_every_key_and_nothing_else() -> None:
    rng = np.random.default_rng(0)
    keys = np.unique(rng.integers(2, 2**62, 5000))
    table = KeyTable(keys)
    probe = np.concatenate([keys, rng.integers(2, 2**62, 5000), [0, 1]])
    expect = {int(k): i for i, k in enumerate(keys)}
    assert table.lookup(probe).tolist() == [expect.get(int(k), -1) for k in probe]


# -- threshold ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "threshold"),
    [(0.9, 0.8), (0.75, 0.6), (1.0, 0.8), (0.5, 0.6)],
)
def test_threshold_keeps_as_many_as_reach_the_precision(target: float, threshold: float) -> None:
    probability = np.array([0.6, 0.9, 0.7, 0.8])
    correct = np.array([True, True, False, True])
    assert choose_threshold(probability, correct, target) == threshold


def test_threshold_is_one_when_unattainable_and_never_splits_ties() -> None:
    assert choose_threshold(np.array([0.9, 0.5]), np.array([False, True]), 0.9) == 1.0
    assert choose_threshold(np.array([0.9, 0.9, 0.4]), np.array([True, False, True]), 0.9) == 1.0


# -- training and prediction -----------------------------------------------------------------


def test_unseen_wordings_get_the_right_category_confidently(model: TextClassifier) -> None:
    predictions = model.predict([text for text, _ in UNSEEN])
    assert [p.label for p in predictions] == [key for _, key in UNSEEN]
    assert all(p.confident and p.probability >= model.threshold for p in predictions)


def test_top3_is_ordered_and_starts_with_the_label(model: TextClassifier) -> None:
    for p in model.predict(["路灯不亮", "垃圾", "", "完全无关的一句话"]):
        assert len(p.top3) == 3 and p.top3[0] == (p.label, p.probability)
        probs = [q for _, q in p.top3]
        assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-9
        assert len({label for label, _ in p.top3}) == 3
        assert p.confident == (p.probability >= model.threshold)


def test_a_text_with_no_known_ngram_gets_equal_probabilities(model: TextClassifier) -> None:
    (p,) = model.predict(["zzzz"])
    assert not p.confident and p.probability == pytest.approx(1 / len(model.classes))
    assert [q for _, q in p.top3] == [p.probability] * 3


def test_batches_give_what_single_predictions_give(model: TextClassifier) -> None:
    texts, _ = labelled(1300, seed=7)  # 5,200 texts: more than one chunk
    batch = model.predict(texts)
    assert batch[:50] == [model.predict([t])[0] for t in texts[:50]]
    assert batch[-50:] == [model.predict([t])[0] for t in texts[-50:]]
    assert model.predict([]) == []
    top, probability = model.predict_arrays(texts[:10])
    assert top.shape == probability.shape == (10, 3)
    assert [model.classes[i] for i in top[:, 0]] == [p.label for p in batch[:10]]


def test_two_labels_work(model: TextClassifier) -> None:
    texts, labels = labelled(12)
    pairs = [(t, y) for t, y in zip(texts, labels, strict=True) if y in {"C0116", "E0502"}]
    binary = TextClassifier.train([t for t, _ in pairs], [y for _, y in pairs])
    assert binary.classes == ("C0116", "E0502")
    (lamp, stall) = binary.predict(["路灯晚上不亮", "卖水果的摊贩占道"])
    assert lamp.label == "C0116" and stall.label == "E0502"
    assert len(lamp.top3) == 2 and lamp.top3[0][1] + lamp.top3[1][1] == pytest.approx(1.0)


def test_a_given_threshold_is_kept_and_measured(model: TextClassifier) -> None:
    texts, labels = labelled(10)
    strict = TextClassifier.train(texts, labels, threshold=0.999)
    assert strict.threshold == strict.evaluation.threshold == 0.999
    predictions = strict.predict([text for text, _ in UNSEEN])
    assert [p.confident for p in predictions] == [p.probability >= 0.999 for p in predictions]
    assert strict.evaluation.confident_share <= model.evaluation.confident_share


def test_refuses_too_few_labels_and_mismatched_lengths() -> None:
    with pytest.raises(Invalid, match="at least two labels"):
        TextClassifier.train(["路灯不亮"] * 10, ["C0116"] * 10)
    with pytest.raises(Invalid, match="at least two labels"):
        TextClassifier.train(["路灯不亮", "井盖丢失"] * 3, ["C0116", "C0101"] * 2 + ["C0116", "E0101"])
    with pytest.raises(Invalid, match="3 texts but 2 labels"):
        TextClassifier.train(["a", "b", "c"], ["x", "y"])


# -- evaluation ----------------------------------------------------------------------------------


def test_cross_validation_figures_and_majority_baseline() -> None:
    texts, labels = labelled(20)
    texts += ["一个很少见的问题"] * 3 + ["另一件事"] * 6
    labels += ["E0999"] * 3 + ["E0108"] * 6  # E0108 has 6 samples: kept; E0999 has 3: dropped
    e = cross_validate(texts, labels, folds=5, seed=1)
    assert e.dropped == {"E0999": 3} and "E0999" not in e.classes and len(e.classes) == 5
    assert e.samples == 86 == sum(map(sum, e.confusion)) == sum(c.support for c in e.per_class)
    majority, count = Counter(y for y in labels if y != "E0999").most_common(1)[0]
    assert e.majority_label == majority and e.majority_accuracy == pytest.approx(count / 86)
    assert e.majority_macro_f1 < e.macro_f1 and e.accuracy > 0.9 and e.top3_accuracy >= e.accuracy
    assert e.confident_accuracy >= e.target_precision and 0 < e.confident_share <= 1
    assert e.clerk_share == pytest.approx(1 - e.confident_share)
    diagonal = sum(e.confusion[i][i] for i in range(len(e.classes)))
    assert e.accuracy == pytest.approx(diagonal / e.samples)
    again = cross_validate(texts, labels, folds=5, seed=1)
    assert again == e  # deterministic for a seed


# -- files ---------------------------------------------------------------------------------------


def test_save_and_load_give_the_same_model(model: TextClassifier, tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    model.save(path)
    loaded = TextClassifier.load(path)
    texts, _ = labelled(5, seed=3)
    assert loaded.predict(texts) == model.predict(texts)
    assert loaded.classes == model.classes and loaded.threshold == model.threshold
    assert loaded.evaluation == model.evaluation and loaded.trained_at == model.trained_at


def test_load_refuses_files_that_are_not_models(tmp_path: Path) -> None:
    other = tmp_path / "other.npz"
    with other.open("wb") as f:
        np.savez(f, header=np.array(json.dumps({"format": "something-else"})))
    with pytest.raises(Invalid, match="not a chengguan-text-classifier"):
        TextClassifier.load(other)
    pickled = tmp_path / "pickled.npz"
    with pickled.open("wb") as f:
        np.savez(f, header=np.array([{"format": "x"}], dtype=object))
    with pytest.raises(ValueError, match="allow_pickle"):
        TextClassifier.load(pickled)
