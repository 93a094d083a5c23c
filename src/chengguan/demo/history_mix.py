"""The numbers behind the demo city's year of reports: who reports what, where, when, how often.

Figures from the source documents (the project's seeds) where they exist:

* **Sources.** 海淀区“大城管综合业务平台” reports 2,040,552 cases: 信息采集员 1,724,904, 考评
  311,213, 卫星遥感 1,505, 视频发现 1,583, 物联网感知 1,347 — the grid channels keep exactly these
  ratios. Beyond the grid, the city's hotline took "60万余件" a year (2016) while the grid of one
  district alone collects several times that, so the hotline is set to 16 % of all reports and the
  other channels the seeds name (市民城管通, 领导交办, 部门移交, 媒体, 网络舆情) share 8 % between
  them with the Open311 clients: those shares are this module's choice, not the seeds'.
* **What.** The seeds name the frequent problems (占道经营, 出店经营, 违章停车, 噪音, 非机动车乱停放,
  违法建设, 游商小贩, 扬尘, 户外广告, 餐厨废弃物, 渣土车); they get the large weights below. The
  sensor channels report only what they can see (video AI: street order, per the seeds' list;
  remote sensing: 违建 and bare ground; IoT: noise, manholes, water, fumes, gas).
* **When and where** (hour, season, hot spots, repeats, closure) are modelled, not measured:
  plausible shapes, chosen so that the patterns a dashboard shows are there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# -- sources ---------------------------------------------------------------------------------------

_HAIDIAN_GRID = {  # 海淀区大城管综合业务平台, cases by source (seed: 北京海淀城市大脑“大城管”场景建设)
    "patrol": 1_724_904,
    "supervision": 311_213,
    "remote_sensing": 1_505,
    "video_ai": 1_583,
    "iot": 1_347,
}
GRID_SHARE = 0.76
_OTHER_SHARES = {
    "hotline": 0.16,
    "citizen": 0.035,
    "referral": 0.012,
    "online_opinion": 0.01,
    "open311": 0.01,
    "leader": 0.007,
    "media": 0.006,
}
CHANNEL_SHARES: Mapping[str, float] = {
    **{code: GRID_SHARE * n / sum(_HAIDIAN_GRID.values()) for code, n in _HAIDIAN_GRID.items()},
    **_OTHER_SHARES,
}

# Categories a machine channel can report; every other channel reports anything.
SENSOR_CATEGORIES: Mapping[str, frozenset[str]] = {
    "video_ai": frozenset({"E0501", "E0502", "E0503", "E0504", "E0505", "E0506", "E0507", "E0101", "E0106", "E0208"}),
    "iot": frozenset(
        {"E0302", "E0307", "E0601", "E0406", "E0403", "C0124"} | {f"C01{n:02d}" for n in range(1, 13)}  # 井盖
    ),
    "remote_sensing": frozenset({"E0301", "C0504", "E0303", "E0607", "E0102"}),
}
# How much more (or less) often a channel reports a category than its share says: people call
# the hotline about nuisances, inspectors find broken street furniture.
NUISANCES = frozenset({"E0209", "E0302", "E0307", "E0311", "E0510", "E0504", "E0601", "E0301", "E0505"})
CHANNEL_LEANING: Mapping[str, Mapping[str, float]] = {
    "hotline": dict.fromkeys(NUISANCES, 3.0),
    "citizen": dict.fromkeys(NUISANCES, 2.0),
    "online_opinion": dict.fromkeys(NUISANCES, 3.0),
    "referral": {"E0303": 4.0, "E0304": 4.0, "E0602": 6.0, "E0603": 6.0, "E0301": 2.0},
}
COMPONENT_LEANING = {"hotline": 0.4, "citizen": 0.6, "supervision": 1.6, "online_opinion": 0.3, "media": 0.5}

# -- categories ---------------------------------------------------------------------------------------

# Relative weight of each 小类 in a year (about per cent of reports); unlisted: the defaults.
DEFAULT_COMPONENT_WEIGHT = 0.22  # 部件
DEFAULT_EVENT_WEIGHT = 0.35  # 事件
CATEGORY_WEIGHTS: Mapping[str, float] = {
    # 街面秩序 (the seeds' first complaints)
    "E0502": 9.0,  # 占道经营
    "E0501": 5.0,  # 无照经营游商
    "E0503": 6.0,  # 店外经营
    "E0505": 6.0,  # 机动车乱停放
    "E0506": 5.5,  # 非机动车乱停放
    "E0507": 4.5,  # 乱堆物料
    "E0504": 2.2,  # 露天烧烤
    "E0510": 1.3,  # 公共场所噪声
    "E0508": 0.8,  # 擅自设置地桩地锁
    "E0514": 0.8,  # 非法营运
    "E0513": 0.3,  # 乞讨卖艺
    # 市容环境
    "E0101": 5.0,  # 暴露垃圾
    "E0102": 2.5,  # 积存垃圾渣土
    "E0103": 2.0,  # 道路不洁
    "E0106": 3.0,  # 垃圾满溢
    "E0107": 0.6,  # 焚烧垃圾树叶
    "E0105": 0.8,  # 绿地脏乱
    "E0111": 1.0,  # 垃圾分类不规范
    "E0112": 0.6,  # 餐厨垃圾违规处置
    "E0114": 1.0,  # 门前三包不落实
    # 宣传广告
    "E0201": 5.0,  # 非法小广告
    "E0202": 1.5,  # 违规户外广告
    "E0203": 1.0,  # 违规牌匾标识
    "E0208": 1.5,  # 占道广告牌
    "E0209": 1.2,  # 商业噪声
    # 施工管理
    "E0301": 2.5,  # 违法建设
    "E0302": 1.5,  # 施工扰民
    "E0303": 1.6,  # 工地扬尘
    "E0304": 1.0,  # 渣土车遗撒
    "E0307": 1.5,  # 夜间施工噪声
    "E0311": 0.8,  # 装修噪声扰民
    # 突发事件 (weather-driven ones are spread over their storms and snowfalls below)
    "E0406": 0.4,  # 道路积水
    "E0407": 0.3,  # 道路积雪结冰
    "E0405": 0.25,  # 供热管道破裂
    "E0404": 0.5,  # 下水道堵塞
    "E0409": 0.3,  # 树木倒伏
    "E0410": 1.0,  # 道路破损
    # 其他事件
    "E0601": 2.0,  # 餐饮油烟
    # 部件
    "C0116": 1.5,  # 路灯
    "C0102": 0.6,  # 污水井盖
    "C0103": 0.6,  # 雨水井盖
    "C0104": 0.5,  # 雨水箅子
    "C0304": 1.0,  # 垃圾箱
    "C0311": 0.6,  # 垃圾分类桶站
    "C0214": 0.5,  # 非机动车停放设施
    "C0211": 0.6,  # 交通护栏
    "C0216": 0.5,  # 盲道
    "C0402": 0.6,  # 行道树
    "C0405": 0.5,  # 绿地
    "C0301": 0.5,  # 公共厕所
    "C0305": 0.4,  # 广告牌匾
    "C0203": 0.4,  # 公交站亭
}

# Mean repeat reports per problem, relative: a noisy site is called in by many neighbours, a
# broken bench by one inspector. Scaled so that DUPLICATE_SHARE of all reports are repeats.
DUPLICATE_SHARE = 0.18
DEFAULT_REPEATS = 0.25
REPEAT_PROPENSITY: Mapping[str, float] = {
    **dict.fromkeys(("E0209", "E0302", "E0307", "E0311", "E0510"), 1.6),  # noise
    "E0504": 1.3,
    "E0601": 1.1,
    "E0406": 1.4,
    "E0402": 1.6,
    "E0403": 1.6,
    "E0409": 1.0,
    "E0407": 0.8,
    "E0502": 0.6,
    "E0501": 0.5,
    "E0301": 0.6,
    "E0505": 0.4,
}
COMPONENT_REPEATS = 0.12

# -- time ------------------------------------------------------------------------------------------

# Hourly shapes (00–23 local) of when a problem is noticed.
HOURS: Mapping[str, tuple[float, ...]] = {
    "day": (
        *(0.05, 0.03, 0.02, 0.02, 0.03, 0.08, 0.25, 0.6, 0.9, 1.0, 1.0, 0.95),  # 00–11
        *(0.65, 0.7, 0.9, 0.95, 0.9, 0.75, 0.5, 0.4, 0.35, 0.25, 0.15, 0.08),  # 12–23
    ),
    "evening": (
        *(0.35, 0.2, 0.08, 0.03, 0.02, 0.02, 0.03, 0.05, 0.1, 0.15, 0.2, 0.3),  # 00–11
        *(0.35, 0.25, 0.2, 0.2, 0.3, 0.45, 0.7, 0.95, 1.0, 1.0, 0.9, 0.6),  # 12–23
    ),
    "night": (1.0, 0.9, 0.6, 0.4, 0.3, 0.3, 0.2, 0.1) + (0.05,) * 10 + (0.1, 0.15, 0.25, 0.5, 0.9, 1.0),
    "dance": (0.02,) * 6
    + (0.3, 0.6, 0.4, 0.2, 0.15, 0.1, 0.1, 0.1, 0.1, 0.1, 0.15, 0.2, 0.4, 1.0, 1.0, 0.6, 0.2, 0.05),
    "market": (0.03,) * 5
    + (0.1, 0.3, 0.7, 0.8, 0.7, 0.6, 0.6, 0.5, 0.4, 0.4, 0.5, 0.6, 0.8, 0.9, 1.0, 0.9, 0.6, 0.3, 0.1),
    "traffic": (0.03,) * 6 + (0.2, 0.5, 1.0, 0.9, 0.7, 0.6, 0.5, 0.5, 0.5, 0.6, 0.7, 0.8, 1.0, 0.8, 0.6, 0.4, 0.2, 0.1),
}
HOUR_SHAPE: Mapping[str, str] = {
    **dict.fromkeys(("E0504", "E0601", "E0209", "E0503"), "evening"),
    **dict.fromkeys(("E0307",), "night"),
    **dict.fromkeys(("E0510",), "dance"),
    **dict.fromkeys(("E0502", "E0501", "E0513"), "market"),
    **dict.fromkeys(("E0505", "E0506", "E0514"), "traffic"),
}
# When each channel is at work (00–23): inspectors by day with an evening shift, offices in
# office hours, machines always; people call less at night but still call about night noise.
_OFFICE = (0.03,) * 8 + (1.0,) * 10 + (0.05,) * 6
CHANNEL_HOURS: Mapping[str, tuple[float, ...]] = {
    "patrol": (0.02,) * 7 + (1.0,) * 12 + (0.35, 0.35, 0.35, 0.08, 0.08),
    "supervision": (0.01,) * 8 + (1.0,) * 10 + (0.1,) * 6,
    "hotline": (0.35,) * 6 + (0.7,) + (1.0,) * 17,
    "citizen": (0.2,) * 6 + (0.6,) + (1.0,) * 17,
    "open311": (0.2,) * 6 + (0.6,) + (1.0,) * 17,
    "online_opinion": (0.3,) * 6 + (0.6,) + (1.0,) * 17,
    "leader": _OFFICE,
    "media": _OFFICE,
    "referral": _OFFICE,
    "remote_sensing": _OFFICE,
    "video_ai": (1.0,) * 24,
    "iot": (1.0,) * 24,
}

# Seasons: relative volume by month (Jan … Dec) of a category's reports.
SEASONS: Mapping[str, tuple[float, ...]] = {
    "flat": (1.0,) * 12,
    "barbecue": (0.12, 0.12, 0.3, 0.6, 1.2, 2.0, 2.6, 2.6, 1.6, 0.8, 0.3, 0.12),
    "summer": (0.7, 0.7, 0.85, 1.0, 1.15, 1.3, 1.35, 1.35, 1.2, 1.0, 0.8, 0.7),
    "dust": (0.5, 0.6, 1.8, 2.0, 1.6, 1.0, 0.8, 0.8, 1.0, 1.0, 0.8, 0.5),  # spring wind, building season
    "heating": (1.6, 1.5, 1.1, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 1.0, 1.6),  # 15 Nov – 15 Mar
    "leaves": (0.6, 0.5, 0.8, 0.8, 0.6, 0.6, 0.6, 0.6, 0.8, 1.8, 2.2, 1.0),
    "winter": (1.6, 1.4, 0.8, 0.5, 0.5, 0.5, 0.5, 0.5, 0.6, 0.8, 1.2, 1.6),
}
SEASON_OF: Mapping[str, str] = {
    "E0504": "barbecue",
    **dict.fromkeys(("E0510", "E0502", "E0503", "E0601", "E0209", "E0307", "E0106", "E0501"), "summer"),
    **dict.fromkeys(("E0303", "E0304", "E0102", "E0306", "E0302"), "dust"),
    **dict.fromkeys(("E0405", "C0110"), "heating"),
    **dict.fromkeys(("E0107", "E0105"), "leaves"),
    "E0114": "winter",
}
# Weather: storms (June–August) and snowfalls (December–February) on days drawn from the seed;
# a weather category reports a trickle on other days and this many times more on its days.
STORMS, STORM_MONTHS, STORM_TAIL = 8, (6, 7, 8), (1.0, 0.35)
SNOWFALLS, SNOW_MONTHS, SNOW_TAIL = 5, (12, 1, 2), (1.0, 0.8, 0.3)
WEATHER_PEAK = 40.0
WEATHER_OF: Mapping[str, str] = {
    **dict.fromkeys(("E0406", "E0404", "C0104", "E0409", "E0401", "E0408"), "storm"),
    **dict.fromkeys(("E0407", "E0114"), "snow"),
}
WEATHER_ONLY = frozenset({"E0406", "E0407"})  # next to nothing on other days

# Rest days (weekends and holidays): the grid's inspectors are fewer, residents are at home.
REST_DAY_FACTOR = 0.68
REST_DAY_FACTORS: Mapping[str, float] = {
    "E0311": 2.2,  # 装修 on a rest day is the offence itself
    **dict.fromkeys(("E0510", "E0504", "E0209", "E0513"), 1.25),
    **dict.fromkeys(("E0514", "E0501"), 1.1),
}
HOLIDAY_FACTOR = 0.8  # on top of the rest day
SPRING_FESTIVAL = "春节"
SPRING_FESTIVAL_FACTOR = 0.45  # the holiday itself: the city empties, vendors go home
SPRING_FESTIVAL_SHOULDER = (7, 0.75)  # days before and after at this factor (vendors leave early, come back late)
SPRING_FESTIVAL_FACTORS: Mapping[str, float] = {"E0103": 1.4, "E0106": 1.2}  # 鞭炮残屑, 垃圾满溢
TOURIST_HOLIDAY_FACTORS: Mapping[str, float] = dict.fromkeys(("E0514", "E0501", "E0513", "E0106", "E0505"), 1.6)

# -- places ----------------------------------------------------------------------------------------

# Reports per grid cell by area class, before each cell's own activity (lognormal, fixed by the seed).
CELL_CLASS_WEIGHT: Mapping[str, float] = {"A": 1.0, "B": 0.85, "C": 0.45}
CELL_ACTIVITY_SIGMA = 0.8
RURAL = frozenset({"E0107", "E0110", "E0113", "E0607", "C0504", "E0301"})  # more in the 乡镇
RURAL_CLASS_WEIGHT: Mapping[str, float] = {"A": 0.2, "B": 0.8, "C": 2.0}


@dataclass(frozen=True)
class SpotKind:
    """A kind of hot spot: how far its reports scatter, in metres."""

    code: str
    spread_m: float


SPOT_KINDS = {
    k.code: k
    for k in (
        SpotKind("market", 150),
        SpotKind("station", 120),
        SpotKind("school", 100),
        SpotKind("nightlife", 120),
        SpotKind("scenic", 200),
        SpotKind("residential", 250),
        SpotKind("morning_market", 60),  # synthetic: a community's 早市
        SpotKind("old_compound", 50),  # synthetic: a community's 老旧小区
    )
}
# Real places of the demo gazetteer (POIs and roads) by kind; names missing from a city are skipped.
SPOT_NAMES: Mapping[str, tuple[str, ...]] = {
    "market": ("新发地农产品批发市场", "潘家园旧货市场"),
    "station": (
        "北京站",
        "北京西站",
        "北京南站",
        "北京北站",
        "北京丰台站",
        "五道口",
        "海淀黄庄",
        "西二旗",
        "公主坟",
        "魏公村",
        "三元桥",
        "磁器口",
    ),
    "school": (
        "北京大学",
        "清华大学",
        "中国人民大学",
        "北京航空航天大学",
        "北京师范大学",
        "北京理工大学",
        "中国传媒大学",
        "中央音乐学院",
        "良乡大学城",
        "中国政法大学昌平校区",
    ),
    "nightlife": (
        "三里屯太古里",
        "工人体育场",
        "什刹海",
        "蓝色港湾",
        "世贸天阶",
        "东直门内大街",
        "南锣鼓巷",
        "烟袋斜街",
    ),
    "scenic": (
        "故宫博物院",
        "天安门广场",
        "天坛公园",
        "颐和园",
        "北海公园",
        "雍和宫",
        "前门大街",
        "八达岭长城",
        "北京环球度假区",
        "国家体育场",
    ),
    "residential": ("天通苑", "回龙观西大街"),
}
SYNTHETIC_SPOTS = {"morning_market": 60, "old_compound": 90}  # communities of class A/B drawn per seed

# Share of a category's problems at hot spots, and which kinds of spot.
SPOT_AFFINITY: Mapping[str, tuple[float, tuple[str, ...]]] = {
    "E0502": (0.45, ("market", "morning_market", "station", "school", "nightlife")),
    "E0501": (0.45, ("station", "scenic", "school", "market")),
    "E0503": (0.3, ("nightlife", "old_compound", "market")),
    "E0504": (0.55, ("nightlife", "old_compound")),
    "E0601": (0.35, ("nightlife", "old_compound")),
    "E0209": (0.4, ("nightlife", "market")),
    "E0510": (0.5, ("old_compound", "residential")),
    "E0505": (0.3, ("school", "station", "nightlife", "scenic", "market")),
    "E0506": (0.45, ("station", "school")),
    "E0514": (0.7, ("station", "scenic", "residential")),
    "E0513": (0.7, ("station", "scenic")),
    "E0101": (0.3, ("market", "morning_market", "old_compound", "scenic")),
    "E0106": (0.3, ("market", "morning_market", "old_compound", "scenic")),
    "E0103": (0.2, ("market", "morning_market")),
    "E0201": (0.3, ("station", "school", "old_compound")),
    "E0507": (0.3, ("old_compound",)),
    "E0508": (0.4, ("old_compound",)),
    "E0311": (0.3, ("old_compound", "residential")),
    "E0301": (0.2, ("old_compound", "residential")),
    "E0109": (0.4, ("old_compound",)),
    "E0111": (0.3, ("old_compound", "residential")),
}
# Chronic hot spots: one problem that comes back all year at one place (weight against an
# ordinary spot of its kind; synthetic spots by their order of drawing).
CHRONIC_WEIGHT = 25.0
CHRONIC_SPREAD_M = 40.0
CHRONIC: tuple[tuple[str, str], ...] = (
    ("新发地农产品批发市场", "E0502"),
    ("北京西站", "E0514"),
    ("天通苑", "E0514"),
    ("潘家园旧货市场", "E0501"),
    ("五道口", "E0504"),
    ("东直门内大街", "E0601"),
    ("三里屯太古里", "E0209"),
    ("西二旗", "E0506"),
    ("北京南站", "E0501"),
    ("old_compound#0", "E0510"),
    ("old_compound#1", "E0507"),
    ("old_compound#2", "E0301"),
)

# -- closure ---------------------------------------------------------------------------------------

NEVER_CLOSED = 0.02  # still open a year on (违建 and the like)
OVERDUE = 0.12  # closed after the time limit
OVERDUE_MEAN = 0.6  # how late, in time limits
RECURRENCE = 0.06  # repeats that come after the problem was closed: it came back
REPEAT_WINDOW_H = 48.0  # a repeat of an open problem comes within this many hours at most
REPEAT_SPREAD_M = 20.0  # how far a repeat's point lies from the first report's
