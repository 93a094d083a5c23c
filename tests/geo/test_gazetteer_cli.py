"""`chengguan grid geocode|gazetteer-import|gazetteer-refresh`, and the demo gazetteer loaded into
a fresh database holding Beijing's 16 real district polygons."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest
from shapely.geometry import mapping, shape
from sqlalchemy import delete, func, select
from typer.testing import CliRunner

from chengguan.audit import platform_actor
from chengguan.cli import app as cli
from chengguan.db import unit_of_work
from chengguan.demo.gazetteer import load_gazetteer
from chengguan.geo import gazetteer_service
from chengguan.geo.models import EntryKind, GazetteerEntry
from chengguan.kit.coords import CRS, convert_geometry
from chengguan.orgs import service as orgs_service
from chengguan.orgs.models import Organisation, OrgKind
from chengguan.orgs.schemas import OrgIn
from tests.geo.test_gazetteer import HEADER, gazetteer  # noqa: F401  (the module's roads and POIs)

runner = CliRunner()


@pytest.fixture
def cli_env(cli_store: None, gazetteer: dict[str, int]) -> None:  # noqa: F811
    """The CLI on the test store, with the test city's roads and POIs in it."""


def test_geocode_prints_the_point_the_names_and_the_cell(cli_env) -> None:
    res = runner.invoke(cli, ["grid", "geocode", "甲区东街道王府井大街与金鱼胡同交叉口"])
    assert res.exit_code == 0, res.output
    first, second, third = res.output.splitlines()
    assert first == "116.0400000,39.9300000  road  甲区 > 东街道 > 王府井大街 > 金鱼胡同"
    assert second.startswith("confidence 1.00: road 王府井大街; junction with 金鱼胡同")
    assert third.startswith("cell 990101001001001 ") and third.endswith("甲区 > 东街道 > A1一社区")
    within = runner.invoke(cli, ["grid", "geocode", "万达广场", "--within", "990102000000"])
    assert within.exit_code == 0 and "116.3800000,39.9200000" in within.output
    assert runner.invoke(cli, ["grid", "geocode", "火星"]).exit_code == 1
    assert runner.invoke(cli, ["grid", "geocode", "甲区", "--within", "nope"]).exit_code == 2


def test_import_refuses_a_bad_file_then_takes_a_good_one(app, cli_env, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "命令行地名,poi,,116.05,39.95,,990101001000,\n出界地名,poi,,116.35,39.95,,990101001000,\n")
    res = runner.invoke(cli, ["grid", "gazetteer-import", str(bad)])
    assert res.exit_code == 2 and "line 3: lon" in res.output and "nothing was imported" in res.output
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "命令行地名,poi,,116.05,39.95,,990101001000,\n", encoding="gb18030")  # Excel on Windows
    res = runner.invoke(cli, ["grid", "gazetteer-import", str(good), "--crs", "wgs84"])
    assert res.exit_code == 0, res.output
    assert res.output.strip() == "imported 1 entries (poi: 1); replaced 0"
    located = runner.invoke(cli, ["grid", "geocode", "命令行地名"])
    assert located.output.startswith("116.0500000,39.9500000  poi  命令行地名")
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        session.execute(delete(GazetteerEntry).where(GazetteerEntry.name == "命令行地名"))


def test_refresh_reports_what_it_did(cli_env) -> None:
    res = runner.invoke(cli, ["grid", "gazetteer-refresh"])
    assert res.exit_code == 0, res.output
    assert res.output.strip().endswith("area entries: 0 created, 0 updated, 0 removed")


# -- the demo gazetteer in a database -------------------------------------------------------------


def test_the_demo_gazetteer_loads_into_the_real_districts(fresh_engine) -> None:
    _engine, factory = fresh_engine
    data = resources.files("chengguan.demo") / "data" / "beijing_districts_110100_full.geojson"
    features = json.loads(data.read_text(encoding="utf-8"))["features"]
    with unit_of_work(factory, actor=platform_actor("tests")) as session:
        city = orgs_service.create(session, OrgIn(code="110000000000", name="北京市", kind=OrgKind.CITY))
        for f in features:
            # the published polygons touch themselves here and there; buffer(0) mends that
            polygon = convert_geometry(shape(f["geometry"]), CRS.GCJ02, CRS.WGS84).buffer(0)
            org = OrgIn(
                code=f"{f['properties']['adcode']}000000",
                name=f["properties"]["name"],
                kind=OrgKind.DISTRICT,
                parent_id=city.id,
                geometry=mapping(polygon),
            )
            orgs_service.create(session, org)
        report = load_gazetteer(session)
    assert report.created == 264 and report.by_kind == {"poi": 179, "road": 85}
    with unit_of_work(factory, actor=platform_actor("tests")) as session:
        kinds = dict(session.execute(select(GazetteerEntry.kind, func.count()).group_by(GazetteerEntry.kind)).all())
        assert kinds == {"district": 16, "poi": 179, "road": 85}
        airport = gazetteer_service.resolve_address(session, "首都机场T3航站楼")
        assert airport is not None and airport.names == ("北京首都国际机场",)
        chaoyang = session.scalar(select(Organisation.id).where(Organisation.name == "朝阳区"))
        assert airport.district_id == chaoyang  # the airport is an exclave of 朝阳区 inside 顺义区
        match = gazetteer_service.resolve_address(session, "北京市海淀区中关村大街27号")
        assert match is not None and match.level is EntryKind.ROAD and match.names == ("海淀区", "中关村大街")
