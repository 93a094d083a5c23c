"""Duplicate detection quality: precision and recall on a labelled synthetic set and on the
TipDM 2020 hot messages (identical titles mark duplicates).

    .venv/bin/python benchmarks/dedup_quality.py              # synthetic test seed 2 + tipdm
    .venv/bin/python benchmarks/dedup_quality.py --seed 1     # the seed the defaults were chosen on
    .venv/bin/python benchmarks/dedup_quality.py --review 20  # tipdm pairs above merge_at with different titles

Two kinds of figures:

* **Decisions** (synthetic): reports go through ``DedupIndex`` + ``decide`` in time order, as in
  the bulk pipeline. A report is a *duplicate* if an earlier report of its problem exists. A merge
  is right if the event was opened by a report of the same problem. The clerk is simulated as
  perfect: a suggestion listing the right event is merged there, any other becomes a new event.
  merge precision = right merges / merges; merge recall = right merges / duplicates; suggestion
  hit rate = suggestions listing the right event / suggestions; caught = (right merges + right
  suggestions) / duplicates; load = suggestions per 100 reports.
* **Pairs** (text options, tipdm): every pair the pipeline would compare; positive if same
  problem (synthetic) or same title (tipdm); predicted if the similarity or score ≥ t.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import re
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from rapidfuzz.distance import Indel

from chengguan.intake.dedup import (
    Action,
    Candidate,
    DedupConfig,
    DedupIndex,
    Query,
    Weights,
    decide,
    distance_m,
    major_key,
    normalise,
    similarity,
)
from dedup_synth import SynthReport, generate

TIPDM = Path(__file__).resolve().parents[2] / "shared/data/tipdm2020c/hot_messages_full_附件3_4326.csv"
THRESHOLDS = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.875, 0.9, 0.95)
Similarity = Callable[[str, str], float]


def bigram_overlap(a: str, b: str) -> float:
    """Shared character bigrams over the smaller set (an option compared, 30× slower than LCS)."""
    x, y = set(map(str.__add__, a, a[1:])), set(map(str.__add__, b, b[1:]))
    return len(x & y) / max(min(len(x), len(y)), 1)


TEXT_OPTIONS: dict[str, Similarity] = {
    "LCS / shorter (chosen)": similarity,
    "Indel ratio (rapidfuzz fuzz.ratio)": Indel.normalized_similarity,
    "bigram overlap": bigram_overlap,
}


# -- decisions on the synthetic set ----------------------------------------------------------------


@dataclass
class Tally:
    reports: int = 0
    duplicates: int = 0
    merges: int = 0
    right_merges: int = 0
    suggestions: int = 0
    right_suggestions: int = 0
    wrong: Counter[str] = field(default_factory=Counter)  # wrong merges: event's family → report's family
    missed: Counter[str] = field(default_factory=Counter)  # duplicates neither merged nor suggested right, why

    def row(self) -> str:
        p = self.right_merges / max(self.merges, 1)
        r = self.right_merges / max(self.duplicates, 1)
        hit = self.right_suggestions / max(self.suggestions, 1)
        caught = (self.right_merges + self.right_suggestions) / max(self.duplicates, 1)
        load = 100 * self.suggestions / max(self.reports, 1)
        return f"{p:9.3f} {r:8.3f} {self.merges - self.right_merges:6d} {hit:9.3f} {caught:7.3f} {load:6.1f}"


HEADER = "merge P  merge R  wrong  sugg. hit  caught  load"


def run_stream(reports: Sequence[SynthReport], config: DedupConfig) -> Tally:
    index = DedupIndex(config)
    founder: dict[int, SynthReport] = {}
    first: dict[int, SynthReport] = {}
    tally = Tally(reports=len(reports))
    for report in reports:
        query = Query(report.category_key, report.lon, report.lat, report.at, normalise(report.text))
        decision = index.decide(query)
        duplicate = report.problem in first
        tally.duplicates += duplicate
        right = [s.candidate for s in decision.scores if founder[s.candidate.event_id].problem == report.problem]
        if decision.action is Action.MERGE:
            target = decision.target
            assert target is not None
            tally.merges += 1
            if founder[target.event_id].problem == report.problem:
                tally.right_merges += 1
            else:
                tally.wrong[f"{founder[target.event_id].family} ← {report.family}"] += 1
            index.merge(target, report.at)
            continue
        listed = [s.candidate for s in decision.suggestions if s.candidate in right]
        tally.suggestions += decision.action is Action.SUGGEST
        if listed:
            tally.right_suggestions += 1
            index.merge(listed[0], report.at)
            continue
        if duplicate:
            tally.missed[_why_missed(report, first[report.problem], right, config)] += 1
        else:
            first[report.problem] = report
        event_id = len(founder)
        founder[event_id] = report
        index.add(Candidate(event_id, report.category_key, report.lon, report.lat, report.at, report.at, query.text))
    return tally


def _why_missed(report: SynthReport, first: SynthReport, right: list[Candidate], config: DedupConfig) -> str:
    if right:
        return "scored below suggest_at"
    if major_key(report.category_key) != major_key(first.category_key):
        return "classified into another 大类"
    if distance_m(report.lon, report.lat, first.lon, first.lat) > config.limits.radius_m:
        return "beyond the radius"
    return "outranked, or its event is not eligible (radius/大类 of the event's first report)"


def synthetic(seed: int, config: DedupConfig) -> None:
    reports = generate(seed)
    problems = {r.problem for r in reports}
    families = Counter(r.family for r in reports)
    print(f"\n## Synthetic set, seed {seed}: {len(reports):,} reports of {len(problems):,} problems")
    print("reports by family: " + ", ".join(f"{k} {v:,}" for k, v in families.most_common()))
    print(
        "reports by channel: " + ", ".join(f"{k} {v:,}" for k, v in Counter(r.channel for r in reports).most_common())
    )

    tally = run_stream(reports, config)
    print(f"\nDefaults ({_describe(config)}): {tally.duplicates:,} duplicates")
    print(f"{HEADER}\n{tally.row()}")
    print("wrong merges (event ← report): " + ", ".join(f"{k} {v}" for k, v in tally.wrong.most_common()))
    print("duplicates missed: " + ", ".join(f"{k} {v}" for k, v in tally.missed.most_common()))

    print(f"\nmerge_at (suggest_at {config.suggest_at}):  {HEADER}")
    for merge_at in (0.75, 0.8, 0.825, 0.85, 0.875, 0.9, 0.925, 0.95):
        cfg = replace(config, merge_at=merge_at, suggest_at=min(config.suggest_at, merge_at))
        print(f"{merge_at:>27}  {run_stream(reports, cfg).row()}")
    print(f"\nsuggest_at (merge_at {config.merge_at}):  {HEADER}")
    for suggest_at in (0.6, 0.65, 0.7, 0.75, 0.8):
        print(f"{suggest_at:>27}  {run_stream(reports, replace(config, suggest_at=suggest_at)).row()}")

    print("\nBaselines, same run (each at its own merge_at; suggest_at = merge_at - 0.15):")
    print(f"{'':44}{HEADER}")
    baselines = {
        "text only": Weights(1, 0, 0, 0),
        "place, time, category only (no text)": Weights(0, 0.2, 0.3, 0.2),
    }
    for name, weights in baselines.items():
        for merge_at in (0.8, 0.9):
            cfg = replace(config, weights=weights, merge_at=merge_at, suggest_at=merge_at - 0.15)
            print(f"{name:36} {merge_at:5}  {run_stream(reports, cfg).row()}")

    print("\nText similarity alone, over the pairs the rules let through (same 大类, radius, window):")
    pairs = _synthetic_pairs(reports, config)
    print(f"{len(pairs):,} pairs, {sum(p for _, _, p in pairs):,} of the same problem")
    _text_options([(a.text, b.text, same) for a, b, same in pairs])


def _synthetic_pairs(
    reports: Sequence[SynthReport], config: DedupConfig
) -> list[tuple[SynthReport, SynthReport, bool]]:
    window = config.limits.window
    pairs = []
    for i, report in enumerate(reports):
        for j in range(i - 1, -1, -1):
            other = reports[j]
            if report.at - other.at > window:
                break
            if major_key(other.category_key) != major_key(report.category_key):
                continue
            if distance_m(report.lon, report.lat, other.lon, other.lat) <= config.limits.radius_m:
                pairs.append((other, report, other.problem == report.problem))
    return pairs


# -- pairs: text options and tipdm ------------------------------------------------------------------


def _text_options(pairs: Sequence[tuple[str, str, bool]]) -> None:
    thresholds = THRESHOLDS[:-1]
    print(f"{'':44}" + "".join(f"{t:>12}" for t in thresholds) + "   (precision / recall)")
    for boilerplate in (True, False):
        texts = {t: normalise(t, strip_boilerplate=boilerplate) for a, b, _ in pairs for t in (a, b)}
        for name, fn in TEXT_OPTIONS.items():
            scores = [(fn(texts[a], texts[b]), same) for a, b, same in pairs]
            label = f"{name}{'' if boilerplate else ', boilerplate kept'}"
            print(f"{label:44}" + "".join(f"{_pr(scores, t):>12}" for t in thresholds))


def _pr(scores: Sequence[tuple[float, bool]], threshold: float) -> str:
    hits = [same for value, same in scores if value >= threshold]
    positives = sum(same for _, same in scores)
    return f"{sum(hits) / max(len(hits), 1):.2f}/{sum(hits) / max(positives, 1):.2f}"


@dataclass(frozen=True)
class Message:
    title: str
    text: str
    at: dt.datetime


def load_tipdm(path: Path) -> list[Message]:
    with path.open(encoding="utf-8") as f:
        return [Message(row["留言主题"], row["留言详情"], _parse_time(row["留言时间"])) for row in csv.DictReader(f)]


def _parse_time(value: str) -> dt.datetime:
    """The sheet mixes 2019/2/28 11:25:05 and 2019-06-20 20:38:47 (seconds sometimes missing)."""
    value = re.sub(r"[/]", "-", value.strip())
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            return dt.datetime.strptime(value, fmt).replace(tzinfo=dt.UTC)
        except ValueError:
            continue
    raise ValueError(value)


def tipdm(path: Path, config: DedupConfig, review: int) -> None:
    messages = sorted(load_tipdm(path), key=lambda m: m.at)
    window = config.limits.window
    pairs = [(a, b) for i, a in enumerate(messages) for b in _until(messages, i + 1, a.at + window)]
    same_title = Counter(m.title for m in messages)
    all_positive = sum(n * (n - 1) // 2 for n in same_title.values())
    positive = sum(a.title == b.title for a, b in pairs)
    print(f"\n## TipDM 2020 C, 附件3: {len(messages):,} messages, {len(same_title):,} distinct titles")
    print(
        f"same-title pairs: {all_positive} in all, {positive} within {_hours(window)} h of each other; "
        f"{len(pairs):,} pairs within the window (the pipeline compares no others)"
    )
    print("Compared: 留言详情 only (the title is the label). The data has no coordinates and no 小类, so the")
    print("distance and category parts are left out of the score (weight 0: it is the weighted mean of text and")
    print("time) and nothing blocks by place: every pair within the window is a candidate, where the pipeline")
    print("would compare only events within 200 m of the same 大类. Precision is therefore a lower bound.")
    print("\nText similarity alone:")
    _text_options([(a.text, b.text, a.title == b.title) for a, b in pairs])

    texts = {m.text: normalise(m.text) for m in messages}
    w = config.weights
    unplaced = replace(config, weights=Weights(text=w.text, distance=0, time=w.time, category=0))
    # one spot and one 小类 for all: with those parts weighted 0 they only keep every pair eligible
    scored = []
    for a, b in pairs:
        event = Candidate(0, "E0101", 116.4, 39.9, a.at, a.at, texts[a.text])
        query = Query("E0101", 116.4, 39.9, b.at, texts[b.text])
        scored.append((decide(query, [event], unplaced), a, b))
    print(f"\nScore of text and time only ({_describe(unplaced)}):")
    print(f"{'':20}{'pairs':>7} {'precision':>10} {'recall (window)':>16} {'recall (all)':>13}")
    for merge_at in THRESHOLDS:
        hits = [a.title == b.title for d, a, b in scored if d.best is not None and d.best.value >= merge_at]
        right = sum(hits)
        mark = {config.merge_at: "  ← merge_at", config.suggest_at: "  ← suggest_at"}.get(merge_at, "")
        print(
            f"  score ≥ {merge_at:<10}{len(hits):7} {right / max(len(hits), 1):10.3f} "
            f"{right / max(positive, 1):16.3f} {right / all_positive:13.3f}{mark}"
        )
    false = [(d, a, b) for d, a, b in scored if d.action is Action.MERGE and a.title != b.title]
    near_identical = sum(similarity(texts[a.text], texts[b.text]) >= 0.9 for _, a, b in false)
    print(f"  merges with different titles: {len(false)}, of them {near_identical} with text similarity ≥ 0.9")
    if review:
        print(f"\n{review} of them at random (seed 7), to judge by eye (the first 60 characters of each):")
        for n, (d, a, b) in enumerate(random.Random(7).sample(false, min(review, len(false))), 1):
            print(f"{n:3}. {d.best.value if d.best else 0:.2f}  {a.title} | {b.title}")
            print(f"        {a.text[:60]}\n        {b.text[:60]}")


def _until(messages: Sequence[Message], start: int, end: dt.datetime) -> list[Message]:
    out = []
    for m in messages[start:]:
        if m.at > end:
            break
        out.append(m)
    return out


# -- plumbing --------------------------------------------------------------------------------------


def _hours(span: dt.timedelta) -> str:
    return f"{span.total_seconds() / 3600:.0f}"


def _describe(config: DedupConfig) -> str:
    w = config.weights
    return (
        f"weights text {w.text}, distance {w.distance}, time {w.time}, category {w.category}; "
        f"merge_at {config.merge_at}, suggest_at {config.suggest_at}; {config.limits.radius_m:.0f} m, "
        f"{_hours(config.limits.window)} h"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2, help="synthetic set (the defaults were chosen on seed 1)")
    parser.add_argument("--review", type=int, default=0, help="print this many tipdm false merges")
    parser.add_argument("--tipdm", type=Path, default=TIPDM)
    args = parser.parse_args()
    config = DedupConfig()
    print(f"{dt.date.today()}  python {sys.version.split()[0]}")
    synthetic(args.seed, config)
    tipdm(args.tipdm, config, args.review)


if __name__ == "__main__":
    main()
