"""Report rows of the plan put into words: texts in each channel's voice, addresses the
gazetteer resolves, coordinates as each channel's devices send them, fake reporters, the
sources' own ids; built column by column and validated into :class:`ReportIn`."""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import TypeAdapter

from chengguan.demo import history_mix as mix
from chengguan.demo import history_text as words
from chengguan.demo.history_city import IntArray
from chengguan.demo.history_plan import DAY_S, Plan, Rows
from chengguan.intake.channels import CHANNELS
from chengguan.intake.schemas import ReportIn
from chengguan.kit.coords import CRS, convert
from chengguan.kit.gcpause import gc_paused

# How each channel sends its place: the share of reports with an address only, and the
# coordinate system of the rest (None: the channel's registered default).
ADDRESS_ONLY = {"hotline": 0.25, "leader": 0.5, "media": 0.6, "online_opinion": 0.7}
EXPLICIT_CRS = {"patrol": CRS.WGS84, "supervision": CRS.WGS84}  # 城管通 terminals log GPS
BD09_SHARE = {"citizen": 0.15}  # phones on Baidu maps
ANONYMOUS = {"citizen": 0.3, "open311": 0.5}
PEOPLE = frozenset({"hotline", "citizen", "open311"})
EXTERNAL_PREFIX = {
    "hotline": "12345-",
    "citizen": "SMCGT-",
    "patrol": "XC-",
    "supervision": "KP-",
    "video_ai": "VAI-",
    "iot": "IOT-",
    "remote_sensing": "RS-",
    "leader": "LD-",
    "media": "MT-",
    "referral": "YJ-",
    "online_opinion": "YQ-",
    "open311": "O311-",
}
DEVICE_PREFIX = {"video_ai": "CAM", "iot": "IOT"}
_REPORTS = TypeAdapter(list[ReportIn])


class _Phrases:
    """Lists of phrases, one list per key, for choosing one per row with numpy."""

    def __init__(self, lists: Sequence[Sequence[str]]) -> None:
        self.flat = np.array([p for phrases in lists for p in phrases], dtype=object)
        self.count = np.array([len(phrases) for phrases in lists], dtype=np.int64)
        self.offset = np.cumsum(self.count) - self.count

    def pick(self, which: IntArray, draw: IntArray) -> NDArray[np.object_]:
        return self.flat[self.offset[which] + draw % self.count[which]]


@dataclass(frozen=True)
class _Template:
    """A ``str.format`` template turned into %-formatting over just the fields it names."""

    text: str
    fields: tuple[str, ...]

    @classmethod
    def of(cls, template: str) -> _Template:
        parts = list(string.Formatter().parse(template))
        text = "".join(literal.replace("%", "%%") + ("%s" if name else "") for literal, name, _, _ in parts)
        return cls(text, tuple(name for _, name, _, _ in parts if name))


class Writer:
    """Turns report rows into :class:`ReportIn`: texts, addresses, coordinates, reporters and
    ids, built column by column (one batch at a time) rather than report by report."""

    def __init__(self, plan: Plan) -> None:
        self.plan, city = plan, plan.city
        self.rng = np.random.default_rng([plan.spec.seed, 1])
        self.serial = 0
        self.channels = np.array(plan.channels, dtype=object)
        minors = city.categories
        self.keys = np.array([m.key for m in minors], dtype=object)
        self.names = np.array([m.name for m in minors], dtype=object)
        self.problems = _Phrases([words.PROBLEMS.get(m.key, m.conditions) for m in minors])
        self.conditions = _Phrases([m.conditions for m in minors])
        self.impacts = _Phrases([words.IMPACTS[_impact(m.key)] for m in minors])
        # templates: one group per channel, then one per IoT sensor kind
        iot_kinds = list(words.IOT_TEMPLATES)
        self.templates = [[_Template.of(t) for t in words.TEMPLATES.get(ch, ())] for ch in plan.channels]
        self.templates += [[_Template.of(words.IOT_TEMPLATES[k])] for k in iot_kinds]
        self.readings = [words.READINGS.get(ch) for ch in plan.channels] + [words.READINGS.get(k) for k in iot_kinds]
        iot_kind = [iot_kinds.index(words.IOT_OF.get(k, words.IOT_DEFAULT)) for k in self.keys.tolist()]
        self.iot_group = len(plan.channels) + np.array(iot_kind, dtype=np.int64)
        self.iot = plan.channels.index("iot")
        self.street_prefix = np.array([f"北京市{d}{s}" for d, s, _ in city.cell_names], dtype=object)
        self.community = np.array([c for _, _, c in city.cell_names], dtype=object)
        self.village = np.array([c.endswith("村") for _, _, c in city.cell_names])
        self.spot_names = np.array([s.name for s, _ in plan.spots] or [""], dtype=object)
        self.synthetic = np.array([s.kind in mix.SYNTHETIC_SPOTS for s, _ in plan.spots] or [False])
        self.road_names = np.array([r.name for r, _ in city.roads] or [""], dtype=object)
        self.road_prefix = np.array([f"北京市{r.district}" for r, _ in city.roads] or [""], dtype=object)
        self.spot_prefix = np.array([f"北京市{s.district}" for s, _ in plan.spots] or [""], dtype=object)
        self.numbers = np.array([str(i) for i in range(1000)], dtype=object)
        self.street = city.cell_street
        self.day_labels = np.array([d.strftime("%Y%m%d") for d in plan.days], dtype=object)
        self.prefix = np.array([EXTERNAL_PREFIX[ch] for ch in plan.channels], dtype=object)
        self.people = np.array([ch in PEOPLE for ch in plan.channels])
        self.anonymous = np.array([ANONYMOUS.get(ch, 0.0) for ch in plan.channels])
        self.address_only = np.array([ADDRESS_ONLY.get(ch, 0.0) for ch in plan.channels])
        self.bd09 = np.array([BD09_SHARE.get(ch, 0.0) for ch in plan.channels])
        self.crs = [EXPLICIT_CRS.get(ch, CHANNELS[ch].crs) for ch in plan.channels]  # what the devices send
        self.stated = np.array([EXPLICIT_CRS.get(ch) for ch in plan.channels], dtype=object)
        self.persons = np.array([f"{s}{t}" for s in words.SURNAMES for t in words.TITLES], dtype=object)
        self.phones = np.array([words.fake_phone(i) for i in range(10_000)], dtype=object)
        streets = int(self.street.max()) + 1 if len(self.street) else 1
        self.collectors = np.array([f"采集员{s:03d}{d}" for s in range(streets) for d in range(10)], dtype=object)
        self.inspectors = np.array([f"考评员{s:02d}" for s in range(100)], dtype=object)

    def reports(self, rows: Rows) -> list[ReportIn]:
        with gc_paused():  # a batch makes ~100,000 objects and no cycles: collections would walk the heap
            return self._reports(rows)

    def _reports(self, rows: Rows) -> list[ReportIn]:
        c, n = rows.columns, len(rows)
        t, ch, cat, cell = c["t"], c["channel"], c["cat"], c["cell"]
        draws = self.rng.integers(0, 1 << 30, (8, n))
        place, address = self._places(rows)
        fields = {
            "place": place,
            "addr": address,
            "problem": self.problems.pick(cat, draws[0]),
            "cond": self.conditions.pick(cat, draws[1]),
            "name": self.names[cat],
            "impact": self.impacts.pick(cat, draws[2]),
        }
        for name, options, draw in (
            ("ask", words.ASKS, 3),
            ("when", words.WHEN, 4),
            ("duration", words.DURATIONS, 3),
            ("outlet", words.OUTLETS, 4),
            ("dept", words.DEPARTMENTS, 2),
        ):
            fields[name] = np.array(options, dtype=object)[draws[draw] % len(options)]
        group = np.where(ch == self.iot, self.iot_group[cat], ch)
        description = self._describe(fields, group, draws[5], cell)
        lon, lat, crs = self._coordinates(rows)
        day = ((t - self.plan.start) // DAY_S).astype(np.int64)
        serial = range(self.serial + 1, self.serial + n + 1)
        self.serial += n
        ids = [f"{p}{s:07d}" for p, s in zip((self.prefix[ch] + self.day_labels[day]).tolist(), serial, strict=True)]
        closed = c["closed"]
        closed_at = _or_none(np.round(np.nan_to_num(closed)).astype(np.int64), np.isnan(closed))
        reporter, phone = self._reporters(ch, cell, draws[6], draws[7])
        return _REPORTS.validate_python(
            [
                {
                    "channel": a,
                    "external_id": b,
                    "title": d,
                    "description": e,
                    "category_key": f,
                    "lon": g,
                    "lat": h,
                    "crs": i,
                    "address": j,
                    "submitted_at": k,  # Unix seconds: the schema reads them as UTC
                    "closed_at": m,
                    "reporter_name": o,
                    "reporter_phone": q,
                }
                for a, b, d, e, f, g, h, i, j, k, m, o, q in zip(
                    self.channels[ch].tolist(),
                    ids,
                    (place + self.names[cat]).tolist(),
                    description.tolist(),
                    self.keys[cat].tolist(),
                    lon,
                    lat,
                    crs,
                    fields["addr"].tolist(),
                    np.round(t).astype(np.int64).tolist(),
                    closed_at,
                    reporter,
                    phone,
                    strict=True,
                )
            ]
        )

    def _places(self, rows: Rows) -> tuple[NDArray[np.object_], NDArray[np.object_]]:
        """A landmark per report (the hot spot and a side of it, a house number on the nearest
        road, or a building of the community, a house of the village) and its full address, as
        people write one: a district and a named place, or the district, street and community."""
        c = rows.columns
        spot, road, cell, number = c["spot"], c["road"], c["cell"], self.numbers[c["number"]]
        place = np.empty(len(rows), dtype=object)
        at_spot = spot >= 0
        on_road = ~at_spot & (road >= 0)
        other = ~(at_spot | on_road)
        place[at_spot] = self.spot_names[spot[at_spot]] + np.array(words.SIDES, dtype=object)[c["side"][at_spot]]
        place[on_road] = self.road_names[road[on_road]] + number[on_road] + "号附近"
        place[other] = (
            self.community[cell[other]] + number[other] + np.where(self.village[cell[other]], "号", "号楼附近")
        )
        prefix = self.street_prefix[cell]  # a community's building, a synthetic spot named for its community
        named = at_spot & ~self.synthetic[np.maximum(spot, 0)]
        prefix[named] = self.spot_prefix[spot[named]]  # a gazetteer place, in the district the gazetteer says
        prefix[on_road] = self.road_prefix[road[on_road]]
        return place, prefix + place

    def _describe(
        self, fields: dict[str, NDArray[np.object_]], group: IntArray, draw: IntArray, cell: IntArray
    ) -> NDArray[np.object_]:
        """Each report in its channel's words: the rows of one template are filled together."""
        out = np.empty(len(group), dtype=object)
        for g in np.unique(group).tolist():
            in_group = group == g
            templates, reading = self.templates[g], self.readings[g]
            variant = draw % len(templates)
            for v, template in enumerate(templates):
                rows = np.flatnonzero(in_group & (variant == v))
                if not len(rows):
                    continue
                extra = {}
                if "value" in template.fields and reading is not None:
                    extra["value"] = [_reading(reading, u) for u in self.rng.random(len(rows)).tolist()]
                if "dev" in template.fields:
                    prefix = DEVICE_PREFIX.get(self.plan.channels[g] if g < len(self.plan.channels) else "iot", "DEV")
                    extra["dev"] = [f"{prefix}{x:05d}" for x in cell[rows].tolist()]
                columns = [extra[f] if f in extra else fields[f][rows].tolist() for f in template.fields]
                out[rows] = [template.text % values for values in zip(*columns, strict=True)]
        return out

    def _reporters(
        self, ch: IntArray, cell: IntArray, draw: IntArray, phone_draw: IntArray
    ) -> tuple[list[str | None], list[str | None]]:
        """Names and phones, all synthetic: callers as 张先生 with 138xxxx0000 (some anonymous),
        inspectors by their street's number, nobody for machines and offices."""
        people = self.people[ch] & (self.rng.random(len(ch)) >= self.anonymous[ch])
        name = np.full(len(ch), None, dtype=object)
        name[people] = self.persons[draw[people] % len(self.persons)]
        phone = np.full(len(ch), None, dtype=object)
        phone[people] = self.phones[phone_draw[people] % len(self.phones)]
        channel = self.channels[ch]
        patrol, supervision = channel == "patrol", channel == "supervision"
        name[patrol] = self.collectors[self.street[cell[patrol]] * 10 + draw[patrol] % 10]
        name[supervision] = self.inspectors[self.street[cell[supervision]] % 100]
        return name.tolist(), phone.tolist()

    def _coordinates(self, rows: Rows) -> tuple[list[float | None], list[float | None], list[str | None]]:
        """Coordinates as each channel's devices send them (rounded like a phone's), with the
        CRS stated where it differs from the channel's default; None for address-only reports."""
        c, n = rows.columns, len(rows)
        ch = c["channel"]
        address_only = self.rng.random(n) < self.address_only[ch]
        bd09 = self.rng.random(n) < self.bd09[ch]
        lon, lat = c["lon"].copy(), c["lat"].copy()
        for j, crs in enumerate(self.crs):
            mine = (ch == j) & ~bd09
            if crs != CRS.WGS84 and mine.any():
                lon[mine], lat[mine] = convert(lon[mine], lat[mine], CRS.WGS84, crs)
        if bd09.any():
            lon[bd09], lat[bd09] = convert(lon[bd09], lat[bd09], CRS.WGS84, CRS.BD09)
        stated = np.where(bd09, str(CRS.BD09), self.stated[ch])
        stated[address_only] = None
        stated_crs = [None if s is None else str(s) for s in stated.tolist()]
        return _or_none(np.round(lon, 6), address_only), _or_none(np.round(lat, 6), address_only), stated_crs


def _or_none(values: NDArray[Any], missing: NDArray[np.bool_]) -> list[Any]:
    """The values as Python objects, None where ``missing``."""
    out = values.astype(object)
    out[missing] = None
    return list(out.tolist())


def _impact(key: str) -> str:
    return words.IMPACT_OF.get(key, words.COMPONENT_IMPACT if key.startswith("C") else "general")


def _reading(bounds: tuple[float, float], u: float) -> str:
    low, high = bounds
    x = low + u * (high - low)
    return f"{x:.2f}" if high <= 1 else f"{x:.1f}" if high < 100 else f"{x:.0f}"
