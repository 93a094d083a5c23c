"""Small labelled report texts for the classifier tests, made from phrases per 小类 with
varying places and wording, so that a model must generalise from characters, not memorise."""

from __future__ import annotations

import random

PHRASES: dict[str, tuple[str, ...]] = {
    "C0101": ("上水井盖丢失", "自来水井盖破损松动", "上水井盖缺失有安全隐患", "井盖不见了，自来水井口敞开"),
    "C0116": ("路灯夜间不亮", "路灯白天亮灯", "灯杆倾斜灯具破损", "晚上路灯全黑了"),
    "E0101": ("路边有暴露垃圾", "垃圾堆在路边没人清运", "绿化带里垃圾成堆", "生活垃圾随意倾倒"),
    "E0502": ("有人占道经营卖水果", "流动摊贩占道摆卖", "商户店外经营占用人行道", "早点摊占道经营"),
}
PLACES = ("东四十条路口", "朝阳门外大街", "学院路小区门口", "地铁站B口", "菜市场南侧", "人民公园东门", "中关村大街")
TAILS = ("，请尽快处理", "，已经好几天了", "，影响通行", "", "，市民反映强烈", "。")


def labelled(per_class: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """``per_class`` texts for each key of PHRASES, shuffled."""
    rng = random.Random(seed)
    rows = [
        (f"{rng.choice(PLACES)}{rng.choice(phrases)}{rng.choice(TAILS)}", key)
        for key, phrases in PHRASES.items()
        for _ in range(per_class)
    ]
    rng.shuffle(rows)
    return [t for t, _ in rows], [y for _, y in rows]


# Held out: wordings the training texts never contain whole, with their key.
UNSEEN = (
    ("王府井大街上水井盖被偷了", "C0101"),
    ("小区北门路灯坏了一直不亮", "C0116"),
    ("河边堆了很多垃圾", "E0101"),
    ("有流动摊贩在桥下卖水果", "E0502"),
)
