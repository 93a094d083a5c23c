"""掌上查 on the phone: the desk's 法规查询 (``legal_service.search``) and an article's full text in
the phone's layout, inside the installable view (scope ``/m/``), so that pages read once stay
readable offline."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from chengguan.auth.deps import DbSession
from chengguan.auth.roles import Permission
from chengguan.legal import service as legal_service
from chengguan.web import laws
from chengguan.web.pages import PageUser, needs, render
from chengguan.web.routing import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/m/laws")
def search(request: Request, session: DbSession, user: PageUser, q: str = Query("", max_length=100)) -> Response:
    needs(user, Permission.LEGAL_READ)
    results, error = laws.results(request, session, q)
    return render(request, "m/laws.html", user, q=q, results=results, error=error)


@router.get("/m/laws/articles/{article_id}")
def article(request: Request, article_id: int, session: DbSession, user: PageUser) -> Response:
    needs(user, Permission.LEGAL_READ)
    found = legal_service.get_article(session, article_id)
    return render(request, "m/law_article.html", user, article=found, lines=found.text.splitlines())
