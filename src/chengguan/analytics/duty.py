"""Duty deployment (勤务跟着高峰走): officers per area per shift, from the hourly forecast.

**The rule.** Each area's officers on duty in a day are shared among the day's shifts: every shift
first gets the minimum (nobody leaves a shift empty because it is usually quiet), and the rest go
in proportion to the forecast volume within each shift's hours, rounded by the largest remainder
(Hamilton's method): each shift gets the whole part of its quota, and the officers still left go
one each to the shifts with the largest fractional parts (ties: the busier shift, then the earlier
one). The result always adds up to the officers available, and no shift is more than one officer
away from its exact share. A day with no forecast volume at all is shared equally.

A shift is a range of hours of the day, ``[start, end)``; one that ends at or before its start runs
past midnight (22–6 is 22:00 to 06:00), and takes the forecast of the same calendar day's hours
(the small hours of the next day are as busy as those of this one, to the forecast's precision).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from chengguan.errors import Invalid

HOURS = 24


@dataclass(frozen=True)
class Shift:
    name: str
    start: int  # hour of the day, 0–23
    end: int  # exclusive; ≤ start: past midnight

    def hours(self) -> list[int]:
        span = (self.end - self.start) % HOURS or HOURS
        return [(self.start + i) % HOURS for i in range(span)]


def check_shifts(shifts: Sequence[Shift]) -> None:
    if not shifts:
        raise Invalid("at least one shift / 至少一个班次", field="shifts")
    seen: set[int] = set()
    for i, shift in enumerate(shifts):
        if not (0 <= shift.start < HOURS and 0 <= shift.end < HOURS):
            raise Invalid("shift hours are 0–23 / 班次时间须在0到23点之间", field=f"shifts.{i}")
        if seen & set(shift.hours()):
            raise Invalid(f"shift {shift.name!r} overlaps another / 班次时间重叠", field=f"shifts.{i}")
        seen |= set(shift.hours())


def largest_remainder(total: int, weights: Sequence[float], minimum: int = 0) -> list[int]:
    """``total`` officers over ``len(weights)`` shifts: ``minimum`` each, the rest in proportion to
    ``weights`` by the largest remainder (see the module docstring)."""
    n = len(weights)
    if minimum < 0 or total < minimum * n:
        raise Invalid(
            f"{total} officers cannot give {n} shifts {minimum} each / 警力不足以满足每班最低人数", field="officers"
        )
    spare = total - minimum * n
    mass = float(sum(weights))
    shares = [w / mass for w in weights] if mass > 0 else [1.0 / n] * n
    quotas = [spare * s for s in shares]
    out = [math.floor(q) for q in quotas]
    order = sorted(range(n), key=lambda i: (-(quotas[i] - out[i]), -weights[i], i))
    for i in order[: spare - sum(out)]:
        out[i] += 1
    return [minimum + k for k in out]


@dataclass(frozen=True)
class Posting:
    area: str
    day: dt.date
    shift: str
    expected: float  # forecast volume within the shift's hours
    officers: int


def deploy(
    hourly: Mapping[str, np.ndarray],
    days: Sequence[dt.date],
    officers: Mapping[str, int],
    shifts: Sequence[Shift],
    minimum: int,
) -> list[Posting]:
    """Postings for every area in ``officers`` and every day: ``hourly[area]`` is its (days × 24)
    forecast; an area without one (no history yet) is shared equally."""
    check_shifts(shifts)
    out = []
    for area, available in officers.items():
        forecast = hourly.get(area, np.zeros((len(days), HOURS)))
        for day, by_hour in zip(days, forecast, strict=True):
            expected = [float(by_hour[s.hours()].sum()) for s in shifts]
            for shift, load, n in zip(shifts, expected, largest_remainder(available, expected, minimum), strict=True):
                out.append(Posting(area, day, shift.name, round(load, 3), n))
    return out
