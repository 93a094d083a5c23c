from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chengguan.audit import AuditEntry
from chengguan.geo.models import AreaClass
from chengguan.legal.models import CaseCause
from chengguan.taxonomy import service
from chengguan.taxonomy.models import Category, CategoryCause, CategoryKind, CategoryLevel

MAJORS = {
    CategoryKind.COMPONENT: ["公用设施", "道路交通", "市容环境", "园林绿化", "房屋土地", "其他设施"],
    CategoryKind.EVENT: ["市容环境", "宣传广告", "施工管理", "突发事件", "街面秩序", "其他事件"],
}


def _seed_minors(session: Session) -> list[Category]:
    """The seed's 小类: the tests make up their own under 大类 codes above 06."""
    stmt = select(Category).where(Category.level == CategoryLevel.MINOR)
    return [c for c in session.scalars(stmt) if int(c.code[:2]) <= 6]


def test_the_standard_majors_are_there_in_order(seeded: int, platform_session: Session) -> None:
    for kind, names in MAJORS.items():
        rows, _ = service.list_categories(platform_session, kind=kind, level=CategoryLevel.MAJOR)
        seed = [(c.code, c.name) for c in rows if int(c.code) <= 6]
        assert seed == [(f"{i:02d}", name) for i, name in enumerate(names, start=1)]


def test_every_minor_has_conditions_and_a_limit_for_each_area_class(seeded: int, platform_session: Session) -> None:
    minors = _seed_minors(platform_session)
    kinds = [c.kind for c in minors]
    assert kinds.count(CategoryKind.COMPONENT) >= 60 and kinds.count(CategoryKind.EVENT) >= 50
    assert seeded == len(minors) + 12
    for c in minors:
        assert sorted(t.area_class for t in c.time_limits) == ["A", "B", "C"], c.key
        assert 1 <= len(c.filing_conditions) <= 3 and c.closing_condition, c.key
        assert all(f.code.startswith(c.code) for f in c.filing_conditions), c.key
        assert c.parent is not None and c.parent.code == c.code[:2] and c.parent.kind == c.kind
        assert c.key == ("C" if c.kind == CategoryKind.COMPONENT else "E") + c.code


def test_cited_figures_are_used_and_defaults_are_marked(seeded: int, platform_session: Session) -> None:
    def labels(key: str) -> list[str]:
        return [service.time_limit(platform_session, key, cls).label for cls in AreaClass]

    assert labels("E0101") == ["4工作时", "1工作日", "1工作日"]  # 暴露垃圾
    assert labels("E0103") == ["2工作时", "5工作时", "5工作时"]  # 道路不洁
    assert labels("E0104") == ["15工作日"] * 3  # 水域不洁
    assert labels("E0301") == ["15工作日", "15工作日", "20工作日"]  # 违法建设
    assert labels("E0406") == ["4工作时"] * 3  # 道路积水
    assert "济源" in (service.get_by_key(platform_session, "E0102").note or "")
    assert "默认" in (service.get_by_key(platform_session, "C0101").note or "")


def test_components_name_an_owner_and_events_link_known_causes(seeded: int, platform_session: Session) -> None:
    water = service.get_by_key(platform_session, "C0101")
    assert (water.name, water.owner_function) == ("上水井盖", "water_supply")
    assert service.get_by_key(platform_session, "E0502").cause_codes == ["AY001"]  # 占道经营
    assert set(service.get_by_key(platform_session, "E0307").cause_codes) == {"AY037", "AY037b"}
    linked = select(func.count()).select_from(CategoryCause).join(CaseCause, CaseCause.code == CategoryCause.cause_code)
    assert platform_session.scalar(linked) == platform_session.scalar(select(func.count()).select_from(CategoryCause))


def test_loading_again_changes_nothing(seeded: int, platform_session: Session) -> None:
    entries = select(func.count()).select_from(AuditEntry)
    before = platform_session.scalar(entries)
    assert service.load_seed(platform_session) == seeded
    platform_session.flush()
    assert platform_session.scalar(entries) == before  # no row changed, so nothing was audited
