"""The demo city's working units: who receives dispatched work.

Per district a command centre, the enforcement bureau and one professional department for each
owner function the shipped taxonomy uses (水务、环卫、市容、园林绿化 …); per street/town a
综合执法队; at city level the command centre, the municipal enforcement bureau and the
public-service enterprises (燃气、电力、热力、供水、排水、通信 …). The names are the real
Beijing bodies, the codes are the demo's own (``110108-SW``: 海淀区水务局).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from chengguan.demo.geometry import Area, DemoGeometry
from chengguan.orgs import service as orgs_service
from chengguan.orgs.models import Organisation, OrgKind
from chengguan.orgs.schemas import OrgIn


@dataclass(frozen=True)
class Unit:
    suffix: str  # code = area code prefix + "-" + suffix
    name: str  # "{d}" is the area's name (海淀区), "{s}" the district's short name (海淀)
    kind: OrgKind
    function: str


DISTRICT_UNITS = (
    Unit("ZX", "{d}城市管理指挥中心", OrgKind.CENTRE, "command"),
    Unit("ZFJ", "{d}城市管理综合行政执法局", OrgKind.SQUAD, "enforcement"),
    Unit("CGW", "{d}城市管理委员会", OrgKind.DEPARTMENT, "cityscape"),
    Unit("HW", "{d}环境卫生服务中心", OrgKind.DEPARTMENT, "sanitation"),
    Unit("DL", "{d}城市道路养护中心", OrgKind.DEPARTMENT, "roads"),
    Unit("SW", "{d}水务局", OrgKind.DEPARTMENT, "water"),
    Unit("YL", "{d}园林绿化局", OrgKind.DEPARTMENT, "greening"),
    Unit("JTW", "{d}交通委员会", OrgKind.DEPARTMENT, "traffic"),
    Unit("TC", "{d}停车管理中心", OrgKind.DEPARTMENT, "parking"),
    Unit("ZJW", "{d}住房和城乡建设委员会", OrgKind.DEPARTMENT, "housing"),
    Unit("SJJ", "{d}市场监督管理局", OrgKind.DEPARTMENT, "market"),
    Unit("GA", "北京市公安局{s}分局", OrgKind.DEPARTMENT, "public_security"),
    Unit("JTZD", "北京市公安局公安交通管理局{s}交通支队", OrgKind.DEPARTMENT, "traffic_police"),
    Unit("RF", "{d}人民防空办公室", OrgKind.DEPARTMENT, "civil_defense"),
    Unit("WL", "{d}文化和旅游局", OrgKind.DEPARTMENT, "culture"),
    Unit("TY", "{d}体育局", OrgKind.DEPARTMENT, "sports"),
)

STREET_SQUAD = Unit("ZFD", "{d}综合执法队", OrgKind.SQUAD, "enforcement")

CITY_UNITS = (
    Unit("ZX", "北京市城市管理指挥中心", OrgKind.CENTRE, "command"),
    Unit("ZFJ", "北京市城市管理综合行政执法局", OrgKind.SQUAD, "enforcement"),
    Unit("ZM", "北京市城市照明管理中心", OrgKind.DEPARTMENT, "lighting"),
    Unit("RQ", "北京市燃气集团有限责任公司", OrgKind.ENTERPRISE, "gas"),
    Unit("DL", "国网北京市电力公司", OrgKind.ENTERPRISE, "power"),
    Unit("RL", "北京市热力集团有限责任公司", OrgKind.ENTERPRISE, "heating"),
    Unit("ZLS", "北京市自来水集团有限责任公司", OrgKind.ENTERPRISE, "water_supply"),
    Unit("PS", "北京城市排水集团有限责任公司", OrgKind.ENTERPRISE, "drainage"),
    Unit("LT", "中国联合网络通信有限公司北京市分公司", OrgKind.ENTERPRISE, "telecom"),
    Unit("DX", "中国电信股份有限公司北京分公司", OrgKind.ENTERPRISE, "telecom"),
    Unit("GH", "北京歌华有线电视网络股份有限公司", OrgKind.ENTERPRISE, "telecom"),
    Unit("YZ", "中国邮政集团有限公司北京市分公司", OrgKind.ENTERPRISE, "post"),
    Unit("GJ", "北京公共交通控股（集团）有限公司", OrgKind.ENTERPRISE, "transit"),
)


def unit_code(area_code: str, suffix: str) -> str:
    """``110108-SW``: the district's 6-digit (or the street's 9-digit) prefix and the unit's suffix."""
    digits = 9 if area_code[6:9] != "000" else 6
    return f"{area_code[:digits]}-{suffix}"


def street_squad_code(street_code: str) -> str:
    return unit_code(street_code, STREET_SQUAD.suffix)


def create_units(session: Session, geometry: DemoGeometry, orgs: dict[str, Organisation]) -> None:
    """Add every working unit under its area organisation; ``orgs`` (code → organisation) gains them."""
    catalogues: list[tuple[Area, tuple[Unit, ...]]] = [
        (geometry.city, CITY_UNITS),
        *((d, DISTRICT_UNITS) for d in geometry.districts),
        *((s, (STREET_SQUAD,)) for s in geometry.streets),
    ]
    for area, catalogue in catalogues:
        for unit in catalogue:
            code = unit_code(area.code, unit.suffix)
            orgs[code] = orgs_service.create(
                session,
                OrgIn(
                    code=code,
                    name=unit.name.format(d=area.name, s=area.name.removesuffix("区")),
                    kind=unit.kind,
                    function=unit.function,
                    parent_id=orgs[area.code].id,
                ),
            )
