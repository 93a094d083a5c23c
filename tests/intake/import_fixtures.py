"""A store of its own for the import tests: the shared test city is in Beijing, the imported
311 records are in New York, Los Angeles and Boston.

311 导入测试市 has one district per NYC borough and per LA city council district (2012), with their
real polygons (tests/data/import/), each with one street, one community and one unit grid cell of
the same shape, so a point outside them is outside the jurisdiction; Boston, for which no
boundary ships with the data, is a hand-drawn box around the city. The shipped taxonomy and
case causes are loaded, and one responsibility rule (街面秩序 E05 city-wide → the city squad).

On SQLite the store is a file of its own; on PostgreSQL a database named by
``CHENGGUAN_TEST_IMPORT_DATABASE_URL`` or else a schema of its own in the test database.
Each test starts from an empty intake (no events, reports or dispatch records).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from shapely.geometry import box, mapping
from sqlalchemy import delete, text
from sqlalchemy.orm import Session, sessionmaker

from chengguan import migrate
from chengguan.audit import platform_actor
from chengguan.cases.models import Event
from chengguan.db import create_engine, make_sessionmaker, unit_of_work
from chengguan.dispatch import service as dispatch_service
from chengguan.dispatch.models import Basis, Consultation, DispatchRecord
from chengguan.dispatch.schemas import RuleIn
from chengguan.geo import service as geo_service
from chengguan.geo.schemas import CellIn
from chengguan.intake.models import DuplicateSuggestion, Report
from chengguan.legal import service as legal_service
from chengguan.orgs import service as orgs_service
from chengguan.orgs.models import OrgKind
from chengguan.orgs.schemas import OrgIn
from chengguan.taxonomy import service as taxonomy_service

DATA = Path(__file__).resolve().parents[1] / "data" / "import"
NYC_SLICE = DATA / "nyc311_slice.csv"
LA_SLICE = DATA / "la311_slice.csv"
BOSTON = DATA / "boston_open311_requests.json"
BOSTON_BOX = (-71.20, 42.22, -70.98, 42.40)  # hand-drawn, not a real boundary

PG_URL = os.environ.get("CHENGGUAN_TEST_DATABASE_URL")
PG_IMPORT_URL = os.environ.get("CHENGGUAN_TEST_IMPORT_DATABASE_URL")
SCHEMA = "import_city"


@dataclass(frozen=True)
class ImportStore:
    url: str
    factory: sessionmaker[Session]
    districts: dict[str, int]  # "nyc:Manhattan", "la:10", "boston" → district id


def _districts() -> list[tuple[str, str, dict[str, object]]]:
    """(key, name, GeoJSON geometry) of every district of the import city."""
    out: list[tuple[str, str, dict[str, object]]] = []
    for feature in json.loads((DATA / "nyc_boroughs.geojson").read_text())["features"]:
        name = feature["properties"]["boro_name"]
        out.append((f"nyc:{name}", f"New York {name}", feature["geometry"]))
    for feature in json.loads((DATA / "la_council_districts_2012.geojson").read_text())["features"]:
        number = feature["properties"]["name"]
        out.append((f"la:{number}", f"Los Angeles council district {number}", feature["geometry"]))
    out.append(("boston", "Boston (box)", mapping(box(*BOSTON_BOX))))
    return out


def build_import_city(session: Session) -> dict[str, int]:
    legal_service.load_causes(session)
    taxonomy_service.load_seed(session)

    def org(code: str, name: str, kind: OrgKind, parent: int | None, geometry: object = None, **kw: str) -> int:
        data = OrgIn(code=code, name=name, kind=kind, parent_id=parent, geometry=geometry, **kw)  # type: ignore[arg-type]
        return orgs_service.create(session, data).id

    city = org("880000000000", "311 导入测试市", OrgKind.CITY, None)
    org("880000-ZX", "导入测试市指挥中心", OrgKind.CENTRE, city, function="command")
    squad = org("880000-ZFD", "导入测试市综合执法队", OrgKind.SQUAD, city, function="enforcement")
    districts: dict[str, int] = {}
    cells: list[CellIn] = []
    for n, (key, name, geometry) in enumerate(_districts(), start=1):
        d = f"88{n:02d}"
        districts[key] = org(f"{d}00000000", name, OrgKind.DISTRICT, city, geometry)
        street = org(f"{d}01000000", f"{name} 街道", OrgKind.STREET, districts[key], geometry)
        org(f"{d}01000001", f"{name} 社区", OrgKind.COMMUNITY, street, geometry)
        cells.append(CellIn(code=f"{d}01000001001", name=f"{name} 网格", area_class="B", geometry=geometry))
    geo_service.import_cells(session, cells)
    dispatch_service.create_rule(session, RuleIn(row_no=1, category="E05", basis=Basis.TERRITORY, unit_id=squad))
    return districts


def _reset_schema(url: str, sql: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(sql))
    engine.dispose()


@pytest.fixture(scope="session")
def import_city_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ImportStore]:
    if PG_IMPORT_URL:
        _reset_schema(PG_IMPORT_URL, "DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        url = PG_IMPORT_URL
    elif PG_URL:
        _reset_schema(PG_URL, f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}")
        url = f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{SCHEMA}"
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('import') / 'import.db'}"
    migrate.upgrade(url)
    engine = create_engine(url)
    factory = make_sessionmaker(engine)
    with unit_of_work(factory, actor=platform_actor("tests")) as session:
        districts = build_import_city(session)
    yield ImportStore(url, factory, districts)
    engine.dispose()
    if PG_URL and not PG_IMPORT_URL:
        _reset_schema(PG_URL, f"DROP SCHEMA {SCHEMA} CASCADE")


def clear_intake(store: ImportStore) -> None:
    """Remove every event, report and dispatch record: the import city as built."""
    with unit_of_work(store.factory, actor=platform_actor("tests")) as session:
        for model in (DuplicateSuggestion, Report, Consultation, DispatchRecord, Event):
            session.execute(delete(model).execution_options(skip_scope=True))


@pytest.fixture
def import_store(import_city_store: ImportStore) -> ImportStore:
    """The import city with nothing imported yet."""
    clear_intake(import_city_store)
    return import_city_store


def csv_records(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def write_csv(
    path: Path, header: list[str], rows: list[list[str]] | list[dict[str, str]], encoding: str = "utf-8"
) -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        if rows and isinstance(rows[0], dict):
            writer = csv.DictWriter(f, fieldnames=header)
            writer.writeheader()
            writer.writerows(rows)  # type: ignore[arg-type]
        else:
            out = csv.writer(f)
            out.writerow(header)
            out.writerows(rows)  # type: ignore[arg-type]
    return path
