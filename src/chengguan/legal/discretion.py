"""自由裁量 (discretion): from a cause's statutory range to a recommended fine, with its rationale.

Pure logic: the service hands in the cause's terms, the circumstances, the subject's history and
the agency's tier scheme; nothing here reads the database. The steps, each leaving a rationale
line that names its rule and article:

1. grounds that forbid a penalty (法30 under 14, 法31 incapacity, 法33 para 2 no fault, 法33 para 1
   minor + promptly corrected + harmless): no fine, educate instead (法33 para 3);
2. a cause whose statute sets no fine (``FineBasis.NONE``): no amount;
3. the statute's own tier (情节严重, 再次, 拒不改正 …) decides the range; the subject's history
   decides between 首次 and 再次;
4. a per-unit rate times the quantity, or a percentage of the construction cost, gives yuan;
5. 法32 mitigation: 减轻 lowers the range below the statutory minimum, 从轻 pulls the amount to
   the lower edge of its band; aggravating facts (and prior penalties that no 再次 tier already
   punishes) pull it to the upper edge;
6. the scheme's tier (轻微/一般/较重/严重) takes its share of the range: the band, whose midpoint
   is the recommendation;
7. 首违不罚 (法33 para 1, second sentence) is reported as a ground the agency *may* use;
8. 法51 simple procedure and the 法63 hearing right follow from the amount.

Amounts are whole yuan, rounded half up (ROUNDING); a range without a statutory minimum starts
at 1 元, because a fine of nothing is no fine.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from chengguan.errors import Invalid
from chengguan.legal.models import FineBasis

ROUNDING = "金额以元为单位，四舍五入 / whole yuan, rounded half up"
MIN_FINE = 1  # the floor of a range without a statutory minimum, and of a 减轻-lowered range
SIMPLE_LIMIT_CITIZEN = 200  # 法51: on-the-spot decisions up to these amounts
SIMPLE_LIMIT_ORGANISATION = 3000


class Party(enum.StrEnum):
    CITIZEN = "citizen"  # 公民
    ORGANISATION = "organisation"  # 法人或者其他组织


PARTY_LABELS = {Party.CITIZEN: "公民", Party.ORGANISATION: "法人或者其他组织"}


class Harm(enum.StrEnum):
    """危害后果, as 法33 para 1 grades it."""

    NONE = "none"  # 没有造成危害后果
    SLIGHT = "slight"  # 危害后果轻微
    SERIOUS = "serious"  # anything more


class Mitigation(enum.StrEnum):
    """Facts after which the penalty is lighter (从轻) or reduced (减轻)."""

    REMOVED_HARM = "removed_harm"
    COERCED = "coerced"
    CONFESSED = "confessed"
    MERITORIOUS = "meritorious"
    OTHER_RULE = "other_rule"
    DIMINISHED_CAPACITY = "diminished_capacity"
    MINOR_14_TO_18 = "minor_14_to_18"  # derived from the age, not chosen


MITIGATION_BASIS: dict[Mitigation, tuple[str, str]] = {
    Mitigation.REMOVED_HARM: ("主动消除或者减轻违法行为危害后果", "法 32(一)"),
    Mitigation.COERCED: ("受他人胁迫或者诱骗实施违法行为", "法 32(二)"),
    Mitigation.CONFESSED: ("主动供述行政机关尚未掌握的违法行为", "法 32(三)"),
    Mitigation.MERITORIOUS: ("配合行政机关查处违法行为有立功表现", "法 32(四)"),
    Mitigation.OTHER_RULE: ("法律、法规、规章规定的其他从轻或者减轻情形", "法 32(五)"),
    Mitigation.DIMINISHED_CAPACITY: ("尚未完全丧失辨认或者控制自己行为能力", "法 31"),
    Mitigation.MINOR_14_TO_18: ("已满十四周岁不满十八周岁", "法 30"),
}


# -- the tier scheme -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SchemeTier:
    """A tier of the agency's benchmark: it takes ``lower``–``upper`` per cent of the range."""

    name: str
    lower: int
    upper: int


@dataclass(frozen=True)
class Scheme:
    tiers: tuple[SchemeTier, ...]
    hearing_citizen: int  # 较大数额 (法63): a fine above it carries the hearing right
    hearing_organisation: int
    source: str  # whose scheme it is, for the rationale


# Defaults, policy rather than law (legal-kb §2.1): the ordinary case (一般) sits below the middle
# of the range, so routine fines stay moderate (法5 过罚相当; 国发〔2024〕5号 against excessive
# fines) while the top fifth is kept for serious cases. An agency replaces them with its own
# published benchmark (法34); Beijing's (京城管发〔2025〕41号) has not been read yet. The hearing
# amounts are 北京市住建委's (京建法〔2023〕2号), the only Beijing 城管-adjacent ones verified.
DEFAULT_TIERS = (
    SchemeTier("轻微", 0, 20),
    SchemeTier("一般", 20, 50),
    SchemeTier("较重", 50, 80),
    SchemeTier("严重", 80, 100),
)
DEFAULT_HEARING_CITIZEN = 3000
DEFAULT_HEARING_ORGANISATION = 50000
DEFAULT_SCHEME = Scheme(DEFAULT_TIERS, DEFAULT_HEARING_CITIZEN, DEFAULT_HEARING_ORGANISATION, "平台默认基准")


def check_tiers(tiers: Sequence[SchemeTier]) -> None:
    """Names unique; shares ascending, non-empty, contiguous and covering 0–100 %. ``Invalid``
    names the first offending field (``tiers.2.lower``)."""
    if not tiers:
        raise Invalid("a scheme needs at least one tier / 至少设置一个裁量档次", field="tiers")
    seen: set[str] = set()
    expected_lower = 0
    for i, tier in enumerate(tiers):
        if tier.name in seen:
            raise Invalid(f"tier name {tier.name!r} repeats / 档次名称重复", field=f"tiers.{i}.name")
        seen.add(tier.name)
        if tier.lower != expected_lower:
            raise Invalid(
                f"tier {tier.name!r} starts at {tier.lower} %, expected {expected_lower} % "
                "(tiers are contiguous from 0 %) / 档次须从0%起首尾相接",
                field=f"tiers.{i}.lower",
            )
        if tier.upper <= tier.lower:
            raise Invalid(
                f"tier {tier.name!r} must end above {tier.lower} % / 档次上限须高于下限", field=f"tiers.{i}.upper"
            )
        expected_lower = tier.upper
    if expected_lower != 100:
        raise Invalid(
            f"the last tier ends at {expected_lower} %, not 100 % / 最高档须至100%",
            field=f"tiers.{len(tiers) - 1}.upper",
        )


# -- inputs --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatuteTier:
    """A tier written into the statute (``CaseCause.tiers``): 情节严重, 再次违反, 拒不改正 …"""

    when: str
    min: int | None
    max: int | None


@dataclass(frozen=True)
class CauseTerms:
    """What discretion needs of a 案由: its range, basis, built-in tiers and penalty provisions."""

    code: str
    name: str
    basis: FineBasis
    fine_min: int | None
    fine_max: int | None
    tiers: tuple[StatuteTier, ...] = ()
    penalty_refs: tuple[str, ...] = ()  # as written, resolvable: "BJ市容 35 para 5"
    measures: str = ""


@dataclass(frozen=True)
class History:
    """The subject's earlier penalties for the same cause within the look-back window (the case
    tables build this; discretion only reads it)."""

    prior_penalties: int = 0
    last_penalty_on: dt.date | None = None
    window_days: int = 365

    def __post_init__(self) -> None:
        if self.prior_penalties < 0:
            raise Invalid("prior_penalties cannot be negative", field="history.prior_penalties")
        if (self.prior_penalties > 0) != (self.last_penalty_on is not None):
            raise Invalid(
                "give last_penalty_on exactly when there are prior penalties / 有处罚记录时须填写最近一次处罚日期",
                field="history.last_penalty_on",
            )

    @property
    def text(self) -> str:
        if not self.prior_penalties:
            return f"回溯{self.window_days}日内无同一案由处罚记录"
        return f"回溯{self.window_days}日内同一案由已受处罚{self.prior_penalties}次（最近一次{self.last_penalty_on}）"


@dataclass(frozen=True)
class Circumstances:
    tier: str  # the scheme's tier the facts fit: 轻微/一般/较重/严重
    builtin_tier: str | None = None  # the statute's own tier, when the facts select one
    party: Party = Party.CITIZEN
    quantity: Decimal | None = None  # m², vehicles, animals … for per-unit fines
    construction_cost: Decimal | None = None  # yuan, for percent-of-cost fines
    mitigating: frozenset[Mitigation] = frozenset()
    reduce: bool = False  # 法32 lets the agency choose 减轻 (below the range) over 从轻
    aggravating: tuple[str, ...] = ()
    minor: bool = False  # 违法行为轻微
    corrected: bool = False  # 及时改正
    harm: Harm = Harm.SERIOUS
    no_fault_proven: bool = False  # 有证据足以证明没有主观过错
    age: int | None = None
    lacks_capacity: bool = False  # 不能辨认或者不能控制自己行为 (法31)


# -- outputs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One step of the rationale and the provisions it rests on."""

    text: str
    refs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Range:
    low: int
    high: int

    def __contains__(self, amount: object) -> bool:
        return isinstance(amount, int) and self.low <= amount <= self.high

    @property
    def text(self) -> str:
        return f"{self.low}–{self.high}元" if self.low != self.high else f"{self.low}元"


@dataclass(frozen=True)
class NoPenalty:
    ground: str  # under_14 | incapable | no_fault | minor | first_offence
    mandatory: bool  # 不予 (must not) or 可以不予 (may not)
    text: str
    ref: str


@dataclass(frozen=True)
class Recommendation:
    cause: CauseTerms
    party: Party
    tier: str
    builtin_tier: str | None
    applicable: Range | None  # the statutory range for these circumstances, in yuan
    reduced: Range | None  # the 减轻-lowered range the amount is drawn from, if any
    band: Range | None
    amount: int | None
    no_penalty: NoPenalty | None
    simple_procedure: bool
    hearing: bool
    hearing_threshold: int
    lines: list[Line] = field(default_factory=list)
    rounding: str = ROUNDING

    @property
    def allowed(self) -> Range | None:
        """What a decision may legally fine: the applicable range, widened down by 减轻."""
        if self.applicable is None:
            return None
        return Range(self.reduced.low, self.applicable.high) if self.reduced else self.applicable


# -- helpers -------------------------------------------------------------------------------------


def yuan(amount: Fraction) -> int:
    """Whole yuan, halves up (the stated ROUNDING)."""
    return math.floor(amount + Fraction(1, 2))


def simple_procedure_allowed(amount: int, party: Party) -> bool:
    """法51: a fine of ≤200 元 (citizen) or ≤3,000 元 (organisation) may be decided on the spot."""
    return amount <= (SIMPLE_LIMIT_CITIZEN if party == Party.CITIZEN else SIMPLE_LIMIT_ORGANISATION)


def hearing_threshold(scheme: Scheme, party: Party) -> int:
    return scheme.hearing_citizen if party == Party.CITIZEN else scheme.hearing_organisation


def procedure_lines(amount: int, party: Party, threshold: int) -> tuple[bool, bool, list[Line]]:
    """Whether the simple procedure is open and the hearing right applies, with their lines."""
    simple = simple_procedure_allowed(amount, party)
    limit = SIMPLE_LIMIT_CITIZEN if party == Party.CITIZEN else SIMPLE_LIMIT_ORGANISATION
    simple_text = "可以适用简易程序当场作出决定" if simple else "不得适用简易程序，应按普通程序办理"
    hearing = amount > threshold
    hearing_text = "属较大数额罚款，应告知当事人有要求听证的权利" if hearing else "未达较大数额，不适用听证程序"
    return (
        simple,
        hearing,
        [
            Line(f"对{PARTY_LABELS[party]}罚款{amount}元，简易程序上限{limit}元：{simple_text}", ("法 51",)),
            Line(f"较大数额标准：对{PARTY_LABELS[party]}罚款超过{threshold}元：{hearing_text}", ("法 63(一)",)),
        ],
    )


def _no_fine(
    terms: CauseTerms, circ: Circumstances, scheme: Scheme, lines: list[Line], ground: NoPenalty | None = None
) -> Recommendation:
    return Recommendation(
        cause=terms,
        party=circ.party,
        tier=circ.tier,
        builtin_tier=None,
        applicable=None,
        reduced=None,
        band=None,
        amount=None,
        no_penalty=ground,
        simple_procedure=False,
        hearing=False,
        hearing_threshold=hearing_threshold(scheme, circ.party),
        lines=lines,
    )


def _binding_ground(circ: Circumstances) -> NoPenalty | None:
    """The first ground on which the statute forbids a penalty (不予行政处罚)."""
    if circ.age is not None and circ.age < 14:
        return NoPenalty("under_14", True, "不满十四周岁，不予行政处罚，责令监护人加以管教", "法 30")
    if circ.lacks_capacity:
        return NoPenalty("incapable", True, "不能辨认或者不能控制自己行为时违法，不予行政处罚", "法 31")
    if circ.no_fault_proven:
        return NoPenalty("no_fault", True, "有证据足以证明没有主观过错，不予行政处罚", "法 33 para 2")
    if circ.minor and circ.corrected and circ.harm == Harm.NONE:
        return NoPenalty("minor", True, "违法行为轻微并及时改正，没有造成危害后果，不予行政处罚", "法 33 para 1")
    return None


def _first_offence_ground(circ: Circumstances, history: History) -> NoPenalty | None:
    """首违不罚: first offence, slight harm, promptly corrected → the agency may decline to punish."""
    if history.prior_penalties == 0 and circ.corrected and circ.harm in (Harm.NONE, Harm.SLIGHT):
        text = f"初次违法（{history.text}）且危害后果轻微并及时改正，可以不予行政处罚"
        return NoPenalty("first_offence", False, text, "法 33 para 1")
    return None


def _check_party(circ: Circumstances) -> None:
    if circ.party == Party.ORGANISATION and (circ.age is not None or circ.lacks_capacity):
        raise Invalid(
            "age and capacity apply to a citizen, not an organisation / 单位不适用年龄与责任能力",
            field="age" if circ.age is not None else "lacks_capacity",
        )
    if circ.age is not None and not 0 <= circ.age < 150:
        raise Invalid("age must be between 0 and 149", field="age")


# -- the statute's own tiers ---------------------------------------------------------------------

REPEAT_MARK = "再次"
FIRST_MARK = "首次"
DEFAULT_MARKS = (FIRST_MARK, "一般")  # the tier that applies when nothing heavier is established
PARTY_MARKS = {Party.CITIZEN: "个人", Party.ORGANISATION: "单位"}


@dataclass(frozen=True)
class BuiltinChoice:
    tier: StatuteTier | None  # None with fines: the cause's own range; None without: no fine yet
    line: Line | None
    fines: bool = True


def _is_repeat(tier: StatuteTier) -> bool:
    return REPEAT_MARK in tier.when


def _for_party(tiers: Sequence[StatuteTier], party: Party) -> list[StatuteTier]:
    """Tiers naming the other kind of party (单位/个人) do not apply."""
    other = PARTY_MARKS[Party.ORGANISATION if party == Party.CITIZEN else Party.CITIZEN]
    return [t for t in tiers if other not in t.when]


def _chosen_tier(terms: CauseTerms, circ: Circumstances, history: History, eligible: list[StatuteTier]) -> StatuteTier:
    names = [t.when for t in terms.tiers]
    tier = next((t for t in terms.tiers if t.when == circ.builtin_tier), None)
    if tier is None:
        raise Invalid(f"{terms.code} has no built-in tier {circ.builtin_tier!r}; one of {names}", field="builtin_tier")
    if tier not in eligible:
        raise Invalid(
            f"tier {tier.when!r} does not apply to a {circ.party} / 该档次不适用于此类当事人", field="builtin_tier"
        )
    if _is_repeat(tier) and not history.prior_penalties:
        raise Invalid(f"tier {tier.when!r} needs a prior penalty: {history.text}", field="builtin_tier")
    if tier.when.startswith(FIRST_MARK) and history.prior_penalties:
        raise Invalid(f"tier {tier.when!r} is for a first offence: {history.text}", field="builtin_tier")
    return tier


def select_builtin(terms: CauseTerms, circ: Circumstances, history: History) -> BuiltinChoice:
    """The statute's tier these facts select: the one named, else 再次 when history shows a prior
    penalty, else 首次/一般, else the only tier left (a precondition such as 逾期不改正)."""
    if not terms.tiers:
        return BuiltinChoice(None, None)
    eligible = _for_party(terms.tiers, circ.party)
    refs = terms.penalty_refs
    if circ.builtin_tier is not None:
        tier = _chosen_tier(terms, circ, history, eligible)
        return BuiltinChoice(tier, Line(f"依认定的情节适用法定档次“{tier.when}”", refs))
    repeat = [t for t in eligible if _is_repeat(t)]
    if history.prior_penalties and repeat:
        return BuiltinChoice(repeat[0], Line(f"{history.text}，适用法定档次“{repeat[0].when}”", refs))
    usual = [t for t in eligible if not _is_repeat(t)]
    default = next((t for t in usual if t.when.startswith(DEFAULT_MARKS)), None)
    if default is not None:
        return BuiltinChoice(default, Line(f"未认定加重情节，适用法定档次“{default.when}”", refs))
    if len(usual) == 1:
        text = f"罚则仅规定“{usual[0].when}”一档，以该情形成立为罚款前提"
        return BuiltinChoice(usual[0], Line(text, refs))
    if not usual:
        text = f"罚款仅适用于“{repeat[0].when}”，{history.text}：本次不处罚款（{terms.measures or '依罚则处理'}）"
        return BuiltinChoice(None, Line(text, refs), fines=False)
    raise Invalid(
        f"{terms.code} has several built-in tiers; name the one the facts establish: {[t.when for t in usual]}",
        field="builtin_tier",
    )


# -- ranges --------------------------------------------------------------------------------------


def _rate_range(terms: CauseTerms, tier: StatuteTier | None) -> tuple[int, int]:
    low, high = (tier.min, tier.max) if tier is not None else (terms.fine_min, terms.fine_max)
    if high is None:
        raise Invalid(f"{terms.code}: no statutory maximum is recorded / 该案由未录入罚款上限", field="cause_code")
    return low or 0, high


def _scale(terms: CauseTerms, circ: Circumstances, tier: StatuteTier | None) -> tuple[Fraction, Line | None]:
    """The factor that turns the statute's rate into yuan, and the line that says so."""
    per_unit = terms.basis == FineBasis.PER_UNIT and (tier is None or "每" in tier.when)
    if per_unit:
        if circ.quantity is None or circ.quantity <= 0:
            raise Invalid(f"{terms.code} is fined per unit: give the quantity / 请填写数量", field="quantity")
        return Fraction(circ.quantity), Line(f"按单位计罚：数量{circ.quantity}", terms.penalty_refs)
    if terms.basis == FineBasis.PERCENT_OF_COST:
        if circ.construction_cost is None or circ.construction_cost <= 0:
            raise Invalid(
                f"{terms.code} is fined on the construction cost: give it / 请填写工程造价", field="construction_cost"
            )
        return Fraction(circ.construction_cost) / 100, Line(
            f"按工程造价计罚：造价{circ.construction_cost}元", terms.penalty_refs
        )
    return Fraction(1), None


def _in_yuan(low: Fraction, high: Fraction) -> Range:
    bottom = max(yuan(low), MIN_FINE)
    return Range(bottom, max(yuan(high), bottom))


def _band(base: Range, tier: SchemeTier) -> Range:
    width = base.high - base.low
    return Range(yuan(base.low + Fraction(width * tier.lower, 100)), yuan(base.low + Fraction(width * tier.upper, 100)))


def _scheme_tier(scheme: Scheme, name: str) -> SchemeTier:
    tier = next((t for t in scheme.tiers if t.name == name), None)
    if tier is None:
        raise Invalid(f"tier {name!r} is not in the scheme; one of {[t.name for t in scheme.tiers]}", field="tier")
    return tier


def _mitigation(circ: Circumstances) -> frozenset[Mitigation]:
    derived = {Mitigation.MINOR_14_TO_18} if circ.age is not None and 14 <= circ.age < 18 else set()
    factors = circ.mitigating | derived
    if circ.reduce and not factors:
        raise Invalid("减轻 needs a 法32 mitigating fact / 减轻处罚须有法定情节", field="reduce")
    return factors


def _mitigation_lines(factors: frozenset[Mitigation], reduce: bool, applicable: Range) -> list[Line]:
    effect = "减轻处罚（低于法定最低额）" if reduce else "从轻处罚"
    return [
        Line(f"具有“{MITIGATION_BASIS[f][0]}”情节，依法{effect}", (MITIGATION_BASIS[f][1],))
        for f in sorted(factors, key=list(Mitigation).index)
    ] + ([Line(f"减轻后幅度：{MIN_FINE}–{applicable.low}元", ("法 32",))] if reduce else [])


def _pull(circ: Circumstances, mitigated: bool, history: History, repeat_applied: bool) -> tuple[int, list[Line]]:
    """-1: the band's lower edge, +1: its upper edge, 0: its midpoint."""
    lines: list[Line] = []
    aggravating = list(circ.aggravating)
    if history.prior_penalties and not repeat_applied:
        aggravating.append(history.text)  # not already punished by a 再次 tier
    if aggravating:
        lines.append(Line(f"从重情节：{'；'.join(aggravating)}", ("法 5",)))
    return (1 if aggravating else 0) - (1 if mitigated else 0), lines


def _amount(band: Range, pull: int) -> tuple[int, str]:
    if pull < 0:
        return band.low, "从轻，取档内下限"
    if pull > 0:
        return band.high, "从重，取档内上限"
    return yuan(Fraction(band.low + band.high, 2)), "取档内中值"


# -- recommendation ------------------------------------------------------------------------------


def recommend(terms: CauseTerms, circ: Circumstances, history: History, scheme: Scheme) -> Recommendation:
    """The recommended fine for ``terms`` under ``circ``, with every step in ``lines``."""
    _check_party(circ)
    scheme_tier = _scheme_tier(scheme, circ.tier)
    lines = [Line(f"案由：{terms.name}（{terms.code}）；当事人：{PARTY_LABELS[circ.party]}", terms.penalty_refs)]
    binding = _binding_ground(circ)
    if binding is not None:
        return _no_fine(terms, circ, scheme, [*lines, Line(binding.text, (binding.ref,)), _EDUCATE], binding)
    if terms.basis == FineBasis.NONE:
        text = f"罚则未设罚款，依法采取其他措施：{terms.measures or '见罚则'}；如给予警告，可适用简易程序"
        return _no_fine(terms, circ, scheme, [*lines, Line(text, (*terms.penalty_refs, "法 51"))])
    choice = select_builtin(terms, circ, history)
    lines += [choice.line] if choice.line else []
    if not choice.fines:
        return _no_fine(terms, circ, scheme, lines)
    return _fine(terms, circ, history, scheme, scheme_tier, choice, lines)


_EDUCATE = Line("依法不予行政处罚的，应当对当事人进行教育", ("法 33 para 3",))


def _fine(
    terms: CauseTerms,
    circ: Circumstances,
    history: History,
    scheme: Scheme,
    scheme_tier: SchemeTier,
    choice: BuiltinChoice,
    lines: list[Line],
) -> Recommendation:
    low, high = _rate_range(terms, choice.tier)
    factor, scale_line = _scale(terms, circ, choice.tier)
    applicable = _in_yuan(low * factor, high * factor)
    lines += [scale_line] if scale_line else []
    lines.append(Line(f"法定罚款幅度：{applicable.text}", terms.penalty_refs))
    factors = _mitigation(circ)
    lines += _mitigation_lines(factors, circ.reduce, applicable)
    reduced = Range(MIN_FINE, applicable.low) if circ.reduce else None
    base = reduced or applicable
    band = _band(base, scheme_tier)
    lines.append(
        Line(
            f"裁量基准（{scheme.source}）“{scheme_tier.name}”档取幅度的{scheme_tier.lower}%–{scheme_tier.upper}%："
            f"{band.text}",
            ("法 34",),
        )
    )
    repeat_applied = choice.tier is not None and _is_repeat(choice.tier)
    pull, pull_lines = _pull(circ, bool(factors) and not circ.reduce, history, repeat_applied)
    lines += pull_lines
    amount, how = _amount(band, pull)
    lines.append(Line(f"建议罚款{amount}元（{how}；{ROUNDING}）", ("法 5",)))
    threshold = hearing_threshold(scheme, circ.party)
    simple, hearing, proc = procedure_lines(amount, circ.party, threshold)
    first = _first_offence_ground(circ, history)
    lines += proc + ([Line(first.text, (first.ref,))] if first else [])
    return Recommendation(
        cause=terms,
        party=circ.party,
        tier=circ.tier,
        builtin_tier=choice.tier.when if choice.tier else None,
        applicable=applicable,
        reduced=reduced,
        band=band,
        amount=amount,
        no_penalty=first,
        simple_procedure=simple,
        hearing=hearing,
        hearing_threshold=threshold,
        lines=lines,
    )


# -- 法29: one act, several provisions -----------------------------------------------------------


@dataclass(frozen=True)
class Concurrence:
    applies: Recommendation
    lines: list[Line]


def _weight(rec: Recommendation) -> tuple[int, int]:
    return (rec.applicable.high, rec.applicable.low) if rec.applicable else (0, 0)


def one_fine(recommendations: Sequence[Recommendation]) -> Concurrence:
    """法29: one act breaking several provisions gets one fine, under the provision whose fine is
    higher (the higher maximum; on a tie the higher minimum; then the order given)."""
    if not recommendations:
        raise Invalid("give at least one cause / 请至少选择一个案由", field="causes")
    codes = [r.cause.code for r in recommendations]
    if len(set(codes)) != len(codes):
        raise Invalid(f"a cause is given twice: {codes}", field="causes")
    fining = [r for r in recommendations if r.applicable is not None and r.amount is not None]
    if not fining:
        return Concurrence(recommendations[0], [Line("各案由均不处罚款，无需择一适用", ("法 29",))])
    chosen = max(fining, key=_weight)  # max keeps the first of equals
    lines = [
        Line(
            f"同一违法行为违反{len(recommendations)}个法律规范，只能给予一次罚款，按罚款数额高的规定处罚",
            ("法 29",),
        ),
        *(
            Line(f"{r.cause.code}：法定幅度{r.applicable.text}" if r.applicable else f"{r.cause.code}：不处罚款")
            for r in recommendations
        ),
        Line(
            f"适用{chosen.cause.code}（{chosen.cause.name}），最高额{_weight(chosen)[0]}元", chosen.cause.penalty_refs
        ),
    ]
    return Concurrence(chosen, lines)


# -- the decision --------------------------------------------------------------------------------


class Verdict(enum.StrEnum):
    OK = "ok"  # inside the recommended band, or a lawful no-penalty decision
    SUPERVISE = "supervise"  # outside the band with a written reason: flagged for supervision


@dataclass(frozen=True)
class DecisionCheck:
    verdict: Verdict
    amount: int
    deviation: int  # yuan beyond the band's nearest edge (negative: below it)
    simple_procedure: bool
    hearing: bool
    lines: list[Line]


def _refuse_fine(rec: Recommendation, amount: int) -> None:
    """A fine where the law allows none."""
    ground = rec.no_penalty
    if ground is not None and ground.mandatory:
        raise Invalid(f"no penalty may be imposed: {ground.text} / 依法不予处罚", field="amount", ref=ground.ref)
    raise Invalid(
        f"{rec.cause.code} carries no fine in these circumstances; {amount} 元 cannot be imposed / 本情形无罚款",
        field="amount",
        refs=list(rec.cause.penalty_refs),
    )


def _refuse_outside(rec: Recommendation, allowed: Range, amount: int) -> None:
    basis = "、".join(rec.cause.penalty_refs) or rec.cause.code
    if amount == 0:
        raise Invalid(
            "not fining needs a no-penalty ground of 法33 / 不予处罚须有法定情形", field="amount", refs=["法 33 para 1"]
        )
    raise Invalid(
        f"{amount} 元 is outside the lawful range {allowed.text} ({basis}) / 超出法定罚款幅度",
        field="amount",
        refs=list(rec.cause.penalty_refs),
    )


def check_decision(rec: Recommendation, amount: int, reason: str | None) -> DecisionCheck:
    """Is ``amount`` a lawful decision for ``rec``, and does it need a reason? Outside the lawful
    (or 减轻-lowered) range: refused with the provision. Outside the band: refused without a
    written reason, flagged for supervision with one."""
    if amount < 0:
        raise Invalid("the amount cannot be negative", field="amount")
    allowed = rec.allowed
    if allowed is None or rec.band is None:
        if amount:
            _refuse_fine(rec, amount)
        return DecisionCheck(Verdict.OK, 0, 0, False, False, [Line("不处罚款，与裁量建议一致")])
    if amount == 0 and rec.no_penalty is not None:
        line = Line(f"决定不予处罚：{rec.no_penalty.text}", (rec.no_penalty.ref,))
        return DecisionCheck(Verdict.OK, 0, 0, False, False, [line, _EDUCATE])
    if amount not in allowed:
        _refuse_outside(rec, allowed, amount)
    simple, hearing, proc = procedure_lines(amount, rec.party, rec.hearing_threshold)
    if amount in rec.band:
        return DecisionCheck(Verdict.OK, amount, 0, simple, hearing, [Line(f"决定罚款{amount}元，在建议档内"), *proc])
    if not (reason and reason.strip()):
        raise Invalid(
            f"{amount} 元 is outside the recommended band {rec.band.text}: give a written reason"
            " / 偏离裁量建议须书面说明理由",
            field="reason",
        )
    deviation = amount - rec.band.high if amount > rec.band.high else amount - rec.band.low
    line = Line(
        f"决定罚款{amount}元，偏离建议档{rec.band.text}{deviation:+d}元，理由：{reason.strip()}；报送督察", ("法 5",)
    )
    return DecisionCheck(Verdict.SUPERVISE, amount, deviation, simple, hearing, [line, *proc])
