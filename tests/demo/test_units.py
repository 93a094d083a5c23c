from __future__ import annotations

from chengguan.demo.geometry import DemoGeometry
from chengguan.demo.responsibility import EMERGENCY_OWNERS, KEY_AREAS
from chengguan.demo.units import CITY_UNITS, DISTRICT_UNITS, STREET_SQUAD, street_squad_code, unit_code
from chengguan.orgs.models import OrgKind
from chengguan.taxonomy.models import OWNER_FUNCTIONS

# functions of units that own no component type: they command, enforce or license
WORKING_FUNCTIONS = {"command", "enforcement", "market"}


def test_unit_codes_name_their_area() -> None:
    assert unit_code("110000000000", "RQ") == "110000-RQ"
    assert unit_code("110108000000", "SW") == "110108-SW"
    assert street_squad_code("110108011000") == "110108011-ZFD"


def test_every_unit_function_is_a_known_owner_function() -> None:
    functions = {u.function for u in (*CITY_UNITS, *DISTRICT_UNITS, STREET_SQUAD)}
    assert functions - WORKING_FUNCTIONS <= set(OWNER_FUNCTIONS)
    assert set(EMERGENCY_OWNERS.values()) <= set(OWNER_FUNCTIONS)
    district_suffixes = [u.suffix for u in DISTRICT_UNITS]
    assert len(set(district_suffixes)) == len(district_suffixes)


def test_key_areas_are_real_streets(demo_geometry: DemoGeometry) -> None:
    streets = {s.code: s for s in demo_geometry.streets}
    for code in KEY_AREAS:
        assert streets[code].kind is OrgKind.STREET, code
