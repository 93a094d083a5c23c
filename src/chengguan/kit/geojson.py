"""GeoJSON in and out (RFC 7946: WGS-84 lon/lat), with validation that names the field."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from chengguan.errors import Invalid

AREAL = frozenset({"Polygon", "MultiPolygon"})


def parse_geometry(obj: Any, field: str = "geometry", allowed: frozenset[str] = AREAL) -> BaseGeometry:
    """A valid shapely geometry from a GeoJSON geometry object (dict or JSON text)."""
    if isinstance(obj, str):
        try:
            obj = json.loads(obj)
        except json.JSONDecodeError as exc:
            raise Invalid(f"not GeoJSON: {exc.msg}", field=field) from exc
    if not isinstance(obj, Mapping) or "type" not in obj:
        raise Invalid("expected a GeoJSON geometry object with 'type' and 'coordinates'", field=field)
    if obj["type"] not in allowed:
        raise Invalid(
            f"geometry type {obj['type']!r} not allowed; expected {' or '.join(sorted(allowed))}", field=field
        )
    try:
        geom = shape(obj)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, shapely.errors.GEOSException) as exc:
        raise Invalid(f"malformed coordinates: {exc}", field=field) from exc
    return check_geometry(geom, field)


def parse_wkt(text: str, field: str = "wkt", allowed: frozenset[str] = AREAL) -> BaseGeometry:
    try:
        geom = shapely.from_wkt(text)
    except shapely.errors.GEOSException as exc:
        raise Invalid(f"malformed WKT: {exc}", field=field) from exc
    if geom is None or geom.geom_type not in allowed:
        kind = None if geom is None else geom.geom_type
        raise Invalid(f"geometry type {kind!r} not allowed; expected {' or '.join(sorted(allowed))}", field=field)
    return check_geometry(geom, field)


def check_geometry(geom: BaseGeometry, field: str = "geometry") -> BaseGeometry:
    if geom.is_empty:
        raise Invalid("geometry is empty", field=field)
    if not geom.is_valid:
        raise Invalid(f"invalid geometry: {explain_validity(geom)}", field=field)
    minx, miny, maxx, maxy = geom.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise Invalid("coordinates outside lon/lat range; send WGS-84 longitude, latitude", field=field)
    return geom


def to_geojson(geom: BaseGeometry | None, precision: int = 7) -> dict[str, Any] | None:
    """Coordinates rounded to ``precision`` decimals (7 ≈ 1 cm), topology untouched."""
    if geom is None:
        return None
    return mapping(shapely.set_precision(geom, 10.0**-precision, mode="pointwise"))


def feature(geom: BaseGeometry | None, properties: Mapping[str, Any], fid: Any = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "Feature", "geometry": to_geojson(geom), "properties": dict(properties)}
    if fid is not None:
        out["id"] = fid
    return out


def feature_collection(features: Iterable[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}
