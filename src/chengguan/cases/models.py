"""Events (事件/案卷): the problems the city works on, and what the workflow keeps about any case.

The intake pipeline creates events and the dispatch domain assigns them; ``cases.workflow``
drives them (and enforcement cases) through their flow. A case's *current* node lives on its own
row (:class:`Clocked`: when it began, who holds it, when it is due), so the bulk intake path
writes no extra row; a node is written to :class:`CaseNode` when it is left, with the working
time spent and the unit that held it. :class:`CaseStep` is the timeline of actions and
:class:`CaseRequest` the actions waiting for an approval.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Numeric, String, Text, bindparam, text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from chengguan.db import Base, BigId, JsonDoc, UTCDateTime, utcnow
from chengguan.orgs.models import OrgScoped


class EventStatus(enum.StrEnum):
    """The states of the event flow (``cases/flows/event.json`` names the same keys)."""

    ACCEPTED = "accepted"  # 受理: a real problem, not yet filed
    CONSULTATION = "consultation"  # 会商: ownership unclear, with the command centre
    REGISTERED = "registered"  # 立案: filed, waiting to be dispatched
    DISPATCHED = "dispatched"  # 派遣/处置: a unit holds it, its clock runs
    VERIFYING = "verifying"  # 处理反馈 → 核查: the unit reported back, a checker goes to look
    VERIFIED = "verified"  # 核查 passed, waiting for 结案 (skipped when auto-结案 is on)
    SUSPENDED = "suspended"  # 挂账/缓办: approved, its clock stopped
    CLOSED = "closed"  # 结案
    EVALUATED = "evaluated"  # 综合评价
    VOID = "void"  # 作废


OPEN_STATUSES = frozenset(
    {
        EventStatus.ACCEPTED,
        EventStatus.CONSULTATION,
        EventStatus.REGISTERED,
        EventStatus.DISPATCHED,
        EventStatus.VERIFYING,
        EventStatus.VERIFIED,
        EventStatus.SUSPENDED,
    }
)
# The open rows as SQL with the states written out: a partial index is used only by a query that
# states the same condition with the same literals (SQLite does not match bound parameters).
OPEN_ROWS = "status IN ({})".format(", ".join(f"'{s.value}'" for s in sorted(OPEN_STATUSES)))
HELD_ROWS, UNHELD_ROWS = f"{OPEN_ROWS} AND holder_id IS NOT NULL", f"{OPEN_ROWS} AND holder_id IS NULL"
NO_AREA = -1  # the area id of an event outside every area of a level (ids are positive)


class Light(enum.StrEnum):
    """A node's traffic light: its elapsed share of its limit < 80 %, 80–100 %, > 100 %."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


class Clocked:
    """The current node of a case: ``status`` is its state, ``deadline_at`` when it is due.

    ``node_at`` and ``holder_id`` may be empty on rows the bulk intake path wrote: the node then
    began at the dispatch (or at the first report) and is held by the dispatched unit (or the
    area's centre). ``yellow_at`` (80 % of the limit, in working time) is set with the deadline
    so that the sweep finds what turned yellow with a range query; it too is filled in later for
    bulk rows. While suspended the clock stops: ``deadline_at`` is empty and ``paused_left_s``
    keeps the working seconds that were left in ``paused_from``."""

    status: Mapped[str] = mapped_column(String(16))
    deadline_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    node_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    yellow_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    light: Mapped[str | None] = mapped_column(String(8))
    paused_from: Mapped[str | None] = mapped_column(String(16))
    paused_left_s: Mapped[float | None] = mapped_column(Float)
    supervision_count: Mapped[int] = mapped_column(default=0, server_default="0")  # 督办
    rework_count: Mapped[int] = mapped_column(default=0, server_default="0")  # 返工

    @declared_attr
    def holder_id(cls) -> Mapped[int | None]:  # noqa: N805 (a declared_attr takes the class)
        return mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))

    def node_started(self) -> dt.datetime:
        """When the current node began (see the class doc for rows written in bulk)."""
        assert self.node_at is not None, "a case written outside the workflow must say when its node began"
        return self.node_at


class EventAreaCount(Base):
    """The open events of each (cell, street, district) by their *stored* light (``none``: no
    running clock), kept by triggers on ``events`` on SQLite: the command map's aggregated layer
    reads these few thousand rows instead of scanning every open event (dispatch/map_layer.py),
    and corrects them by the rows whose clock passed a mark since the sweep last stored its light.

    SQLite only. It has one writer at a time, so a counter row costs a bulk batch an upsert a row
    and no waiting; on PostgreSQL every transaction that writes an event of a cell would hold that
    cell's counter row until it commits (concurrent batches would queue and deadlock on them), so
    there the table stays empty and the layer counts the open events from their index."""

    __tablename__ = "event_area_counts"
    __table_args__ = ({"sqlite_with_rowid": False},)

    cell_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # NO_AREA: none
    street_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    district_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    light: Mapped[str] = mapped_column(String(8), primary_key=True)  # Light, or "none"
    n: Mapped[int] = mapped_column(BigInteger)


def stored_light_sql(row: str = "events") -> str:
    """SQL for the light a row's stored columns say (``light`` holds a ``Light`` value or NULL):
    what the triggers count by, and what the map's correction compares with the clock."""
    return (
        f"CASE WHEN {row}.deadline_at IS NULL THEN 'none' "
        f"WHEN {row}.light IN ('red', 'yellow') THEN {row}.light ELSE 'green' END"
    )


def _area_count_triggers() -> list[str]:
    """SQLite triggers keeping ``event_area_counts``: +1 for a row entering an open state or a new
    (area, stored light), -1 for the one it leaves."""
    columns = "cell_id, street_id, district_id, light"

    def key(row: str) -> str:
        areas = ", ".join(f"coalesce({row}.{c}, {NO_AREA})" for c in ("cell_id", "street_id", "district_id"))
        return f"{areas}, {stored_light_sql(row)}"

    def open_(row: str) -> str:
        return f"{row}.{OPEN_ROWS}"

    add = (
        f"INSERT INTO event_area_counts ({columns}, n) SELECT {key('NEW')}, 1 WHERE {open_('NEW')} "
        f"ON CONFLICT ({columns}) DO UPDATE SET n = n + 1;"
    )
    remove = f"UPDATE event_area_counts SET n = n - 1 WHERE ({columns}) = ({key('OLD')}) AND {open_('OLD')};"
    changed = " OR ".join(
        [f"({open_('OLD')}) IS NOT ({open_('NEW')})", f"({stored_light_sql('OLD')}) IS NOT ({stored_light_sql('NEW')})"]
        + [f"OLD.{c} IS NOT NEW.{c}" for c in ("cell_id", "street_id", "district_id")]
    )
    watched = "status, cell_id, street_id, district_id, deadline_at, light"
    return [
        f"CREATE TRIGGER events_area_count_insert AFTER INSERT ON events WHEN {open_('NEW')} BEGIN {add} END",
        f"CREATE TRIGGER events_area_count_delete AFTER DELETE ON events WHEN {open_('OLD')} BEGIN {remove} END",
        f"CREATE TRIGGER events_area_count_update AFTER UPDATE OF {watched} ON events WHEN {changed} "
        f"BEGIN {remove} {add} END",
    ]


AREA_COUNT_TRIGGERS = _area_count_triggers()


class Event(Clocked, OrgScoped, Base):
    """``org_id`` is the most specific area known (community, else street or district); the unit
    the event is dispatched to sees it too (``unit_id``)."""

    __tablename__ = "events"
    __scope_columns__ = ("org_id", "unit_id")
    __audit_exclude__ = frozenset({"updated_at"})
    # Few indexes: the bulk intake path writes thousands of events a second and each index costs
    # it; analytics read the lake, not these. unit_id is the prefix of the workload index.
    __table_args__ = (
        # duplicate candidates: open events in a few spatial buckets within a time window
        Index("ix_events_bucket_status_reported", "bucket", "status", "last_reported_at"),
        Index("ix_events_unit_status_deadline", "unit_id", "status", "deadline_at"),
        # the deadline sweep: running clocks by state and light, so a pass reads the open rows
        # and the live 综合评价 windows, not the years of closed history beside them
        Index("ix_events_status_light_deadline", "status", "light", "deadline_at"),
        # the command map's aggregated layer (dispatch/map_layer.py): every column it reads, over
        # the open rows only, led by its GROUP BY, so that the count is one ordered index-only scan
        # without a sort (500,000 open events on SQLite: 8.4 s full-table scan → see
        # benchmarks/README.md "Command map"). It costs the bulk intake path a few µs a row (same
        # section); closed history never enters it.
        Index(
            "ix_events_open_map",
            "cell_id",
            "street_id",
            "district_id",
            "deadline_at",
            "yellow_at",
            "light",
            "org_id",
            "unit_id",
            "status",
            sqlite_where=text(OPEN_ROWS),
            postgresql_where=text(OPEN_ROWS),
        ),
        # the desk's inbox (cases.service.inbox): open rows by holder, or by unit where there is
        # no holder yet (bulk rows), with the page's order and the scope's columns, so that a
        # page's ids and the count read only these (a district's inbox over 500,000 events:
        # benchmarks/README.md "Case desk pages"). Two partial indexes, not one on (holder, unit):
        # the planner's statistics would count the bulk rows' empty holder as one huge value. The
        # columns of their WHERE are in them too: SQLite reads the table for any column it lacks.
        Index(
            "ix_events_open_holder",
            "holder_id",
            "deadline_at",
            "org_id",
            "unit_id",
            "status",
            sqlite_where=text(HELD_ROWS),
            postgresql_where=text(HELD_ROWS),
        ),
        Index(
            "ix_events_open_unheld",
            "unit_id",
            "deadline_at",
            "org_id",
            "holder_id",
            "status",
            sqlite_where=text(UNHELD_ROWS),
            postgresql_where=text(UNHELD_ROWS),
        ),
        # the clocks that reached a mark by their stored light: the sweep's turn to yellow, and the
        # map's rows whose light changed since the sweep (dispatch/map_layer.py), covering what
        # the map reads of them (else SQLite may prefer scanning ix_events_open_map). Bulk rows
        # enter it when the sweep gives them their 80 % mark: the bulk insert does not pay for it.
        Index(
            "ix_events_open_yellow",
            "status",
            "light",
            "yellow_at",
            "deadline_at",
            "cell_id",
            "street_id",
            "district_id",
            sqlite_where=text(f"{OPEN_ROWS} AND yellow_at IS NOT NULL"),
            postgresql_where=text(f"{OPEN_ROWS} AND yellow_at IS NOT NULL"),
        ),
        {"info": {"ddl": {"sqlite": AREA_COUNT_TRIGGERS}}},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="RESTRICT"))
    category_key: Mapped[str | None] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str | None] = mapped_column(String(300))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    bucket: Mapped[int | None] = mapped_column(BigInteger)  # dedup blocking key (intake.dedup)
    cell_id: Mapped[int | None] = mapped_column(ForeignKey("grid_cells.id", ondelete="RESTRICT"), index=True)
    area_class: Mapped[str | None] = mapped_column(String(1))
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)
    street_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    source: Mapped[str] = mapped_column(String(32))  # the channel of the first report
    report_count: Mapped[int] = mapped_column(default=1)
    first_reported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    last_reported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    dispatch_reason: Mapped[str | None] = mapped_column(String(500))
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def number(self) -> str:
        return event_number(self.id)

    def node_started(self) -> dt.datetime:
        return self.node_at or self.dispatched_at or self.first_reported_at


# An event's open states as a condition rendered with literals, as in the partial indexes' WHERE:
# SQLite matches a query to a partial index only then (with bound parameters it scans the table).
EVENT_OPEN = Event.status.in_(bindparam("open_states", sorted(OPEN_STATUSES), expanding=True, literal_execute=True))


def event_number(event_id: int) -> str:
    """The number people quote (案卷号): stable, derived from the id."""
    return f"SJ{event_id:010d}"


class PenaltyCase(Clocked, OrgScoped, Base):
    """An administrative-penalty case (行政处罚案件), driven by ``cases/flows/penalty.json``.

    ``agency_id`` is the enforcement agency that files and decides it (a squad, a street); the
    case is seen by the agency's subtree and by its area's. Next to the current node's clock it
    keeps the legal clocks that span nodes: the 90-day decision limit (法60) with its recorded
    extensions, the payment window (法67). Amounts are whole yuan, the surcharge exact to the
    分. The party's identity is personal data: it never leaves through public outputs."""

    __tablename__ = "penalty_cases"
    __scope_columns__ = ("org_id", "agency_id")
    __audit_exclude__ = frozenset({"updated_at"})
    __table_args__ = (
        Index("ix_penalty_cases_agency_status_deadline", "agency_id", "status", "deadline_at"),
        Index("ix_penalty_cases_party", "party_key"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"), index=True)
    source: Mapped[str] = mapped_column(String(32))  # 案件来源: inspection, complaint, hotline, transfer, event
    procedure: Mapped[str] = mapped_column(String(10), default="ordinary")  # ordinary | simple (法51)
    title: Mapped[str] = mapped_column(String(200))
    facts: Mapped[str] = mapped_column(Text, default="")
    causes: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc)  # [{cause_code, builtin_tier, quantity …}]
    circumstances: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)  # the discretion facts
    party_type: Mapped[str] = mapped_column(String(16))  # citizen | organisation
    party_name: Mapped[str] = mapped_column(String(200))
    party_id_no: Mapped[str | None] = mapped_column(String(40))  # ID card or credit code
    party_key: Mapped[str] = mapped_column(String(64))  # who the party is across cases (their history)
    party_address: Mapped[str | None] = mapped_column(String(300))
    party_phone: Mapped[str | None] = mapped_column(String(40))
    act_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    act_end_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # a continuing act's end
    discovered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    serious_harm: Mapped[bool] = mapped_column(default=False)  # 法36: the 5-year limitation
    officers: Mapped[list[int]] = mapped_column(JsonDoc, default=list)  # user ids, ≥ 2 to investigate (法55)
    measures: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc, default=list)  # 先行登记保存, 查封扣押
    filed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decision_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    extensions: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc, default=list)
    legal_review: Mapped[bool] = mapped_column(default=False)  # 法58 applies
    collective: Mapped[bool] = mapped_column(default=False)  # 法57 para 2 applies
    recommendation: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc)  # the discretion advice at 告知
    penalty_kind: Mapped[str | None] = mapped_column(String(16))
    intended_yuan: Mapped[int | None]
    hearing_right: Mapped[bool] = mapped_column(default=False)
    notified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    hearing_requested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    waived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # 放弃陈述申辩、听证, in writing
    hearing_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(20))  # penalty | no_penalty | not_established | transferred
    fine_yuan: Mapped[int | None]
    deviation_reason: Mapped[str | None] = mapped_column(Text)
    flagged: Mapped[bool] = mapped_column(default=False)  # decided outside the recommendation: for supervision
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    served_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    payment_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    paid_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    paid_yuan: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    surcharge_yuan: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    demand_served_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    court_applied_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def number(self) -> str:
        return penalty_number(self.id)


def penalty_number(case_id: int) -> str:
    return f"ZF{case_id:010d}"


class CaseNode(OrgScoped, Base):
    """One node a case went through, written when it is left: the time it took, in working
    seconds net of suspensions, against its limit, and the unit that held it (so a delay is
    blamed on the unit that caused it)."""

    __tablename__ = "case_nodes"
    __scope_columns__ = ("org_id", "holder_id")
    __table_args__ = (Index("ix_case_nodes_subject", "subject", "subject_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subject: Mapped[str] = mapped_column(String(16))  # the flow's key: event | penalty
    subject_id: Mapped[int] = mapped_column(BigInteger)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))  # the case's area
    state: Mapped[str] = mapped_column(String(16))
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)
    entered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    left_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    working_s: Mapped[float] = mapped_column(Float)  # working time spent in the node
    limit_s: Mapped[float | None] = mapped_column(Float)  # working time it was allowed
    light: Mapped[str | None] = mapped_column(String(8))  # when it was left
    action: Mapped[str] = mapped_column(String(32))  # the action that left it


class CaseStep(OrgScoped, Base):
    """One entry of a case's timeline: who did what, when, from which state to which."""

    __tablename__ = "case_steps"
    __audit__ = False  # the changes it describes are audited; it is itself the case's record
    __table_args__ = (Index("ix_case_steps_subject", "subject", "subject_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subject: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int] = mapped_column(BigInteger)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(120))
    automatic: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class RequestStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class CaseRequest(OrgScoped, Base):
    """An action that needs an approval (延期, 挂账, 作废, 回退 …), waiting for it. Approving it
    takes the action with the fields the requester gave; at most one is pending per case."""

    __tablename__ = "case_requests"
    __table_args__ = (Index("ix_case_requests_subject", "subject", "subject_id", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subject: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int] = mapped_column(BigInteger)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    action: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))  # the case's state when asked: approval is void if it moved
    data: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    status: Mapped[str] = mapped_column(String(10), default=RequestStatus.PENDING)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(String(500))


class FlowDefinition(Base):
    """A city's own version of a flow (switches, node limits, roles), replacing the shipped one."""

    __tablename__ = "flow_definitions"
    __revision__ = "flows"

    key: Mapped[str] = mapped_column(String(16), primary_key=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
