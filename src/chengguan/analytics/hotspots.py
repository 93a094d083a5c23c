"""Getis-Ord Gi* hotspots: where counts cluster more than chance allows, not merely the top counts.

For cell *i* with binary weights ``w_ij`` = 1 for every cell *j* within the distance band (itself
included, which is what makes it Gi* rather than Gi)::

    Gi* = (Σ_j w_ij x_j − x̄ W_i) / (S √((n S1_i − W_i²) / (n − 1)))

with ``W_i = Σ_j w_ij``, ``S1_i = Σ_j w_ij²``, ``x̄`` and ``S`` the mean and (population) standard
deviation of all *n* counts (Getis & Ord 1992; Ord & Getis 1995). Gi* is a z-score: above 1.96 the
cell sits in a significant hot spot at 95 % (two-sided). Cells with no report count as zero: they
belong to the study area, and leaving them out would hide cold spots and inflate hot ones.

The default band is the smallest distance that gives every cell at least one neighbour, the usual
default (ArcGIS "Hot Spot Analysis"); distances are on a local equirectangular projection, accurate
to well under 1 % across a city.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree
from scipy.stats import norm

from chengguan.errors import Invalid

EARTH_M_PER_DEG = 111_320.0
# (z threshold, confidence bin): the bins ArcGIS and PySAL report, 99 %, 95 %, 90 % two-sided.
BINS = ((2.576, 3), (1.960, 2), (1.645, 1))


@dataclass(frozen=True)
class GiStar:
    z: NDArray[np.float64]
    p: NDArray[np.float64]  # two-sided
    bin: NDArray[np.int8]  # +3/+2/+1 hot at 99/95/90 %, −3/−2/−1 cold, 0 not significant
    band_m: float


def project(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.float64]:
    """Metres on a plane tangent at the points' mean latitude."""
    scale = np.cos(np.radians(lat.mean()))
    return np.column_stack((lon * EARTH_M_PER_DEG * scale, lat * EARTH_M_PER_DEG))


def default_band(points: NDArray[np.float64]) -> float:
    """The smallest distance at which every point has a neighbour other than itself."""
    distances, _ = cKDTree(points).query(points, k=2)
    return float(distances[:, 1].max())


def gi_star(counts: NDArray[np.float64], points: NDArray[np.float64], band_m: float | None = None) -> GiStar:
    n = len(counts)
    if n < 3:
        raise Invalid("a hotspot analysis needs at least 3 cells / 热点分析至少需要3个网格", field="area")
    band = default_band(points) if band_m is None else band_m
    if band <= 0:
        raise Invalid("the distance band must be positive / 距离阈值须为正数", field="band_m")
    weights = cKDTree(points).sparse_distance_matrix(cKDTree(points), band, output_type="coo_matrix").tocsr()
    weights.data[:] = 1.0
    weights.setdiag(1.0)  # a zero distance to itself is not stored: the self weight is explicit
    x = counts.astype(np.float64)
    mean = x.mean()
    s = np.sqrt((x**2).mean() - mean**2)
    w_sum = np.asarray(weights.sum(axis=1)).ravel()
    # Zero when every count is equal (nothing stands out) or a cell's band covers every cell.
    denominator = s * np.sqrt(np.maximum(n * w_sum - w_sum**2, 0) / (n - 1))
    z = np.divide(weights @ x - mean * w_sum, denominator, out=np.zeros(n), where=denominator > 0)
    return GiStar(z=z, p=2 * norm.sf(np.abs(z)), bin=_bins(z), band_m=band)


def _bins(z: NDArray[np.float64]) -> NDArray[np.int8]:
    out = np.zeros(len(z), dtype=np.int8)
    for threshold, level in reversed(BINS):  # weakest first, so the strongest bin wins
        out[z >= threshold] = level
        out[z <= -threshold] = -level
    return out
