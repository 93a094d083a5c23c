"""Grid cells from a file: a GeoJSON FeatureCollection, or CSV/XLSX with a ``wkt`` or
``geojson`` geometry column. Reading only: the rows are checked and written by
:func:`chengguan.geo.service.import_cells`, which also reports the errors found here."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from chengguan.errors import FieldError, Invalid
from chengguan.geo.schemas import CellIn
from chengguan.kit.tabular import read_table
from chengguan.kit.uploads import TABLE_SUFFIXES, require_suffix

GEOJSON_SUFFIXES = frozenset({".geojson", ".json"})
SUFFIXES = GEOJSON_SUFFIXES | TABLE_SUFFIXES
COLUMNS = ("code", "name", "area_class")
GEOMETRY_COLUMNS = ("wkt", "geojson")


@dataclass
class CellFile:
    """The cells read from a file, where each came from, and the rows that could not be read."""

    cells: list[CellIn] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    errors: list[FieldError] = field(default_factory=list)

    def add(self, label: str, values: Mapping[str, Any]) -> None:
        try:
            self.cells.append(CellIn.model_validate(values))
            self.labels.append(label)
        except ValidationError as exc:
            # one message per field (a union type reports each alternative)
            by_field = {str(e["loc"][0]) if e["loc"] else "row": e["msg"] for e in reversed(exc.errors())}
            if values.get("geometry") is None:
                by_field["geometry"] = "geometry is missing"
            self.errors += [FieldError(f"{label}: {name}", msg) for name, msg in sorted(by_field.items())]


def read_cells(data: bytes, filename: str) -> CellFile:
    """Cells of a ``.geojson``/``.json``, ``.csv`` or ``.xlsx`` file."""
    if require_suffix(filename, SUFFIXES) in GEOJSON_SUFFIXES:
        return _from_geojson(data)
    return _from_table(data, filename)


def _from_geojson(data: bytes) -> CellFile:
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Invalid(f"not JSON: {exc}", field="file") from exc
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise Invalid("expected a GeoJSON FeatureCollection", field="file")
    out = CellFile()
    for number, feat in enumerate(doc["features"], start=1):
        label = f"feature {number}"
        if not isinstance(feat, dict) or not isinstance(feat.get("properties"), dict):
            out.errors.append(FieldError(f"{label}: properties", "a Feature with a properties object is expected"))
            continue
        values = {k: _text(v) for k, v in feat["properties"].items() if k in {*COLUMNS, "community_code"}}
        out.add(label, {**values, "geometry": feat.get("geometry")})
    return out


def _text(value: Any) -> Any:
    """Codes typed as JSON numbers are still codes."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _from_table(data: bytes, filename: str) -> CellFile:
    rows = read_table(data, filename, required=COLUMNS)
    present = [c for c in GEOMETRY_COLUMNS if rows and c in rows[0].values]
    if rows and not present:
        raise Invalid("line 1: a 'wkt' or 'geojson' geometry column is required", field="file")
    out = CellFile()
    for row in rows:
        values: dict[str, Any] = {c: row.get(c) for c in COLUMNS}
        values["community_code"] = row.get("community_code") or None
        values["geometry"] = next((row.get(c) for c in present if row.get(c)), None)
        out.add(f"line {row.line}", values)
    return out
