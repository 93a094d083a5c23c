"""The FastAPI application factory."""

from __future__ import annotations

import gc

from fastapi import FastAPI

import chengguan
from chengguan.api import routers
from chengguan.config import Settings, get_settings
from chengguan.db import create_engine, make_sessionmaker
from chengguan.errors import install_handlers
from chengguan.web import routes as web

DESCRIPTION = """
城市管理综合执法大数据平台 — one platform for a city's management and comprehensive
administrative law enforcement: organisations, grids, taxonomy, legal texts, intake, dispatch,
case workflows, evidence, analysis.

Log in with `POST /api/auth/token` (OAuth2 password flow) and send `Authorization: Bearer …`;
system accounts send `X-API-Key`. Errors are RFC 9457 `application/problem+json` and name the
field at fault.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.db_url)
    app = FastAPI(title="chengguan 城市管理综合执法大数据平台", version=chengguan.__version__, description=DESCRIPTION)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    install_handlers(app)
    for router in routers:
        app.include_router(router)
    web.install(app)  # the pages (Jinja2 + htmx) and their static files
    return app


def served_app(settings: Settings | None = None) -> FastAPI:
    """The app as ``chengguan serve`` runs it in each worker: what startup built (modules, models,
    routes, templates: ~360,000 objects) is moved out of the cyclic collector's reach with
    ``gc.freeze()``. They live as long as the process; without this every full collection walks
    them, a pause of 150–200 ms that fell on whichever request crossed the threshold (every third
    count of the command map; benchmarks/README.md "Command map")."""
    app = create_app(settings)
    gc.freeze()
    return app
