"""自由裁量 on the shipped causes: built-in tiers, bases, no-penalty grounds, 法51/法63, 法29,
the decision check and the tier scheme's validation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from chengguan.errors import Invalid
from chengguan.legal import discretion, service
from chengguan.legal.discretion import (
    DEFAULT_SCHEME,
    CauseTerms,
    Circumstances,
    Harm,
    History,
    Mitigation,
    Party,
    Range,
    Scheme,
    SchemeTier,
    Verdict,
)
from chengguan.legal.models import FineBasis

NONE = History()
TWICE = History(2, dt.date(2026, 3, 1), 365)


@pytest.fixture
def terms(session: Session):
    def get(code: str) -> CauseTerms:
        return service.cause_terms(service.get_cause(session, code))

    return get


def rec(terms: CauseTerms, history: History = NONE, scheme: Scheme = DEFAULT_SCHEME, **facts):
    return discretion.recommend(terms, Circumstances(**{"tier": "一般", **facts}), history, scheme)


def texts(r: discretion.Recommendation) -> str:
    return "\n".join(line.text for line in r.lines)


# -- built-in tiers and bases -------------------------------------------------------------------


def test_the_statutes_tier_sets_the_range_the_scheme_divides(terms) -> None:
    ordinary = rec(terms("AY025"))
    assert ordinary.builtin_tier == "一般" and ordinary.applicable == Range(100, 1000)
    # 一般 takes 20–50 %: 100 + 180 … 100 + 450, midpoint 415
    assert ordinary.band == Range(280, 550) and ordinary.amount == 415
    serious = rec(terms("AY025"), builtin_tier="情节严重")
    assert serious.applicable == Range(1000, 10000) and serious.band == Range(2800, 5500) and serious.amount == 4150
    assert "适用法定档次“情节严重”" in texts(serious)
    assert serious.lines[0].refs == ("BJ市容 41 para 1",)
    with pytest.raises(Invalid) as exc:
        rec(terms("AY025"), builtin_tier="特别严重")
    assert exc.value.field == "builtin_tier" and "情节严重" in exc.value.message


def test_history_chooses_between_first_and_repeat_tiers(terms) -> None:
    first = rec(terms("AY048"), party=Party.ORGANISATION)
    assert first.builtin_tier == "首次" and first.applicable == Range(1000, 1000) and first.amount == 1000
    repeat = rec(terms("AY048"), TWICE, party=Party.ORGANISATION)
    assert repeat.builtin_tier == "再次违反" and repeat.applicable == Range(10000, 50000)
    assert repeat.amount == 24000  # the repeat tier already punishes the priors: no further pull
    assert "同一案由已受处罚2次（最近一次2026-03-01）" in texts(repeat)
    with pytest.raises(Invalid) as exc:
        rec(terms("AY048"), builtin_tier="再次违反", party=Party.ORGANISATION)
    assert exc.value.field == "builtin_tier"
    with pytest.raises(Invalid) as exc:
        rec(terms("AY048"), TWICE, builtin_tier="首次", party=Party.ORGANISATION)
    assert exc.value.field == "builtin_tier"


def test_a_fine_only_for_repeat_offenders_is_none_the_first_time(terms) -> None:
    first = rec(terms("AY049"))
    assert first.amount is None and first.applicable is None and not first.simple_procedure
    assert "罚款仅适用于“再次违反”" in texts(first)
    assert rec(terms("AY049"), TWICE).applicable == Range(50, 200)


def test_prior_penalties_without_a_repeat_tier_aggravate(terms) -> None:
    plain = rec(terms("AY001"))
    again = rec(terms("AY001"), TWICE)
    assert plain.band == again.band == Range(1400, 2750)
    assert (plain.amount, again.amount) == (2075, 2750)
    assert "从重情节：回溯365日内同一案由已受处罚2次" in texts(again)


def test_tiers_follow_the_party_and_a_lone_tier_is_the_fines_precondition(terms) -> None:
    assert rec(terms("AY040b")).applicable == Range(200, 1000)
    assert rec(terms("AY040b"), party=Party.ORGANISATION).applicable == Range(2000, 20000)
    with pytest.raises(Invalid) as exc:
        rec(terms("AY040b"), builtin_tier="单位拒不改正")
    assert exc.value.field == "builtin_tier"
    lone = rec(terms("AY011"))
    assert lone.builtin_tier == "逾期不改正" and "以该情形成立为罚款前提" in texts(lone)
    with pytest.raises(Invalid) as exc:
        rec(terms("AY034"), quantity=Decimal(3))  # poultry per head, or a pigeon loft: say which
    assert exc.value.field == "builtin_tier"


def test_per_unit_fines_multiply_by_the_quantity(terms) -> None:
    building = rec(terms("AY009"), quantity=Decimal("12.5"))
    assert building.applicable == Range(3750, 37500) and building.band == Range(10500, 20625)
    assert building.amount == 15563  # 15562.5, rounded half up
    assert "数量12.5" in texts(building) and discretion.ROUNDING in texts(building)
    with pytest.raises(Invalid) as exc:
        rec(terms("AY009"))
    assert exc.value.field == "quantity"
    vehicles = rec(terms("AY022"), quantity=Decimal(3), party=Party.ORGANISATION)
    assert vehicles.applicable == Range(15000, 15000) and vehicles.amount == 15000
    loft = rec(terms("AY034"), builtin_tier="鸽舍影响市容")  # a fixed tier of a per-unit cause
    assert loft.applicable == Range(50, 500)
    hens = rec(terms("AY034"), builtin_tier="家禽家畜（每只/头）", quantity=Decimal(4))
    assert hens.applicable == Range(80, 200)


def test_percent_of_cost_fines(terms) -> None:
    correctable = rec(terms("AY008"), builtin_tier="尚可改正", construction_cost=Decimal(1_000_000))
    assert correctable.applicable == Range(50000, 100000) and correctable.amount == 67500
    confiscated = rec(
        terms("AY008"), builtin_tier="无法改正且不能拆除（没收并可并处）", construction_cost=Decimal(200_000)
    )
    assert confiscated.applicable == Range(1, 20000)  # no statutory minimum: from 1 元
    with pytest.raises(Invalid) as exc:
        rec(terms("AY008"), builtin_tier="尚可改正")
    assert exc.value.field == "construction_cost"


def test_a_cause_without_a_fine(terms) -> None:
    none = rec(terms("AY014"))
    assert none.cause.basis == FineBasis.NONE and none.amount is None and none.band is None
    assert "罚则未设罚款" in texts(none) and not none.hearing


# -- no penalty -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("facts", "ground", "ref"),
    [
        ({"age": 13}, "under_14", "法 30"),
        ({"lacks_capacity": True}, "incapable", "法 31"),
        ({"no_fault_proven": True}, "no_fault", "法 33 para 2"),
        ({"minor": True, "corrected": True, "harm": Harm.NONE}, "minor", "法 33 para 1"),
    ],
)
def test_grounds_that_forbid_a_penalty(terms, facts, ground, ref) -> None:
    r = rec(terms("AY025"), TWICE, **facts)
    assert r.no_penalty is not None and r.no_penalty.mandatory
    assert (r.no_penalty.ground, r.no_penalty.ref, r.amount) == (ground, ref, None)
    assert r.lines[-1].refs == ("法 33 para 3",)  # educate instead
    with pytest.raises(Invalid) as exc:
        discretion.check_decision(r, 100, "坚持处罚")
    assert exc.value.field == "amount" and exc.value.extra["ref"] == ref
    assert discretion.check_decision(r, 0, None).verdict == Verdict.OK


def test_minor_but_harmful_or_uncorrected_acts_are_punished(terms) -> None:
    assert rec(terms("AY025"), minor=True, corrected=True, harm=Harm.SLIGHT).no_penalty.mandatory is False
    assert rec(terms("AY025"), minor=True, corrected=False, harm=Harm.NONE).no_penalty is None


def test_first_offence_may_go_unpunished_and_history_decides_first(terms) -> None:
    first = rec(terms("AY025"), corrected=True, harm=Harm.SLIGHT)
    assert first.no_penalty is not None and first.no_penalty.ground == "first_offence"
    assert not first.no_penalty.mandatory and first.amount == 415  # the agency may still fine
    assert discretion.check_decision(first, 0, None).verdict == Verdict.OK
    assert rec(terms("AY025"), TWICE, corrected=True, harm=Harm.SLIGHT).no_penalty is None
    assert rec(terms("AY025"), corrected=True, harm=Harm.SERIOUS).no_penalty is None


def test_age_and_capacity(terms) -> None:
    youth = rec(terms("AY025"), age=16)
    assert youth.amount == youth.band.low == 280  # 法30: 从轻 → the band's lower edge
    assert any(line.refs == ("法 30",) for line in youth.lines)
    assert rec(terms("AY025"), age=18).amount == 415
    with pytest.raises(Invalid) as exc:
        rec(terms("AY025"), age=30, party=Party.ORGANISATION)
    assert exc.value.field == "age"


def test_mitigation_pulls_down_reduction_goes_below_the_minimum(terms) -> None:
    lighter = rec(terms("AY025"), mitigating=frozenset({Mitigation.COERCED}))
    assert lighter.amount == 280 and lighter.reduced is None
    reduced = rec(terms("AY025"), mitigating=frozenset({Mitigation.CONFESSED}), reduce=True)
    assert reduced.reduced == Range(1, 100) and reduced.amount in reduced.band and reduced.amount < 100
    assert reduced.allowed == Range(1, 1000)
    both = rec(terms("AY025"), mitigating=frozenset({Mitigation.COERCED}), aggravating=("多次张贴",))
    assert both.amount == 415
    with pytest.raises(Invalid) as exc:
        rec(terms("AY025"), reduce=True)
    assert exc.value.field == "reduce"


def test_history_must_be_consistent() -> None:
    with pytest.raises(Invalid) as exc:
        History(1)
    assert exc.value.field == "history.last_penalty_on"
    with pytest.raises(Invalid):
        History(0, dt.date(2026, 1, 1))


# -- 法51 and 法63 ----------------------------------------------------------------------------------


def test_simple_procedure_boundaries() -> None:
    assert discretion.simple_procedure_allowed(200, Party.CITIZEN)
    assert not discretion.simple_procedure_allowed(201, Party.CITIZEN)
    assert discretion.simple_procedure_allowed(3000, Party.ORGANISATION)
    assert not discretion.simple_procedure_allowed(3001, Party.ORGANISATION)


def test_simple_procedure_and_hearing_follow_the_decided_amount(terms) -> None:
    washing = rec(terms("AY031"))  # 50–300, band 100–175
    assert washing.simple_procedure and washing.amount == 138
    assert discretion.check_decision(washing, 200, "车辆多").simple_procedure
    assert not discretion.check_decision(washing, 201, "车辆多").simple_procedure
    event = rec(terms("AY004"), party=Party.ORGANISATION)  # 1000–10000
    assert discretion.check_decision(event, 3000, None).simple_procedure
    assert not discretion.check_decision(event, 3001, None).simple_procedure
    citizen = rec(terms("AY004"))
    assert not discretion.check_decision(citizen, 3000, None).hearing
    assert discretion.check_decision(citizen, 3001, None).hearing
    ads = rec(terms("AY026"), party=Party.ORGANISATION)  # 10000–100000
    assert not discretion.check_decision(ads, 50000, None).hearing
    assert discretion.check_decision(ads, 50001, None).hearing


def test_the_hearing_amount_is_the_agencys(terms) -> None:
    assert not rec(terms("AY001")).hearing  # 2075 ≤ 3000
    strict = Scheme(discretion.DEFAULT_TIERS, 2000, 20000, "甲区")
    lowered = rec(terms("AY001"), scheme=strict)
    assert lowered.hearing and lowered.hearing_threshold == 2000
    assert "较大数额标准：对公民罚款超过2000元" in texts(lowered)


# -- 法29 -----------------------------------------------------------------------------------------


def test_one_act_under_several_provisions_gets_the_higher_fine(terms) -> None:
    site = rec(terms("AY029"), party=Party.ORGANISATION)  # 2000–20000
    dust = rec(terms("AY041"), party=Party.ORGANISATION)  # 10000–100000
    for order in ([site, dust], [dust, site]):
        result = discretion.one_fine(order)
        assert result.applies is dust
        assert result.lines[0].refs == ("法 29",) and "AY041" in result.lines[-1].text
    with pytest.raises(Invalid) as exc:
        discretion.one_fine([site, site])
    assert exc.value.field == "causes"
    with pytest.raises(Invalid):
        discretion.one_fine([])
    excused = rec(terms("AY029"), party=Party.ORGANISATION, no_fault_proven=True)
    assert discretion.one_fine([excused]).applies is excused


def test_equal_maxima_prefer_the_higher_minimum(terms) -> None:
    noise = rec(terms("AY037"), party=Party.ORGANISATION)  # 10000–100000
    dust = rec(terms("AY041"), party=Party.ORGANISATION)  # 10000–100000
    assert discretion.one_fine([noise, dust]).applies is noise  # a tie keeps the order given
    alley = rec(terms("AY047b"), party=Party.ORGANISATION)  # 10000–100000
    waste = rec(terms("AY042b"), party=Party.ORGANISATION)  # 20000–100000
    assert discretion.one_fine([alley, waste]).applies is waste


# -- the decision ---------------------------------------------------------------------------------


def test_decisions_inside_outside_the_band_and_the_range(terms) -> None:
    r = rec(terms("AY025"))  # range 100–1000, band 280–550
    assert discretion.check_decision(r, 550, None).verdict == Verdict.OK
    with pytest.raises(Invalid) as exc:
        discretion.check_decision(r, 800, "  ")
    assert exc.value.field == "reason"
    flagged = discretion.check_decision(r, 800, "屡教不改")
    assert flagged.verdict == Verdict.SUPERVISE and flagged.deviation == 250
    assert "报送督察" in flagged.lines[0].text and "屡教不改" in flagged.lines[0].text
    assert discretion.check_decision(r, 100, "配合调查").deviation == -180
    with pytest.raises(Invalid) as exc:
        discretion.check_decision(r, 1001, "情节严重")
    assert exc.value.field == "amount" and exc.value.extra["refs"] == ["BJ市容 41 para 1"]
    with pytest.raises(Invalid) as exc:
        discretion.check_decision(r, 99, "困难")
    assert exc.value.field == "amount"
    with pytest.raises(Invalid) as exc:
        discretion.check_decision(r, 0, None)  # no 法33 ground here
    assert exc.value.field == "amount"


def test_reduction_widens_what_a_decision_may_fine(terms) -> None:
    reduced = rec(terms("AY025"), mitigating=frozenset({Mitigation.MERITORIOUS}), reduce=True)
    assert discretion.check_decision(reduced, 50, "立功").verdict in (Verdict.OK, Verdict.SUPERVISE)
    assert discretion.check_decision(reduced, 900, "从轻即可").verdict == Verdict.SUPERVISE
    none = rec(terms("AY014"))
    with pytest.raises(Invalid) as exc:
        discretion.check_decision(none, 10, None)
    assert exc.value.field == "amount"


def test_every_rationale_ref_resolves_to_a_loaded_text(session: Session, terms) -> None:
    recs = [
        rec(terms("AY025"), TWICE, age=16, corrected=True, harm=Harm.SLIGHT),
        rec(terms("AY025"), mitigating=frozenset(Mitigation) - {Mitigation.MINOR_14_TO_18}, reduce=True),
        rec(terms("AY014")),
        rec(terms("AY029"), party=Party.ORGANISATION),
        *(rec(terms("AY025"), **facts) for facts in ({"age": 13}, {"lacks_capacity": True}, {"no_fault_proven": True})),
    ]
    concurrence = discretion.one_fine(recs[1:4])
    refs = service.cited_refs([line for r in recs for line in r.lines] + concurrence.lines)
    resolved = service.resolve_refs(session, refs)
    assert set(refs) == set(resolved)
    assert resolved["法 63(一)"].citation == "中华人民共和国行政处罚法第六十三条第一款第一项"
    assert resolved["法 33 para 2"].text.startswith("当事人有证据足以证明没有主观过错的")


# -- the scheme -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tiers", "field"),
    [
        ([], "tiers"),
        ([("轻", 0, 40), ("重", 50, 100)], "tiers.1.lower"),
        ([("轻", 0, 40), ("重", 40, 90)], "tiers.1.upper"),
        ([("轻", 10, 100)], "tiers.0.lower"),
        ([("轻", 0, 50), ("轻", 50, 100)], "tiers.1.name"),
        ([("轻", 0, 60), ("重", 60, 60), ("特", 60, 100)], "tiers.1.upper"),
        ([("轻", 0, 60), ("重", 60, 40), ("特", 40, 100)], "tiers.1.upper"),
    ],
)
def test_scheme_validation_names_the_field(tiers, field) -> None:
    with pytest.raises(Invalid) as exc:
        discretion.check_tiers([SchemeTier(*t) for t in tiers])
    assert exc.value.field == field


def test_the_default_scheme_is_valid_and_names_unknown_tiers(terms) -> None:
    discretion.check_tiers(DEFAULT_SCHEME.tiers)
    with pytest.raises(Invalid) as exc:
        rec(terms("AY025"), tier="特别严重")
    assert exc.value.field == "tier" and "较重" in exc.value.message


@st.composite
def schemes(draw) -> Scheme:
    cuts = sorted(draw(st.sets(st.integers(1, 99), max_size=5)))
    edges = [0, *cuts, 100]
    tiers = tuple(SchemeTier(f"T{i}", lo, hi) for i, (lo, hi) in enumerate(pairwise(edges)))
    return Scheme(tiers, 3000, 50000, "prop")


@given(
    low=st.one_of(st.none(), st.integers(1, 100_000)),
    width=st.integers(0, 1_000_000),
    scheme=schemes(),
    mitigated=st.booleans(),
    aggravated=st.booleans(),
    reduce=st.booleans(),
    party=st.sampled_from(Party),
)
def test_the_amount_stays_in_range_and_rises_with_the_tier(
    low, width, scheme, mitigated, aggravated, reduce, party
) -> None:
    terms = CauseTerms("P1", "属性", FineBasis.FIXED, low, (low or 0) + width)
    facts = {
        "party": party,
        "mitigating": frozenset({Mitigation.COERCED}) if mitigated or reduce else frozenset(),
        "reduce": reduce,
        "aggravating": ("情节",) if aggravated else (),
    }
    amounts = []
    for tier in scheme.tiers:
        r = rec(terms, scheme=scheme, tier=tier.name, **facts)
        assert r.amount in r.band and r.band.low >= (r.reduced or r.applicable).low
        assert r.amount in r.allowed and r.band.high <= (r.reduced or r.applicable).high
        assert discretion.check_decision(r, r.amount, None).verdict == Verdict.OK
        amounts.append(r.amount)
    assert amounts == sorted(amounts)
