"""Duplicate detection: text, blocking keys, scores, decisions, and the in-memory index checked
against the plain ``decide`` over every event (its own candidates are only a superset)."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chengguan.errors import Invalid
from chengguan.intake.dedup import (
    M_PER_DEGREE,
    MAX_TEXT,
    Action,
    Candidate,
    Decision,
    DedupConfig,
    DedupIndex,
    Limits,
    Query,
    Weights,
    bucket,
    decide,
    distance_m,
    neighbour_buckets,
    normalise,
    score,
    similarity,
)

T0 = dt.datetime(2026, 5, 4, 9, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
LON, LAT = 116.4, 39.9
CONFIG = DedupConfig()


def east(metres: float, lat: float = LAT) -> float:
    """Degrees of longitude for ``metres`` eastwards at ``lat``."""
    return metres / (M_PER_DEGREE * math.cos(math.radians(lat)))


def query(
    text: str = "建国路光华路口东南角有人摆摊卖水果", key: str = "E0502", metres: float = 0.0, at: dt.datetime = T0
) -> Query:
    return Query(key, LON + east(metres), LAT, at, normalise(text))


def event(
    event_id: int = 1,
    text: str = "光华路建国路路口东南水果摊占道经营",
    key: str = "E0502",
    metres: float = 0.0,
    at: dt.datetime = T0 - HOUR,
    last_at: dt.datetime | None = None,
) -> Candidate:
    return Candidate(event_id, key, LON + east(metres), LAT, at, last_at or at, normalise(text))


# -- text -------------------------------------------------------------------------------------------


def test_normalise_folds_width_and_case_and_drops_punctuation_and_boilerplate():
    assert normalise("您好！ＡＢ路１２号，垃圾桶满了。请尽快处理，谢谢！") == "ab路12号垃圾桶满了"
    assert normalise("市民来电反映：尊敬的王书记：路口有人烧烤") == "路口有人烧烤"
    assert normalise("您好！路口有人烧烤", strip_boilerplate=False) == "您好路口有人烧烤"
    assert len(normalise("路" * 500)) == MAX_TEXT


def test_similarity_is_the_share_of_the_shorter_text_found_in_order():
    long = normalise("市民来电反映：广渠路与安苑路交叉口东南角烤红薯摊占道经营，老人孩子走路很危险")
    assert similarity(long, long) == 1.0
    assert similarity("东南角烤红薯摊占道经营", long) == 1.0  # a terse report of the same stall
    assert similarity("东南角烤红薯摊", "西北角卖煎饼的") < 0.3
    # a very short text counts as 8 characters: "垃圾" alone is not a match for every rubbish report
    assert similarity("垃圾", "小区门口垃圾堆了好几天") == 2 / 8


# -- places ----------------------------------------------------------------------------------------


def test_distance_matches_haversine_at_city_scale():
    def haversine(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
        p1, p2 = math.radians(lat1), math.radians(lat2)
        dp, dl = p2 - p1, math.radians(lon2 - lon1)
        h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
        return 2 * 6_371_008.8 * math.asin(math.sqrt(h))

    for dlon, dlat in [(0.002, 0.0), (0.0, 0.0018), (0.0015, -0.001), (0.02, 0.02)]:
        exact = haversine(LON, LAT, LON + dlon, LAT + dlat)
        assert distance_m(LON, LAT, LON + dlon, LAT + dlat) == pytest.approx(exact, rel=1e-4)


@settings(max_examples=300, deadline=None)
@given(
    lon=st.floats(73.5, 135.0),
    lat=st.floats(18.0, 53.5),
    bearing=st.floats(0, 2 * math.pi),
    fraction=st.floats(0, 1),
    radius=st.sampled_from([50.0, 199.0, 200.0, 450.0]),
    size=st.sampled_from([100.0, 200.0, 500.0]),
)
def test_neighbour_buckets_hold_every_point_within_the_radius(lon, lat, bearing, fraction, radius, size):
    d = radius * fraction
    lat2 = lat + d * math.sin(bearing) / M_PER_DEGREE
    lon2 = lon + east(d * math.cos(bearing), (lat + lat2) / 2)
    if distance_m(lon, lat, lon2, lat2) <= radius:
        assert bucket(lon2, lat2, size) in neighbour_buckets(lon, lat, radius, size)


def test_a_radius_no_larger_than_the_bucket_reads_at_most_nine_buckets():
    keys = neighbour_buckets(LON, LAT, 200.0, 200.0)
    assert len(keys) <= 9
    assert bucket(LON, LAT, 200.0) in keys
    assert len(neighbour_buckets(LON, LAT, 1_000.0, 200.0)) > 9


# -- scores and decisions --------------------------------------------------------------------------


def test_score_parts_and_reason():
    s = score(query(metres=0), event(metres=40), CONFIG)
    assert s.eligible and s.same_category
    assert s.distance_m == pytest.approx(40, abs=0.01)
    assert s.gap_h == pytest.approx(1.0)
    assert s.text is not None and 0 < s.text < 1
    w = CONFIG.weights
    expected = (w.text * s.text + w.distance * (1 - 40 / 200) + w.time * (1 - 1 / 72) + w.category) / 1.0
    assert s.value == pytest.approx(expected)
    assert "40 m, 1.0 h apart" in s.explain() and "距离 40 米，间隔 1.0 小时" in s.explain()


def test_the_same_report_again_scores_one():
    text = "建国路光华路口东南角有人摆摊卖水果"
    assert score(query(text), event(text=text, at=T0), CONFIG).value == pytest.approx(1.0)


def test_eligible_only_within_the_radius_the_window_and_the_same_major_category():
    assert not score(query(), event(metres=201), CONFIG).eligible
    assert not score(query(), event(at=T0 - 73 * HOUR), CONFIG).eligible
    assert not score(query(key="E0101"), event(key="E0502"), CONFIG).eligible
    sibling = score(query(key="E0501"), event(key="E0502"), CONFIG)
    assert sibling.eligible and not sibling.same_category


def test_the_window_runs_from_the_events_last_report():
    long_running = event(at=T0 - 200 * HOUR, last_at=T0 - 10 * HOUR)
    assert score(query(), long_running, CONFIG).gap_h == pytest.approx(10)
    inside = event(at=T0 - 2 * HOUR, last_at=T0 + HOUR)  # a back-filled report inside the span
    assert score(query(), inside, CONFIG).gap_h == 0


def test_reports_without_text_are_judged_on_place_time_and_category():
    camera = Query("E0502", LON, LAT, T0, "")
    s = score(camera, event(at=T0), CONFIG)
    assert s.text is None
    assert s.value == pytest.approx(1.0)  # the other weights carry the mean
    assert "no text" in s.explain() and "无文本" in s.explain()
    assert decide(camera, [event(at=T0)], CONFIG).action is Action.MERGE


def test_decide_merges_suggests_or_opens_a_new_event():
    same = "建国路光华路口东南角有人摆摊卖水果"
    merged = decide(query(same), [event(1, same, metres=10), event(2, "西门有人卖煎饼", metres=150)], CONFIG)
    assert merged.action is Action.MERGE
    assert merged.target is not None and merged.target.event_id == 1
    assert merged.reason.startswith("Merged: score") and "合并：得分" in merged.reason
    assert merged.suggestions == ()

    far_and_late = decide(query(same), [event(text=same, metres=100, at=T0 - 30 * HOUR)], CONFIG)
    assert far_and_late.action is Action.SUGGEST
    assert far_and_late.target is None and len(far_and_late.suggestions) == 1
    assert "疑似重复" in far_and_late.reason

    unrelated = decide(
        query(same), [event(text="小区西门垃圾桶满了", key="E0505", metres=190, at=T0 - 70 * HOUR)], CONFIG
    )
    assert unrelated.action is Action.NEW and unrelated.best is not None
    assert unrelated.reason.startswith("New event, best: score")

    alone = decide(query(same), [event(metres=500)], CONFIG)
    assert alone.action is Action.NEW and alone.scores == ()
    assert "附近无同大类的未结事件" in alone.reason


def test_suggestions_are_the_best_few_in_the_band():
    config = DedupConfig(merge_at=0.99, suggest_at=0.5, max_suggestions=2)
    events = [event(i, metres=20 * i) for i in range(1, 6)]
    decision = decide(query(), events, config)
    assert decision.action is Action.SUGGEST
    assert [s.candidate.event_id for s in decision.suggestions] == [1, 2]


def test_overrides_by_subcategory_then_major_category():
    config = DedupConfig(overrides={"E0502": Limits(radius_m=50), "E05": Limits(radius_m=400, window=6 * HOUR)})
    assert config.limits_for("E0502").radius_m == 50
    assert config.limits_for("E0505").radius_m == 400
    assert config.limits_for("E0101") == Limits()
    assert not score(query(key="E0502"), event(metres=100), config).eligible
    assert score(query(key="E0505"), event(key="E0505", metres=300), config).eligible
    assert not score(query(key="E0505"), event(key="E0505", at=T0 - 7 * HOUR), config).eligible


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: DedupConfig(merge_at=0.5, suggest_at=0.6), "merge_at"),
        (lambda: DedupConfig(max_suggestions=0), "max_suggestions"),
        (lambda: DedupConfig(bucket_m=0), "bucket_m"),
        (lambda: Limits(radius_m=0), "radius_m"),
        (lambda: Limits(window=dt.timedelta(0)), "window"),
        (lambda: Weights(text=-1), "weights.text"),
        (lambda: Weights(0, 0, 0, 0), "weights"),
    ],
)
def test_bad_settings_are_refused_with_the_field(make, field):
    with pytest.raises(Invalid) as error:
        make()
    assert error.value.field == field


def test_naive_times_are_refused():
    with pytest.raises(Invalid):
        decide(Query("E0502", LON, LAT, dt.datetime(2026, 5, 4), "x"), [], CONFIG)
    with pytest.raises(Invalid):
        DedupIndex(CONFIG, [Candidate(1, "E0502", LON, LAT, dt.datetime(2026, 5, 4), T0, "x")])


# -- the index ---------------------------------------------------------------------------------------

WORDS = ["建国路", "光华路", "东南角", "西门", "水果", "煎饼", "摆摊", "占道经营", "垃圾", "满溢", "噪音", "施工", ""]
KEYS = ["E0502", "E0501", "E0505", "E0101", "E0106", "E0302", "C0102"]


def random_stream(seed: int, n: int) -> list[Query]:
    """Reports crowded into a few hundred metres and a few days, so that every rule matters."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        text = "".join(rng.choice(WORDS) for _ in range(rng.randrange(0, 5)))
        at = T0 + dt.timedelta(minutes=20 * i + rng.randrange(0, 20))
        lon, lat = LON + east(rng.gauss(0, 150)), LAT + rng.gauss(0, 150) / M_PER_DEGREE
        out.append(Query(rng.choice(KEYS), lon, lat, at, normalise(text)))
    return out


def summary(decision: Decision) -> tuple[object, ...]:
    return decision.action, [(s.candidate, round(s.value, 12)) for s in decision.scores]


def apply(index: DedupIndex, q: Query, decision: Decision, ids: itertools.count) -> None:
    if decision.target is not None:
        index.merge(decision.target, q.at)
    elif decision.action is Action.NEW:
        index.add(Candidate(next(ids), q.category_key, q.lon, q.lat, q.at, q.at, q.text))


def test_index_decides_as_decide_over_every_open_event():
    """The oracle keeps every event in a plain list; the index must decide alike, step by step."""
    index, events, ids = DedupIndex(CONFIG), [], itertools.count(1)
    for q in random_stream(1, 400):
        expected = decide(q, events, CONFIG)
        assert summary(index.decide(q)) == summary(expected)
        assert summary(decide(q, index.candidates(q), CONFIG)) == summary(expected)
        before = len(index)
        apply(index, q, expected, ids)
        if len(index) > before:
            events.append(Candidate(len(index), q.category_key, q.lon, q.lat, q.at, q.at, q.text))
        elif expected.target is not None:
            old = next(e for e in events if e.event_id == expected.target.event_id)
            events[events.index(old)] = old._replace(last_at=max(old.last_at, q.at), at=min(old.at, q.at))
    assert len(events) > 50 and sum(1 for _ in events) < 400  # some merged, many new


@pytest.mark.parametrize("batch", [1, 7, 60, 1000])
def test_decide_many_decides_as_one_by_one(batch):
    """Same decisions with the batch's own events and merges applied in between, across
    re-sorts of the index (small batches add more than an eighth of the events between them)."""
    stream = random_stream(2, 500)
    seed = [
        Candidate(10_000 + i, q.category_key, q.lon, q.lat, q.at - 80 * HOUR, q.at - 60 * HOUR, q.text)
        for i, q in enumerate(stream[:100])
    ]
    one, many = DedupIndex(CONFIG, seed), DedupIndex(CONFIG, seed)
    ids_one, ids_many = itertools.count(1), itertools.count(1)
    expected = []
    for q in stream[100:]:
        decision = one.decide(q)
        expected.append(summary(decision))
        apply(one, q, decision, ids_one)
    got = []
    for start in range(100, len(stream), batch):
        got += [summary(d) for d in many.decide_many(stream[start : start + batch], ids_many)]
    assert got == expected
    assert {a for a, _ in expected} == set(Action)


@pytest.mark.parametrize("seed", [5, 6])
def test_decide_many_decides_as_one_by_one_when_reports_are_spread(seed):
    """Reports hundreds of metres apart: many meet nothing and open an event without a look
    (the batch's fast path), the rest must still see the events the batch opened before them."""
    rng = random.Random(seed)
    stream = [
        q._replace(lon=LON + east(rng.gauss(0, 500)), lat=LAT + rng.gauss(0, 500) / M_PER_DEGREE)
        for q in random_stream(seed, 600)
    ]
    one, many = DedupIndex(CONFIG), DedupIndex(CONFIG)
    ids = itertools.count(1)
    expected = []
    for q in stream:
        decision = one.decide(q)
        expected.append(summary(decision))
        apply(one, q, decision, ids)
    got = [
        summary(d)
        for start in range(0, 600, 200)
        for d in many.decide_many(stream[start : start + 200], itertools.count(len(many) + 1))
    ]
    assert got == expected
    assert sum(a is Action.NEW and not scores for a, scores in expected) > 150
    assert {a for a, _ in expected} == set(Action)


def test_decide_many_sees_an_event_an_earlier_report_of_the_batch_stretched_into_reach():
    """j merges into r (190 m east of it) and so stretches r's span into the window of i (190 m
    further east), whose radius reaches r's bucket but not j's: i must still see r."""
    offset = next(
        m
        for m in range(0, 200, 5)
        if bucket(LON + east(m), LAT, 200) not in neighbour_buckets(LON + east(m + 380), LAT, 200, 200)
    )
    r = event(1, text="西门外有人摆摊卖烤红薯", metres=offset + 190, at=T0 - 90 * HOUR, last_at=T0 - 80 * HOUR)
    j = query("西门外有人摆摊卖烤红薯", metres=offset, at=T0 - 79 * HOUR)
    i = query("西门外有人摆摊卖烤红薯", metres=offset + 380, at=T0 - 7.5 * HOUR)
    assert decide(i, [r], CONFIG).scores == ()  # out of i's window before j's merge
    merge, seen = DedupIndex(CONFIG, [r]).decide_many([j, i], itertools.count(-1, -1))
    assert merge.action is Action.MERGE and merge.target is not None and merge.target.event_id == 1
    assert seen.action is Action.NEW and seen.best is not None and seen.best.candidate.event_id == 1


def test_merge_stretches_the_events_span_and_needs_a_known_event():
    index = DedupIndex(CONFIG, [event(7, at=T0 - 100 * HOUR)])
    late = query(at=T0 + 10 * HOUR)
    assert index.decide(late).scores == ()  # 110 h after its only report
    index.merge(event(7, at=T0 - 100 * HOUR), T0 - 20 * HOUR)
    [again] = index.candidates(late)
    assert again.at == T0 - 100 * HOUR and again.last_at == T0 - 20 * HOUR
    assert index.decide(late).best is not None
    with pytest.raises(KeyError):
        index.merge(event(8), T0)


def test_index_skips_other_major_categories_and_empty_index():
    assert DedupIndex(CONFIG).decide(query()).action is Action.NEW
    index = DedupIndex(CONFIG, [event(1, key="E0101")])
    assert index.candidates(query(key="E0502")) == []
    assert index.decide_many([query(key="C0102")], itertools.count(5))[0].action is Action.NEW
    assert len(index) == 2


def test_decide_many_sees_what_add_and_merge_changed_between_batches():
    """Batches alternate with reports decided one at a time through decide/add/merge: the
    batches must see the events those added and the spans they stretched. Enough older events
    that the sorted copy is not remade for every batch."""
    stream = random_stream(3, 480)
    seed = [
        Candidate(10_000 + i, q.category_key, q.lon, q.lat, q.at - 70 * HOUR, q.at - 60 * HOUR, q.text)
        for i, q in enumerate(random_stream(4, 2_000))
    ]
    oracle, index = DedupIndex(CONFIG, seed), DedupIndex(CONFIG, seed)
    ids_oracle, ids_index = itertools.count(1), itertools.count(1)
    expected, got = [], []
    for n, start in enumerate(range(0, len(stream), 40)):
        batch = stream[start : start + 40]
        if n % 2:
            for q in batch:
                decision = oracle.decide(q)
                assert summary(index.decide(q)) == summary(decision)
                apply(oracle, q, decision, ids_oracle)
                apply(index, q, decision, ids_index)
            continue
        for q in batch:
            decision = oracle.decide(q)
            expected.append(summary(decision))
            apply(oracle, q, decision, ids_oracle)
        got += [summary(d) for d in index.decide_many(batch, ids_index)]
    assert got == expected
    assert {a for a, _ in expected} == set(Action)


def test_decide_many_refuses_naive_times():
    with pytest.raises(Invalid) as error:
        DedupIndex(CONFIG).decide_many([Query("E0502", LON, LAT, dt.datetime(2026, 5, 4), "x")], itertools.count())
    assert error.value.field == "at"
