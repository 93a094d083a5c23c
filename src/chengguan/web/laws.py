"""法规查询: keyword search over the loaded laws and regulations and an article's full text, for
the desk and the phone (掌上查). Public knowledge, but behind the login like every page."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from chengguan.auth.deps import DbSession
from chengguan.auth.roles import Permission
from chengguan.errors import Invalid
from chengguan.legal import service as legal_service
from chengguan.web.i18n import language_of, localise_error
from chengguan.web.pages import PageUser, needs, render
from chengguan.web.routing import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)
HITS = 30


def results(request: Request, session: Session, q: str) -> tuple[legal_service.SearchResults | None, str | None]:
    """The hits for ``q`` (None before a search) or the reason it cannot be searched; the desk's
    page and the phone's share it."""
    if not q.strip():
        return None, None
    try:
        return legal_service.search(session, q, limit=HITS), None
    except Invalid as exc:
        return None, localise_error(exc.message, language_of(request))


@router.get("/laws")
def search(request: Request, session: DbSession, user: PageUser, q: str = Query("", max_length=100)) -> Response:
    needs(user, Permission.LEGAL_READ)
    found, error = results(request, session, q)
    return render(request, "laws/search.html", user, q=q, results=found, error=error)


@router.get("/laws/articles/{article_id}")
def article(request: Request, article_id: int, session: DbSession, user: PageUser) -> Response:
    needs(user, Permission.LEGAL_READ)
    found = legal_service.get_article(session, article_id)
    return render(request, "laws/article.html", user, article=found, lines=found.text.splitlines())
