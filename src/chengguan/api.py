"""The HTTP surface: every domain's router, in one list."""

from __future__ import annotations

from fastapi import APIRouter

from chengguan import health
from chengguan.analytics import api as analytics_api
from chengguan.auth import api as auth_api
from chengguan.auth import audit_api
from chengguan.calendar import api as calendar_api
from chengguan.cases import api as cases_api
from chengguan.dispatch import api as dispatch_api
from chengguan.dispatch import desk_api, flow_api
from chengguan.documents import api as documents_api
from chengguan.evidence import api as evidence_api
from chengguan.geo import api as geo_api
from chengguan.intake import api as intake_api
from chengguan.legal import api as legal_api
from chengguan.open311 import api as open311_api
from chengguan.orgs import api as orgs_api
from chengguan.taxonomy import api as taxonomy_api

# FastAPI tries the routes in this order for every request (~1 ms to reach the 14th router of
# ~110 routes): the routes devices and partner systems call at volume come first.
routers: list[APIRouter] = [
    health.router,
    intake_api.router,
    open311_api.router,
    auth_api.router,
    audit_api.router,
    orgs_api.router,
    geo_api.router,
    legal_api.router,
    taxonomy_api.router,
    dispatch_api.router,
    desk_api.router,
    flow_api.router,
    calendar_api.router,
    cases_api.router,
    cases_api.penalty_router,
    evidence_api.router,
    documents_api.router,
    analytics_api.router,
]
