"""The administrative-penalty case's runtime (``cases/flows/penalty.json``): its effects and
guards, which put the legal clocks (``legal.deadlines``), the discretion (``legal.discretion``)
and the documents (``documents``) to work at the right steps.

Every legal limit is checked where the law puts it: the limitation period at 立案 (法36), two
officers before the investigation closes (法55), the 90-day decision limit with its recorded
extensions (法60) at 告知 and 决定, the hearing window (法63-64), no heavier penalty than was
notified (法45), the simple procedure's thresholds (法51), the surcharge at payment (法72), the
court window after a 催告 (强制法53-54). A refusal names the article.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chengguan.auth.models import User
from chengguan.cases.flow import Limit
from chengguan.cases.models import PenaltyCase
from chengguan.cases.workflow import Binding, Context, Effect, Guard
from chengguan.documents import service as documents_service
from chengguan.documents.kinds import get_kind
from chengguan.documents.models import Document
from chengguan.errors import Invalid
from chengguan.evidence.models import EvidenceItem
from chengguan.legal import deadlines, discretion
from chengguan.legal import service as legal_service
from chengguan.legal.deadlines import Extension, Party, PenaltyKind
from chengguan.legal.models import CaseCause, CauseProvision, ProvisionRole
from chengguan.legal.resolve import ResolvedRef
from chengguan.legal.schemas import CauseFactsIn, DecisionIn
from chengguan.orgs.models import Organisation

SUBJECT = "penalty"
HISTORY_YEARS = 2  # prior penalties counted for 首违/再次 (法33, the statute's 再次 tiers)
REMEDY = {"review_body": "本级人民政府", "court": "有管辖权的人民法院"}  # where a decision may be challenged


def _case(ctx: Context) -> PenaltyCase:
    case: PenaltyCase = ctx.case
    return case


def _iso(t: dt.datetime | None) -> str | None:
    return None if t is None else t.isoformat()


# -- documents -------------------------------------------------------------------------------------


def _issue(ctx: Context, kind: str, fields: dict[str, Any]) -> Document:
    """Issue a document of ``kind`` for the case, from the fields that kind takes."""
    case = _case(ctx)
    if ctx.settings is None:  # the settings name the file store the document goes to
        raise RuntimeError("issuing a document needs the settings: pass settings= to workflow.take")
    takes = {f.name for f in get_kind(kind).fields}
    document = documents_service.issue(
        ctx.session,
        ctx.settings,
        kind,
        case.agency_id,
        {k: v for k, v in fields.items() if k in takes},
        case_ref=documents_service.CaseRef(SUBJECT, str(case.id)),
    )
    ctx.data.setdefault("documents", []).append({"kind": kind, "number": document.number, "id": document.id})
    return document


def _agency_name(ctx: Context) -> str:
    agency = ctx.session.get(Organisation, _case(ctx).agency_id)
    return agency.name if agency is not None else ""


def _charge(ctx: Context) -> dict[str, str]:
    """The party and the charge as every penalty document states them."""
    case = _case(ctx)
    advice = case.recommendation or {}
    return {
        "party_name": case.party_name,
        "party_id": case.party_id_no or "",
        "party_address": case.party_address or "—",
        "facts": case.facts or case.title,
        "evidence": f"证据材料{_evidence_count(ctx.session, case)}份(见证据清单)",
        "provisions": _citations(ctx, ProvisionRole.BREACHED),
        "penalty_basis": _citations(ctx, ProvisionRole.PENALTY, advice.get("cause")),
        "contact_address": _agency_name(ctx),
        "contact_phone": "—",
    }


def _evidence_count(session: Session, case: PenaltyCase) -> int:
    """Evidence collected for the case: its own documents (also filed as evidence) not counted."""
    issued = select(Document.evidence_id).where(Document.subject_type == SUBJECT, Document.subject_id == str(case.id))
    stmt = select(func.count()).select_from(EvidenceItem)
    stmt = stmt.where(EvidenceItem.subject_type == SUBJECT, EvidenceItem.subject_id == str(case.id))
    return session.scalar(stmt.where(EvidenceItem.id.not_in(issued))) or 0


def _penalty_text(kind: str | None, amount: int | None) -> str:
    return "警告" if kind == PenaltyKind.WARNING else f"罚款人民币{amount}元"


# -- discretion -----------------------------------------------------------------------------------


def _history(session: Session, case: PenaltyCase, now: dt.datetime) -> dict[str, Any]:
    """The party's penalties decided in the look-back window, this case left out."""
    since = now - dt.timedelta(days=365 * HISTORY_YEARS)
    rows = session.execute(
        select(func.count(), func.max(PenaltyCase.decided_at)).where(
            PenaltyCase.party_key == case.party_key,
            PenaltyCase.id != case.id,
            PenaltyCase.outcome == "penalty",
            PenaltyCase.decided_at >= since,
        )
    ).one()
    last = rows[1].date() if rows[1] is not None else None
    return {"prior_penalties": rows[0], "last_penalty_on": last, "window_days": 365 * HISTORY_YEARS}


def _advice_input(
    session: Session, case: PenaltyCase, now: dt.datetime, tier: str, amount: int | None, reason: str | None
) -> DecisionIn:
    facts = dict(case.circumstances)
    facts.pop("tier", None)
    return DecisionIn(
        causes=[CauseFactsIn(**c) for c in case.causes],
        org_id=case.agency_id,
        tier=tier,
        party=Party(case.party_type),
        history=_history(session, case, now),
        amount=amount or 0,
        reason=reason,
        **facts,
    )


@dataclass(frozen=True)
class TierAdvice:
    """What the discretion recommends for the case at one tier of its agency's scheme."""

    tier: str
    recommended: int | None
    band: list[int] | None
    range: list[int] | None
    rationale: list[str]
    refs: list[str]


def advice_by_tier(session: Session, case: PenaltyCase, now: dt.datetime) -> list[TierAdvice]:
    """The recommendation at every tier of the agency's scheme, for the officer choosing one
    before 告知: the same computation ``notify`` applies to the tier chosen."""
    agency = session.get(Organisation, case.agency_id)
    path = agency.path if agency else None
    out = []
    for tier in legal_service.effective_scheme(session, path).scheme.tiers:
        advice = legal_service.recommend(session, _advice_input(session, case, now, tier.name, None, None), path)
        _cause, rec = advice.applies
        lines = [*advice.concurrence.lines, *rec.lines]
        out.append(
            TierAdvice(
                tier.name,
                rec.amount,
                _range(rec.band),
                _range(rec.applicable),
                [line.text for line in lines],
                legal_service.cited_refs(lines),
            )
        )
    return out


def _judge(ctx: Context, tier: str, amount: int | None, reason: str | None) -> dict[str, Any]:
    """The recommendation for the case and the verdict on ``amount``: refused outside the
    statutory range, a written reason required outside the band (then flagged for 督察)."""
    case = _case(ctx)
    agency = ctx.session.get(Organisation, case.agency_id)
    try:
        advice, check = legal_service.check_decision(
            ctx.session,
            _advice_input(ctx.session, case, ctx.now, tier, amount, reason),
            agency.path if agency else None,
        )
    except Invalid as exc:  # name the action's own field
        raise Invalid(exc.message, field=f"fields.{exc.field or 'amount'}", **exc.extra) from exc
    cause, rec = advice.applies
    lines = [*advice.concurrence.lines, *rec.lines, *check.lines]
    return {
        "tier": tier,
        "cause": cause.code,
        "recommended": rec.amount,
        "band": _range(rec.band),
        "range": _range(rec.applicable),
        "hearing_right": rec.hearing,
        "simple_procedure": rec.simple_procedure,
        "rationale": [line.text for line in lines],
        "provisions": "、".join(rec.cause.penalty_refs) or cause.code,
        "basis": "、".join(legal_service.cited_refs(lines)),
        "flagged": check.verdict == discretion.Verdict.SUPERVISE,
        "deviation": check.deviation,
    }


def _range(value: discretion.Range | None) -> list[int] | None:
    return None if value is None else [value.low, value.high]


# -- effects ----------------------------------------------------------------------------------------


def _file(ctx: Context) -> None:
    """立案 (法54): the 90-day decision clock starts (法60); the 立案审批表 records the approval."""
    case = _case(ctx)
    case.filed_at = ctx.now
    case.decision_due_at = deadlines.decision_due(ctx.calendar, ctx.now).closes
    ctx.data["decision_due_at"] = _iso(case.decision_due_at)
    approver = ctx.principal.username if ctx.principal is not None else "platform"
    fields = {
        **_charge(ctx),
        "case_cause": _cause_names(ctx),
        "case_source": case.source,
        "handlers": _officer_names(ctx),
        "handler_opinion": ctx.values["reason"],
        "approval_opinion": f"同意立案（{approver}）",
    }
    _issue(ctx, "filing_approval", fields)


def _record(kind: str) -> Effect:
    """A 笔录 or notice issued during the investigation from the action's fields (法55: the
    officers who did it are named on it)."""

    def issue(ctx: Context) -> None:
        names = _officer_names(ctx)
        recorder = ctx.principal.username if ctx.principal is not None else "platform"
        values = {k: _local_text(ctx, v) if k.endswith("_at") else v for k, v in ctx.values.items()}
        extra = {
            "inspectors": names,
            "inquirers": names,
            "recorder": recorder,
            "order_basis": _charge(ctx)["penalty_basis"],
        }
        _issue(ctx, kind, {**_charge(ctx), **extra, **values})

    return issue


def _local_text(ctx: Context, value: str) -> str:
    return dt.datetime.fromisoformat(value).astimezone(ctx.calendar.zone).strftime("%Y年%m月%d日 %H:%M")


def _officer_names(ctx: Context) -> str:
    ids = _case(ctx).officers
    names = {i: name for i, name in ctx.session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))}
    return "、".join(names.get(i, str(i)) for i in ids)


def _citations(ctx: Context, role: ProvisionRole, only: str | None = None) -> str:
    """The provisions of the case's causes (``only``: of that cause) as 《title》第…条 citations;
    a provision whose text is not loaded keeps its reference as written."""
    codes = [c["cause_code"] for c in _case(ctx).causes if only is None or c["cause_code"] == only]
    stmt = select(CauseProvision.ref).join(CaseCause).where(CaseCause.code.in_(codes), CauseProvision.role == role)
    refs = list(dict.fromkeys(ctx.session.scalars(stmt.order_by(CaseCause.code, CauseProvision.position))))
    resolved = legal_service.resolve_refs(ctx.session, refs)
    return "、".join(_cited(resolved[r]) if r in resolved else r for r in refs) or "、".join(codes)


def _cited(ref: ResolvedRef) -> str:
    title = ref.document.title
    return f"《{title}》{ref.citation.removeprefix(title)}"


def _cause_names(ctx: Context) -> str:
    codes = [c["cause_code"] for c in _case(ctx).causes]
    stmt = select(CaseCause.code, CaseCause.name).where(CaseCause.code.in_(codes))
    rows = {code: name for code, name in ctx.session.execute(stmt)}
    return "、".join(rows.get(code, code) for code in codes)


def _summary(ctx: Context) -> None:
    """当场处罚 (法51-52): decided, documented and served on the spot; paid there or within 15 days."""
    case, kind, amount = _case(ctx), PenaltyKind(ctx.values["penalty_kind"]), ctx.values.get("amount")
    deadlines.simple_procedure_allowed(kind, amount, Party(case.party_type)).require("fields.amount")
    collected = ctx.values["collected"] == "yes"
    if collected and amount is not None:
        deadlines.on_the_spot_collection_allowed(amount, False, Party(case.party_type)).require("fields.collected")
    case.procedure, case.outcome, case.penalty_kind, case.fine_yuan = "simple", "penalty", kind.value, amount
    case.filed_at = case.decided_at = case.served_at = ctx.now
    fields = {
        "party_name": case.party_name,
        "party_id": case.party_id_no or "",
        "party_address": case.party_address or "",
        "occurred_at": case.act_at.astimezone(ctx.calendar.zone).strftime("%Y年%m月%d日 %H:%M"),
        "place": case.party_address or "现场",
        "act": case.facts or case.title,
        "provisions": _citations(ctx, ProvisionRole.BREACHED),
        "penalty_basis": f"{_citations(ctx, ProvisionRole.PENALTY)}、《中华人民共和国行政处罚法》第五十一条",
        "penalty_kind": "警告" if kind == PenaltyKind.WARNING else "罚款",
        "fine_amount": "" if amount is None else f"{amount}元",
        "payment_method": "当场缴纳" if collected else "十五日内到指定银行缴纳",
        "officers": _officer_names(ctx),
        **REMEDY,
    }
    _issue(ctx, "summary_decision", fields)
    if kind == PenaltyKind.WARNING or collected:
        if collected and amount is not None:
            case.paid_at, case.paid_yuan, case.surcharge_yuan = ctx.now, Decimal(amount), Decimal(0)
        case.closed_at = ctx.now
        ctx.target = "closed"
        return
    case.payment_due_at = deadlines.payment_due(ctx.calendar, ctx.now).closes
    ctx.target, ctx.due = "payment", case.payment_due_at


def _measure(ctx: Context, kind: str, window: deadlines.Window, items: str | None = None) -> None:
    case = _case(ctx)
    items = ctx.values["items"] if items is None else items
    measure = {"kind": kind, "items": items, "started_at": _iso(ctx.now), "due_at": _iso(window.closes)}
    case.measures = [*case.measures, measure]
    ctx.data["measure"] = measure


def _preserve(ctx: Context) -> None:
    """先行登记保存: a decision on the items is due within 7 working days (法56)."""
    _measure(ctx, "preserve", deadlines.period(ctx.calendar, deadlines.Limit.EVIDENCE_DECISION, ctx.now))


def _seize(ctx: Context) -> None:
    """查封扣押: at most 30 days, one extension (强制法25)."""
    _measure(ctx, "seize", deadlines.seizure_end(ctx.calendar, ctx.now))


def _open_measure(ctx: Context) -> tuple[int, dict[str, Any]]:
    """The measure the ``measure`` field names (1-based, as listed on the case), still undecided."""
    measures, number = _case(ctx).measures, ctx.values["measure"]
    if not 1 <= number <= len(measures):
        raise Invalid(
            f"the case has {len(measures)} measure(s), not a number {number} / 无此措施", field="fields.measure"
        )
    measure = measures[number - 1]
    if measure.get("decided_at"):
        raise Invalid(f"measure {number} was decided on {measure['decided_at']} / 该措施已处理", field="fields.measure")
    return number - 1, measure


def _replace_measure(ctx: Context, index: int, measure: dict[str, Any]) -> None:
    case = _case(ctx)
    case.measures = [measure if i == index else m for i, m in enumerate(case.measures)]  # a new list: JSON is saved
    ctx.data["measure"] = measure


def _decide_measure(ctx: Context) -> None:
    """处理决定 on preserved or seized items: released, confiscated, transferred, kept under a
    seizure (which then runs its own 30 days), returned. After this the sweep leaves it alone."""
    index, measure = _open_measure(ctx)
    _replace_measure(ctx, index, {**measure, "decided_at": _iso(ctx.now), "decision": ctx.values["decision"]})
    if measure["kind"] == "preserve" and ctx.values["decision"] == "seize":
        _measure(ctx, "seize", deadlines.seizure_end(ctx.calendar, ctx.now), measure["items"])


def _extendable_seizure(ctx: Context) -> tuple[int, dict[str, Any]]:
    index, measure = _open_measure(ctx)
    if measure["kind"] != "seize":
        raise Invalid("only a seizure (查封扣押) is extended / 仅查封扣押可延长", field="fields.measure")
    if measure.get("extended_days"):
        raise Invalid("a seizure is extended once only / 查封扣押只能延长一次 (强制法25)", field="fields.measure")
    return index, measure


def _extend_seizure(ctx: Context) -> None:
    """A seizure extended once, by at most 30 days, with the head's approval (强制法25)."""
    index, measure = _extendable_seizure(ctx)
    started = dt.datetime.fromisoformat(measure["started_at"])
    window = deadlines.seizure_end(ctx.calendar, started, ctx.values["days"])
    extended = {**measure, "due_at": _iso(window.closes), "extended_days": ctx.values["days"]}
    _replace_measure(ctx, index, extended | {"extension_reason": ctx.values["reason"]})


def _extensions(case: PenaltyCase) -> list[Extension]:
    return [Extension(e["days"], dt.datetime.fromisoformat(e["approved_at"])) for e in case.extensions]


def _extend_decision(ctx: Context) -> None:
    """A recorded, approved extension of the decision limit (法60: "法律、法规、规章另有规定的除外")."""
    case = _case(ctx)
    if case.filed_at is None:
        raise Invalid("the case is not filed", field="action")
    extension = {"days": ctx.values["days"], "approved_at": _iso(ctx.now), "reason": ctx.values["reason"]}
    extensions = [*_extensions(case), Extension(ctx.values["days"], ctx.now)]
    case.decision_due_at = deadlines.decision_due(ctx.calendar, case.filed_at, extensions).closes
    case.extensions = [*case.extensions, extension]
    ctx.data["decision_due_at"] = _iso(case.decision_due_at)


def _route_review(ctx: Context) -> None:
    case = _case(ctx)
    case.legal_review = ctx.values["legal_review"] == "yes"
    case.collective = ctx.values["collective"] == "yes"
    ctx.target = "legal_review" if case.legal_review else ("discussion" if case.collective else "deciding")


def _after_review(ctx: Context) -> None:
    ctx.target = "discussion" if _case(ctx).collective else "deciding"


def _notify(ctx: Context) -> None:
    """告知 (法44): the intended penalty with the discretion's advice; 听证告知 when the right applies."""
    case, kind, amount = _case(ctx), ctx.values["penalty_kind"], ctx.values.get("amount")
    if kind == PenaltyKind.FINE and not amount:
        raise Invalid("a fine needs its amount / 请填写罚款金额", field="fields.amount")
    advice = _judge(ctx, ctx.values["tier"], amount if kind == PenaltyKind.FINE else None, ctx.values.get("reason"))
    case.recommendation, case.penalty_kind, case.intended_yuan = advice, kind, amount
    case.hearing_right = advice["hearing_right"] and kind == PenaltyKind.FINE
    case.flagged = case.flagged or advice["flagged"]
    case.deviation_reason = ctx.values.get("reason") or case.deviation_reason
    case.notified_at = ctx.now
    window = deadlines.period(ctx.calendar, deadlines.Limit.HEARING_REQUEST, ctx.now)
    fields = {**_charge(ctx), "proposed_penalty": _penalty_text(kind, amount)}
    _issue(ctx, "penalty_notice", {**fields, "statement_deadline": window.closes.strftime("%Y年%m月%d日")})
    if case.hearing_right:
        _issue(ctx, "hearing_notice", fields)
    ctx.due = window.closes
    ctx.data["recommendation"] = advice


def _request_hearing(ctx: Context) -> None:
    case = _case(ctx)
    requested = dt.datetime.fromisoformat(ctx.values["requested_at"])
    assert case.notified_at is not None
    deadlines.hearing_request_ok(ctx.calendar, case.notified_at, requested).require("fields.requested_at")
    case.hearing_requested_at = requested


def _waive(ctx: Context) -> None:
    """The party gives up 陈述、申辩 and 听证 in writing (the signed statement is attached): the
    decision need not wait out the window any more (法44、法45 protect a right the party may waive)."""
    _case(ctx).waived_at = ctx.now


def _schedule_hearing(ctx: Context) -> None:
    """The party is told of the hearing ≥ 7 working days ahead (法64(二))."""
    hearing_at = dt.datetime.fromisoformat(ctx.values["hearing_at"])
    deadlines.hearing_notice_ok(ctx.calendar, ctx.now, hearing_at).require("fields.hearing_at")
    _case(ctx).hearing_at = hearing_at
    ctx.due = hearing_at


def _decide(ctx: Context) -> None:
    """决定 (法57, 59): no heavier than notified (法45); outside the advice needs a reason."""
    case = _case(ctx)
    amount = ctx.values.get("amount")
    if case.penalty_kind == PenaltyKind.FINE:
        if amount is None:
            raise Invalid("a fine needs its amount / 请填写罚款金额", field="fields.amount")
        if case.intended_yuan is not None and amount > case.intended_yuan:
            raise Invalid(
                f"{amount} 元 is heavier than the {case.intended_yuan} 元 notified: a defence may not make it "
                "heavier / 不得因陈述申辩加重处罚 (法45)",
                field="fields.amount",
            )
        tier = (case.recommendation or {}).get("tier") or "一般"
        advice = _judge(ctx, tier, amount, ctx.values.get("reason") or case.deviation_reason)
        case.flagged = case.flagged or advice["flagged"]
    case.outcome, case.fine_yuan, case.decided_at = "penalty", amount, ctx.now
    fields = {
        **_charge(ctx),
        "penalty": _penalty_text(case.penalty_kind, amount),
        "payment_method": "到指定银行或通过电子支付系统缴纳",
        "payment_deadline": "收到本决定书之日起十五日内",
        "payment_place": "指定代收银行",
        **REMEDY,
    }
    _issue(ctx, "penalty_decision", fields)
    ctx.due = deadlines.service_due(ctx.calendar, ctx.now).closes


def _serve(ctx: Context) -> None:
    case = _case(ctx)
    served = dt.datetime.fromisoformat(ctx.values["served_at"])
    case.served_at = served
    decision = _latest_document(ctx.session, case, "penalty_decision")
    _issue(
        ctx,
        "service_receipt",
        {
            "served_document": f"行政处罚决定书 {decision.number if decision else ''}",
            "recipient": case.party_name,
            "address": case.party_address or "—",
            "method": ctx.values["method"],
            "servers": _officer_names(ctx),
            "served_at": served.astimezone(ctx.calendar.zone).strftime("%Y年%m月%d日 %H:%M"),
        },
    )
    if case.penalty_kind != PenaltyKind.FINE:
        case.closed_at = ctx.now
        ctx.target = "closed"
        return
    case.payment_due_at = deadlines.payment_due(ctx.calendar, served).closes
    ctx.target, ctx.due = "payment", case.payment_due_at


def _latest_document(session: Session, case: PenaltyCase, kind: str) -> Document | None:
    stmt = select(Document).where(
        Document.subject_type == SUBJECT, Document.subject_id == str(case.id), Document.kind == kind
    )
    return session.scalars(stmt.order_by(Document.id.desc())).first()


def amount_due(ctx: Context, paid_at: dt.datetime) -> tuple[Decimal, Decimal]:
    """The fine and the surcharge run up by ``paid_at`` (法72(一): 3 %/day, at most the fine)."""
    case = _case(ctx)
    assert case.fine_yuan is not None and case.payment_due_at is not None
    extra = deadlines.surcharge(ctx.calendar, case.fine_yuan, case.payment_due_at, paid_at).amount
    return Decimal(case.fine_yuan), extra


def _pay(ctx: Context) -> None:
    case = _case(ctx)
    paid_at = dt.datetime.fromisoformat(ctx.values["paid_at"])
    fine, extra = amount_due(ctx, paid_at)
    paid = Decimal(str(ctx.values["amount"])).quantize(Decimal("0.01"))
    if paid != fine + extra:
        raise Invalid(
            f"{fine + extra} 元 is due ({fine} fine + {extra} surcharge), not {paid} / 应缴金额不符 (法72)",
            field="fields.amount",
            due=str(fine + extra),
        )
    case.paid_at, case.paid_yuan, case.surcharge_yuan, case.closed_at = paid_at, paid, extra, ctx.now
    ctx.data["surcharge_yuan"] = str(extra)


def _demand(ctx: Context) -> None:
    """催告 (强制法35, 54): the court may be asked 10 working days after it is served."""
    case = _case(ctx)
    fine, extra = amount_due(ctx, ctx.now)
    decision = _latest_document(ctx.session, case, "penalty_decision")
    _issue(
        ctx,
        "demand_notice",
        {
            "party_name": case.party_name,
            "party_id": case.party_id_no or "",
            "party_address": case.party_address or "—",
            "decision_number": decision.number if decision else "—",
            "decision_date": (case.decided_at or ctx.now).astimezone(ctx.calendar.zone).strftime("%Y年%m月%d日"),
            "obligation": f"缴纳罚款{fine}元及加处罚款{extra}元",
            "amount": f"{fine + extra}元",
            "payment_method": "到指定银行或通过电子支付系统缴纳",
            "deadline": "收到本催告书之日起十个工作日内",
            "contact_address": _agency_name(ctx),
            "contact_phone": "—",
        },
    )
    case.demand_served_at = ctx.now
    ctx.due = _court_window(ctx).closes


def _court_window(ctx: Context) -> deadlines.Window:
    case = _case(ctx)
    assert case.demand_served_at is not None and case.served_at is not None
    remedies_end = deadlines.remedy_limits_end(ctx.calendar, case.served_at, review_first=case.procedure == "simple")
    return deadlines.court_window(ctx.calendar, case.demand_served_at, remedies_end)


def _apply_court(ctx: Context) -> None:
    _case(ctx).court_applied_at = ctx.now


def _no_penalty(ctx: Context) -> None:
    case = _case(ctx)
    case.outcome, case.decided_at, case.closed_at = "no_penalty", ctx.now, ctx.now


def _not_established(ctx: Context) -> None:
    case = _case(ctx)
    case.outcome, case.decided_at, case.closed_at = "not_established", ctx.now, ctx.now


def _close_case(ctx: Context) -> None:
    _case(ctx).closed_at = ctx.now


EFFECTS: dict[str, Effect] = {
    "file": _file,
    "inspection_record": _record("inspection_record"),
    "inquiry_record": _record("inquiry_record"),
    "rectification_notice": _record("rectification_notice"),
    "summary": _summary,
    "preserve": _preserve,
    "waive": _waive,
    "decide_measure": _decide_measure,
    "extend_seizure": _extend_seizure,
    "seize": _seize,
    "extend_decision": _extend_decision,
    "route_review": _route_review,
    "after_review": _after_review,
    "notify": _notify,
    "request_hearing": _request_hearing,
    "schedule_hearing": _schedule_hearing,
    "decide": _decide,
    "serve": _serve,
    "pay": _pay,
    "demand": _demand,
    "apply_court": _apply_court,
    "no_penalty": _no_penalty,
    "not_established": _not_established,
    "close_case": _close_case,
}


# -- guards ------------------------------------------------------------------------------------------


def _within_limitation(ctx: Context) -> str | None:
    case = _case(ctx)
    verdict = deadlines.limitation(
        ctx.calendar, case.act_at, case.discovered_at, serious_harm=case.serious_harm, act_end=case.act_end_at
    )
    return None if verdict.ok else verdict.reason


def _two_officers(ctx: Context) -> str | None:
    officers = set(_case(ctx).officers)
    if ctx.principal is not None:
        officers.add(ctx.principal.user_id)
    return None if len(officers) >= 2 else "at least two officers must handle it / 执法人员不得少于两人 (法42、法55)"


def _refusal(check: Callable[[Context], object]) -> Guard:
    """An effect's own precondition as a guard, so that it is checked when the request is made,
    before the head is asked, and again when the approved action is applied."""

    def guard(ctx: Context) -> str | None:
        try:
            check(ctx)
        except Invalid as exc:
            return exc.message
        return None

    return guard


def _preservations_decided(ctx: Context) -> str | None:
    """Items preserved (先行登记保存) must be decided on before the investigation closes (法56)."""
    waiting = [i + 1 for i, m in enumerate(_case(ctx).measures) if m["kind"] == "preserve" and not m.get("decided_at")]
    if not waiting:
        return None
    listed = ", ".join(str(n) for n in waiting)
    return f"decide on the preserved items first (measure {listed}) / 先行登记保存的物品尚未作出处理决定 (法56)"


def _has_evidence(ctx: Context) -> str | None:
    found = _evidence_count(ctx.session, _case(ctx))
    return None if found else "no evidence collected yet / 尚无证据材料 (法46)"


def _decision_in_time(ctx: Context) -> str | None:
    due = _case(ctx).decision_due_at
    if due is None or ctx.now <= due:
        return None
    return (
        f"the decision was due by {due.isoformat()} (90 days from 立案) and no extension covers today / "
        "已超过办案期限且无延长记录 (法60)"
    )


def _hearing_right(ctx: Context) -> str | None:
    return None if _case(ctx).hearing_right else "the intended penalty carries no hearing right / 不属于听证范围 (法63)"


def _statement_window_over(ctx: Context) -> str | None:
    """A decision waits for the 陈述申辩/听证 window unless a hearing was held."""
    case = _case(ctx)
    if case.status == "hearing":
        if case.hearing_at is None or ctx.now < case.hearing_at:
            return "the hearing has not been held yet / 听证尚未举行 (法65)"
        return None
    if case.waived_at is not None:
        return None
    if case.deadline_at is not None and ctx.now <= case.deadline_at:
        until = case.deadline_at.isoformat()
        return f"the party may still state, defend or ask for a hearing until {until} / 陈述申辩期未满 (法44、法64)"
    return None


def _payment_overdue(ctx: Context) -> str | None:
    due = _case(ctx).payment_due_at
    return None if due is not None and ctx.now > due else "the payment window is still open / 履行期限未届满 (法67)"


def _court_window_open(ctx: Context) -> str | None:
    window = _court_window(ctx)
    if window.contains(ctx.now):
        return None
    opens, closes = window.opens.isoformat(), window.closes.isoformat()
    return f"the court may be asked from {opens} to {closes} / 不在申请强制执行期间 ({window.basis})"


GUARDS: dict[str, Guard] = {
    "within_limitation": _within_limitation,
    "two_officers": _two_officers,
    "has_evidence": _has_evidence,
    "preservations_decided": _preservations_decided,
    "measure_open": _refusal(_open_measure),
    "seizure_extendable": _refusal(_extendable_seizure),
    "decision_in_time": _decision_in_time,
    "hearing_right": _hearing_right,
    "statement_window_over": _statement_window_over,
    "payment_overdue": _payment_overdue,
    "court_window_open": _court_window_open,
}


def _no_category_limit(session: Session, case: PenaltyCase) -> Limit | None:
    return None


PENALTY_FLOW = Binding(
    key=SUBJECT,
    effects=EFFECTS,
    guards=GUARDS,
    centre=lambda session, case: case.agency_id,
    unit=lambda case: case.agency_id,
    category_limit=_no_category_limit,
)
