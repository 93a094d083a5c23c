"""A labelled synthetic set for duplicate detection: reports of city-management problems in
Beijing-like neighbourhoods, several reporters per problem, with hard negatives.

Every *problem* (one vendor, one heap of rubbish, one noisy site) sits at a *place* of a
neighbourhood (a street corner, a 小区 gate, a shop front, a building site), each place with
several ways of being named ("建国路与光华路交叉口东南角" / "光华路建国路路口东南" / "全家便利店门口").
Its reporters write through four channels in their own words (12345 hotline transcripts,
the citizen app, WeChat, officers' patrol notes): a different naming of the place, a synonym
for the problem, optional greetings, complaints about the impact, pleas. Positions scatter
with the channel (officer GPS ± 8 m … a hotline address geocoded ± 60 m); the category is the
classifier's, sometimes a sibling 小类 (9 %) or another 大类 (3 %, which dedup cannot repair).

Hard negatives, each a separate problem with its own label:

* ``twin``: same 小类, same or neighbouring place, same days, a different vendor / car / site;
* ``far``: the same problem text (same chain-store name, same item) 250 m – 3 km away;
* ``later``: the same place and problem again 4–7 days after the last report (past the window);
* ``sibling``: another 小类 of the same 大类 at the same place and time (a vendor and a car).

Deterministic for a seed. ``generate(seed)`` returns the reports sorted by time.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable
from dataclasses import dataclass

M_PER_DEGREE = 111_195.0
START = dt.datetime(2026, 5, 4, tzinfo=dt.UTC)
DAYS = 14
WINDOW = dt.timedelta(hours=72)  # the dedup default: a problem seen again after it is a new one
CENTRE = (116.40, 39.91)

ROADS_EW = [
    "建国路", "朝阳北路", "朝阳路", "光华路", "团结湖路", "工体北路", "东直门外大街", "三里屯路", "平安大街",
    "两广路", "广渠路", "西大望路", "双井街", "劲松路", "左家庄路", "北三环东路", "安定路", "北土城西路",
    "学院南路", "知春路", "北四环西路", "阜成路", "西四环中路", "玉泉路", "丰台北路", "南三环西路",
]  # fmt: skip
ROADS_NS = [
    "东三环中路", "东大桥路", "金台路", "呼家楼路", "光华东路", "秀水街", "日坛路", "关东店路", "农展馆南路",
    "小营路", "惠新东街", "安苑路", "和平里北街", "地坛南路", "中关村大街", "学院路", "白石桥路", "首体南路",
    "紫竹院路", "车公庄西路", "西直门北大街", "马甸路", "德胜门外大街", "南礼士路", "莲花池东路", "万寿路",
]  # fmt: skip
COMMUNITIES = [
    "幸福家园", "金台里", "团结湖北里", "芳草地", "光华里", "呼家楼西里", "和平街十一区", "安贞里", "惠新西街",
    "枣营北里", "农光里", "劲松八区", "双花园", "百子湾家园", "富力城", "珠江帝景", "远洋天地", "阳光上东",
    "望京花园", "花家地西里", "北沙滩", "学知园", "知春里", "万寿路甲15号院", "甘家口", "百万庄", "展览路",
]  # fmt: skip
BRANDS = [
    "全家便利店", "7-11便利店", "物美超市", "华联超市", "庆丰包子铺", "沙县小吃", "兰州拉面", "麦当劳", "肯德基",
    "链家", "中国银行", "工商银行", "瑞幸咖啡", "好利来", "眉州东坡", "永和大王", "京东便利店", "屈臣氏",
]  # fmt: skip
CORNERS = ["东南", "东北", "西南", "西北"]
GATES = ["东", "南", "西", "北"]
ITEMS = ["水果", "煎饼", "烤红薯", "蔬菜", "鸡蛋灌饼", "烤冷面", "手机贴膜", "袜子", "鲜花", "玉米", "臭豆腐", "凉皮"]
CARS = [f"{c}{t}" for c in ("白色", "黑色", "红色", "银色", "蓝色") for t in ("轿车", "SUV", "面包车", "货车")]
RUBBISH = ["生活垃圾", "装修垃圾", "旧家具", "绿化垃圾", "建筑渣土", "泡沫箱"]
ADS = ["办证", "开锁", "招聘", "租房", "贷款"]
SITES = ["地铁站工地", "住宅楼工地", "道路改造工地", "管线施工工地", "商场改造工地"]


@dataclass(frozen=True)
class Place:
    lon: float
    lat: float
    kind: str  # corner | gate | shop | site
    names: tuple[str, ...]  # ways of saying where: the first the most precise, the last shared by many places


@dataclass(frozen=True)
class Kind:
    """A 小类 as reporters describe it: ``phrases`` take the problem's detail as {d}. ``distinct``:
    the details tell two problems at one place apart (a fruit stall and a pancake stall, a white
    car and a red one); otherwise they are how one reporter or another describes the same thing
    (烤串 / 羊肉串, 垃圾桶 / 垃圾箱), reporters vary them, and one place has one such problem at a time."""

    key: str
    name: str
    places: tuple[str, ...]
    details: tuple[str, ...]
    phrases: tuple[str, ...]
    distinct: bool = False


KINDS = [
    Kind("E0502", "占道经营", ("corner", "gate", "shop"), tuple(ITEMS),
         ("有人摆摊卖{d}", "{d}摊占道经营", "有人占道卖{d}", "有卖{d}的小摊占了人行道", "摆地摊卖{d}，人都过不去",
          "一个卖{d}的摊位占着便道"), distinct=True),
    Kind("E0501", "无照经营游商", ("corner", "gate"), tuple(ITEMS),
         ("有三轮车卖{d}的游商", "流动商贩推车卖{d}", "游商骑三轮卖{d}", "有小贩流动叫卖{d}"), distinct=True),
    Kind("E0504", "露天烧烤", ("corner", "shop"), ("羊肉串", "烤鱿鱼", "烤串", "烤鸡翅"),
         ("晚上有人露天烧烤卖{d}", "路边烤{d}，烟很大", "露天烧烤{d}，乌烟瘴气", "摆烧烤摊烤{d}")),
    Kind("E0505", "机动车乱停放", ("corner", "gate", "shop"), tuple(CARS),
         ("一辆{d}停在人行道上", "{d}占用消防通道", "有辆{d}长期停在盲道上", "{d}乱停挡住了路",
          "{d}违停在便道上"), distinct=True),
    Kind("E0101", "暴露垃圾", ("corner", "gate", "shop"), tuple(RUBBISH),
         ("有一堆{d}没人清理", "{d}堆在路边好几天了", "堆了很多{d}，暴露垃圾", "{d}乱扔一地", "一大堆{d}，又脏又臭")),
    Kind("E0106", "垃圾满溢", ("gate", "shop"), ("垃圾桶", "垃圾箱", "分类垃圾桶"),
         ("{d}满了溢出来", "{d}满溢没人清", "{d}塞满了，垃圾掉了一地")),
    Kind("E0201", "非法小广告", ("corner", "gate"), tuple(ADS),
         ("墙上贴满了{d}小广告", "电线杆上全是{d}小广告", "有人到处贴{d}的小广告", "{d}小广告喷得到处都是")),
    Kind("E0302", "施工扰民", ("site",), tuple(SITES),
         ("{d}噪音太大", "{d}一直在打桩，吵得受不了", "{d}机器轰鸣", "{d}施工扰民")),
    Kind("E0307", "夜间施工噪声", ("site",), tuple(SITES),
         ("{d}半夜还在施工", "{d}晚上十一点多还在干活，噪音扰民", "{d}夜间施工吵得睡不着", "{d}凌晨还在作业")),
    Kind("E0303", "工地扬尘", ("site",), tuple(SITES),
         ("{d}扬尘严重，没有苫盖", "{d}尘土飞扬", "{d}黄土裸露，刮风全是土")),
    Kind("E0510", "公共场所噪声", ("gate",), ("广场舞", "唱歌", "健身操"),
         ("{d}音响声音太大", "晚上{d}放音乐太吵", "{d}的音箱开到很晚")),
    Kind("E0601", "餐饮油烟", ("shop",), ("饭馆", "烧烤店", "小吃店", "火锅店"),
         ("{d}油烟直排", "{d}排油烟熏得人没法开窗", "{d}油烟很大，没有净化器")),
    Kind("C0102", "污水井盖", ("corner", "gate"), ("丢失", "破损", "松动"),
         ("污水井盖{d}了", "下水井盖{d}，很危险", "有个污水井盖{d}")),
    Kind("C0103", "雨水井盖", ("corner", "gate"), ("丢失", "破损", "下沉"),
         ("雨水井盖{d}", "雨水篦子{d}了", "路边雨水井盖{d}，容易崴脚")),
]  # fmt: skip
KINDS_BY_KEY = {kind.key: kind for kind in KINDS}
KIND_WEIGHTS = [22, 6, 5, 14, 14, 5, 5, 6, 5, 3, 4, 4, 2, 2]
SIBLING_SWAP = 0.09  # a repeat report classified into another 小类 of the same 大类
OTHER_SWAP = 0.03  # … into another 大类

GREETINGS = ["您好，", "你好，", "尊敬的领导：", "领导您好！", "", "", "", ""]
IMPACTS = ["影响行人通行", "严重影响居民休息", "太影响市容了", "老人孩子走路很危险", "周边居民意见很大", "", ""]
DURATIONS = ["已经好几天了，", "每天都这样，", "从上周开始，", "今天早上发现", "", "", ""]
PLEAS = ["请尽快处理。", "希望有关部门管一管！", "请城管来看看。", "麻烦尽快解决，谢谢！", "谢谢。", "", ""]


@dataclass(frozen=True)
class SynthReport:
    problem: int
    family: str  # base | twin | far | later | sibling
    category_key: str
    true_key: str
    lon: float
    lat: float
    at: dt.datetime
    text: str
    channel: str


def _offset(lon: float, lat: float, east_m: float, north_m: float) -> tuple[float, float]:
    return lon + east_m / (M_PER_DEGREE * math.cos(math.radians(lat))), lat + north_m / M_PER_DEGREE


class _Generator:
    def __init__(self, seed: int, neighbourhoods: int, problems: int) -> None:
        self.rng = random.Random(seed)
        self.places = [self._neighbourhood() for _ in range(neighbourhoods)]
        self.problems = problems
        self.reports: list[SynthReport] = []
        self.next_problem = 0
        # (place, 小类, detail) → spans of the problems there: no two may be within a window of
        # each other, or nobody, not even a person, could tell their reports apart
        self.spans: dict[tuple[str, str, str], list[tuple[dt.datetime, dt.datetime]]] = {}

    # -- places --------------------------------------------------------------------------------

    def _neighbourhood(self) -> list[Place]:
        """Three roads each way, 300 m apart: corners at the crossings, 小区, shops and sites between."""
        rng = self.rng
        lon0, lat0 = _offset(*CENTRE, rng.gauss(0, 8_000), rng.gauss(0, 6_000))
        ew, ns = rng.sample(ROADS_EW, 3), rng.sample(ROADS_NS, 3)
        places: list[Place] = []
        for i, a in enumerate(ew):
            for j, b in enumerate(ns):
                x, y = j * 300.0, i * 300.0
                for corner in rng.sample(CORNERS, 2):
                    places.append(self._corner(lon0, lat0, x, y, a, b, corner))
                if i < 2 and j < 2:
                    places.extend(self._block(lon0, lat0, x + 150, y + 150, a, b))
        return places

    def _corner(self, lon0: float, lat0: float, x: float, y: float, a: str, b: str, corner: str) -> Place:
        east = 20.0 if "东" in corner else -20.0
        north = 20.0 if "北" in corner else -20.0
        names = _corner_names(a, b, corner, self.rng.choice(BRANDS))
        return Place(*_offset(lon0, lat0, x + east, y + north), "corner", names)

    def _block(self, lon0: float, lat0: float, x: float, y: float, a: str, b: str) -> list[Place]:
        rng = self.rng
        community = rng.choice(COMMUNITIES)
        gate = rng.choice(GATES)
        number = rng.randrange(1, 200)
        shop = rng.choice(BRANDS)
        return [
            Place(
                *_offset(lon0, lat0, x + rng.uniform(-60, 60), y - 90),
                "gate",
                (f"{community}小区{gate}门", f"{community}{gate}门口", f"{a}{community}小区门口", f"{community}门口"),
            ),
            Place(
                *_offset(lon0, lat0, x + rng.uniform(-100, 100), y + 120),
                "shop",
                (f"{a}{number}号{shop}门口", f"{shop}（{a}店）门前", f"{a}上的{shop}旁边", f"{shop}门口"),
            ),
            Place(
                *_offset(lon0, lat0, x + rng.uniform(-80, 80), y + rng.uniform(-40, 40)),
                "site",
                (f"{b}{community}旁边的", f"{a}和{b}路口附近的", f"{community}南边的", f"{community}附近的"),
            ),
        ]

    # -- problems ------------------------------------------------------------------------------

    def run(self) -> list[SynthReport]:
        for _ in range(self.problems):
            self._base()
        return sorted(self.reports, key=lambda r: (r.at, r.problem))

    def _base(self) -> None:
        rng = self.rng
        kind = rng.choices(KINDS, KIND_WEIGHTS)[0]
        hood = rng.choice(self.places)
        place = rng.choice([p for p in hood if p.kind in kind.places])
        detail = rng.choice(kind.details)
        start = START + dt.timedelta(seconds=rng.uniform(0, DAYS * 86_400))
        times = self._problem(kind, place, detail, start, "base")
        if not times:
            return
        roll = rng.random()
        if roll < 0.15:
            self._twin(kind, hood, place, detail, start)
        elif roll < 0.25:
            self._far(kind, place, detail, start)
        elif roll < 0.35:
            self._problem(kind, place, detail, times[-1] + dt.timedelta(days=rng.uniform(4, 7)), "later")
        elif roll < 0.45:
            self._sibling(kind, place, start)

    def _twin(self, kind: Kind, hood: list[Place], place: Place, detail: str, start: dt.datetime) -> None:
        rng = self.rng
        near = [p for p in hood if p.kind in kind.places and _metres(p, place) < 150]
        if not kind.distinct:
            near = [p for p in near if p is not place]
        if not near:
            return
        other = rng.choice([d for d in kind.details if d != detail])
        self._problem(kind, rng.choice(near), other, start + dt.timedelta(hours=rng.uniform(-12, 12)), "twin")

    def _far(self, kind: Kind, place: Place, detail: str, start: dt.datetime) -> None:
        """The same words somewhere else: the place's vaguest name (a chain store, a 小区 gate)."""
        rng = self.rng
        east, north = self._ring(250, 3_000)
        lon, lat = _offset(place.lon, place.lat, east, north)
        far = Place(lon, lat, place.kind, (place.names[-1],))
        self._problem(kind, far, detail, start + dt.timedelta(hours=rng.uniform(-12, 12)), "far")

    def _sibling(self, kind: Kind, place: Place, start: dt.datetime) -> None:
        rng = self.rng
        siblings = [k for k in KINDS if k.key[:3] == kind.key[:3] and k.key != kind.key and place.kind in k.places]
        if siblings:
            other = rng.choice(siblings)
            at = start + dt.timedelta(hours=rng.uniform(-12, 12))
            self._problem(other, place, rng.choice(other.details), at, "sibling")

    def _ring(self, inner: float, outer: float) -> tuple[float, float]:
        angle, radius = self.rng.uniform(0, 2 * math.pi), self.rng.uniform(inner, outer)
        return radius * math.cos(angle), radius * math.sin(angle)

    def _problem(self, kind: Kind, place: Place, detail: str, start: dt.datetime, family: str) -> list[dt.datetime]:
        """Reports of one problem: 1 + geometric(0.6) of them, hours apart. Returns their times,
        none if the same problem is already reported at the same place around then."""
        rng = self.rng
        times = [start]
        while rng.random() < 0.4 and len(times) < 12:
            times.append(times[-1] + dt.timedelta(hours=rng.expovariate(1 / 4)))
        spans = self.spans.setdefault((place.names[0], kind.key, detail if kind.distinct else ""), [])
        margin = WINDOW + dt.timedelta(hours=1)
        if any(first - margin < times[-1] and times[0] < last + margin for first, last in spans):
            return []
        spans.append((times[0], times[-1]))
        problem, self.next_problem = self.next_problem, self.next_problem + 1
        for i, at in enumerate(times):
            channel = rng.choices(list(CHANNELS), CHANNEL_WEIGHTS)[0]
            said = detail if kind.distinct or rng.random() < 0.7 else rng.choice(kind.details)
            text = CHANNELS[channel](rng, kind, place, said)
            east, north = self._scatter(channel)
            lon, lat = _offset(place.lon, place.lat, east, north)
            category = self._classified(kind) if i else kind.key
            self.reports.append(SynthReport(problem, family, category, kind.key, lon, lat, at, text, channel))
        return times

    def _scatter(self, channel: str) -> tuple[float, float]:
        sigma = {"officer": 8.0, "app": 20.0, "wechat": 30.0, "hotline": 60.0}[channel]
        east, north = self.rng.gauss(0, sigma), self.rng.gauss(0, sigma)
        scale = min(1.0, 180 / max(math.hypot(east, north), 1e-9))  # a geocoder stays within its street
        return east * scale, north * scale

    def _classified(self, kind: Kind) -> str:
        roll = self.rng.random()
        if roll < SIBLING_SWAP:
            siblings = [k.key for k in KINDS if k.key[:3] == kind.key[:3] and k.key != kind.key]
            return self.rng.choice(siblings) if siblings else kind.key
        if roll < SIBLING_SWAP + OTHER_SWAP:
            return self.rng.choice([k.key for k in KINDS if k.key[:3] != kind.key[:3]])
        return kind.key


def _hotline(rng: random.Random, kind: Kind, place: Place, detail: str) -> str:
    where, what = rng.choice(place.names), rng.choice(kind.phrases).format(d=detail)
    return "，".join(filter(None, (f"市民来电反映：{where}{what}", rng.choice(IMPACTS), rng.choice(PLEAS))))


def _app(rng: random.Random, kind: Kind, place: Place, detail: str) -> str:
    return f"{rng.choice(place.names)}{rng.choice(kind.phrases).format(d=detail)}"


def _wechat(rng: random.Random, kind: Kind, place: Place, detail: str) -> str:
    where, what = rng.choice(place.names), rng.choice(kind.phrases).format(d=detail)
    greeting, duration, impact, plea = (rng.choice(words) for words in (GREETINGS, DURATIONS, IMPACTS, PLEAS))
    if rng.random() < 0.3:
        return f"{greeting}{what}，就在{where}，{duration}{impact}！{plea}"
    return f"{greeting}{duration}{where}{what}，{impact}。{plea}"


def _officer(rng: random.Random, kind: Kind, place: Place, detail: str) -> str:
    return f"巡查发现：{place.names[0]}，{kind.name}（{detail}）。"


CHANNELS: dict[str, Callable[[random.Random, Kind, Place, str], str]] = {
    "hotline": _hotline,
    "app": _app,
    "wechat": _wechat,
    "officer": _officer,
}
CHANNEL_WEIGHTS = (35, 30, 20, 15)


def _corner_names(a: str, b: str, corner: str, shop: str) -> tuple[str, ...]:
    return (
        f"{a}与{b}交叉口{corner}角",
        f"{b}{a}路口{corner}",
        f"{a}和{b}十字路口{corner}侧",
        f"{a}{b}{corner}角{shop}门口",
        f"{a}上靠近{b}的地方",
        f"{shop}门口",
    )


def _metres(a: Place, b: Place) -> float:
    kx = math.cos(math.radians((a.lat + b.lat) / 2))
    return M_PER_DEGREE * math.hypot((a.lon - b.lon) * kx, a.lat - b.lat)


def generate(seed: int, neighbourhoods: int = 80, problems: int = 5_000) -> list[SynthReport]:
    """About 2.4 reports per base problem once the negatives are added; sorted by time."""
    return _Generator(seed, neighbourhoods, problems).run()


def random_text(rng: random.Random, category_key: str | None = None) -> tuple[str, str]:
    """One report's (category key, text) at a random street corner, for load tests: of the given
    小类, else of one drawn with the set's weights."""
    kind = KINDS_BY_KEY[category_key] if category_key else rng.choices(KINDS, KIND_WEIGHTS)[0]
    a, b = rng.choice(ROADS_EW), rng.choice(ROADS_NS)
    corner, shop = rng.choice(CORNERS), rng.choice(BRANDS)
    place = Place(0.0, 0.0, "corner", _corner_names(a, b, corner, shop))
    channel = rng.choices(list(CHANNELS), CHANNEL_WEIGHTS)[0]
    return kind.key, CHANNELS[channel](rng, kind, place, rng.choice(kind.details))
