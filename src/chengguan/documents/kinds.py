"""The registry of 执法文书 kinds: key, title, the word of the 文号, the fields a caller fills in,
and the evidence type the issued PDF is filed as.

Fixed legal wording (rights, time limits, the seal line) lives in each kind's template
(``templates/<key>.txt``); the fields here are what changes from case to case. Where a law fixes
a document's content the fields cover it: 行政处罚法 第44条 (事先告知书), 第52条 (当场处罚决定书),
第59条 (决定书), 第63-64条 (听证告知书), 行政强制法 第35条 (催告书).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from chengguan.errors import FieldError, Invalid, NotFound
from chengguan.evidence.models import EvidenceType

MAX_VALUE_CHARS = 5000  # one field; a long 询问笔录 transcript fits, a pasted book does not


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    required: bool = True


@dataclass(frozen=True)
class Kind:
    key: str
    title: str
    word: str  # 文号 word: 京城管东[罚决]字〔2026〕第00012号
    basis: str  # where the content is fixed by law, or the practice it follows
    evidence_type: EvidenceType
    fields: tuple[Field, ...]

    @property
    def template(self) -> str:
        return f"{self.key}.txt"


PARTY = (
    Field("party_name", "当事人"),
    Field("party_id", "身份证件号码/统一社会信用代码", required=False),
    Field("party_address", "住址/地址"),
)
CHARGE = (
    Field("facts", "违法事实"),
    Field("evidence", "证据"),
    Field("provisions", "违反的规定"),
    Field("penalty_basis", "处罚依据"),
)
CONTACT = (Field("contact_address", "本机关联系地址"), Field("contact_phone", "联系电话"))
REMEDY = (Field("review_body", "行政复议机关"), Field("court", "管辖人民法院"))

KINDS: dict[str, Kind] = {
    kind.key: kind
    for kind in (
        Kind(
            "filing_approval",
            "立案审批表",
            "立",
            "行政处罚法 第54条",
            EvidenceType.DOCUMENTARY,
            (
                Field("case_cause", "案由"),
                Field("case_source", "案件来源"),
                *PARTY,
                Field("facts", "简要案情"),
                Field("provisions", "涉嫌违反的规定"),
                Field("handlers", "承办人"),
                Field("handler_opinion", "承办人意见"),
                Field("approval_opinion", "负责人审批意见", required=False),
            ),
        ),
        Kind(
            "inspection_record",
            "现场检查笔录",
            "检",
            "行政处罚法 第42条、第46条、第55条",
            EvidenceType.RECORD,
            (
                Field("inspected_at", "检查时间"),
                Field("place", "检查地点"),
                Field("inspectors", "执法人员及执法证号"),
                Field("recorder", "记录人"),
                *PARTY,
                Field("present_person", "在场人", required=False),
                Field("findings", "检查情况"),
                Field("party_opinion", "当事人意见", required=False),
            ),
        ),
        Kind(
            "inquiry_record",
            "询问笔录",
            "询",
            "行政处罚法 第42条、第46条、第55条",
            EvidenceType.STATEMENT,
            (
                Field("inquired_at", "询问时间"),
                Field("place", "询问地点"),
                Field("inquirers", "询问人及执法证号"),
                Field("recorder", "记录人"),
                Field("respondent", "被询问人"),
                Field("respondent_id", "身份证件号码", required=False),
                Field("respondent_address", "住址", required=False),
                Field("respondent_phone", "联系电话", required=False),
                Field("relation", "与本案关系", required=False),
                Field("transcript", "询问内容"),
            ),
        ),
        Kind(
            "rectification_notice",
            "责令改正通知书",
            "责改",
            "行政处罚法 第28条",
            EvidenceType.DOCUMENTARY,
            (
                *PARTY,
                Field("facts", "违法事实"),
                Field("provisions", "违反的规定"),
                Field("order_basis", "责令改正依据"),
                Field("deadline", "改正期限"),
                Field("requirement", "改正要求"),
                *CONTACT,
            ),
        ),
        Kind(
            "penalty_notice",
            "行政处罚事先告知书",
            "告",
            "行政处罚法 第44条、第45条",
            EvidenceType.DOCUMENTARY,
            (
                *PARTY,
                *CHARGE,
                Field("proposed_penalty", "拟作出的行政处罚"),
                Field("statement_deadline", "陈述、申辩期限"),
                *CONTACT,
            ),
        ),
        Kind(
            "hearing_notice",
            "听证告知书",
            "听告",
            "行政处罚法 第63条、第64条",
            EvidenceType.DOCUMENTARY,
            (*PARTY, *CHARGE, Field("proposed_penalty", "拟作出的行政处罚"), *CONTACT),
        ),
        Kind(
            "penalty_decision",
            "行政处罚决定书",
            "罚决",
            "行政处罚法 第59条",
            EvidenceType.DOCUMENTARY,
            (
                *PARTY,
                *CHARGE,
                Field("statement_review", "陈述、申辩及采纳情况", required=False),
                Field("penalty", "行政处罚的种类和数额"),
                Field("payment_method", "履行方式"),
                Field("payment_deadline", "履行期限"),
                Field("payment_place", "缴款地点"),
                *REMEDY,
            ),
        ),
        Kind(
            "summary_decision",
            "当场处罚决定书",
            "当罚",
            "行政处罚法 第51条、第52条",
            EvidenceType.DOCUMENTARY,
            (
                Field("party_name", "当事人"),
                Field("party_id", "身份证件号码/统一社会信用代码", required=False),
                Field("party_address", "住址/地址", required=False),
                Field("occurred_at", "违法时间"),
                Field("place", "违法地点"),
                Field("act", "违法行为"),
                Field("provisions", "违反的规定"),
                Field("penalty_basis", "处罚依据"),
                Field("penalty_kind", "处罚种类"),
                Field("fine_amount", "罚款数额", required=False),
                Field("payment_method", "履行方式", required=False),
                Field("officers", "执法人员及执法证号"),
                *REMEDY,
            ),
        ),
        Kind(
            "demand_notice",
            "催告书",
            "催",
            "行政强制法 第35条、第36条",
            EvidenceType.DOCUMENTARY,
            (
                *PARTY,
                Field("decision_number", "行政决定文号"),
                Field("decision_date", "行政决定日期"),
                Field("obligation", "应当履行的义务"),
                Field("amount", "金额", required=False),
                Field("payment_method", "履行方式/给付方式"),
                Field("deadline", "履行期限"),
                *CONTACT,
            ),
        ),
        Kind(
            "service_receipt",
            "送达回证",
            "送",
            "行政处罚法 第61条；民事诉讼法 第87-95条",
            EvidenceType.DOCUMENTARY,
            (
                Field("served_document", "送达文书名称及文号"),
                Field("recipient", "受送达人"),
                Field("address", "送达地点"),
                Field("method", "送达方式"),
                Field("servers", "送达人"),
                Field("served_at", "送达时间", required=False),
                Field("remarks", "备注", required=False),
            ),
        ),
    )
}


def get_kind(key: str) -> Kind:
    kind = KINDS.get(key)
    if kind is None:
        raise NotFound(f"no document kind {key!r} / 文书种类不存在", field="kind")
    return kind


def _text(value: object) -> str | None:
    """A field value as text: strings and numbers (amounts) are taken, anything else is not."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)
    return None


def check_fields(kind: Kind, values: Mapping[str, object]) -> dict[str, str]:
    """The values of ``kind``'s fields as text, every one present (optional ones ""). All faults
    are reported at once, each naming ``fields.<name>``: unknown names (a typo would otherwise
    silently drop a line from a legal document), missing or blank required ones, wrong types."""
    known = {f.name for f in kind.fields}
    errors = [
        FieldError(f"fields.{name}", "not a field of this kind / 无此字段") for name in values if name not in known
    ]
    clean: dict[str, str] = {}
    for spec in kind.fields:
        raw = values.get(spec.name)
        text = "" if raw is None else _text(raw)
        if text is None:
            errors.append(FieldError(f"fields.{spec.name}", "must be text or a number / 须为文本或数字"))
        elif len(text) > MAX_VALUE_CHARS:
            errors.append(FieldError(f"fields.{spec.name}", f"longer than {MAX_VALUE_CHARS} characters / 内容过长"))
        elif spec.required and not text:
            errors.append(FieldError(f"fields.{spec.name}", f"required / {spec.label}为必填项"))
        else:
            clean[spec.name] = text
    if errors:
        names = ", ".join(e.field for e in errors)
        raise Invalid(f"{kind.title}: fields at fault: {names} / 文书字段有误", errors=errors)
    return clean
