"""一张图, the command map: the city's districts, streets and unit grid cells (drawn from its own
geometry unless a tile server is configured), events counted per area and light of their clock
(the aggregated layer), the events themselves in the view when zoomed in, their cards, the
filters, and a wall-screen mode for the command centre.

The page is a shell; ``static/map.js`` asks these routes for the layers as JSON. Every answer is
scoped to the user's organisation subtree by the session, like every page.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Hashable
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from chengguan import revisions
from chengguan.auth.deps import DbSession
from chengguan.auth.principal import Principal
from chengguan.auth.roles import Permission
from chengguan.calendar import service as calendar_service
from chengguan.cases import clock
from chengguan.cases import service as cases_service
from chengguan.config import Settings
from chengguan.db import utcnow
from chengguan.dispatch import map_layer
from chengguan.dispatch.flow import EVENT_FLOW
from chengguan.dispatch.map_layer import Bbox, Level, MapFilters, StatusFilter
from chengguan.geo import service as geo_service
from chengguan.geo.models import GridCell
from chengguan.intake.channels import CHANNELS
from chengguan.kit.geojson import to_geojson
from chengguan.orgs.models import Organisation, OrgKind
from chengguan.taxonomy import service as taxonomy_service
from chengguan.web.desk import channel_names, org_names, state_label
from chengguan.web.i18n import Translator, language_of
from chengguan.web.pages import PageUser, needs, render
from chengguan.web.routing import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)
WALL_REFRESH_S = 60  # the wall screen redraws its layers this often
DESK_REFRESH_S = 300
AREA_KINDS = {"districts": (OrgKind.DISTRICT,), "streets": (OrgKind.STREET, OrgKind.TOWN)}
# The layers change only when a city redraws its grid: a browser may keep them for a while.
AREAS_CACHE = "private, max-age=600"
WALL_COUNTS = map_layer.MinuteCounts()


# -- the filters ----------------------------------------------------------------------------------------


def _local_start(day: dt.date | None, settings: Settings) -> dt.datetime | None:
    return None if day is None else dt.datetime.combine(day, dt.time(), tzinfo=settings.tz)


def map_filters(
    request: Request,
    start: dt.date | None = None,
    end: dt.date | None = None,
    category: str | None = None,
    source: str | None = None,
    status: str = StatusFilter.OPEN,
) -> MapFilters:
    """The form's values: local days [start, end] (end inclusive, as a person picks them)."""
    settings: Settings = request.app.state.settings
    until = None if end is None else end + dt.timedelta(days=1)
    return MapFilters(
        start=_local_start(start, settings),
        end=_local_start(until, settings),
        category=category or None,
        source=source or None,
        status=status or StatusFilter.OPEN,
    ).check()


def category_choices(session: Session) -> list[dict[str, Any]]:
    """The 大类 with their 小类, for the filter's grouped list."""
    rows, _ = taxonomy_service.list_categories(session, active=True, limit=10_000)
    minors: dict[int, list[Any]] = defaultdict(list)
    for c in rows:
        if c.parent_id is not None:
            minors[c.parent_id].append(c)
    return [{"major": c, "minors": minors[c.id]} for c in rows if c.parent_id is None]


def status_choices(session: Session, t: Translator) -> list[tuple[str, str]]:
    flow = EVENT_FLOW.flow(session)
    groups = [(s.value, t(f"map.status.{s.value}")) for s in StatusFilter]
    return groups + [(key, state_label(t, flow, key)) for key in flow.states]


# -- the page -------------------------------------------------------------------------------------------


def map_config(request: Request, t: Translator, wall: bool) -> dict[str, Any]:
    """What map.js needs: where the layers are, the base tiles, and its words in this language."""
    settings: Settings = request.app.state.settings
    words = ("areas", "events", "total", "zoom_in", "loading", "failed", "updated", "outside", "fullscreen")
    return {
        "tiles": settings.map_tiles_url,
        "attribution": settings.map_tiles_attribution,
        "refresh_s": WALL_REFRESH_S if wall else DESK_REFRESH_S,
        "wall": wall,
        "levels": {level.value: t(f"map.level.{level.value}") for level in Level},
        "lights": {light: t(f"light.{light}") for light in map_layer.LIGHTS},
        "words": {w: t(f"map.js.{w}") for w in words},
        "max_events": map_layer.MAX_EVENTS,
    }


@router.get("/map")
def command_map(request: Request, session: DbSession, user: PageUser, wall: bool = False) -> Response:
    needs(user, Permission.EVENT_READ)
    t = Translator(language_of(request))
    return render(
        request,
        "map/map.html",
        user,
        wall=wall,
        config=map_config(request, t, wall),
        categories=category_choices(session),
        channels=channel_names(t),
        statuses=status_choices(session, t),
    )


# -- the layers ------------------------------------------------------------------------------------------


# The layers are drawn, not surveyed: each is simplified with its own tolerance (degrees, 1e-4 ≈
# 10 m; a cell keeps its shape at the zoom that shows cells) and written to 5 decimals (≈ 1 m).
# The demo city's layers: 3.39 → 3.09 MB (its 9,910 cells are already simple: ~6 points each).
# Building them took 12–16 s on the loaded bench machine, hence the cache.
SIMPLIFY = {"districts": 3e-4, "streets": 1e-4, "cells": 1e-5}
PRECISION = 5
# The layers' JSON per database, scope and revision of the grid and the organisations
AREA_LAYERS: map_layer.Recent[Hashable, bytes] = map_layer.Recent(size=32)


def _feature(geometry: Any, tolerance: float, **properties: Any) -> dict[str, Any]:
    drawn = to_geojson(geometry.simplify(tolerance, preserve_topology=True), precision=PRECISION)
    return {"type": "Feature", "geometry": drawn, "properties": properties}


def _collection(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


def area_layers(session: Session, user: Principal) -> dict[str, Any]:
    """The districts and streets of the user's own subtree (the organisations above it are
    visible to them as names, not as the map's extent) and the grid cells they may see."""
    root = user.scope.root_path or ""
    out: dict[str, Any] = {}
    for name, kinds in AREA_KINDS.items():
        stmt = select(Organisation).where(
            Organisation.kind.in_(kinds), Organisation.geometry.is_not(None), Organisation.path.startswith(root)
        )
        orgs = session.scalars(stmt.order_by(Organisation.path))
        out[name] = _collection([_feature(o.geometry, SIMPLIFY[name], id=o.id, name=o.name, code=o.code) for o in orgs])
    cells = session.scalars(select(GridCell).where(GridCell.active).order_by(GridCell.code))
    tolerance = SIMPLIFY["cells"]
    out["cells"] = _collection([_feature(c.geometry, tolerance, id=c.id, name=c.name, code=c.code) for c in cells])
    return out


@router.get("/map/areas")
def areas(session: DbSession, user: PageUser) -> Response:
    """Reference data (the dashboard's hotspot map draws its cells too), built once per revision
    of the grid and of the organisations for each scope."""
    needs(user, Permission.REFERENCE_READ)
    key = (session.get_bind(), user.scope, revisions.tokens(session, geo_service.GRID, Organisation.__revision__))
    body = AREA_LAYERS.get(
        key, lambda: json.dumps(area_layers(session, user), ensure_ascii=False, separators=(",", ":")).encode()
    )
    return Response(body, media_type="application/json", headers={"Cache-Control": AREAS_CACHE})


@router.get("/map/aggregate")
def aggregate(
    request: Request,
    session: DbSession,
    user: PageUser,
    level: Level = Level.CELL,
    start: dt.date | None = None,
    end: dt.date | None = None,
    category: str | None = Query(None, max_length=8),
    source: str | None = Query(None, max_length=32),
    status: str = StatusFilter.OPEN,
    wall: bool = False,
) -> Response:
    """Events per area and light, as columns: ``ids`` (null: outside every area) and a list per
    light (``red``, ``yellow``, ``green``, ``none``) of the same length; ``at`` is when they were
    counted (the wall screen's may be up to a minute old)."""
    needs(user, Permission.EVENT_READ)
    filters = map_filters(request, start, end, category, source, status)
    if wall:
        now, cells = WALL_COUNTS.get(session, filters, utcnow())
    else:
        now = utcnow()
        cells = map_layer.cell_counts(session, filters, now)
    counts = map_layer.roll_up(cells, level)
    body = {"level": level, "at": now.isoformat(), "ids": counts.ids, **counts.lights, "totals": counts.totals()}
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.get("/map/events")
def events(
    request: Request,
    session: DbSession,
    user: PageUser,
    bbox: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
    category: str | None = Query(None, max_length=8),
    source: str | None = Query(None, max_length=32),
    status: str = StatusFilter.OPEN,
) -> Response:
    """The events inside the view: ``events`` rows are ``[id, lat, lon, light, title, status]``;
    ``more`` says the view held more than the map draws."""
    needs(user, Permission.EVENT_READ)
    filters = map_filters(request, start, end, category, source, status)
    rows, more = map_layer.events_in(session, filters, Bbox.parse(bbox), utcnow())
    return JSONResponse({"events": [r.out() for r in rows], "more": more}, headers={"Cache-Control": "no-store"})


@router.get("/map/events/{event_id}/card")
def event_card(request: Request, event_id: int, session: DbSession, user: PageUser) -> Response:
    """The card a click on an event opens (a fragment), with the link to its page on the desk."""
    needs(user, Permission.EVENT_READ)
    t = Translator(language_of(request))
    event = cases_service.get_event(session, event_id)
    light = clock.light_at(calendar_service.get_calendar(session), event, utcnow())
    return render(
        request,
        "map/_card.html",
        user,
        event=event,
        state=state_label(t, EVENT_FLOW.flow(session), event.status),
        light=None if light is None else light.value,
        unit=org_names(session, [event.unit_id]).get(event.unit_id or 0, "—"),
        channel=CHANNELS.get(event.source),
    )
