"""Mount the web interface on the application: its routers and its static files."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from chengguan.web import admin, citizen, command_map, dashboard, desk, home, laws, mobile, penalty
from chengguan.web.mobile import STATIC

routers = [
    home.router,
    desk.router,
    mobile.router,
    mobile.assets,
    command_map.router,
    dashboard.router,
    citizen.router,
    citizen.data,
    penalty.router,
    laws.router,
    admin.router,
]


def install(app: FastAPI) -> None:
    for router in routers:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
