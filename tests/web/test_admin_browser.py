"""The administration screens in a real browser: the organisation tree, the grid page with a
GeoJSON file previewed on the map before upload, the calendar and an account's page, on a desk
and on a phone, with no JavaScript error. Screenshots go to ``test-artifacts/ui/``."""

from __future__ import annotations

import json

from playwright.sync_api import expect
from shapely.geometry import box, mapping

from tests.web.browser import DESK, PHONE, log_in, shot


def test_walk_the_admin_screens(open_context, city, grid, tmp_path) -> None:
    _, page, console = open_context(viewport=DESK)
    log_in(page, "admin_a")
    page.get_by_role("link", name="系统管理").first.click()
    expect(page.get_by_role("heading", name="系统管理")).to_be_visible()
    page.locator(".admin-nav").get_by_role("link", name="组织机构").click()
    expect(page.locator(".org-tree")).to_contain_text("东街道")
    shot(page, "50-admin-orgs")
    page.goto(f"/admin/grids?org_id={city.org['A1']}")
    expect(page.locator("#admin-map path.leaflet-interactive").first).to_be_visible()
    geo = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": "x", "name": "预览", "area_class": "A"},
                "geometry": mapping(box(116.02, 39.92, 116.04, 39.94)),
            }
        ],
    }
    upload = tmp_path / "preview.geojson"
    upload.write_text(json.dumps(geo))
    drawn = page.locator("#admin-map path.leaflet-interactive").count()
    page.set_input_files("#grid-file", str(upload))
    expect(page.locator("#admin-map path.leaflet-interactive")).to_have_count(drawn + 1)
    page.get_by_role("button", name="导入").click()
    expect(page.locator("#grid-problems")).to_contain_text("第 1 个要素")
    shot(page, "51-admin-grids-refused")
    page.goto("/admin/calendar?year=2026")
    expect(page.get_by_role("heading", name="节假日与调休")).to_be_visible()
    shot(page, "52-admin-calendar")
    page.goto(f"/admin/users/{city.user['officer_a1']}")
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".notice")).to_have_text("角色已更新。")
    shot(page, "53-admin-user")
    console.clean()
    _, phone, phone_console = open_context(viewport=PHONE, is_mobile=True, has_touch=True)
    log_in(phone, "admin_a")
    phone.goto("/admin/users")
    expect(phone.get_by_role("heading", name="新建账户")).to_be_visible()
    shot(phone, "54-admin-users-phone")
    phone_console.clean()
