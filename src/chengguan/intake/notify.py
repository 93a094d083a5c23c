"""Telling the people who reported a problem that it is done (接诉即办: every caller hears back).

The event flow queues one ``event.closed`` message when an event closes; this sender, run by the
worker after that commit, turns it into one message per distinct reporter of the event's merged
reports: an SMS to a phone number, or a notice to a citizen's account. The SMS gateway itself is
outside the platform: its messages wait in the outbox for the city's sender.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from chengguan import outbox
from chengguan.intake.models import Report
from chengguan.outbox import OutboxMessage

SMS = "reporter.sms"
ACCOUNT = "reporter.account"


def closed_text(number: str, result: str) -> str:
    done = f"处理结果：{result}。" if result else ""
    return f"您反映的问题（{number}）已办结。{done}感谢您对城市管理工作的支持，欢迎评价。"


def tell_reporters(session: Session, message: OutboxMessage) -> None:
    """One message per phone number and per citizen account that reported the event."""
    payload = message.payload
    rows = session.execute(
        select(Report.reporter_phone, Report.reporter_user_id).where(Report.event_id == payload["event_id"])
    ).all()
    phones = sorted({phone for phone, _ in rows if phone})
    users = sorted({user for _, user in rows if user is not None})
    text = closed_text(payload["number"], payload.get("result", ""))
    base = {"event_id": payload["event_id"], "number": payload["number"], "text": text}
    notes = [{"topic": SMS, "org_id": message.org_id, "payload": {**base, "phone": p}} for p in phones]
    notes += [{"topic": ACCOUNT, "org_id": message.org_id, "payload": {**base, "user_id": u}} for u in users]
    outbox.add(session, notes)
