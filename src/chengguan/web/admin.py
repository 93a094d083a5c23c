"""The administration screens (/admin): organisations, unit grids, taxonomy and time limits,
the responsibility list, the working calendar, users and roles.

Each screen is a UI over its domain's service, called in the request's unit of work (audited by
the flush listener like any API write), with the permission the domain's API requires, checked
the API's way (``admin_forms.allowed``). Scoping needs nothing here: the session is bound to the
user's subtree, so a district's administrator neither sees nor reaches another district's rows.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from chengguan.errors import Forbidden
from chengguan.web import admin_calendar, admin_grids, admin_orgs, admin_rules, admin_taxonomy, admin_users
from chengguan.web.admin_forms import admin_page, sections_of
from chengguan.web.pages import PageUser
from chengguan.web.routing import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)
for screen in (admin_orgs, admin_grids, admin_taxonomy, admin_rules, admin_calendar, admin_users):
    router.include_router(screen.router)


@router.get("/admin")
def admin_home(request: Request, user: PageUser) -> Response:
    sections = sections_of(user)
    if not sections:
        raise Forbidden("administration is for administrators / 仅限管理员")
    return admin_page(request, "admin/index.html", user)
