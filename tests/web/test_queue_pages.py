"""The clerk's queue (/queue) and the 会商 queue (/consultations) without a browser: each decision
through the page, refusals with their field errors in Chinese, htmx and plain forms, scoping to
the user's subtree, and the permissions the APIs require.

Reports go in through the intake service with a small trained classifier in the pipeline's
context (the test store has no active model, and activating one would change other tests), at
spots of their own north of lat 40.05 so they never meet another test's events. The fixtures are
shared with ``test_queue_browser.py``."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from chengguan.audit import platform_actor
from chengguan.auth import service as auth_service
from chengguan.auth.roles import Role
from chengguan.auth.schemas import UserIn
from chengguan.cases.models import Event
from chengguan.db import unit_of_work
from chengguan.dispatch.models import Consultation
from chengguan.intake import pipeline
from chengguan.intake import service as intake_service
from chengguan.intake.classifier import TextClassifier
from chengguan.intake.models import Report
from chengguan.intake.schemas import ReportIn
from tests.conftest import PASSWORD
from tests.intake.classifier_fixtures import labelled
from tests.intake.conftest import IntakeCity
from tests.web.conftest import csrf_of

VAGUE = "这里有点问题"  # no n-gram the model knows: three equal guesses, none confident
_spots = itertools.count()
STREET_X0 = {"A1": 116.0025, "A2": 116.1025}


def queue_spot(street: str = "A1") -> tuple[float, float]:
    """A fresh spot ~430 m from every other, in the street's northern edge (lat 40.0825, 40.0925):
    ≥ 500 m from the rows of ``tests.cases.conftest.spot`` and north of the Open311 tests' spots
    (lat 40.0525 up), whose E0502 events would otherwise take these reports in as repeats."""
    n = next(_spots)
    assert n < 2 * 19, "the queue tests have used every spot of their two rows"
    return round(STREET_X0[street] + 0.005 * (n % 19), 6), round(40.0825 + 0.01 * (n // 19), 6)


@dataclass(frozen=True)
class Made:
    report_id: int
    event_id: int | None
    lon: float | None
    lat: float | None


@pytest.fixture(scope="session")
def vague_model() -> TextClassifier:
    texts, labels = labelled(30)
    return TextClassifier.train(texts, labels)


@pytest.fixture(scope="session")
def street_users(app, city) -> dict[str, int]:
    """A clerk and a dispatcher of 东街道 (A1): their subtree is the street, not the district."""
    made = {}
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        for username, role in (("clerk_q_a1", Role.CLERK), ("dispatcher_q_a1", Role.DISPATCHER)):
            user = UserIn(
                username=username, display_name=username, password=PASSWORD, roles=[role], org_id=city.org["A1"]
            )
            made[username] = auth_service.create_user(session, user).id
    return made


@pytest.fixture
def submit(app, intake_city: IntakeCity, vague_model: TextClassifier) -> Callable[..., Made]:
    """``submit(description=…, street=…, near=…)`` → a report through the intake pipeline."""

    def make(
        description: str = VAGUE,
        *,
        street: str = "A1",
        category_key: str | None = None,
        near: Made | None = None,
        address: str | None = None,
    ) -> Made:
        if address is not None:
            lon = lat = None
        elif near is not None and near.lon is not None and near.lat is not None:
            lon, lat = near.lon, round(near.lat + 0.00135, 6)  # 150 m north: the grey band
        else:
            lon, lat = queue_spot(street)
        body = ReportIn(
            channel="hotline" if address else "patrol",
            external_id=secrets.token_hex(6),
            description=description,
            category_key=category_key,
            lon=lon,
            lat=lat,
            crs="wgs84" if lon is not None else None,
            address=address,
        )
        with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
            # an unplaced report waits at 甲区's clerks (as one a clerk of 甲区 types in through the API)
            ctx = pipeline.context(session, classifier=vague_model, receiver_org_id=intake_city.city.org["A"])
            outcomes, refused = intake_service.submit(session, [body], ctx, reporter_user_id=None)
            assert not refused, refused
            out = outcomes[0]
            assert out is not None
        return Made(out.report_id, out.event_id, lon, lat)

    return make


@pytest.fixture
def duplicate(submit) -> Callable[[], tuple[Made, Made]]:
    """``duplicate()`` → (the first report's event, a report 150 m away suggested as its repeat)."""

    def make() -> tuple[Made, Made]:
        first = submit("路口有人占道经营卖水果", category_key="E0502")
        maybe = submit("路口有人摆摊卖水果和蔬菜挡住了路", category_key="E0502", near=first)
        assert first.event_id is not None and maybe.event_id is None
        return first, maybe

    return make


def report_of(platform_session, report_id: int) -> Report:
    platform_session.expire_all()
    found = platform_session.get(Report, report_id)
    assert found is not None
    return found


def decide(client: TestClient, report_id: int, htmx: bool = True, **form: str):
    token = csrf_of(client.get("/queue").text)
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(f"/queue/{report_id}/decision", data={"csrf_token": token, **form}, headers=headers)


def field_error(html: str, prefix: str, name: str) -> str:
    """The text of the error shown next to a field (``<p class="field-error" id="…-error">``)."""
    marker = f'id="{prefix}-{name}-error">'
    assert marker in html, f"no error next to {name}"
    return html.split(marker, 1)[1].split("</p>", 1)[0]


# -- the clerk's queue --------------------------------------------------------------------------------


def test_a_classification_item_offers_the_top3_and_is_accepted_as_a_new_event(
    browser, submit, platform_session
) -> None:
    made = submit()
    clerk = browser("clerk_a")
    page = clerk.get("/queue", params={"reason": "category"}).text
    item = page.split(f'id="report-{made.report_id}"', 1)[1].split("</li>", 1)[0]
    assert "待人工分类" in item and VAGUE in item  # no category, or the classifier was not sure
    top3 = report_of(platform_session, made.report_id).category_top3
    assert top3 is not None and len(top3) == 3
    for key, probability in top3:
        assert f'value="{key}"' in item and f"{probability * 100:.0f}%" in item
    chosen = top3[1][0]  # not the first guess: the clerk knows better
    res = decide(clerk, made.report_id, action="new", category_key=chosen)
    assert res.status_code == 200 and "已受理为新事件" in res.text and f'id="report-{made.report_id}"' in res.text
    report = report_of(platform_session, made.report_id)
    assert report.status == "created" and report.category_key == chosen and report.category_source == "clerk"
    event = platform_session.get(Event, report.event_id)
    assert event is not None and event.category_key == chosen
    assert f'id="report-{made.report_id}"' not in clerk.get("/queue").text


def test_another_category_typed_in_wins_over_the_choices(browser, submit, platform_session) -> None:
    made = submit()
    res = decide(browser("clerk_a"), made.report_id, action="new", category_key="C0101", category_other="e0502")
    assert res.status_code == 200
    assert report_of(platform_session, made.report_id).category_key == "E0502"


def test_refusals_come_back_in_chinese_next_to_their_field(browser, submit, platform_session) -> None:
    made = submit()
    clerk = browser("clerk_a")
    prefix = f"r{made.report_id}"
    res = decide(clerk, made.report_id, action="new")
    assert res.status_code == 422 and field_error(res.text, prefix, "category_key") == "请选择小类"
    res = decide(clerk, made.report_id, action="new", category_other="E05")  # a 大类
    assert res.status_code == 422 and field_error(res.text, prefix, "category_key") == "请选择小类"
    res = decide(clerk, made.report_id, action="new", category_other="ZZ999")
    assert "无此分类" in field_error(res.text, prefix, "category_key")
    assert 'value="ZZ999"' in res.text  # what was typed is shown again
    res = decide(clerk, made.report_id, action="reject")
    assert res.status_code == 422 and field_error(res.text, prefix, "reason") == "请说明不予受理的原因"
    assert "<details open>" in res.text  # the refused form stays open
    res = decide(clerk, made.report_id, action="reject", reason="长" * 301)
    assert field_error(res.text, prefix, "reason") == "最多 300 个字"
    # no duplicate was suggested, so there is no merge form: its error goes above the forms
    res = decide(clerk, made.report_id, action="merge")
    assert res.status_code == 422 and 'role="alert">请指定合并到的事件<' in res.text
    assert report_of(platform_session, made.report_id).status == "pending"  # nothing was applied


def test_without_javascript_a_refusal_is_the_whole_page_and_success_goes_back(browser, submit) -> None:
    made = submit()
    clerk = browser("clerk_a")
    res = decide(clerk, made.report_id, htmx=False, action="reject", filter="category", offset="0")
    assert res.status_code == 422 and "<html" in res.text and "请说明不予受理的原因" in res.text
    res = decide(clerk, made.report_id, htmx=False, action="reject", reason="无具体诉求", filter="category")
    assert res.status_code == 303 and res.headers["location"] == "/queue?reason=category"


def test_a_duplicate_suggestion_shows_the_event_score_and_why_and_is_merged(
    browser, duplicate, platform_session
) -> None:
    first, maybe = duplicate()
    clerk = browser("clerk_a")
    page = clerk.get("/queue", params={"reason": "duplicate"}).text
    item = page.split(f'id="report-{maybe.report_id}"', 1)[1].split("</li>", 1)[0]
    assert "疑似重复" in item and f'href="/events/{first.event_id}"' in item
    assert "相似度" in item and "距离" in item  # the score and why
    assert f"[{first.lat}, {first.lon}, " in item  # the suggested event's point on the item's map
    res = decide(clerk, maybe.report_id, action="merge", event_id="abc")
    assert res.status_code == 422 and field_error(res.text, f"r{maybe.report_id}", "event_id") == "请输入数字"
    res = decide(clerk, maybe.report_id, action="merge", event_id=str(first.event_id))
    assert res.status_code == 200 and "已合并到" in res.text
    assert report_of(platform_session, maybe.report_id).status == "merged"
    event = platform_session.get(Event, first.event_id)
    assert event is not None and event.report_count == 2
    # settled: a second decision is refused above the form (409 from the service, shown at 422)
    again = decide(clerk, maybe.report_id, action="reject", reason="重复")
    assert again.status_code == 422 and 'role="alert"' in again.text and "not waiting for a decision" in again.text


def test_a_report_without_a_place_is_placed_by_the_clerk(browser, submit, platform_session) -> None:
    made = submit("火星基地三号舱门口有人占道经营", address="火星基地三号舱门口", category_key="E0502")
    clerk = browser("clerk_a")
    page = clerk.get("/queue", params={"reason": "location"}).text
    assert f'id="r{made.report_id}-lon"' in page and "无坐标" in page
    res = decide(clerk, made.report_id, action="new", category_key="E0502")
    assert res.status_code == 422 and field_error(res.text, f"r{made.report_id}", "lon") == "请先定位"
    res = decide(clerk, made.report_id, action="new", category_key="E0502", lon="116.03", lat="91")
    assert field_error(res.text, f"r{made.report_id}", "lat") == "数值超出范围"
    lon, lat = queue_spot()
    res = decide(clerk, made.report_id, action="new", category_key="E0502", lon=str(lon), lat=str(lat))
    assert res.status_code == 200 and "东街道综合执法队" in res.text  # dispatched by the list
    report = report_of(platform_session, made.report_id)
    assert (report.status, report.lon, report.lat) == ("created", lon, lat)


def test_the_queue_is_oldest_first_filtered_and_paged(browser, submit, duplicate) -> None:
    older, newer = submit(), submit()
    _, maybe = duplicate()
    clerk = browser("clerk_a")
    page = clerk.get("/queue", params={"reason": "category"}).text
    assert page.index(f'id="report-{older.report_id}"') < page.index(f'id="report-{newer.report_id}"')
    assert f'id="report-{maybe.report_id}"' not in page
    assert f'id="report-{older.report_id}"' not in clerk.get("/queue", params={"reason": "duplicate"}).text
    assert clerk.get("/queue", params={"reason": "nonsense"}).status_code == 422
    total = int(page.split('<span class="count">', 1)[1].split("<", 1)[0])
    pages = [clerk.get("/queue", params={"reason": "category", "offset": o}).text for o in range(0, total, 20)]
    shown = sum(p.count('class="card queue-item"') for p in pages)
    assert shown == total


def test_a_street_clerk_sees_and_decides_only_its_subtree(browser, submit, street_users) -> None:
    mine, theirs = submit(street="A1"), submit(street="A2")
    clerk = browser("clerk_q_a1")
    page = clerk.get("/queue").text
    assert f'id="report-{mine.report_id}"' in page and f'id="report-{theirs.report_id}"' not in page
    assert decide(clerk, theirs.report_id, action="reject", reason="不归我管").status_code == 404
    assert decide(clerk, mine.report_id, action="reject", reason="无具体诉求").status_code == 200


def test_the_queue_needs_the_review_permission(browser, submit) -> None:
    made = submit()
    dispatcher = browser("dispatcher_a")
    assert dispatcher.get("/queue").status_code == 403
    token = csrf_of(dispatcher.get("/inbox").text)
    res = dispatcher.post(f"/queue/{made.report_id}/decision", data={"csrf_token": token, "action": "reject"})
    assert res.status_code == 403
    home = browser("clerk_a").get("/").text
    assert 'href="/queue"' in home and 'href="/consultations"' not in home
    assert 'href="/queue"' not in dispatcher.get("/").text


# -- the 会商 queue ----------------------------------------------------------------------------------


def consultation_of(platform_session, event_id: int) -> Consultation:
    platform_session.expire_all()
    found = platform_session.scalar(select(Consultation).where(Consultation.event_id == event_id))
    assert found is not None
    return found


def resolve(client: TestClient, consultation_id: int, htmx: bool = True, **form: str):
    token = csrf_of(client.get("/consultations").text)
    headers = {"HX-Request": "true"} if htmx else {}
    url = f"/consultations/{consultation_id}/resolve"
    return client.post(url, data={"csrf_token": token, **form}, headers=headers)


def test_a_consultation_shows_place_category_and_why_and_is_resolved(browser, submit, platform_session, city) -> None:
    made = submit("路口有人占道经营卖水果", street="A2", category_key="E0502")  # 西街道 has no rule
    consultation = consultation_of(platform_session, made.event_id or 0)
    dispatcher = browser("dispatcher_a")
    page = dispatcher.get("/consultations").text
    item = page.split(f'id="consultation-{consultation.id}"', 1)[1].split("</li>", 1)[0]
    assert "E0502" in item and "西街道" in item and "清单未给出责任单位" in item and consultation.reason in item
    assert f'<option value="{city.org["A_water"]}"' in item
    prefix = f"c{consultation.id}"
    res = resolve(dispatcher, consultation.id, note="x")
    assert res.status_code == 422
    assert field_error(res.text, prefix, "unit_id") == "此项必填"
    assert field_error(res.text, prefix, "note") == "至少 2 个字"
    res = resolve(dispatcher, consultation.id, unit_id=str(city.org["A_centre"]), note="x")
    assert res.status_code == 422 and field_error(res.text, prefix, "note") == "至少 2 个字"
    res = resolve(dispatcher, consultation.id, unit_id=str(city.org["A_water"]), note="会商确定由水务处理")
    assert res.status_code == 200 and "甲区水务局" in res.text and f'id="consultation-{consultation.id}"' in res.text
    event = platform_session.get(Event, made.event_id)
    assert event is not None and event.status == "dispatched" and event.unit_id == city.org["A_water"]
    assert "会商确定由水务处理" in (event.dispatch_reason or "")
    assert f'id="consultation-{consultation.id}"' not in dispatcher.get("/consultations").text
    again = resolve(dispatcher, consultation.id, unit_id=str(city.org["A_water"]), note="再来一次")
    assert again.status_code == 422 and 'role="alert"' in again.text


def test_without_javascript_resolving_goes_back_to_the_list(browser, submit, platform_session, city) -> None:
    made = submit("路口有人占道经营卖水果", street="A2", category_key="E0502")
    consultation = consultation_of(platform_session, made.event_id or 0)
    dispatcher = browser("dispatcher_a")
    res = resolve(dispatcher, consultation.id, htmx=False, note="会商意见")
    assert res.status_code == 422 and "<html" in res.text and "此项必填" in res.text
    res = resolve(dispatcher, consultation.id, htmx=False, unit_id=str(city.org["A1_squad"]), note="会商意见")
    assert res.status_code == 303 and res.headers["location"] == "/consultations"


def test_consultations_are_scoped_and_need_their_permissions(
    browser, submit, platform_session, street_users, city
) -> None:
    a1 = submit("有人在这里卖东西", street="A1", category_key="E0101")  # no rule for 暴露垃圾: 会商
    a2 = submit("路口有人占道经营卖水果", street="A2", category_key="E0502")
    mine, theirs = (consultation_of(platform_session, m.event_id or 0) for m in (a1, a2))
    street = browser("dispatcher_q_a1")
    page = street.get("/consultations").text
    assert f'id="consultation-{mine.id}"' in page and f'id="consultation-{theirs.id}"' not in page
    note = {"unit_id": str(city.org["A1_squad"]), "note": "会商意见"}
    assert resolve(street, theirs.id, **note).status_code == 404
    clerk = browser("clerk_a")  # reads events, may not dispatch: the list without the form
    page = clerk.get("/consultations").text
    assert f'id="consultation-{theirs.id}"' in page and "仅派遣员可以确定责任单位" in page and "<select" not in page
    assert resolve(clerk, theirs.id, **note).status_code == 403
    assert browser("citizen_a").get("/consultations").status_code == 403
    assert 'href="/consultations"' in browser("dispatcher_a").get("/").text
