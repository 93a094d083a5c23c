"""Mount the web interface on the application: its routers and its static files."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from chengguan.web import desk, home, mobile
from chengguan.web.mobile import STATIC

routers = [home.router, desk.router, mobile.router, mobile.assets]


def install(app: FastAPI) -> None:
    for router in routers:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
