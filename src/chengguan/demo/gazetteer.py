"""The demo city's gazetteer: its districts, streets and communities (from the organisation
tree) and 264 real roads and POIs of Beijing (``data/beijing_gazetteer.csv``, approximate
coordinates; see ``data/SOURCES.txt``)."""

from __future__ import annotations

from importlib import resources

from sqlalchemy.orm import Session

from chengguan.geo import gazetteer_service
from chengguan.geo.gazetteer_schemas import GazetteerImportReport

GAZETTEER_FILE = "beijing_gazetteer.csv"


def read_demo_entries() -> gazetteer_service.EntryFile:
    """The roads and POIs of the file, read and converted to WGS-84; no database."""
    data = (resources.files("chengguan.demo") / "data" / GAZETTEER_FILE).read_bytes()
    return gazetteer_service.read_entries(data, GAZETTEER_FILE)


def load_gazetteer(session: Session) -> GazetteerImportReport:
    """Into a database holding the demo organisations: the area entries brought in line with
    them, then the roads and POIs, each placed in the most specific area that covers it."""
    gazetteer_service.refresh_area_entries(session)
    return gazetteer_service.import_entries(session, read_demo_entries())
