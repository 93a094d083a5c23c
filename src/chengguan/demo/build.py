"""Builds the demo city (a believable Beijing) into the database, through the same service
functions the API and the CLI use, in the caller's unit of work.

What it creates: the organisation tree from :mod:`chengguan.demo.geometry` (北京市 → 16 区 →
339 街道/乡镇 → 社区/村) with the working units of :mod:`chengguan.demo.units`; the unit grid
cells and the address gazetteer; the shipped taxonomy, laws, case causes and holiday calendar; the responsibility list
(:mod:`chengguan.demo.responsibility`); and demo users, one per role per district, all with the
documented demo password. Hashing ~130 argon2id passwords is most of its ~30 s.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chengguan.auth import service as auth_service
from chengguan.auth.models import User
from chengguan.auth.passwords import hash_password
from chengguan.auth.roles import ROLE_LABELS, Role
from chengguan.auth.schemas import UserIn
from chengguan.calendar import service as calendar_service
from chengguan.calendar.models import CalendarDay
from chengguan.config import Settings
from chengguan.db import Base
from chengguan.demo import gazetteer, responsibility, units
from chengguan.demo.geometry import CITY_CODE, Area, DemoGeometry, build_city_geometry
from chengguan.dispatch.models import ResponsibilityRule
from chengguan.geo import service as geo_service
from chengguan.geo.models import GazetteerEntry, GridCell
from chengguan.geo.schemas import CellIn
from chengguan.legal import service as legal_service
from chengguan.legal.models import CaseCause, LawArticle, LawDocument
from chengguan.orgs import service as orgs_service
from chengguan.orgs.models import Organisation, OrgKind
from chengguan.orgs.schemas import OrgIn
from chengguan.taxonomy import service as taxonomy_service
from chengguan.taxonomy.models import Category

# Every role a district has a demo user for (citizens belong to no organisation, system
# accounts get API keys instead of passwords).
DISTRICT_ROLES = tuple(r for r in Role if r not in {Role.CITIZEN, Role.SYSTEM})
# What the summary counts, besides organisations by kind.
COUNTED: tuple[tuple[str, type[Base]], ...] = (
    ("grid cells", GridCell),
    ("gazetteer entries", GazetteerEntry),
    ("taxonomy categories", Category),
    ("laws", LawDocument),
    ("law articles", LawArticle),
    ("case causes", CaseCause),
    ("calendar days", CalendarDay),
    ("responsibility rules", ResponsibilityRule),
    ("users", User),
)
CITY_ADMIN = "admin"
CITIZEN = "citizen"


@dataclass
class DemoResult:
    """What ``build_demo`` did; ``api_keys`` (username → key) are shown once and stored hashed."""

    created: bool
    counts: dict[str, int]
    api_keys: dict[str, str] = field(default_factory=dict)


def demo_exists(session: Session) -> bool:
    return (
        session.scalar(select(Organisation.id).where(Organisation.code == CITY_CODE).execution_options(skip_scope=True))
        is not None
    )


def build_demo(session: Session, settings: Settings, seed: int = 2026) -> DemoResult:
    """Build the whole demo city; when it is already there, change nothing and say so."""
    if demo_exists(session):
        return DemoResult(created=False, counts=demo_counts(session))
    geometry = build_city_geometry(seed)
    orgs = _create_areas(session, geometry)
    units.create_units(session, geometry, orgs)
    _import_cells(session, geometry)
    gazetteer.load_gazetteer(session)
    _load_reference_data(session)
    responsibility.create_list(session, geometry)
    keys = _create_users(session, settings, geometry, orgs)
    return DemoResult(created=True, counts=demo_counts(session), api_keys=keys)


def demo_counts(session: Session) -> dict[str, int]:
    """How many of each thing the database holds (all organisations, whatever the session's scope)."""
    by_kind = dict(
        session.execute(
            select(Organisation.kind, func.count()).group_by(Organisation.kind).execution_options(skip_scope=True)
        ).all()
    )
    counts = {f"organisations: {kind}": int(by_kind.get(kind, 0)) for kind in OrgKind}
    for label, model in COUNTED:
        counts[label] = session.scalar(select(func.count()).select_from(model).execution_options(skip_scope=True)) or 0
    return counts


# -- organisations with a territory ----------------------------------------------------------------


def _create_areas(session: Session, geometry: DemoGeometry) -> dict[str, Organisation]:
    """北京市 → 区 → 街道/乡镇 → 社区/村, parents first; code → organisation."""
    orgs: dict[str, Organisation] = {}
    for area in [geometry.city, *geometry.districts, *geometry.streets, *geometry.communities]:
        parent = orgs[area.parent_code] if area.parent_code else None
        orgs[area.code] = _create_area(session, area, parent)
    return orgs


def _create_area(session: Session, area: Area, parent: Organisation | None) -> Organisation:
    return orgs_service.create(
        session,
        OrgIn(
            code=area.code,
            name=area.name,
            name_en=area.name_en,
            kind=area.kind,
            parent_id=parent.id if parent else None,
            geometry=_geojson(area.geometry),
        ),
    )


def _geojson(geom: BaseGeometry) -> dict[str, Any]:
    return mapping(geom)


def _import_cells(session: Session, geometry: DemoGeometry) -> None:
    cells = [
        CellIn(code=c.code, name=c.name, area_class=c.area_class, geometry=_geojson(c.geometry)) for c in geometry.cells
    ]
    geo_service.import_cells(session, cells, [f"cell {c.code}" for c in cells])


def _load_reference_data(session: Session) -> None:
    """The shipped, city-independent data: laws before causes (causes cite articles), causes
    before the taxonomy (categories name their causes), and the holiday calendar."""
    legal_service.load_laws(session)
    legal_service.load_causes(session)
    taxonomy_service.load_seed(session)
    calendar_service.load_seed(session)


# -- people ----------------------------------------------------------------------------------------------


def _create_users(
    session: Session, settings: Settings, geometry: DemoGeometry, orgs: dict[str, Organisation]
) -> dict[str, str]:
    """A city administrator, a citizen, and per district one user per role plus a video-AI
    system account; returns the system accounts' API keys."""
    password = settings.demo_password
    _person(session, CITY_ADMIN, "北京市平台管理员", Role.ADMIN, orgs[CITY_CODE], password)
    _person(session, CITIZEN, "示范市民", Role.CITIZEN, None, password)
    keys: dict[str, str] = {}
    for district in geometry.districts:
        slug = _district_slug(district)
        beat = orgs[_first_street(geometry, district).code]
        for role in DISTRICT_ROLES:
            org = beat if role is Role.OFFICER else orgs[district.code]
            label = ROLE_LABELS[role][0].split("/")[0]  # 执法队员/处置人员 → 执法队员
            _person(session, f"{slug}.{role.value}", f"{org.name}{label}", role, org, password)
        username = f"{slug}.video_ai"
        system = auth_service.create_user(
            session,
            UserIn(
                username=username,
                display_name=f"{district.name}视频AI平台",
                kind="system",
                roles=[Role.SYSTEM],
                org_id=orgs[district.code].id,
            ),
        )
        keys[username] = auth_service.create_api_key(session, system, "demo video AI", None)[1]
    return keys


def _person(
    session: Session, username: str, display_name: str, role: Role, org: Organisation | None, password: str
) -> User:
    return auth_service.create_user(
        session,
        UserIn(
            username=username,
            display_name=display_name,
            password=password,
            roles=[role],
            org_id=org.id if org else None,
        ),
        hasher=_demo_hash,
    )


# Every demo account shares the documented password, so one argon2 hash serves them all:
# ~150 hashes would cost 15–20 s of the demo command and protect nothing that is not public.
_demo_hash = functools.cache(hash_password)


def _district_slug(district: Area) -> str:
    """``haidian`` for 海淀区: the prefix of the district's demo usernames."""
    return (district.name_en or district.code).removesuffix(" District").lower()


def _first_street(geometry: DemoGeometry, district: Area) -> Area:
    return next(s for s in geometry.streets if s.parent_code == district.code and s.kind is OrgKind.STREET)
