"""The HTTP surface: every domain's router, in one list."""

from __future__ import annotations

from fastapi import APIRouter

from chengguan import health
from chengguan.auth import api as auth_api
from chengguan.orgs import api as orgs_api

routers: list[APIRouter] = [
    health.router,
    auth_api.router,
    orgs_api.router,
]
