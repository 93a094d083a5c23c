"""The intake pipeline keeps an event's first automatic dispatch on the event row alone; the
dispatch history reads it back from there, and any later dispatch writes it out first."""

from __future__ import annotations

from sqlalchemy import func, select

from chengguan.db import unit_of_work
from chengguan.dispatch.models import Basis, DispatchRecord
from chengguan.dispatch.resolver import cited_rule
from tests.intake.conftest import IntakeCity
from tests.intake.test_api import at, post


def records(app, event_id: int) -> int:
    with unit_of_work(app.state.sessionmaker, actor=None) as session:
        stmt = select(func.count()).select_from(DispatchRecord).where(DispatchRecord.event_id == event_id)
        return session.scalar(stmt.execution_options(skip_scope=True)) or 0


def test_cited_rule_reads_what_the_resolver_writes() -> None:
    assert cited_rule("网格 110105001001001 A类; 清单第37行; 事件先属地; 处置时限 2 working_hours (A类)") == (
        37,
        Basis.TERRITORY,
    )
    assert cited_rule("东街道; 清单第52行; 事件先属地后属主(无属地规则)") == (52, Basis.OWNER)
    assert cited_rule("甲区; 清单第3、4行并列(甲 / 乙); 提交甲区指挥中心会商") is None
    assert cited_rule("人工派遣: 现场为水务设施问题") is None


def test_the_first_dispatch_lives_on_the_event_row(app, client, as_user, intake_city: IntakeCity) -> None:
    out = post(client, as_user("officer_a1"), at(60, category_key="C0101", description="上水井盖丢失")).json()
    assert records(app, out["event_id"]) == 0
    event = client.get(f"/api/events/{out['event_id']}", headers=as_user("dispatcher_a")).json()
    (first,) = client.get(f"/api/events/{out['event_id']}/dispatches", headers=as_user("dispatcher_a")).json()
    assert first["id"] is None and first["automatic"] and first["actor_id"] is None
    assert (first["unit_id"], first["reason"], first["deadline_at"]) == (
        event["unit_id"],
        out["dispatch"]["reason"],
        event["deadline_at"],
    )
    assert (first["row_no"], first["basis"]) == (902, "owner")


def test_a_later_dispatch_writes_the_first_one_out(app, client, as_user, intake_city: IntakeCity) -> None:
    out = post(client, as_user("officer_a1"), at(61)).json()
    headers = as_user("dispatcher_a")
    (derived,) = client.get(f"/api/events/{out['event_id']}/dispatches", headers=headers).json()
    override = {"unit_id": intake_city.city.org["A_water"], "reason": "现场为水务设施问题"}
    again = client.post(f"/api/events/{out['event_id']}/dispatch", json=override, headers=headers)
    assert again.status_code == 200, again.text
    assert records(app, out["event_id"]) == 2
    first, second = client.get(f"/api/events/{out['event_id']}/dispatches", headers=headers).json()
    assert first["id"] is not None and first["id"] < second["id"]
    assert {k: v for k, v in first.items() if k != "id"} == {k: v for k, v in derived.items() if k != "id"}
    assert second["automatic"] is False and second["replaced_unit_id"] == derived["unit_id"]
