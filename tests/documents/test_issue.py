"""Issuing: 文号 per agency, year and kind without gaps or duplicates (also under concurrent
issuers), the PDF filed as evidence whose hash matches, and the document rendered again from
its stored fields giving the very same bytes."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chengguan.audit import platform_actor
from chengguan.config import Settings
from chengguan.db import unit_of_work, utcnow
from chengguan.documents import numbering, service
from chengguan.documents.kinds import get_kind
from chengguan.documents.models import DocumentCounter
from chengguan.documents.render import Letterhead, document_font, render_pdf
from chengguan.documents.service import CaseRef
from chengguan.errors import Invalid
from chengguan.evidence import service as evidence_service
from chengguan.evidence.models import EvidenceType
from chengguan.evidence.storage import blob_store
from chengguan.orgs import service as orgs_service
from tests.documents.conftest import case_ref, sample_fields
from tests.factories import SampleCity


@pytest.fixture
def factory(app) -> sessionmaker[Session]:
    return app.state.sessionmaker


@pytest.fixture
def work(factory: sessionmaker[Session]):
    """``with work() as session``: one committed transaction acting as the platform."""

    def unit() -> Iterator[Session]:
        return unit_of_work(factory, actor=platform_actor("tests"))

    return unit


def _issue(session: Session, settings: Settings, org_id: int, key: str = "penalty_decision", case: str = ""):
    fields = sample_fields(get_kind(key))
    return service.issue(session, settings, key, org_id, fields, case_ref=CaseRef("case", case or case_ref()))


def this_year(settings: Settings) -> int:
    return utcnow().astimezone(settings.tz).year


def _last(session: Session, org_id: int, year: int, kind: str) -> int:
    stmt = select(DocumentCounter.last).where(
        DocumentCounter.org_id == org_id, DocumentCounter.year == year, DocumentCounter.kind == kind
    )
    return session.scalar(stmt) or 0


def test_issue_numbers_renders_and_files_the_pdf_as_evidence(
    platform_session: Session, settings: Settings, city: SampleCity
) -> None:
    org_id, case = city.org["A1_squad"], case_ref()
    doc = _issue(platform_session, settings, org_id, case=case)
    assert doc.number == f"东街道综合执法队罚决字〔{doc.year}〕第{doc.seq:05d}号"
    item = evidence_service.get_evidence(platform_session, doc.evidence_id)
    assert (item.subject_type, item.subject_id, item.org_id) == ("case", case, org_id)
    assert item.evidence_type == EvidenceType.DOCUMENTARY and item.media_type == "application/pdf"
    assert item.filename == f"{doc.number}.pdf" and doc.number in (item.description or "")
    with evidence_service.open_file(blob_store(settings), item) as f:
        stored = f.read()
    assert hashlib.sha256(stored).hexdigest() == doc.sha256 == item.sha256 and len(stored) == doc.size
    # the row keeps what is needed to render the same bytes again
    agency = orgs_service.get(platform_session, org_id)
    issued_on = doc.issued_at.astimezone(settings.tz).date()
    again = render_pdf(
        get_kind(doc.kind), doc.fields, Letterhead(agency.name, doc.number, issued_on), document_font(settings)
    )
    assert again == stored


def test_records_are_filed_as_the_evidence_type_of_their_kind(
    platform_session: Session, settings: Settings, city: SampleCity
) -> None:
    doc = _issue(platform_session, settings, city.org["A1_squad"], key="inspection_record")
    assert evidence_service.get_evidence(platform_session, doc.evidence_id).evidence_type == EvidenceType.RECORD
    assert "检字" in doc.number


def test_numbers_follow_on_per_kind(work, settings: Settings, city: SampleCity) -> None:
    org_id = city.org["A1_squad"]
    with work() as session:
        decisions = [_issue(session, settings, org_id).seq for _ in range(3)]
        notice = _issue(session, settings, org_id, key="penalty_notice")
        year = notice.year
    assert decisions == list(range(decisions[0], decisions[0] + 3))
    with work() as session:
        assert _last(session, org_id, year, "penalty_decision") == decisions[-1]
        assert _last(session, org_id, year, "penalty_notice") == notice.seq


def test_counters_start_again_each_year_and_for_each_agency(
    platform_session: Session, city: SampleCity, fresh_year: int
) -> None:
    squad, centre, later = city.org["A1_squad"], city.org["A_centre"], fresh_year + 1000
    taken = [numbering.next_seq(platform_session, squad, fresh_year, "penalty_decision") for _ in range(3)]
    assert taken == [1, 2, 3]
    assert numbering.next_seq(platform_session, squad, later, "penalty_decision") == 1
    assert numbering.next_seq(platform_session, centre, fresh_year, "penalty_decision") == 1
    assert numbering.next_seq(platform_session, squad, fresh_year, "demand_notice") == 1
    assert numbering.next_seq(platform_session, squad, fresh_year, "penalty_decision") == 4


def test_a_rolled_back_issue_gives_its_number_back(work, city: SampleCity, fresh_year: int) -> None:
    org_id = city.org["A1_squad"]
    with pytest.raises(RuntimeError), work() as session:
        assert numbering.next_seq(session, org_id, fresh_year, "penalty_decision") == 1
        raise RuntimeError("the case workflow failed after taking a number")
    with work() as session:
        assert numbering.next_seq(session, org_id, fresh_year, "penalty_decision") == 1


def test_a_second_issuer_waits_for_the_first_and_counts_on(work, city: SampleCity, fresh_year: int) -> None:
    org_id = city.org["A1_squad"]
    got: list[int] = []

    def second() -> None:
        with work() as session:
            got.append(numbering.next_seq(session, org_id, fresh_year, "penalty_decision"))

    with work() as first:
        assert numbering.next_seq(first, org_id, fresh_year, "penalty_decision") == 1
        thread = threading.Thread(target=second)
        thread.start()
        thread.join(0.5)
        assert thread.is_alive() and got == []  # queued behind the first transaction's row lock
    thread.join(10)
    assert got == [2]


def test_concurrent_issuers_get_distinct_consecutive_numbers(work, settings: Settings, city: SampleCity) -> None:
    org_id, issuers = city.org["A1_squad"], 6
    with work() as session:
        before = _last(session, org_id, this_year(settings), "summary_decision")
    start = threading.Barrier(issuers)
    numbers: list[tuple[int, str]] = []
    errors: list[BaseException] = []

    def one() -> None:
        try:
            start.wait()
            with work() as session:
                doc = _issue(session, settings, org_id, key="summary_decision")
                time.sleep(0.05)  # hold the transaction open so the others pile up behind it
                numbers.append((doc.seq, doc.number))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(issuers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(seq for seq, _ in numbers) == list(range(before + 1, before + issuers + 1))
    assert len({number for _, number in numbers}) == issuers


def test_agency_settings_shape_the_number(work, settings: Settings, city: SampleCity) -> None:
    org_id = city.org["A_centre"]
    with work() as session:
        service.set_agency(session, org_id, "京城管甲", None)
        doc = _issue(session, settings, org_id)
        assert doc.number == f"京城管甲罚决字〔{doc.year}〕第{doc.seq:05d}号"
        service.set_agency(session, org_id, "京城管甲", "{abbr}{year}-{word}-{seq:04d}")
        doc = _issue(session, settings, org_id)
        assert doc.number == f"京城管甲{doc.year}-罚决-{doc.seq:04d}"


@pytest.mark.parametrize(
    "fmt", ["{abbr}{word}", "{seq.real}", "{x}{seq}", "{seq", "{}{seq}", "{seq[0]}", "{abbr:05d}{seq}"]
)
def test_bad_number_formats_are_refused(platform_session: Session, city: SampleCity, fmt: str) -> None:
    with pytest.raises(Invalid) as caught:
        service.set_agency(platform_session, city.org["A_centre"], "京城管甲", fmt)
    assert caught.value.field == "number_format"


def test_issue_refuses_bad_input_before_taking_a_number(
    platform_session: Session, settings: Settings, city: SampleCity
) -> None:
    kind = get_kind("penalty_decision")
    fields = {k: v for k, v in sample_fields(kind).items() if k != "party_name"}
    with pytest.raises(Invalid) as caught:
        service.issue(platform_session, settings, kind.key, city.org["A1_squad"], fields, case_ref=CaseRef("case", "x"))
    assert caught.value.field == "fields.party_name"
    with pytest.raises(Invalid) as bad_ref:
        _issue(platform_session, settings, city.org["A1_squad"], case="has space")
    assert bad_ref.value.field == "subject_id"
