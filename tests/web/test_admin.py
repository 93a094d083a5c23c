"""The administration screens without a browser: each lists, changes through its service, refuses
with the error next to the field (in Chinese), keeps a district's administrator inside its own
district, and answers 403 to a user who is no administrator."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator

import pytest
from shapely.geometry import box, mapping
from sqlalchemy import func, select

from chengguan.audit import platform_actor
from chengguan.auth.models import User
from chengguan.calendar.models import CalendarDay
from chengguan.db import unit_of_work
from chengguan.geo.models import GridCell
from chengguan.orgs.models import Organisation
from chengguan.taxonomy import service as taxonomy_service
from tests.factories import EMPTY, SampleGrid
from tests.geo.conftest import remove_cells
from tests.taxonomy.conftest import minor_row, template_csv
from tests.web.conftest import csrf_of

EMPTY_BOX = (116.2, 40.0, 116.4, 40.1)  # 南镇二社区, no cells


def post(client, page: str, url: str, data: dict[str, object], files: dict | None = None):
    token = csrf_of(client.get(page).text)
    return client.post(url, data={**data, "csrf_token": token}, files=files)


@pytest.fixture
def empty_community(app, grid: SampleGrid) -> Iterator[str]:
    code = grid.community[EMPTY]
    yield code
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        remove_cells(session, code)


def test_a_user_who_is_no_administrator_gets_403(browser) -> None:
    clerk = browser("clerk_a")
    for url in ("/admin", "/admin/orgs", "/admin/grids", "/admin/taxonomy", "/admin/rules", "/admin/calendar"):
        assert clerk.get(url).status_code == 403, url
    assert clerk.get("/admin/users").status_code == 403
    res = post(clerk, "/", "/admin/orgs", {"code": "X1", "name": "x", "kind": "squad"})
    assert res.status_code == 403 and "无此操作权限" in res.text
    assert 'href="/admin"' not in clerk.get("/").text


def test_the_index_offers_each_section(browser) -> None:
    page = browser("admin_city").get("/admin")
    assert page.status_code == 200
    for href in ("/admin/orgs", "/admin/grids", "/admin/taxonomy", "/admin/rules", "/admin/calendar", "/admin/users"):
        assert f'href="{href}"' in page.text


# -- organisations ----------------------------------------------------------------------------------


def test_the_tree_of_a_district_admin_is_its_own_district(browser, city) -> None:
    page = browser("admin_a").get("/admin/orgs").text
    assert "东街道" in page and "甲区" in page and "测试市" in page  # the chain above is shown, read only
    assert "乙区" not in page and "南镇" not in page
    assert f'href="/admin/orgs/{city.org["A1"]}"' in page and f'href="/admin/orgs/{city.org["city"]}"' not in page


def test_add_edit_and_deactivate_a_unit(app, browser, city) -> None:
    admin = browser("admin_a")
    res = post(
        admin,
        "/admin/orgs",
        "/admin/orgs",
        {"parent_id": city.org["A1"], "kind": "squad", "code": "WEB-SQ1", "name": "网页测试队"},
    )
    assert res.status_code == 303, res.text
    assert "网页测试队" in admin.get(res.headers["location"]).text
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        org = session.scalar(select(Organisation).where(Organisation.code == "WEB-SQ1"))
        assert org is not None and org.parent_id == city.org["A1"]
        org_id = org.id
    res = post(admin, f"/admin/orgs/{org_id}", f"/admin/orgs/{org_id}", {"name": "网页测试队（改）", "phone": "010-1"})
    assert res.status_code == 303
    res = post(admin, f"/admin/orgs/{org_id}", f"/admin/orgs/{org_id}/active", {"active": "false"})
    assert res.status_code == 303
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        org = session.get(Organisation, org_id)
        assert org is not None and org.name == "网页测试队（改）" and org.phone == "010-1" and not org.active


def test_a_refused_unit_shows_its_field_errors_and_writes_nothing(app, browser, city) -> None:
    admin = browser("admin_a")
    # a community cannot sit under a district: the service says so at parent_id
    res = post(
        admin,
        "/admin/orgs",
        "/admin/orgs",
        {"parent_id": city.org["A"], "kind": "community", "code": "WEB-BAD", "name": "错位社区"},
    )
    assert res.status_code == 422
    assert (
        'id="new-parent_id" name="parent_id" required aria-invalid="true" aria-describedby="new-parent_id-error"'
        in res.text
    )
    assert 'id="new-parent_id-error">填写有误' in res.text
    assert 'value="错位社区"' in res.text  # what was typed is kept
    res = post(
        admin,
        "/admin/orgs",
        "/admin/orgs",
        {"parent_id": city.org["A1"], "kind": "squad", "code": "WEB-EMPTY", "name": ""},
    )
    assert res.status_code == 422 and 'id="new-name-error">不能为空' in res.text
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        codes = {"WEB-BAD", "WEB-EMPTY"}
        assert session.scalar(select(func.count()).where(Organisation.code.in_(codes))) == 0


def test_a_district_admin_cannot_reach_another_districts_unit(app, browser, city) -> None:
    admin = browser("admin_a")
    b = city.org["B1"]
    assert admin.get(f"/admin/orgs/{b}").status_code == 404
    assert post(admin, "/admin/orgs", f"/admin/orgs/{b}", {"name": "被改"}).status_code == 404
    res = post(
        admin, "/admin/orgs", "/admin/orgs", {"parent_id": b, "kind": "squad", "code": "WEB-B", "name": "越界队"}
    )
    assert res.status_code == 422  # not among its parents: an unknown parent to it
    # the city's root is visible above it but not its to change
    page = admin.get(f"/admin/orgs/{city.org['city']}")
    assert page.status_code == 200 and "只能查看" in page.text and 'action="/admin/orgs/' not in page.text
    assert post(admin, "/admin/orgs", f"/admin/orgs/{city.org['city']}", {"name": "被改"}).status_code == 403
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        assert session.get(Organisation, b).name == "南镇"


# -- grids ------------------------------------------------------------------------------------------


def _geojson(features: list[dict]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def _cell(code: str, geom, area_class: str = "A", name: str = "网页网格") -> dict:
    return {
        "type": "Feature",
        "properties": {"code": code, "name": name, "area_class": area_class},
        "geometry": mapping(geom),
    }


def test_grid_cells_of_an_area_with_their_map(browser, city, grid) -> None:
    page = browser("admin_a").get("/admin/grids", params={"org_id": city.org["A1c1"]})
    assert page.status_code == 200
    code = grid.code("A1c1", 1)
    assert f"<code>{code}</code>" in page.text and 'id="admin-map-data"' in page.text
    assert "/static/vendor/leaflet/leaflet.js" in page.text


def test_a_bad_feature_lists_its_number_and_field_and_nothing_is_written(app, browser, empty_community) -> None:
    x0, y0, x1, y1 = EMPTY_BOX
    good = _cell(f"{empty_community}001", box(x0, y0, (x0 + x1) / 2, y1))
    outside = _cell(f"{empty_community}002", box(x1, y0, x1 + 0.1, y1))  # outside the community
    nameless = _cell(f"{empty_community}003", box((x0 + x1) / 2, y0, x1, y1), name="")
    files = {"file": ("cells.geojson", io.BytesIO(_geojson([good, outside, nameless])), "application/geo+json")}
    res = post(browser("admin_city"), "/admin/grids", "/admin/grids/import", {}, files)
    assert res.status_code == 422
    assert "未写入任何数据" in res.text
    assert "第 2 个要素</td><td><code>geometry" in res.text
    assert "第 3 个要素</td><td><code>name</code></td><td>填写有误" in res.text  # the importer's own message
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        assert session.scalar(select(func.count()).where(GridCell.code.startswith(empty_community))) == 0


def test_a_good_file_imports_its_cells(app, browser, empty_community) -> None:
    x0, y0, x1, y1 = EMPTY_BOX
    cells = [_cell(f"{empty_community}001", box(x0, y0, x1, y1), "B")]
    files = {"file": ("cells.geojson", io.BytesIO(_geojson(cells)), "application/geo+json")}
    admin = browser("admin_b")
    res = post(admin, "/admin/grids", "/admin/grids/import", {}, files)
    assert res.status_code == 303 and res.headers["location"] == "/admin/grids?imported=1"
    assert "已导入 1 个网格" in admin.get(res.headers["location"]).text
    # a district's administrator cannot put cells into another district
    files = {"file": ("cells.geojson", io.BytesIO(_geojson(cells)), "application/geo+json")}
    res = post(browser("admin_a"), "/admin/grids", "/admin/grids/import", {}, files)
    assert res.status_code == 422 and "未写入任何数据" in res.text and "第 1 个要素" in res.text


# -- taxonomy ---------------------------------------------------------------------------------------


def test_time_limits_are_changed_at_city_level_only(app, browser, seeded) -> None:
    city_admin, district_admin = browser("admin_city"), browser("admin_a")
    listing = city_admin.get("/admin/taxonomy", params={"q": "E0101"})
    assert listing.status_code == 200 and "E0101" in listing.text
    page = city_admin.get("/admin/taxonomy/E0101")
    assert page.status_code == 200
    data = {"name": "私搭乱建", "name_en": "", "active": "true"}
    limits = {f"time_limits.{c}.amount": "3" for c in "ABC"} | {f"time_limits.{c}.unit": "working_days" for c in "ABC"}
    bad = {**data, **limits, "time_limits.B.amount": "0"}
    res = post(city_admin, "/admin/taxonomy/E0101", "/admin/taxonomy/E0101", bad)
    assert res.status_code == 422 and 'id="lim-B-error">不能小于 1' in res.text
    res = post(city_admin, "/admin/taxonomy/E0101", "/admin/taxonomy/E0101", {**data, **limits})
    assert res.status_code == 303
    assert "3工作日" in city_admin.get("/admin/taxonomy", params={"q": "E0101"}).text
    # a district's administrator reads the taxonomy but may not change it
    assert "全市共用数据仅限市级管理员修改" in district_admin.get("/admin/taxonomy").text
    assert district_admin.get("/admin/taxonomy/E0101").status_code == 403
    res = post(district_admin, "/admin/taxonomy", "/admin/taxonomy/E0101", {**data, **limits})
    assert res.status_code == 403 and "全市共用数据仅限市级修改" in res.text


def test_categories_are_added_by_importing_the_template_downloaded_from_the_page(app, browser, seeded) -> None:
    city_admin, district_admin = browser("admin_city"), browser("admin_a")
    exported = city_admin.get("/admin/taxonomy/export.csv")
    assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
    assert exported.text.startswith("\ufeff类型,大类代码,大类名称,小类代码,小类名称")  # BOM: Excel reads it as UTF-8
    assert ",0101," in exported.text  # the 小类 code column, as the template writes it
    bad = template_csv([minor_row("事件", "97", "9701", 处置时限B="soon")])
    files = {"file": ("分类.csv", io.BytesIO(bad), "text/csv")}
    res = post(city_admin, "/admin/taxonomy", "/admin/taxonomy/import", {}, files)
    assert res.status_code == 422 and "第 2 行</td><td><code>处置时限B" in res.text
    assert 'id="taxonomy-file" name="file" type="file" accept=".csv,.xlsx" required aria-invalid="true"' in res.text
    assert "E9701" not in city_admin.get("/admin/taxonomy", params={"q": "9701"}).text  # nothing written
    good = {"file": ("分类.csv", io.BytesIO(template_csv([minor_row("事件", "97", "9701")])), "text/csv")}
    assert post(district_admin, "/admin/taxonomy", "/admin/taxonomy/import", {}, good).status_code == 403
    good = {"file": ("分类.csv", io.BytesIO(template_csv([minor_row("事件", "97", "9701")])), "text/csv")}
    res = post(city_admin, "/admin/taxonomy", "/admin/taxonomy/import", {}, good)
    assert res.status_code == 303 and res.headers["location"].endswith("/admin/taxonomy?created=2&updated=0")
    try:
        listing = city_admin.get("/admin/taxonomy", params={"q": "9701"}).text
        assert "E9701" in listing and "测试9701" in listing and "4工作时" in listing
    finally:
        with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
            for key in ("E9701", "E97"):
                taxonomy_service.delete(session, taxonomy_service.get_by_key(session, key))


# -- responsibility list -----------------------------------------------------------------------------


def test_a_bad_list_file_names_its_lines_and_imports_nothing(browser, seeded) -> None:
    admin = browser("admin_a")
    assert admin.get("/admin/rules").status_code == 200
    csv = "\n".join(
        [
            "序号,分类代码,区域,网格,依据,责任单位,优先级,备注,启用",
            "1,E0101,990101001000,,属地,990101001-ZFD,0,,是",
            "2,E0101,990101001000,,无依据,NOPE,0,,是",
        ]
    ).encode()
    files = {"file": ("list.csv", io.BytesIO(csv), "text/csv")}
    res = post(admin, "/admin/rules", "/admin/rules/import", {}, files)
    assert res.status_code == 422
    assert "第 3 行</td><td><code>责任单位" in res.text and "第 3 行</td><td><code>依据" in res.text
    assert "第 2 行" not in res.text


# -- calendar ---------------------------------------------------------------------------------------


def test_add_and_remove_a_day_and_a_weekday_is_no_makeup_day(app, browser) -> None:
    admin = browser("admin_city")
    res = post(
        admin, "/admin/calendar", "/admin/calendar/days", {"date": "2031-05-01", "kind": "holiday", "name": "劳动节"}
    )
    assert res.status_code == 303 and res.headers["location"].startswith("/admin/calendar?year=2031")
    assert "劳动节" in admin.get("/admin/calendar?year=2031").text
    # 2031-05-02 is a Friday: it cannot be a 调休 working day; the error is next to the kind
    res = post(
        admin, "/admin/calendar", "/admin/calendar/days", {"date": "2031-05-02", "kind": "workday", "name": "调休"}
    )
    assert res.status_code == 422 and 'id="day-kind-error"' in res.text
    res = post(admin, "/admin/calendar", "/admin/calendar/days", {"date": "2031-13-01", "kind": "holiday", "name": "x"})
    assert res.status_code == 422 and 'id="day-date-error">日期格式应为' in res.text
    res = post(admin, "/admin/calendar?year=2031", "/admin/calendar/days/2031-05-01/delete", {})
    assert res.status_code == 303
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        assert session.scalar(select(func.count()).where(CalendarDay.day >= dt.date(2031, 1, 1))) == 0
    district = browser("admin_a")
    res = post(
        district, "/admin/calendar", "/admin/calendar/days", {"date": "2031-05-01", "kind": "holiday", "name": "劳动节"}
    )
    assert res.status_code == 403


# -- users ------------------------------------------------------------------------------------------


def test_create_an_account_change_its_roles_reset_and_deactivate(app, browser, city) -> None:
    admin = browser("admin_a")
    form = {
        "username": "web_new_a",
        "display_name": "新同事",
        "password": "Passw0rd-new",
        "org_id": city.org["A1"],
        "roles": ["clerk"],
    }
    res = post(admin, "/admin/users", "/admin/users", form)
    assert res.status_code == 303, res.text
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        user = session.scalar(select(User).where(User.username == "web_new_a"))
        assert user is not None and user.password_hash.startswith("$argon2")
        uid = user.id
    assert (
        post(admin, f"/admin/users/{uid}", f"/admin/users/{uid}/roles", {"roles": ["clerk", "dispatcher"]}).status_code
        == 303
    )
    res = post(admin, f"/admin/users/{uid}", f"/admin/users/{uid}/roles", {})
    assert res.status_code == 422 and 'id="acct-roles-error">至少选择一项' in res.text
    res = post(admin, f"/admin/users/{uid}", f"/admin/users/{uid}/password", {"password": "short"})
    assert res.status_code == 422 and 'id="acct-password-error">密码至少8位' in res.text
    assert (
        post(admin, f"/admin/users/{uid}", f"/admin/users/{uid}/password", {"password": "Passw0rd-next"}).status_code
        == 303
    )
    assert post(admin, f"/admin/users/{uid}", f"/admin/users/{uid}/active", {"active": "false"}).status_code == 303
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        user = session.get(User, uid)
        assert user is not None and user.role_names == {"clerk", "dispatcher"} and not user.active


def test_a_refused_account_keeps_the_form_but_never_the_password(browser, city) -> None:
    admin = browser("admin_a")
    form = {
        "username": "x",
        "display_name": "短名",
        "password": "Passw0rd-new",
        "org_id": city.org["A1"],
        "roles": ["clerk"],
    }
    res = post(admin, "/admin/users", "/admin/users", form)
    assert res.status_code == 422 and 'id="new-username-error">至少 3 个字符' in res.text
    assert 'value="x"' in res.text and 'value="短名"' in res.text and "Passw0rd-new" not in res.text


def test_a_district_admin_sees_and_changes_only_its_districts_accounts(app, browser, city) -> None:
    admin = browser("admin_a")
    listing = admin.get("/admin/users").text
    assert "officer_a1" in listing and "officer_b1" not in listing and "admin_b" not in listing
    other = city.user["officer_b1"]
    assert admin.get(f"/admin/users/{other}").status_code == 404
    assert post(admin, "/admin/users", f"/admin/users/{other}/active", {"active": "false"}).status_code == 404
    # nor can it put an account into another district
    form = {
        "username": "web_b_by_a",
        "display_name": "越界",
        "password": "Passw0rd-new",
        "org_id": city.org["B1"],
        "roles": ["clerk"],
    }
    res = post(admin, "/admin/users", "/admin/users", form)
    assert res.status_code == 422 and 'id="new-org_id-error"' in res.text
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        assert session.get(User, other).active
