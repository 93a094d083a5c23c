"""The legal clocks of the administrative-penalty procedure: its time limits as data, and pure
functions that compute them on a :class:`WorkCalendar`. No database; the case workflow calls
these from its guards and deadline sweeps.

Citations use the knowledge base's shorthand (legal-kb.md), which :mod:`chengguan.legal.citation`
parses: 法 = 行政处罚法 (2021), 强制法 = 行政强制法; 行政复议法 (2023) and 行政诉讼法 are written out.

Counting (the calendar's rules, see :mod:`chengguan.kit.workcal`):

* The start day is not counted (民诉法85, which 行政复议法88 and 行政诉讼法101 send period
  counting to; 行政处罚法 has no rule of its own).
* 法85 makes the law's 二日/三日/五日/七日 working days; 强制法69 does the same for every period
  of ten days or less. Longer day periods (15, 30, 60, 90 days) are calendar days: they are in
  neither list. A seizure's 30 days (强制法25) are therefore calendar days.
* A calendar-day, month or year period ends at 24:00 of its last day; a last day that is a rest
  day or holiday moves to the first working day after it (民诉法85). Months and years end on
  the same date N months later, or the month's last day when it has no such date (民法典202).
  The platform applies this one rule to every period, also to limits that bind the agency (the
  90-day decision, the seizure), as courts read the 民诉法 rule as the general one.
* A period end at 24:00 is returned as 00:00 of the next day; an act at or before the end of a
  window is in time.

Money is in 元 as :class:`~decimal.Decimal`, exact to the 分 (at most two decimals); an ``int``
is whole 元. Floats are refused: 0.1 元 has no exact float. The surcharge is rounded *down* to
the 分, because 法72 sets a ceiling (3 % a day) that rounding up could exceed.

Every instant must be aware (a naive datetime is refused naming its field); results are in the
calendar's time zone.
"""

from __future__ import annotations

import datetime as dt
import enum
from calendar import monthrange
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import NamedTuple

from chengguan.errors import Invalid
from chengguan.kit.workcal import ONE_DAY, ONE_US, WorkCalendar


class LimitUnit(enum.StrEnum):
    WORKING_DAYS = "working_days"
    CALENDAR_DAYS = "calendar_days"
    MONTHS = "months"
    YEARS = "years"


WD, CD = LimitUnit.WORKING_DAYS, LimitUnit.CALENDAR_DAYS


class TimeLimit(NamedTuple):
    amount: int
    unit: LimitUnit
    articles: tuple[str, ...]  # the article that sets the limit first, then the one that sets its unit
    label: str


class Limit(TimeLimit, enum.Enum):
    """The procedure's time limits. The member name is the stable key a case stores."""

    EVIDENCE_DECISION = TimeLimit(7, WD, ("法 56", "法 85"), "先行登记保存后作出处理决定")
    SEIZURE = TimeLimit(30, CD, ("强制法 25",), "查封、扣押期限")
    SEIZURE_EXTENSION = TimeLimit(30, CD, ("强制法 25",), "查封、扣押延长期限（一次，至多三十日）")
    HEARING_REQUEST = TimeLimit(5, WD, ("法 64(一)", "法 85"), "告知后要求听证")
    HEARING_NOTICE = TimeLimit(7, WD, ("法 64(二)", "法 85"), "举行听证七日前通知")
    DECISION = TimeLimit(90, CD, ("法 60",), "立案后作出行政处罚决定")
    SERVICE = TimeLimit(7, WD, ("法 61", "法 85"), "宣告后送达行政处罚决定书")
    PAYMENT = TimeLimit(15, CD, ("法 67 第三款",), "收到决定书后缴纳罚款")
    DEMAND_WAIT = TimeLimit(10, WD, ("强制法 54", "强制法 69"), "催告书送达后方可申请强制执行")
    REVIEW = TimeLimit(60, CD, ("行政复议法 20",), "申请行政复议")
    LITIGATION = TimeLimit(6, LimitUnit.MONTHS, ("行政诉讼法 46",), "提起行政诉讼")
    COURT_APPLICATION = TimeLimit(3, LimitUnit.MONTHS, ("强制法 53",), "复议、诉讼期限届满后申请法院强制执行")
    HANDOVER = TimeLimit(2, WD, ("法 71", "法 85"), "当场收缴的罚款交至行政机关")
    WITHDRAWAL = TimeLimit(3, WD, ("法 48 第二款", "法 85"), "撤回已公开的处罚决定信息")
    LIMITATION = TimeLimit(2, LimitUnit.YEARS, ("法 36",), "违法行为未被发现的追责时效")
    LIMITATION_SERIOUS = TimeLimit(5, LimitUnit.YEARS, ("法 36",), "追责时效（生命健康、金融安全且有危害后果）")

    @property
    def basis(self) -> str:
        return "、".join(self.articles)


class Party(enum.StrEnum):
    CITIZEN = "citizen"  # 公民 (a 个体工商户 is punished as the citizen who runs it)
    ORGANISATION = "organisation"  # 法人或者其他组织


class PenaltyKind(enum.StrEnum):
    """The kinds of 法9."""

    WARNING = "warning"  # 警告
    CRITICISM = "criticism"  # 通报批评
    FINE = "fine"  # 罚款
    CONFISCATION = "confiscation"  # 没收违法所得、没收非法财物
    LICENCE = "licence"  # 暂扣许可证件、降低资质等级、吊销许可证件
    BUSINESS = "business"  # 限制开展生产经营活动、责令停产停业、责令关闭、限制从业
    DETENTION = "detention"  # 行政拘留
    OTHER = "other"  # 法律、行政法规规定的其他行政处罚


Money = Decimal | int
CENT = Decimal("0.01")
SURCHARGE_RATE = Decimal("0.03")  # of the fine per overdue day, 法72(一)
SURCHARGE_BASIS = "法 72(一)、法 73 第三款"
SIMPLE_FINE_CAP = {Party.CITIZEN: Decimal(200), Party.ORGANISATION: Decimal(3000)}  # 法51
SPOT_COLLECTION_CAP = Decimal(100)  # 法68(一)


@dataclass(frozen=True)
class Window:
    """The instants at which an act is in time: ``opens`` to ``closes``, both included."""

    opens: dt.datetime
    closes: dt.datetime
    basis: str
    why: str

    @property
    def empty(self) -> bool:
        return self.closes < self.opens

    def contains(self, t: dt.datetime) -> bool:
        return self.opens <= t <= self.closes


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str  # English / Chinese, citing the basis
    basis: str
    window: Window | None = None  # the window the act was judged against, if any

    def require(self, field: str) -> None:
        """Raise the refusal as ``Invalid`` (422) naming ``field``, with the window; nothing when allowed."""
        if self.ok:
            return
        if self.window is None:
            raise Invalid(self.reason, field=field, basis=self.basis)
        window = {"opens": self.window.opens.isoformat(), "closes": self.window.closes.isoformat()}
        raise Invalid(self.reason, field=field, basis=self.basis, window=window)


@dataclass(frozen=True)
class Extension:
    """A recorded extension of the decision limit: approved at ``approved_at`` for ``days`` more."""

    days: int
    approved_at: dt.datetime


@dataclass(frozen=True)
class Surcharge:
    amount: Decimal  # 元, rounded down to the 分
    days: int  # overdue days counted (paused days left out), also those past the cap
    capped: bool  # the amount reached the fine
    basis: str = SURCHARGE_BASIS


# -- periods -------------------------------------------------------------------------------------


def _months_later(d: dt.date, months: int) -> dt.date:
    """The same date ``months`` later, or that month's last day when it has no such date."""
    year, month0 = divmod(d.month - 1 + months, 12)
    year += d.year
    return dt.date(year, month0 + 1, min(d.day, monthrange(year, month0 + 1)[1]))


def _end(cal: WorkCalendar, start: dt.datetime, amount: int, unit: LimitUnit) -> dt.datetime:
    if unit is LimitUnit.WORKING_DAYS:
        return cal.add_working_days(start, amount)
    if unit is LimitUnit.CALENDAR_DAYS:
        return cal.add_calendar_days(start, amount)
    months = amount * 12 if unit is LimitUnit.YEARS else amount
    day = start.date()
    return cal.add_calendar_days(start, (_months_later(day, months) - day).days)


def period(cal: WorkCalendar, limit: Limit, start: dt.datetime, *, extra: int = 0, field: str = "start") -> Window:
    """The window from ``start`` to the end of ``limit`` (lengthened by ``extra`` units)."""
    start = cal.local(start, field)
    amount = limit.amount + extra
    why = f"{limit.label}: {amount} {limit.unit.replace('_', ' ')} after {start:%Y-%m-%d %H:%M} ({limit.basis})"
    return Window(start, _end(cal, start, amount, limit.unit), limit.basis, why)


def _check_order(cal: WorkCalendar, first: dt.datetime, then: dt.datetime, names: tuple[str, str]) -> None:
    """Both instants aware and ``then`` not before ``first``; else ``Invalid`` naming the later one."""
    if cal.local(then, names[1]) < cal.local(first, names[0]):
        raise Invalid(f"{names[1]} {then.isoformat()} is before {names[0]} {first.isoformat()}", field=names[1])


def _in_time(window: Window, t: dt.datetime, what: str) -> Verdict:
    """Whether ``t`` is at or before the window's end (an act before it opens is not late)."""
    when, closes = f"{what} at {t:%Y-%m-%d %H:%M}", f"{window.closes:%Y-%m-%d %H:%M}"
    if t <= window.closes:
        return Verdict(True, f"{when}, by {closes} / 在期限内 ({window.basis})", window.basis, window)
    return Verdict(False, f"{when}, after {closes} / 已超过期限 ({window.basis})", window.basis, window)


# -- the clocks ----------------------------------------------------------------------------------


def limitation(
    cal: WorkCalendar,
    act_at: dt.datetime,
    discovered_at: dt.datetime,
    *,
    serious_harm: bool = False,
    act_end: dt.datetime | None = None,
) -> Verdict:
    """Whether the act was discovered within 2 years, or 5 when it touched citizens' life, health
    or financial safety and caused harm (法36). A continuing act (``act_end``) runs from its end;
    one still going on when discovered passes ``act_end=discovered_at``."""
    _check_order(cal, act_at, discovered_at, ("act_at", "discovered_at"))
    if act_end is not None:
        _check_order(cal, act_at, act_end, ("act_at", "act_end"))
    limit = Limit.LIMITATION_SERIOUS if serious_harm else Limit.LIMITATION
    window = period(cal, limit, act_at if act_end is None else act_end)
    return _in_time(window, cal.local(discovered_at, "discovered_at"), "discovered")


def hearing_request_ok(cal: WorkCalendar, notified_at: dt.datetime, requested_at: dt.datetime) -> Verdict:
    """A hearing request is in time until the 5th working day after 告知 is served (法64(一), 法85)."""
    _check_order(cal, notified_at, requested_at, ("notified_at", "requested_at"))
    window = period(cal, Limit.HEARING_REQUEST, notified_at, field="notified_at")
    return _in_time(window, cal.local(requested_at), "hearing requested")


def earliest_hearing(cal: WorkCalendar, notice_at: dt.datetime) -> dt.datetime:
    """The party is told of the hearing at least 7 working days before it (法64(二), 法85): seven
    whole working days lie between the notice day and the hearing day, neither counted. The
    hearing may be held from 00:00 of the day after the seventh."""
    seventh = period(cal, Limit.HEARING_NOTICE, notice_at, field="notice_at").closes
    return seventh.replace(hour=0, minute=0, second=0, microsecond=0) + ONE_DAY


def hearing_notice_ok(cal: WorkCalendar, notice_at: dt.datetime, hearing_at: dt.datetime) -> Verdict:
    """Whether ``hearing_at`` leaves the notice its 7 working days (see :func:`earliest_hearing`)."""
    _check_order(cal, notice_at, hearing_at, ("notice_at", "hearing_at"))
    earliest, hearing = earliest_hearing(cal, notice_at), cal.local(hearing_at)
    basis, when = Limit.HEARING_NOTICE.basis, f"hearing on {hearing:%Y-%m-%d %H:%M}"
    if hearing >= earliest:
        return Verdict(True, f"{when}, on or after {earliest:%Y-%m-%d} / 通知期限足够 ({basis})", basis)
    return Verdict(False, f"{when}, before {earliest:%Y-%m-%d} / 听证须在通知七个工作日后举行 ({basis})", basis)


def decision_due(cal: WorkCalendar, filed_at: dt.datetime, extensions: Sequence[Extension] = ()) -> Window:
    """The decision is due 90 days after 立案 (法60), plus each recorded extension. The length of an
    extension comes from the rules 法60 defers to; each must be approved before the limit it
    extends has run out, and they are added to the period (the rest-day rule applies once, at the
    final end)."""
    window = period(cal, Limit.DECISION, filed_at, field="filed_at")
    extra = 0
    approval = {i: cal.local(ext.approved_at, f"extensions.{i}.approved_at") for i, ext in enumerate(extensions)}
    for i in sorted(approval, key=approval.__getitem__):
        _check_extension(extensions[i], window, f"extensions.{i}")
        extra += extensions[i].days
        window = period(cal, Limit.DECISION, filed_at, extra=extra, field="filed_at")
    return window


def _check_extension(ext: Extension, window: Window, field: str) -> None:
    """An extension adds days, approved after 立案 and before the limit it extends ran out."""
    if ext.days < 1:
        raise Invalid(f"an extension adds at least one day, not {ext.days}", field=f"{field}.days")
    if not window.contains(ext.approved_at):
        raise Invalid(
            f"extension approved {ext.approved_at.isoformat()} outside {window.opens.isoformat()} – "
            f"{window.closes.isoformat()}: after 立案 and before the limit runs out / 须在期限届满前延长 "
            f"({Limit.DECISION.basis})",
            field=f"{field}.approved_at",
        )


def service_due(cal: WorkCalendar, decided_at: dt.datetime) -> Window:
    """A decision not handed over when announced is served within 7 working days (法61, 法85)."""
    return period(cal, Limit.SERVICE, decided_at, field="decided_at")


def payment_due(cal: WorkCalendar, received_at: dt.datetime) -> Window:
    """The fine is paid within 15 days of receiving the decision (法67)."""
    return period(cal, Limit.PAYMENT, received_at, field="received_at")


def seizure_end(cal: WorkCalendar, started_at: dt.datetime, extension_days: int = 0) -> Window:
    """A seizure lasts at most 30 days, extended once by at most 30 more with the head's approval
    (强制法25; calendar days, as 强制法69 covers only periods of ten days or less)."""
    if not 0 <= extension_days <= Limit.SEIZURE_EXTENSION.amount:
        raise Invalid(
            f"a seizure may be extended by 0–30 days, not {extension_days} ({Limit.SEIZURE_EXTENSION.basis})",
            field="extension_days",
        )
    return period(cal, Limit.SEIZURE, started_at, extra=extension_days, field="started_at")


def remedy_limits_end(cal: WorkCalendar, known_at: dt.datetime, *, review_first: bool = False) -> dt.datetime:
    """When the party can no longer seek 复议 (60 days, 行政复议法20) or go to court (6 months,
    行政诉讼法46), counted from when it learnt of the decision. A decision made on the spot must
    go to 复议 first (行政复议法23(一)), so only the 复议 limit counts for it. (When the party did
    apply, the limits run from the 复议 decision or judgment instead; the caller passes those.)"""
    review = period(cal, Limit.REVIEW, known_at, field="known_at").closes
    if review_first:
        return review
    return max(review, period(cal, Limit.LITIGATION, known_at, field="known_at").closes)


def court_window(cal: WorkCalendar, demand_served_at: dt.datetime, review_limit_end: dt.datetime) -> Window:
    """When an agency without enforcement power may apply to the court: 10 working days after the
    催告 was served (强制法54, 69), not before the 复议/诉讼 limits have run out, and within 3
    months after they did (强制法53). The window is empty when the 催告 came too late."""
    after_demand = period(cal, Limit.DEMAND_WAIT, demand_served_at, field="demand_served_at")
    # 期限届满之日 is the last day of the expired period; its 24:00 end is stored as the next 00:00.
    last_day = cal.local(review_limit_end, "review_limit_end") - ONE_US
    court = period(cal, Limit.COURT_APPLICATION, last_day, field="review_limit_end")
    opens = max(after_demand.closes, cal.local(review_limit_end))
    basis = f"{Limit.COURT_APPLICATION.basis}、{Limit.DEMAND_WAIT.basis}"
    return Window(opens, court.closes, basis, f"{after_demand.why}; {court.why}")


# -- money ---------------------------------------------------------------------------------------


def yuan(value: Money, field: str) -> Decimal:
    """An amount in 元: a Decimal with at most two decimals or an int, positive."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise Invalid(f"an amount is a Decimal or int of 元, not {type(value).__name__}", field=field)
    amount = Decimal(value)
    try:
        exact = amount == amount.quantize(CENT)
    except InvalidOperation:
        exact = False
    if not amount.is_finite() or not exact:
        raise Invalid(f"{value} is not an amount of 元 exact to the 分 / 金额须精确到分", field=field)
    if amount <= 0:
        raise Invalid(f"an amount must be positive, not {value}", field=field)
    return amount


def _overdue_days(cal: WorkCalendar, due: dt.datetime, until: dt.datetime) -> tuple[int, int]:
    """The ordinals of the first and last local days that begin at or after ``due`` and before
    ``until`` (last < first when there is none)."""
    due = cal.local(due, "payment_due")
    first = due.date() if due.time() == dt.time() else due.date() + ONE_DAY
    last = cal.local(until, "paid_or_now") - ONE_US  # a day begun at ``until`` has not begun before it
    return first.toordinal(), last.date().toordinal()


def _paused_ordinals(cal: WorkCalendar, paused: Sequence[tuple[dt.datetime, dt.datetime]]) -> list[tuple[int, int]]:
    """Each 复议/诉讼 period as the ordinals of the first and last day it touches."""
    spans = []
    for i, (start, end) in enumerate(paused):
        names = (f"paused_periods.{i}.start", f"paused_periods.{i}.end")
        _check_order(cal, start, end, names)
        spans.append((cal.local(start).date().toordinal(), cal.local(end).date().toordinal()))
    return spans


def _count_days(first: int, last: int, paused: list[tuple[int, int]]) -> int:
    """Days in [first, last] outside every paused span (spans may overlap)."""
    counted, cursor = 0, first
    for start, end in sorted(paused):
        if start > cursor:
            counted += max(0, min(start - 1, last) - cursor + 1)
        cursor = max(cursor, end + 1)
    return counted + max(0, last - cursor + 1)


def surcharge(
    cal: WorkCalendar,
    fine: Money,
    payment_due: dt.datetime,
    paid_or_now: dt.datetime,
    paused_periods: Sequence[tuple[dt.datetime, dt.datetime]] = (),
) -> Surcharge:
    """加处罚款: 3 % of the fine for every day overdue, in total at most the fine (法72(一)); days
    during 复议 or 诉讼 are not counted (法73). A day counts once it has begun unpaid; a paused
    period leaves out every day it touches, the day of filing and the day it ended included."""
    amount = yuan(fine, "fine")
    first, last = _overdue_days(cal, payment_due, paid_or_now)
    days = _count_days(first, last, _paused_ordinals(cal, paused_periods))
    raw = amount * SURCHARGE_RATE * days
    return Surcharge(min(raw, amount).quantize(CENT, rounding=ROUND_DOWN), days, raw >= amount)


def simple_procedure_allowed(penalty: PenaltyKind, amount: Money | None, party: Party) -> Verdict:
    """法51: a decision on the spot only for a warning, or a fine of at most 200 元 for a citizen
    or 3,000 元 for an organisation (unless another law says otherwise)."""
    basis = "法 51"
    if penalty == PenaltyKind.WARNING:
        if amount is not None:
            raise Invalid("a warning carries no amount", field="amount")
        return Verdict(True, "a warning may be decided on the spot / 警告可当场处罚 (法 51)", basis)
    if penalty != PenaltyKind.FINE:
        reason = f"法 51 allows only a warning or a small fine on the spot, not {penalty} / 须适用普通程序 (法 51)"
        return Verdict(False, reason, basis)
    if amount is None:
        raise Invalid("a fine needs its amount", field="amount")
    fine, cap = yuan(amount, "amount"), SIMPLE_FINE_CAP[party]
    if fine > cap:
        reason = f"a fine of {fine} 元 on a {party} is over the {cap} 元 allowed on the spot / 超出当场处罚限额 (法 51)"
        return Verdict(False, reason, basis)
    return Verdict(True, f"a fine of {fine} 元 on a {party} is within {cap} 元 / 可当场处罚 (法 51)", basis)


def on_the_spot_collection_allowed(amount: Money, hard_to_collect: bool, party: Party) -> Verdict:
    """法68: officers may collect a fine on the spot only after a 法51 decision, and only when it
    is at most 100 元 or would be hard to collect later. (法69's remote areas are not covered.)"""
    fine = yuan(amount, "amount")
    simple = simple_procedure_allowed(PenaltyKind.FINE, fine, party)
    if not simple.ok:
        reason = f"only a fine decided on the spot may be collected there: {simple.reason}"
        return Verdict(False, reason, "法 68、法 51")
    if fine <= SPOT_COLLECTION_CAP:
        return Verdict(True, f"{fine} 元 is at most 100 元 / 可当场收缴 (法 68(一))", "法 68(一)")
    if hard_to_collect:
        return Verdict(True, "hard to collect later / 不当场收缴事后难以执行 (法 68(二))", "法 68(二)")
    reason = f"{fine} 元 is over 100 元 and not hard to collect later; pay at the bank / 不得当场收缴 (法 68)"
    return Verdict(False, reason, "法 68")
