"""A small, hand-made city whose geometry is simple enough to reason about in assertions.

测试市 (lon 116.0–116.4, lat 39.9–40.1) has two districts split at lon 116.2; 甲区 has two
streets split at lon 116.1 (东/西 are deliberately not compass-true), 乙区 one street. Each
street has two communities split at lat 40.0.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shapely.geometry import Polygon, box, mapping
from sqlalchemy.orm import Session

from chengguan.auth import service as auth_service
from chengguan.auth.roles import Role
from chengguan.auth.schemas import UserIn
from chengguan.calendar.models import DayKind
from chengguan.calendar.service import SEED, parse_schedule
from chengguan.geo import service as geo_service
from chengguan.geo.schemas import CellIn
from chengguan.kit.workcal import WorkCalendar
from chengguan.orgs import service as orgs_service
from chengguan.orgs.models import OrgKind
from chengguan.orgs.schemas import OrgIn


@dataclass
class SampleCity:
    org: dict[str, int] = field(default_factory=dict)  # code name → id
    user: dict[str, int] = field(default_factory=dict)  # username → id
    api_key: str = ""


def _org(
    session: Session,
    city: SampleCity,
    key: str,
    code: str,
    name: str,
    kind: OrgKind,
    parent: str | None,
    geom: tuple[float, float, float, float] | None = None,
    function: str | None = None,
) -> None:
    org = orgs_service.create(
        session,
        OrgIn(
            code=code,
            name=name,
            kind=kind,
            function=function,
            parent_id=city.org[parent] if parent else None,
            geometry=mapping(box(*geom)) if geom else None,
        ),
    )
    city.org[key] = org.id


def build_test_city(session: Session, password: str) -> SampleCity:
    c = SampleCity()
    _org(session, c, "city", "990000000000", "测试市", OrgKind.CITY, None, (116.0, 39.9, 116.4, 40.1))
    _org(session, c, "A", "990101000000", "甲区", OrgKind.DISTRICT, "city", (116.0, 39.9, 116.2, 40.1))
    _org(session, c, "B", "990102000000", "乙区", OrgKind.DISTRICT, "city", (116.2, 39.9, 116.4, 40.1))
    _org(session, c, "A1", "990101001000", "东街道", OrgKind.STREET, "A", (116.0, 39.9, 116.1, 40.1))
    _org(session, c, "A2", "990101002000", "西街道", OrgKind.STREET, "A", (116.1, 39.9, 116.2, 40.1))
    _org(session, c, "B1", "990102001000", "南镇", OrgKind.TOWN, "B", (116.2, 39.9, 116.4, 40.1))
    for street, (x0, x1) in {"A1": (116.0, 116.1), "A2": (116.1, 116.2), "B1": (116.2, 116.4)}.items():
        base = c.org[street]
        code = orgs_service.get(session, base).code[:9]
        _org(
            session, c, f"{street}c1", f"{code}001", f"{street}一社区", OrgKind.COMMUNITY, street, (x0, 39.9, x1, 40.0)
        )
        _org(
            session, c, f"{street}c2", f"{code}002", f"{street}二社区", OrgKind.COMMUNITY, street, (x0, 40.0, x1, 40.1)
        )
    _org(session, c, "A_water", "990101-SW", "甲区水务局", OrgKind.DEPARTMENT, "A", function="water")
    _org(session, c, "A1_squad", "990101001-ZFD", "东街道综合执法队", OrgKind.SQUAD, "A1", function="enforcement")
    _org(session, c, "A_centre", "990101-ZX", "甲区城市管理指挥中心", OrgKind.CENTRE, "A", function="command")

    def user(username: str, role: Role, org: str | None) -> None:
        u = auth_service.create_user(
            session,
            UserIn(
                username=username,
                display_name=username,
                password=password,
                roles=[role],
                org_id=c.org[org] if org else None,
            ),
        )
        c.user[username] = u.id

    user("admin_city", Role.ADMIN, "city")
    for role in Role:
        if role not in {Role.SYSTEM, Role.OFFICER, Role.ADMIN}:
            user(f"{role.value}_a", role, "A")
    user("admin_a", Role.ADMIN, "A")
    user("admin_b", Role.ADMIN, "B")
    user("officer_a1", Role.OFFICER, "A1")
    user("officer_a2", Role.OFFICER, "A2")
    user("officer_b1", Role.OFFICER, "B1")
    system = auth_service.create_user(
        session,
        UserIn(
            username="video_ai_a",
            display_name="甲区视频AI",
            kind="system",
            roles=[Role.SYSTEM],
            org_id=c.org["A"],
        ),
    )
    c.user["video_ai_a"] = system.id
    c.api_key = auth_service.create_api_key(session, system, "tests", None)[1]
    return c


# -- unit grid cells over the test city -----------------------------------------------------------
# Every community but 南镇二社区 (B1c2, left empty for the tests that add cells) is split into
# 2 × 2 cells, serials 001 SW, 002 SE, 003 NW, 004 NE.

GRIDDED = ("A1c1", "A1c2", "A2c1", "A2c2", "B1c1")
EMPTY = "B1c2"
AREA_CLASS = {1: "A", 2: "B", 3: "C", 4: "C"}


@dataclass
class SampleGrid:
    cells: dict[str, Polygon] = field(default_factory=dict)  # code → polygon
    community: dict[str, str] = field(default_factory=dict)  # community key → its 12-digit code

    def code(self, key: str, serial: int) -> str:
        return f"{self.community[key]}{serial:03d}"


def quadrants(x0: float, y0: float, x1: float, y1: float) -> list[Polygon]:
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    return [box(x0, y0, xm, ym), box(xm, y0, x1, ym), box(x0, ym, xm, y1), box(xm, ym, x1, y1)]


def build_test_grid(session: Session, city: SampleCity) -> SampleGrid:
    sample = SampleGrid()
    cells = []
    for key in (*GRIDDED, EMPTY):
        org = orgs_service.get(session, city.org[key])
        sample.community[key] = org.code
        if key == EMPTY:
            continue
        for serial, quad in enumerate(quadrants(*org.geometry.bounds), start=1):
            code = sample.code(key, serial)
            sample.cells[code] = quad
            name = f"{org.name}{serial}号"
            cells.append(CellIn(code=code, name=name, area_class=AREA_CLASS[serial], geometry=mapping(quad)))
    geo_service.import_cells(session, cells)
    return sample


def shipped_calendar() -> WorkCalendar:
    """The working calendar of the shipped holidays CSV, built the way calendar.service builds it
    from its rows, without a database."""
    days = [(d, kind) for year in parse_schedule(SEED.read_bytes(), SEED.name) for d, kind, _name in year.days]
    return WorkCalendar(
        holidays=frozenset(d for d, kind in days if kind == DayKind.HOLIDAY),
        workdays=frozenset(d for d, kind in days if kind == DayKind.WORKDAY),
    )
