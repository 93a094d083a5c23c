"""The web pages without a browser: login and its cookies, CSRF, the refresh, the language
switch, the catalogue, the role-aware home, the action forms' field errors, photo uploads."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from pathlib import Path

from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy import delete, insert, select
from starlette.responses import Response

from chengguan.auth import tokens
from chengguan.auth.deps import DbSession
from chengguan.cases.flow import load_shipped
from chengguan.cases.models import Light
from chengguan.errors import Invalid
from chengguan.evidence.models import EvidenceItem
from chengguan.kit.workcal import Unit
from chengguan.revisions import Revision
from chengguan.web import session as web_session
from chengguan.web.i18n import LANGUAGES, catalogue
from chengguan.web.pages import NAV
from chengguan.web.routing import Rendered, WebRoute
from tests.cases.conftest import JPEG
from tests.web.conftest import csrf_of

WEB = Path(__file__).parents[2] / "src" / "chengguan" / "web"
PAGES = ["/", "/inbox", "/events/1", "/m/", "/m/events/1"]


def test_every_page_but_login_sends_a_stranger_to_login(browser) -> None:
    stranger = browser(None)
    for url in PAGES:
        res = stranger.get(url)
        assert res.status_code == 303 and res.headers["location"].startswith("/login?next="), url
    assert stranger.get("/login").status_code == 200
    # htmx requests are told where to go instead of receiving the login page as a fragment
    res = stranger.get("/inbox", headers={"HX-Request": "true"})
    assert res.headers["HX-Redirect"] == "/login?next=/inbox"


def test_login_sets_httponly_lax_cookies_and_a_wrong_password_is_said_in_chinese(browser) -> None:
    client = browser(None)
    page = client.get("/login")
    token = csrf_of(page.text)
    res = client.post("/login", data={"username": "clerk_a", "password": "nope", "csrf_token": token})
    assert res.status_code == 401 and "用户名或密码错误" in res.text and 'role="alert"' in res.text
    res = client.post(
        "/login", data={"username": "clerk_a", "password": "Passw0rd-test", "csrf_token": token, "next": "/inbox"}
    )
    assert res.status_code == 303 and res.headers["location"] == "/inbox"
    cookies = res.headers.get_list("set-cookie")
    for name in (web_session.ACCESS_COOKIE, web_session.REFRESH_COOKIE, web_session.CSRF_COOKIE):
        line = next(c for c in cookies if c.startswith(f"{name}="))
        assert "HttpOnly" in line and "SameSite=lax" in line and "Path=/" in line, line
    # the CSRF token is renewed at login
    assert csrf_of(client.get("/inbox").text) != token


def test_next_never_leaves_the_site(browser) -> None:
    client = browser(None)
    token = csrf_of(client.get("/login").text)
    form = {"username": "clerk_a", "password": "Passw0rd-test", "csrf_token": token, "next": "//evil.example/x"}
    assert client.post("/login", data=form).headers["location"] == "/"


def test_every_post_needs_the_csrf_token(browser, new_event) -> None:
    eid = new_event()["id"]
    anonymous = browser(None)
    anonymous.get("/login")
    res = anonymous.post("/login", data={"username": "clerk_a", "password": "Passw0rd-test"})
    assert res.status_code == 403 and "页面已过期" in res.text
    officer = browser("officer_a1")
    token = csrf_of(officer.get(f"/events/{eid}").text)
    url = f"/events/{eid}/actions/extend"
    form = {"amount": "1", "unit": "working_days", "reason": "等材料", "view": "desk"}
    assert officer.post(url, data={**form, "csrf_token": "forged.0000"}).status_code == 403
    # a token signed by the server but not this browser's is refused too
    other = web_session.new_csrf_token(officer.app.state.settings)
    assert officer.post(url, data={**form, "csrf_token": other}).status_code == 403
    assert officer.post("/logout").status_code == 403
    # as a header (htmx) it passes
    res = officer.post(url, data=form, headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert res.status_code == 204 and res.headers["HX-Redirect"] == f"/events/{eid}"
    assert "待审批申请" in officer.get(f"/events/{eid}").text


def replace_cookie(client, name: str, value: str) -> None:
    client.cookies.delete(name)
    client.cookies.set(name, value, domain="testserver.local", path="/")


def test_an_expired_access_token_is_renewed_and_logout_ends_the_session(browser, city, settings) -> None:
    client = browser("supervisor_a")
    stale = tokens.issue_access_token(
        settings.signing_key, city.user["supervisor_a"], 1, dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    )
    replace_cookie(client, web_session.ACCESS_COOKIE, stale)
    old_refresh = client.cookies.get(web_session.REFRESH_COOKIE)
    res = client.get("/inbox")
    assert res.status_code == 200
    assert client.cookies.get(web_session.ACCESS_COOKIE) != stale
    assert client.cookies.get(web_session.REFRESH_COOKIE) != old_refresh
    token = csrf_of(res.text)
    refresh = client.cookies.get(web_session.REFRESH_COOKIE)
    assert client.post("/logout", data={"csrf_token": token}).headers["location"] == "/login"
    # the refresh token was revoked: with a stale access token the session is over
    again = browser(None)
    replace_cookie(again, web_session.ACCESS_COOKIE, stale)
    replace_cookie(again, web_session.REFRESH_COOKIE, refresh)
    assert again.get("/inbox").status_code == 303


def test_english_on_a_cookie(browser) -> None:
    client = browser("clerk_a")
    assert "待办案件" in client.get("/inbox").text
    res = client.get("/lang/en", params={"next": "/inbox"})
    assert res.status_code == 303 and res.headers["location"] == "/inbox"
    page = client.get("/inbox").text
    assert "Inbox" in page and "待办案件" not in page and '<html lang="en">' in page
    client.get("/lang/zh")
    assert "待办案件" in client.get("/inbox").text


def test_the_catalogue_has_both_languages_for_every_key_the_pages_use() -> None:
    messages = catalogue()
    for key, texts in messages.items():
        assert set(texts) == {"zh", "en"} and all(texts.values()), key
        assert re.findall(r"{\w+}", texts["zh"]) == re.findall(r"{\w+}", texts["en"]), key
    used = set()
    for path in [*WEB.rglob("*.html"), *WEB.glob("*.py")]:
        used |= set(re.findall(r"""\bt\(\s*["']([\w.]+)["']""", path.read_text(encoding="utf-8")))
    used = {key for key in used if not key.endswith(".")}  # a prefix joined with data: checked below
    used |= {item.label for item in NAV} | {f"light.{light}" for light in Light} | {"light.none"}
    used |= {f"lang.{lang}" for lang in LANGUAGES} | {f"unit.{unit}" for unit in Unit}
    used |= set(re.findall(r'"key": "(home\.\w+)"', (WEB / "home.py").read_text(encoding="utf-8")))
    assert len(used) > 80 and not used - set(messages), used - set(messages)
    # every field of the shipped event flow has an English label
    fields = {name for a in load_shipped("event")["actions"].values() for name in a.get("fields", {})}
    assert not {f"field.{name}" for name in fields} - set(messages)


def test_home_starts_each_role_where_its_work_starts(browser) -> None:
    assert browser("officer_a1").get("/").headers["location"] == "/m"
    headings = {
        "clerk_a": ["待受理上报", "我的待办"],
        "dispatcher_a": ["会商与待派遣", "我的待办"],
        "supervisor_a": ["超期案件", "我的待办"],
        "shift_leader_a": ["待受理上报", "会商与待派遣", "我的待办"],
    }
    for user, expected in headings.items():
        page = browser(user).get("/").text
        found = re.findall(r"<h2 id=\"s-\d+\">([^<]+?)\s*(?:<|$)", page)
        assert [h.strip() for h in found] == expected, (user, found)


def test_a_refused_action_comes_back_with_the_error_next_to_its_field(browser, new_event) -> None:
    eid = new_event()["id"]
    officer = browser("officer_a1")
    token = csrf_of(officer.get(f"/events/{eid}").text)
    headers = {"X-CSRF-Token": token, "HX-Request": "true"}
    res = officer.post(f"/events/{eid}/actions/feedback", data={"result": "", "view": "desk"}, headers=headers)
    assert res.status_code == 422
    # the field's message in Chinese, tied to the field; the form stays open
    assert 'id="feedback-result-error">必填<' in res.text and 'aria-describedby="feedback-result-error"' in res.text
    assert "<details open>" in res.text
    res = officer.post(f"/events/{eid}/actions/feedback", data={"result": "已清理", "view": "desk"}, headers=headers)
    assert res.status_code == 422 and 'id="feedback-evidence-error">请上传照片或材料<' in res.text
    assert ">已清理</textarea>" in res.text  # what was typed is kept
    # nothing changed
    assert "处置</strong>" in officer.get(f"/events/{eid}").text


def test_a_photo_from_the_phone_keeps_its_gps_and_time(browser, new_event, platform_session) -> None:
    eid = new_event()["id"]
    officer = browser("officer_a1")
    token = csrf_of(officer.get(f"/m/events/{eid}").text)
    taken = "2026-05-01T09:30:00+08:00"
    form = {"csrf_token": token, "lon": "116.0301", "lat": "39.9302", "collected_at": taken}
    res = officer.post(f"/m/events/{eid}/photos", data=form, files={"photo": ("现场.jpg", JPEG + b"1", "image/jpeg")})
    assert res.status_code == 303 and res.headers["location"] == f"/m/events/{eid}"
    item = platform_session.scalars(select(EvidenceItem).where(EvidenceItem.subject_id == str(eid))).one()
    assert (item.lon, item.lat, item.subject_type) == (116.0301, 39.9302, "event")
    assert item.collected_at == dt.datetime.fromisoformat(taken)
    assert officer.get(f"/files/evidence/{item.id}").content == JPEG + b"1"
    # no photo: said next to the file input
    res = officer.post(f"/m/events/{eid}/photos", data=form, headers={"HX-Request": "true"})
    assert res.status_code == 422 and 'id="photo-error">请先拍照或选择照片<' in res.text


def test_the_installable_app_files_are_public(browser) -> None:
    client = browser(None)
    manifest = client.get("/m/manifest.webmanifest")
    assert manifest.status_code == 200 and manifest.headers["content-type"].startswith("application/manifest+json")
    doc = json.loads(manifest.text)
    assert doc["scope"] == "/m/" and doc["start_url"] == "/m/"
    for icon in doc["icons"]:
        assert client.get(icon["src"]).headers["content-type"] == "image/png"
    worker = client.get("/m/sw.js")
    assert worker.status_code == 200 and "javascript" in worker.headers["content-type"]
    for path in re.findall(r'"(/static/[^"]+)"', worker.text):
        assert client.get(path).status_code == 200, path


def test_pages_send_a_strict_content_security_policy(browser) -> None:
    res = browser("clerk_a").get("/inbox")
    csp = res.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-eval" not in csp and "frame-ancestors 'none'" in csp
    assert "<script>" not in res.text  # no inline script


def test_a_page_that_answers_its_own_error_leaves_nothing_written(app, platform_session) -> None:
    """WebRoute turns errors into pages inside the request's dependency stack; the unit of work
    must still roll back what the request wrote (a form shown again with its errors)."""
    router = APIRouter(route_class=WebRoute)

    @router.get("/__tests/refused/{how}")
    def refused(how: str, session: DbSession) -> Response:
        session.execute(insert(Revision).values(name=f"tests.{how}", counter=1, token="x"))
        if how == "rendered":
            raise Rendered(Response("shown again", status_code=422))
        if how == "error":
            raise Invalid("refused", field="x")
        return Response("kept")

    app.include_router(router)
    try:
        client = TestClient(app)
        assert client.get("/__tests/refused/rendered").status_code == 422
        assert client.get("/__tests/refused/error").status_code == 422
        assert client.get("/__tests/refused/kept").status_code == 200
    finally:
        app.router.routes[:] = [r for r in app.router.routes if not getattr(r, "path", "").startswith("/__tests/")]
    names = set(platform_session.scalars(select(Revision.name).where(Revision.name.like("tests.%"))))
    assert names == {"tests.kept"}
    platform_session.execute(delete(Revision).where(Revision.name == "tests.kept"))
    platform_session.commit()


def test_the_timeline_shows_the_automatic_first_dispatch_with_its_reason(
    browser, new_event, client, as_user, city
) -> None:
    """The intake pipeline dispatches by the list without writing a step: the event page's timeline
    still shows it, automatic, with the list's reason; a later dispatch by a workflow action is
    its own step, not shown twice."""
    event = new_event()
    assert event["status"] == "dispatched" and event["dispatch_reason"]
    admin = browser("admin_city")

    def steps() -> list[str]:
        page = admin.get(f"/events/{event['id']}").text
        return page.split('<ol class="steps">', 1)[1].split("</ol>", 1)[0].split("</li>")[:-1]

    first = steps()[0]
    assert "<strong>派遣</strong>" in first and "系统自动" in first, first
    assert html.escape(event["dispatch_reason"], quote=False) in first
    body = {"fields": {"unit_id": city.org["A_water"], "reason": "水务问题"}}
    res = client.post(f"/api/events/{event['id']}/actions/assign", json=body, headers=as_user("dispatcher_a"))
    assert res.status_code == 200, res.text
    after = steps()
    assert after[0] == first and len(after) == 2 and "dispatcher_a" in after[1] and "水务问题" in after[1], after
