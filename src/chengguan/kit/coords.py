"""WGS-84 ↔ GCJ-02 ↔ BD-09, the three coordinate systems a Chinese city platform meets.

GPS and the platform's store speak WGS-84. Maps licensed in China (Amap/高德, Tencent/腾讯,
Aliyun DataV) publish GCJ-02 (国测局 "Mars" coordinates), Baidu publishes BD-09 on top of it.
The forward formulas are the widely re-implemented public ones (Krasovsky 1940 ellipsoid,
a = 6378245 m); their inverses have no closed form, so GCJ-02 → WGS-84 and BD-09 → GCJ-02 are
solved by fixed-point iteration until the forward image matches to 1e-12° (the one-step
inversions most libraries ship are off by up to ~1e-5° for GCJ-02 and ~2e-6° for BD-09).

"Inside China" is the usual rectangle lon 72.004–137.8347, lat 0.8293–55.8271 (the test used
by the published converters), not the border: points outside it pass through unchanged, and
points inside it but abroad (parts of Mongolia, Korea, South-East Asia) are shifted as if they
were in China. Every function works on numpy arrays; ``convert_point`` is the scalar form and
``convert_geometry`` applies a conversion to every vertex of a shapely geometry.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry.base import BaseGeometry

FloatArray = NDArray[np.float64]
Pair = tuple[FloatArray, FloatArray]
Transform = Callable[[FloatArray, FloatArray], Pair]


class CRS(enum.StrEnum):
    WGS84 = "wgs84"  # GPS, OpenStreetMap, the platform's store
    GCJ02 = "gcj02"  # Amap/高德, Tencent/腾讯, DataV
    BD09 = "bd09"  # Baidu/百度


# Krasovsky 1940 ellipsoid, as in the GCJ-02 formulas everyone re-implements.
KRASOVSKY_A = 6378245.0
KRASOVSKY_EE = 0.00669342162296594323
BD_X_PI = math.pi * 3000.0 / 180.0
CHINA_BOX = (72.004, 0.8293, 137.8347, 55.8271)  # min lon, min lat, max lon, max lat
INVERSE_TOLERANCE = 1e-12  # degrees; ~0.1 µm, well below any survey's precision
INVERSE_MAX_STEPS = 30  # the iteration contracts by ~1e-2 per step; 3–6 steps suffice in practice


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """True where the point lies in the rectangle the offsets apply to (see the module docstring)."""
    x, y = _as_arrays(lon, lat)
    min_lon, min_lat, max_lon, max_lat = CHINA_BOX
    return (x >= min_lon) & (x <= max_lon) & (y >= min_lat) & (y <= max_lat)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Pair:
    return _inside_china(_wgs_to_gcj, lon, lat)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Pair:
    return _inside_china(_gcj_to_wgs, lon, lat)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Pair:
    return _inside_china(_gcj_to_bd, lon, lat)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Pair:
    return _inside_china(_bd_to_gcj, lon, lat)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Pair:
    return _inside_china(lambda x, y: _gcj_to_bd(*_wgs_to_gcj(x, y)), lon, lat)


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Pair:
    return _inside_china(lambda x, y: _gcj_to_wgs(*_bd_to_gcj(x, y)), lon, lat)


def convert(lon: ArrayLike, lat: ArrayLike, src: CRS, dst: CRS) -> Pair:
    """Arrays of longitudes and latitudes from ``src`` to ``dst`` (copies, never views of the input)."""
    if src == dst:
        x, y = _as_arrays(lon, lat)
        return x.copy(), y.copy()
    return _CONVERSIONS[(src, dst)](lon, lat)


def convert_point(lon: float, lat: float, src: CRS, dst: CRS) -> tuple[float, float]:
    """One point, as plain floats."""
    x, y = convert(lon, lat, src, dst)
    return float(x), float(y)


def convert_geometry(geom: BaseGeometry, src: CRS, dst: CRS) -> BaseGeometry:
    """Every vertex of ``geom`` converted; topology is kept (the offsets are smooth, a few hundred metres)."""
    if src == dst:
        return geom

    def vertices(coords: FloatArray) -> FloatArray:
        x, y = convert(coords[:, 0], coords[:, 1], src, dst)
        return np.column_stack([x, y])

    return shapely.transform(geom, vertices)


# -- the formulas, without the rectangle test ------------------------------------------------------


def _gcj_offset(lon: FloatArray, lat: FloatArray) -> Pair:
    x = lon - 105.0
    y = lat - 35.0
    shared = (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x)) + shared
    dlat += (20.0 * np.sin(y * math.pi) + 40.0 * np.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * math.pi) + 320.0 * np.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x)) + shared
    dlon += (20.0 * np.sin(x * math.pi) + 40.0 * np.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * math.pi) + 300.0 * np.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    # the offsets above are metres-like; scale them to degrees on the ellipsoid
    rad_lat = lat / 180.0 * math.pi
    magic = 1.0 - KRASOVSKY_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = dlat * 180.0 / ((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrt_magic) * math.pi)
    dlon = dlon * 180.0 / (KRASOVSKY_A / sqrt_magic * np.cos(rad_lat) * math.pi)
    return dlon, dlat


def _wgs_to_gcj(lon: FloatArray, lat: FloatArray) -> Pair:
    dlon, dlat = _gcj_offset(lon, lat)
    return lon + dlon, lat + dlat


def _gcj_to_wgs(lon: FloatArray, lat: FloatArray) -> Pair:
    dlon, dlat = _gcj_offset(lon, lat)
    return _invert(_wgs_to_gcj, lon, lat, lon - dlon, lat - dlat)


def _gcj_to_bd(lon: FloatArray, lat: FloatArray) -> Pair:
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * BD_X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * BD_X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd_to_gcj(lon: FloatArray, lat: FloatArray) -> Pair:
    # Baidu's published one-step inverse, refined: on its own it is off by up to ~2e-6°.
    x = lon - 0.0065
    y = lat - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * BD_X_PI)
    return _invert(_gcj_to_bd, lon, lat, z * np.cos(theta), z * np.sin(theta))


def _invert(forward: Transform, lon: FloatArray, lat: FloatArray, x: FloatArray, y: FloatArray) -> Pair:
    """Solve forward(x, y) = (lon, lat) from the guess (x, y). The forward maps are the identity
    plus a slowly varying offset, so subtracting the residual is a contraction. A point stops
    moving once it has converged, so its answer does not depend on the other points in the batch."""
    pending = np.arange(x.size)
    for _ in range(INVERSE_MAX_STEPS):
        fx, fy = forward(x[pending], y[pending])
        ex, ey = fx - lon[pending], fy - lat[pending]
        moving = np.maximum(np.abs(ex), np.abs(ey)) >= INVERSE_TOLERANCE
        pending, ex, ey = pending[moving], ex[moving], ey[moving]
        if pending.size == 0:
            break
        x[pending] -= ex
        y[pending] -= ey
    return x, y


# -- plumbing ----------------------------------------------------------------------------------------


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> Pair:
    x, y = np.broadcast_arrays(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    return x, y


def _inside_china(transform: Transform, lon: ArrayLike, lat: ArrayLike) -> Pair:
    """Apply ``transform`` to the points inside the rectangle; copy the others unchanged."""
    x, y = _as_arrays(lon, lat)
    out_x, out_y = x.copy(), y.copy()
    inside = in_china(x, y)
    if inside.any():
        out_x[inside], out_y[inside] = transform(x[inside], y[inside])
    return out_x, out_y


_CONVERSIONS: dict[tuple[CRS, CRS], Callable[[ArrayLike, ArrayLike], Pair]] = {
    (CRS.WGS84, CRS.GCJ02): wgs84_to_gcj02,
    (CRS.GCJ02, CRS.WGS84): gcj02_to_wgs84,
    (CRS.GCJ02, CRS.BD09): gcj02_to_bd09,
    (CRS.BD09, CRS.GCJ02): bd09_to_gcj02,
    (CRS.WGS84, CRS.BD09): wgs84_to_bd09,
    (CRS.BD09, CRS.WGS84): bd09_to_wgs84,
}
