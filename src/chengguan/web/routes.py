"""Mount the web interface on the application: its routers and its static files."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from chengguan.web import (
    admin,
    citizen,
    command_map,
    consultations,
    dashboard,
    desk,
    home,
    laws,
    mobile,
    mobile_laws,
    mobile_penalty,
    mobile_report,
    penalty,
    queues,
)
from chengguan.web.mobile import STATIC

routers = [
    home.router,
    desk.router,
    queues.router,
    consultations.router,
    mobile.router,
    mobile.assets,
    mobile_report.router,
    mobile_penalty.router,
    mobile_laws.router,
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
