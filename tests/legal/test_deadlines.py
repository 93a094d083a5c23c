"""The penalty procedure's legal clocks on the shipped calendar, checked by hand across the 2026
Spring Festival: Sat 02-14 is a 调休 working day, Sun 02-15 … Mon 02-23 the holiday, Sat 02-28
another 调休 working day. Working day 09:00–12:00, 13:30–17:30. Expected values are counted by
hand in the comments, not computed.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from chengguan.errors import Invalid
from chengguan.legal import service
from chengguan.legal.deadlines import (
    Extension,
    Limit,
    LimitUnit,
    Party,
    PenaltyKind,
    court_window,
    decision_due,
    earliest_hearing,
    hearing_notice_ok,
    hearing_request_ok,
    limitation,
    on_the_spot_collection_allowed,
    payment_due,
    period,
    remedy_limits_end,
    seizure_end,
    service_due,
    simple_procedure_allowed,
    surcharge,
)
from chengguan.legal.parser import int_to_cn
from tests.factories import shipped_calendar

TZ = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC


CAL = shipped_calendar()


def at(y: int, m: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, s, tzinfo=TZ)


def test_the_shipped_calendar_has_the_2026_spring_festival() -> None:
    assert CAL.is_working_day(dt.date(2026, 2, 14)) and CAL.is_working_day(dt.date(2026, 2, 28))
    assert not any(CAL.is_working_day(dt.date(2026, 2, d)) for d in range(15, 24))


# -- the table -----------------------------------------------------------------------------------


def test_short_periods_are_working_days_and_long_ones_calendar_days() -> None:
    # 法85 (二/三/五/七日) and 强制法69 (ten days or less) make exactly the short ones working days.
    for limit in Limit:
        if limit.unit in (LimitUnit.WORKING_DAYS, LimitUnit.CALENDAR_DAYS):
            assert (limit.unit is LimitUnit.WORKING_DAYS) == (limit.amount <= 10), limit.name
        if limit.unit is LimitUnit.WORKING_DAYS:
            assert limit.articles[-1] in ("法 85", "强制法 69"), limit.name


_WORDING = {
    LimitUnit.WORKING_DAYS: "日",
    LimitUnit.CALENDAR_DAYS: "日",
    LimitUnit.MONTHS: "个月",
    LimitUnit.YEARS: "年",
}


def test_every_limit_cites_an_article_that_says_it(platform_session: Session, legal_loaded) -> None:
    for limit in Limit:
        first = service.lookup(platform_session, limit.articles[0])
        wording = int_to_cn(limit.amount) + _WORDING[limit.unit]
        assert wording in first.text, (limit.name, first.citation, first.text)
        if limit.unit is LimitUnit.WORKING_DAYS:
            assert "工作日" in service.lookup(platform_session, limit.articles[-1]).text, limit.name
    assert "听证" in service.lookup(platform_session, Limit.HEARING_NOTICE.articles[0]).text


# -- working-day limits across the holiday -------------------------------------------------------


def test_hearing_request_window_opened_before_the_holiday() -> None:
    # 告知 served Thu 02-12: Fri 13, Sat 14 (调休), Tue 24, Wed 25, Thu 26 → 17:30.
    ok = hearing_request_ok(CAL, at(2026, 2, 12, 10), at(2026, 2, 26, 17, 30))
    assert ok.ok and ok.window is not None and ok.window.closes == at(2026, 2, 26, 17, 30)
    assert "法 64(一)" in ok.reason
    late = hearing_request_ok(CAL, at(2026, 2, 12, 10), at(2026, 2, 26, 17, 31))
    assert not late.ok and "2026-02-26 17:30" in late.reason
    with pytest.raises(Invalid) as exc:
        late.require("requested_at")
    assert exc.value.field == "requested_at" and exc.value.status == 422
    assert exc.value.extra["window"]["closes"] == "2026-02-26T17:30:00+08:00"
    ok.require("requested_at")  # allowed: nothing raised


def test_hearing_request_window_opened_in_the_holiday_ends_on_the_make_up_saturday() -> None:
    # 告知 served on holiday Fri 02-20: Tue 24, Wed 25, Thu 26, Fri 27, Sat 28 (调休) → 17:30.
    # Without the 调休 Saturday it would be Mon 03-02.
    verdict = hearing_request_ok(CAL, at(2026, 2, 20, 11), at(2026, 2, 28, 17, 30))
    assert verdict.ok and verdict.window is not None and verdict.window.closes == at(2026, 2, 28, 17, 30)
    assert not hearing_request_ok(CAL, at(2026, 2, 20, 11), at(2026, 3, 2, 9)).ok


def test_a_hearing_request_before_the_notice_is_refused() -> None:
    with pytest.raises(Invalid) as exc:
        hearing_request_ok(CAL, at(2026, 2, 12, 10), at(2026, 2, 12, 9))
    assert exc.value.field == "requested_at"


def test_hearing_notice_needs_seven_whole_working_days() -> None:
    # Notice Thu 02-12: Fri 13, Sat 14, Tue 24, Wed 25, Thu 26, Fri 27, Sat 28 → hearing from Sun 03-01.
    assert earliest_hearing(CAL, at(2026, 2, 12, 16)) == at(2026, 3, 1)
    assert hearing_notice_ok(CAL, at(2026, 2, 12, 16), at(2026, 3, 2, 9)).ok
    assert hearing_notice_ok(CAL, at(2026, 2, 12, 16), at(2026, 3, 1)).ok
    refused = hearing_notice_ok(CAL, at(2026, 2, 12, 16), at(2026, 2, 28, 23, 59))
    assert not refused.ok and "2026-03-01" in refused.reason and "法 64(二)" in refused.basis
    with pytest.raises(Invalid) as exc:
        refused.require("hearing_at")
    assert exc.value.extra == {"basis": refused.basis}


def test_service_and_the_other_working_day_limits() -> None:
    # Decided Fri 02-13 15:00: Sat 14, Tue 24, Wed 25, Thu 26, Fri 27, Sat 28, Mon 03-02 → 17:30.
    assert service_due(CAL, at(2026, 2, 13, 15)).closes == at(2026, 3, 2, 17, 30)
    # 当场收缴 Fri 02-13: Sat 14, Tue 24. Withdrawal: + Wed 25. 先行登记保存 Thu 02-12: the hearing-notice days.
    assert period(CAL, Limit.HANDOVER, at(2026, 2, 13, 15)).closes == at(2026, 2, 24, 17, 30)
    assert period(CAL, Limit.WITHDRAWAL, at(2026, 2, 13, 15)).closes == at(2026, 2, 25, 17, 30)
    evidence = period(CAL, Limit.EVIDENCE_DECISION, at(2026, 2, 12, 9))
    assert evidence.closes == at(2026, 2, 28, 17, 30) and evidence.basis == "法 56、法 85"


# -- calendar-day limits -------------------------------------------------------------------------


def test_payment_due_moves_off_the_holiday_but_not_off_a_make_up_saturday() -> None:
    # Received 02-05: +15 = Fri 02-20, a holiday → first working day Tue 02-24, ends at its 24:00.
    assert payment_due(CAL, at(2026, 2, 5, 10)).closes == at(2026, 2, 25)
    # Received 02-13: +15 = Sat 02-28, a 调休 working day → stays.
    assert payment_due(CAL, at(2026, 2, 13, 10)).closes == at(2026, 3, 1)


def test_decision_due_90_days_with_extensions() -> None:
    filed = at(2025, 11, 21, 10)
    # +90 = Thu 2026-02-19 (holiday) → Tue 02-24, ends 24:00.
    assert decision_due(CAL, filed).closes == at(2026, 2, 25)
    # +30 approved in time: +120 = Sat 03-21 → Mon 03-23, ends 24:00.
    one = Extension(30, at(2026, 2, 25))
    assert decision_due(CAL, filed, [one]).closes == at(2026, 3, 24)
    # A second one approved inside the extended limit: +150 = Mon 04-20.
    two = Extension(30, at(2026, 3, 20, 9))
    assert decision_due(CAL, filed, [two, one]).closes == at(2026, 4, 21)


@pytest.mark.parametrize(
    ("extensions", "field"),
    [
        ([Extension(30, at(2026, 2, 25, 0, 1))], "extensions.0.approved_at"),  # after the limit ran out
        ([Extension(30, at(2025, 11, 20))], "extensions.0.approved_at"),  # before 立案
        ([Extension(30, at(2026, 2, 1)), Extension(0, at(2026, 2, 2))], "extensions.1.days"),
        ([Extension(10, at(2026, 2, 1)), Extension(10, at(2026, 3, 7, 0, 1))], "extensions.1.approved_at"),
        ([Extension(10, dt.datetime(2026, 2, 1))], "extensions.0.approved_at"),  # naive
    ],
)
def test_bad_extensions_are_refused(extensions: list[Extension], field: str) -> None:
    with pytest.raises(Invalid) as exc:
        decision_due(CAL, at(2025, 11, 21, 10), extensions)
    assert exc.value.field == field


def test_seizure_30_days_and_one_extension() -> None:
    # Started 01-20: +30 = Thu 02-19 (holiday) → Tue 02-24. Extended: +60 = Sat 03-21 → Mon 03-23.
    assert seizure_end(CAL, at(2026, 1, 20, 10)).closes == at(2026, 2, 25)
    assert seizure_end(CAL, at(2026, 1, 20, 10), 30).closes == at(2026, 3, 24)
    for bad in (-1, 31):
        with pytest.raises(Invalid) as exc:
            seizure_end(CAL, at(2026, 1, 20, 10), bad)
        assert exc.value.field == "extension_days" and "强制法 25" in exc.value.message


# -- limitation ----------------------------------------------------------------------------------


def test_limitation_two_years_and_its_boundary() -> None:
    # Act 2024-03-10: two years → Tue 2026-03-10, ends at its 24:00.
    act = at(2024, 3, 10, 15)
    assert limitation(CAL, act, at(2026, 3, 10, 23, 59)).ok
    late = limitation(CAL, act, at(2026, 3, 11, 0, 1))
    assert not late.ok and late.basis == "法 36" and late.window is not None and late.window.closes == at(2026, 3, 11)


def test_limitation_five_years_for_serious_harm() -> None:
    act = at(2024, 3, 10, 15)
    assert limitation(CAL, act, at(2027, 6, 1), serious_harm=True).ok
    # Five years → Sat 2029-03-10 (no schedule for 2029: the weekend rule) → Mon 03-12.
    serious = limitation(CAL, act, at(2029, 3, 12, 23, 59), serious_harm=True)
    assert serious.ok and serious.window is not None and serious.window.closes == at(2029, 3, 13)
    assert not limitation(CAL, act, at(2029, 3, 13, 0, 1), serious_harm=True).ok


def test_a_continuing_act_runs_from_its_end() -> None:
    start, end, found = at(2023, 1, 5), at(2025, 6, 1), at(2026, 5, 1)
    assert not limitation(CAL, start, found).ok
    assert limitation(CAL, start, found, act_end=end).ok
    assert limitation(CAL, start, found, act_end=found).ok  # still going on when discovered


def test_limitation_ending_in_the_holiday_or_on_29_february() -> None:
    # Act 2024-02-18: two years → Wed 2026-02-18, a holiday → Tue 02-24.
    assert limitation(CAL, at(2024, 2, 18, 9), at(2026, 2, 24, 15)).ok
    # Act 2024-02-29: 2026 has no 29 February → Sat 02-28, a 调休 working day, ends at its 24:00.
    window = limitation(CAL, at(2024, 2, 29, 9), at(2026, 1, 1)).window
    assert window is not None and window.closes == at(2026, 3, 1)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"act_at": at(2025, 5, 1), "discovered_at": at(2025, 4, 30)}, "discovered_at"),
        ({"act_at": at(2025, 5, 1), "discovered_at": at(2025, 6, 1), "act_end": at(2025, 4, 1)}, "act_end"),
        ({"act_at": dt.datetime(2025, 5, 1), "discovered_at": at(2025, 6, 1)}, "act_at"),
    ],
)
def test_limitation_bad_input(kwargs: dict, field: str) -> None:
    with pytest.raises(Invalid) as exc:
        limitation(CAL, **kwargs)
    assert exc.value.field == field


# -- enforcement ---------------------------------------------------------------------------------


def test_remedy_limits_end() -> None:
    received = at(2026, 1, 5, 10)
    # 复议: +60 = Fri 03-06. 诉讼: +6 months = Sun 07-05 → Mon 07-06. Each ends at 24:00.
    assert remedy_limits_end(CAL, received, review_first=True) == at(2026, 3, 7)
    assert remedy_limits_end(CAL, received) == at(2026, 7, 7)


def test_court_window_after_the_demand_and_the_remedy_limits() -> None:
    # 催告 served Tue 07-07: ten working days Jul 8, 9, 10, 13, 14, 15, 16, 17, 20, 21 → 17:30.
    # Limits ran out on 07-06: + 3 months = Tue 10-06 (国庆) → Thu 10-08, ends at 24:00.
    window = court_window(CAL, at(2026, 7, 7, 10), at(2026, 7, 7))
    assert (window.opens, window.closes) == (at(2026, 7, 21, 17, 30), at(2026, 10, 9))
    assert "强制法 53" in window.basis and "强制法 69" in window.basis
    assert not window.contains(at(2026, 7, 21, 17, 29)) and window.contains(at(2026, 7, 21, 17, 30))
    assert window.contains(at(2026, 10, 9)) and not window.contains(at(2026, 10, 9, 0, 1))


def test_court_window_across_the_spring_festival_and_before_the_limits_end() -> None:
    # 催告 served Thu 02-12: Feb 13, 14, 24, 25, 26, 27, 28, Mar 2, 3, 4 → Wed 03-04 17:30.
    # Limits ran out on 01-09 → + 3 months = Thu 04-09, ends at 24:00.
    window = court_window(CAL, at(2026, 2, 12, 10), at(2026, 1, 10))
    assert (window.opens, window.closes) == (at(2026, 3, 4, 17, 30), at(2026, 4, 10))
    # A 催告 long before the limits run out: the window opens only when they do.
    early = court_window(CAL, at(2026, 2, 12, 10), at(2026, 7, 7))
    assert early.opens == at(2026, 7, 7) and not early.empty


def test_a_demand_served_too_late_leaves_an_empty_window() -> None:
    # Limits ran out 2025-09-30 → + 3 months = Tue 2025-12-30, ends at 24:00; 催告 in 2026.
    window = court_window(CAL, at(2026, 1, 5, 10), at(2025, 10, 1))
    assert window.closes == at(2025, 12, 31) and window.empty


# -- surcharge -----------------------------------------------------------------------------------


DUE = at(2026, 3, 1)  # payment due at 24:00 of Sat 02-28


@pytest.mark.parametrize(
    ("paid", "days", "amount"),
    [
        (at(2026, 2, 27, 10), 0, "0.00"),  # early
        (at(2026, 3, 1), 0, "0.00"),  # at the due instant: in time
        (at(2026, 3, 1, 0, 0, 1), 1, "6.00"),  # the first overdue day has begun
        (at(2026, 3, 2), 1, "6.00"),  # 24:00 of the first day
        (at(2026, 3, 2, 0, 1), 2, "12.00"),
        (at(2026, 4, 2, 12), 33, "198.00"),  # 99 %
        (at(2026, 4, 3, 12), 34, "200.00"),  # 102 % → the cap, the fine exactly
        (at(2027, 1, 1), 306, "200.00"),
    ],
)
def test_surcharge_per_day_and_the_cap(paid: dt.datetime, days: int, amount: str) -> None:
    result = surcharge(CAL, 200, DUE, paid)
    assert (result.days, result.amount, result.capped) == (days, Decimal(amount), days >= 34)
    assert "法 72(一)" in result.basis


def test_overdue_days_are_calendar_days_holidays_included() -> None:
    # Received Thu 01-29: +15 = Fri 02-13 → due at its 24:00. Paid Tue 02-24 10:00: 02-14 … 02-24, 11 days.
    due = payment_due(CAL, at(2026, 1, 29, 10)).closes
    assert due == at(2026, 2, 14)
    assert surcharge(CAL, 1000, due, at(2026, 2, 24, 10)) == surcharge(CAL, 1000, due, at(2026, 2, 24, 23, 59))
    assert surcharge(CAL, 1000, due, at(2026, 2, 24, 10)).amount == Decimal("330.00")


def test_surcharge_rounds_down_to_the_fen() -> None:
    assert surcharge(CAL, Decimal("333.33"), DUE, at(2026, 3, 1, 12)).amount == Decimal("9.99")  # 9.9999
    assert surcharge(CAL, Decimal("0.01"), DUE, at(2026, 3, 1, 12)).amount == Decimal("0.00")
    assert surcharge(CAL, Decimal("0.01"), DUE, at(2026, 12, 1)).amount == Decimal("0.01")


def test_days_in_review_or_litigation_are_not_counted() -> None:
    paid = at(2026, 3, 20, 12)  # 20 overdue days: 03-01 … 03-20
    review = (at(2026, 3, 5, 10), at(2026, 3, 10, 16))  # touches 03-05 … 03-10: 6 days
    assert surcharge(CAL, 200, DUE, paid, [review]).days == 14
    overlapping = (at(2026, 3, 8, 9), at(2026, 3, 12, 9))  # adds 03-11, 03-12
    assert surcharge(CAL, 200, DUE, paid, [overlapping, review]).days == 12
    before_due = (at(2026, 2, 20, 9), at(2026, 3, 3, 9))  # only 03-01 … 03-03 were overdue
    assert surcharge(CAL, 200, DUE, paid, [before_due]).days == 17
    ongoing = (at(2026, 3, 18, 9), paid)
    assert surcharge(CAL, 200, DUE, paid, [ongoing]).days == 17


@pytest.mark.parametrize(
    ("fine", "paused", "field"),
    [
        (200.0, [], "fine"),
        (True, [], "fine"),
        (Decimal("1.001"), [], "fine"),
        (Decimal("NaN"), [], "fine"),
        (0, [], "fine"),
        (-5, [], "fine"),
        (200, [(at(2026, 3, 5), at(2026, 3, 4))], "paused_periods.0.end"),
        (200, [(dt.datetime(2026, 3, 5), at(2026, 3, 6))], "paused_periods.0.start"),
    ],
)
def test_surcharge_bad_input(fine: object, paused: list, field: str) -> None:
    with pytest.raises(Invalid) as exc:
        surcharge(CAL, fine, DUE, at(2026, 3, 20), paused)  # type: ignore[arg-type]
    assert exc.value.field == field


# -- 法51 and 法68 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("penalty", "amount", "party", "ok"),
    [
        (PenaltyKind.WARNING, None, Party.CITIZEN, True),
        (PenaltyKind.FINE, 200, Party.CITIZEN, True),
        (PenaltyKind.FINE, Decimal("200.01"), Party.CITIZEN, False),
        (PenaltyKind.FINE, 3000, Party.ORGANISATION, True),
        (PenaltyKind.FINE, Decimal("3000.01"), Party.ORGANISATION, False),
        (PenaltyKind.CONFISCATION, None, Party.CITIZEN, False),
        (PenaltyKind.CRITICISM, None, Party.ORGANISATION, False),
    ],
)
def test_simple_procedure_thresholds(penalty: PenaltyKind, amount: Decimal | None, party: Party, ok: bool) -> None:
    verdict = simple_procedure_allowed(penalty, amount, party)
    assert verdict.ok is ok and verdict.basis == "法 51" and "(法 51)" in verdict.reason


def test_a_fine_over_the_threshold_is_a_422_citing_article_51() -> None:
    with pytest.raises(Invalid) as exc:
        simple_procedure_allowed(PenaltyKind.FINE, 201, Party.CITIZEN).require("amount")
    assert exc.value.status == 422 and exc.value.field == "amount" and "(法 51)" in exc.value.message


@pytest.mark.parametrize(
    ("penalty", "amount"), [(PenaltyKind.WARNING, 50), (PenaltyKind.FINE, None), (PenaltyKind.FINE, 50.0)]
)
def test_simple_procedure_bad_amounts(penalty: PenaltyKind, amount: object) -> None:
    with pytest.raises(Invalid) as exc:
        simple_procedure_allowed(penalty, amount, Party.CITIZEN)  # type: ignore[arg-type]
    assert exc.value.field == "amount"


@pytest.mark.parametrize(
    ("amount", "hard", "party", "ok", "basis"),
    [
        (100, False, Party.CITIZEN, True, "法 68(一)"),
        (Decimal("100.01"), False, Party.CITIZEN, False, "法 68"),
        (Decimal("100.01"), True, Party.CITIZEN, True, "法 68(二)"),
        (201, True, Party.CITIZEN, False, "法 68、法 51"),  # not a 法51 decision
        (2500, True, Party.ORGANISATION, True, "法 68(二)"),
    ],
)
def test_on_the_spot_collection(amount: int | Decimal, hard: bool, party: Party, ok: bool, basis: str) -> None:
    verdict = on_the_spot_collection_allowed(amount, hard, party)
    assert (verdict.ok, verdict.basis) == (ok, basis)


# -- naive datetimes -----------------------------------------------------------------------------

NAIVE = dt.datetime(2026, 2, 12, 10)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: hearing_request_ok(CAL, NAIVE, at(2026, 2, 13)), "notified_at"),
        (lambda: hearing_request_ok(CAL, at(2026, 2, 12), NAIVE), "requested_at"),
        (lambda: hearing_notice_ok(CAL, at(2026, 2, 1), NAIVE), "hearing_at"),
        (lambda: decision_due(CAL, NAIVE), "filed_at"),
        (lambda: service_due(CAL, NAIVE), "decided_at"),
        (lambda: payment_due(CAL, NAIVE), "received_at"),
        (lambda: seizure_end(CAL, NAIVE), "started_at"),
        (lambda: court_window(CAL, NAIVE, at(2026, 3, 1)), "demand_served_at"),
        (lambda: court_window(CAL, at(2026, 3, 1), NAIVE), "review_limit_end"),
        (lambda: remedy_limits_end(CAL, NAIVE), "known_at"),
        (lambda: surcharge(CAL, 100, NAIVE, at(2026, 3, 1)), "payment_due"),
        (lambda: surcharge(CAL, 100, at(2026, 3, 1), NAIVE), "paid_or_now"),
    ],
)
def test_naive_datetimes_are_refused_naming_the_field(call, field: str) -> None:
    with pytest.raises(Invalid) as exc:
        call()
    assert exc.value.field == field


def test_other_time_zones_give_the_same_instants() -> None:
    utc_start = at(2026, 2, 12, 10).astimezone(UTC)
    assert hearing_request_ok(CAL, utc_start, at(2026, 2, 26, 9).astimezone(UTC)).ok
    assert service_due(CAL, utc_start).closes == service_due(CAL, at(2026, 2, 12, 10)).closes


# -- properties ----------------------------------------------------------------------------------

instants = st.datetimes(min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2027, 12, 31), timezones=st.just(TZ))
DEADLINES = [
    lambda t: decision_due(CAL, t).closes,
    lambda t: service_due(CAL, t).closes,
    lambda t: payment_due(CAL, t).closes,
    lambda t: seizure_end(CAL, t, 30).closes,
    lambda t: earliest_hearing(CAL, t),
    lambda t: remedy_limits_end(CAL, t),
    lambda t: court_window(CAL, t, t).closes,
    *[lambda t, limit=limit: period(CAL, limit, t).closes for limit in Limit],
]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(DEADLINES), instants, instants)
def test_deadlines_are_after_their_start_and_monotone_in_it(deadline, a: dt.datetime, b: dt.datetime) -> None:
    a, b = min(a, b), max(a, b)
    assert deadline(a) > a
    assert deadline(a) <= deadline(b)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=1, max_value=10**9).map(lambda fen: Decimal(fen) / 100),
    instants,
    instants,
    st.lists(st.tuples(instants, instants).map(sorted), max_size=3),
)
def test_surcharge_is_monotone_in_time_and_never_above_the_fine(
    fine: Decimal, a: dt.datetime, b: dt.datetime, paused: list[list[dt.datetime]]
) -> None:
    a, b = min(a, b), max(a, b)
    periods = [(s, e) for s, e in paused]
    first, second = surcharge(CAL, fine, DUE, a, periods), surcharge(CAL, fine, DUE, b, periods)
    assert Decimal(0) <= first.amount <= second.amount <= fine
    assert first.days <= second.days
    # the days counted, one by one: each overdue day that no paused period touches
    touched = {s.date() + dt.timedelta(days=i) for s, e in periods for i in range((e.date() - s.date()).days + 1)}
    overdue = [DUE.date() + dt.timedelta(days=i) for i in range(max(0, (b - DUE).days + 1))]
    assert second.days == sum(1 for d in overdue if at(d.year, d.month, d.day) < b and d not in touched)
