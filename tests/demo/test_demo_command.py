from __future__ import annotations

import re
import secrets
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, aliased

from chengguan.app import create_app
from chengguan.audit import AuditEntry
from chengguan.auth.models import ApiKey, User
from chengguan.calendar.models import CalendarDay
from chengguan.config import Settings
from chengguan.db import create_engine
from chengguan.demo.geometry import DemoGeometry
from chengguan.dispatch import service as dispatch_service
from chengguan.dispatch.resolver import resolve_owner
from chengguan.geo.models import GridCell
from chengguan.legal.models import CaseCause, LawDocument
from chengguan.orgs.models import Organisation, OrgKind
from chengguan.taxonomy.models import Category
from tests.demo.conftest import DemoRuns

DEMO_PASSWORD = Settings().demo_password
DISTRICT_ROLES = ("clerk", "shift_leader", "dispatcher", "officer", "legal_reviewer", "supervisor", "analyst", "admin")


@pytest.fixture(scope="module")
def engine(demo_runs: DemoRuns) -> Iterator[Engine]:
    engine = create_engine(demo_runs.url)
    yield engine
    engine.dispose()


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session:
        yield session


@pytest.fixture(scope="module")
def demo_client(demo_runs: DemoRuns, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(
        env="test",
        database_url=demo_runs.url,
        data_dir=tmp_path_factory.mktemp("demo-app"),
        secret_key=secrets.token_urlsafe(48),
    )
    application = create_app(settings)
    with TestClient(application) as client:
        yield client
    application.state.engine.dispose()


def count(db: Session, model: type, *where: object) -> int:
    return db.scalar(select(func.count()).select_from(model).where(*where)) or 0


def kinds(db: Session) -> dict[str, int]:
    return dict(db.execute(select(Organisation.kind, func.count()).group_by(Organisation.kind)).all())


def test_the_whole_city_is_built(demo_runs: DemoRuns, db: Session, demo_geometry: DemoGeometry) -> None:
    assert kinds(db) == {
        OrgKind.CITY: 1,
        OrgKind.DISTRICT: 16,
        OrgKind.STREET: 160,
        OrgKind.TOWN: 179,
        OrgKind.COMMUNITY: len(demo_geometry.communities),
        OrgKind.CENTRE: 1 + 16,
        OrgKind.SQUAD: 1 + 16 + 339,
        OrgKind.DEPARTMENT: 1 + 16 * 14,
        OrgKind.ENTERPRISE: 10,
    }
    assert count(db, GridCell) == len(demo_geometry.cells)
    assert count(db, LawDocument) > 20 and count(db, CaseCause) > 50
    assert count(db, Category) > 100 and count(db, CalendarDay) > 0
    # 9 people per district, a video-AI account per district, the city administrator, a citizen
    assert count(db, User) == 16 * 10 + 2
    assert count(db, ApiKey) == 16


def test_organisations_carry_the_tree_and_the_geometry(db: Session, demo_geometry: DemoGeometry) -> None:
    rows = {
        r.id: r
        for r in db.execute(
            select(Organisation.id, Organisation.code, Organisation.parent_id, Organisation.path, Organisation.depth)
        )
    }
    for r in rows.values():
        above = rows[r.parent_id] if r.parent_id else None
        assert r.path == f"{above.path if above else '/'}{r.code}/" and r.depth == (above.depth + 1 if above else 0)
    street = demo_geometry.streets[0]
    row = db.scalar(select(Organisation).where(Organisation.code == street.code))
    assert row is not None and row.geometry is not None and row.geometry.equals(street.geometry)
    assert row.depth == 2 and row.name_en == street.name_en
    water = db.scalar(select(Organisation).where(Organisation.code == "110108-SW"))
    assert water is not None and (water.name, water.kind, water.function) == ("海淀区水务局", "department", "water")
    squad = db.scalar(select(Organisation).where(Organisation.code == f"{street.code[:9]}-ZFD"))
    assert squad is not None and squad.parent_id == row.id and squad.function == "enforcement"
    gas = db.scalar(select(Organisation).where(Organisation.function == "gas"))
    assert gas is not None and gas.kind == "enterprise" and gas.name == "北京市燃气集团有限责任公司"


def test_cells_sit_in_their_communities(db: Session) -> None:
    community = aliased(Organisation)
    wrong = db.scalar(
        select(func.count())
        .select_from(GridCell)
        .join(community, GridCell.org_id == community.id)
        .where((func.substr(GridCell.code, 1, 12) != community.code) | (community.kind != OrgKind.COMMUNITY))
    )
    assert wrong == 0
    assert {c for (c,) in db.execute(select(GridCell.area_class).distinct())} == {"A", "B", "C"}


def test_the_summary_names_counts_login_and_docs(demo_runs: DemoRuns) -> None:
    out = demo_runs.first
    assert "demo city built" in out
    assert re.search(r"grid cells\s+\d{4,}", out)
    assert "admin" in out and DEMO_PASSWORD in out
    assert "http://127.0.0.1:8000/docs" in out
    assert len(re.findall(r"\.video_ai\s+cg_\S+", out)) == 16


def test_running_it_again_changes_nothing(demo_runs: DemoRuns, db: Session) -> None:
    assert "already" in demo_runs.second and "video_ai" not in demo_runs.second
    first_counts = re.findall(r"^  (.+?)\s+(\d+)$", demo_runs.first, flags=re.M)
    assert first_counts and re.findall(r"^  (.+?)\s+(\d+)$", demo_runs.second, flags=re.M) == first_counts
    assert count(db, User) == 16 * 10 + 2


def test_demo_users_log_in_and_see_their_district(demo_client: TestClient) -> None:
    for username in [f"haidian.{role}" for role in DISTRICT_ROLES] + ["admin", "citizen"]:
        res = demo_client.post("/api/auth/token", data={"username": username, "password": DEMO_PASSWORD})
        assert res.status_code == 200, (username, res.text)
    token = demo_client.post("/api/auth/token", data={"username": "haidian.dispatcher", "password": DEMO_PASSWORD})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    me = demo_client.get("/api/auth/me", headers=headers).json()
    assert me["roles"] == ["dispatcher"]
    streets = demo_client.get("/api/orgs", params={"kind": "street", "limit": 100}, headers=headers).json()
    towns = demo_client.get("/api/orgs", params={"kind": "town", "limit": 100}, headers=headers).json()
    assert streets["total"] + towns["total"] == 29  # 海淀: 22 街道 and 7 镇
    assert all(o["code"].startswith("110108") for o in streets["items"])


def test_officers_work_in_a_street_and_video_ai_uses_its_key(
    demo_runs: DemoRuns, db: Session, demo_client: TestClient
) -> None:
    officer = db.scalar(select(User).where(User.username == "dongcheng.officer"))
    assert officer is not None
    beat = db.get(Organisation, officer.org_id)
    assert beat is not None and (beat.code, beat.kind) == ("110101001000", "street")  # 东华门街道
    key = re.search(r"haidian\.video_ai\s+(cg_\S+)", demo_runs.first)
    assert key is not None
    me = demo_client.get("/api/auth/me", headers={"X-API-Key": key.group(1)})
    assert me.status_code == 200 and me.json()["kind"] == "system" and me.json()["username"] == "haidian.video_ai"


def first_cell(demo_geometry: DemoGeometry, street_code: str) -> str:
    return next(c.code for c in demo_geometry.cells if c.code.startswith(street_code[:9]))


@pytest.mark.parametrize(
    ("category", "street", "unit"),
    [
        ("C0101", "110108001000", "110000-ZLS"),  # 上水井盖 → 北京市自来水集团
        ("C0108", "110108001000", "110000-GH"),  # 电视井盖 → 歌华有线
        ("C0402", "110108001000", "110108-YL"),  # 行道树 → 海淀区园林绿化局
        ("C0112", "110108001000", "110108-CGW"),  # 无主井盖 → 属地: 海淀区城市管理委员会
        ("E0502", "110108001000", "110108001-ZFD"),  # 占道经营 in 万寿路街道 → its 综合执法队
        ("E0502", "110108011000", "110108-ZFJ"),  # … in 中关村 (重点地区) → the district bureau
        ("E0101", "110108011000", "110108011-ZFD"),  # 暴露垃圾 in 中关村 → the street's squad
        ("E0402", "110108011000", "110000-ZLS"),  # 自来水管破裂 → 北京市自来水集团
        ("E0409", "110108101000", "110108-YL"),  # 树木倒伏 in 温泉镇 → 海淀区园林绿化局
    ],
)
def test_dispatch_follows_the_demo_responsibility_list(
    demo_client: TestClient, demo_geometry: DemoGeometry, category: str, street: str, unit: str
) -> None:
    token = demo_client.post("/api/auth/token", data={"username": "haidian.dispatcher", "password": DEMO_PASSWORD})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    cell = first_cell(demo_geometry, street)
    res = demo_client.get("/api/responsibility/resolve", params={"category": category, "cell": cell}, headers=headers)
    assert res.status_code == 200, res.text
    assert res.json()["unit"]["code"] == unit and not res.json()["needs_consultation"], res.json()


def test_every_category_has_an_owner_everywhere(db: Session, demo_geometry: DemoGeometry) -> None:
    """No category falls through to 会商 (consultation) anywhere: one cell per district tried."""
    keys = db.scalars(select(Category.key).where(Category.level == "minor")).all()
    cells = {c.code[:6]: c.code for c in reversed(demo_geometry.cells)}
    for cell in cells.values():
        place = dispatch_service.place_of(db, cell_code=cell)
        for key in keys:
            res = resolve_owner(db, key, place.area_chain, place.cell_code)
            assert res.unit is not None and not res.needs_consultation, (key, cell, res.reason)


def test_the_build_is_audited_as_the_demo_command(db: Session) -> None:
    created = db.scalars(
        select(AuditEntry).where(AuditEntry.entity == "organisations", AuditEntry.action == "organisations.create")
    ).all()
    assert len(created) == count(db, Organisation)
    assert {e.actor_kind for e in created} == {"platform"} and all(
        e.actor_name.startswith("cli:demo:") for e in created
    )
    district = db.scalar(select(Organisation).where(Organisation.code == "110108000000"))
    assert district is not None
    own = next(e for e in created if e.entity_id == str(district.id))
    assert own.org_path == district.path
    imports = db.scalars(select(AuditEntry).where(AuditEntry.action == "grid_cells.import")).all()
    assert len(imports) == 1 and imports[0].after is not None and imports[0].after["created"] == count(db, GridCell)
