"""Words for the demo city's reports: how each channel writes, what people say about a problem,
and the clearly fake reporters.

The templates imitate the register of real complaints (the TipDM 2020 "智慧政务" messages in
``/work/shared/data/tipdm2020c/`` were read for style; no text of them is copied): 12345 call
takers summarise ("市民来电反映：…，希望尽快处理"), citizens write short and urgent, inspectors
use the 立案条件 wording, machines print readings. A problem's own words come from
:data:`PROBLEMS` or, for the other 小类, from its 立案条件.
"""

from __future__ import annotations

from collections.abc import Mapping

# -- reporters (synthetic: a surname and 先生/女士, phones 138xxxx0000) -----------------------------

SURNAMES = tuple("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎")
TITLES = ("先生", "女士")


def fake_phone(n: int) -> str:
    """A phone number no one has: 138, four digits, 0000."""
    return f"138{n % 10_000:04d}0000"


# -- what people say ---------------------------------------------------------------------------------

PROBLEMS: Mapping[str, tuple[str, ...]] = {
    "E0502": (
        "有人摆摊卖菜卖水果，占了半条人行道",
        "早晚都有小摊占道经营，推车三轮车一大排",
        "摊贩占道经营，地上铺满了货",
    ),
    "E0501": ("有流动商贩推车叫卖", "游商小贩聚集兜售，城管一走又回来", "无照游商沿街叫卖"),
    "E0503": ("沿街商户把货摆到店外经营", "餐馆在门外支桌子摆凳子", "店铺出店经营，占用人行道"),
    "E0504": ("有人露天烧烤，烟很大", "烧烤摊一直烤到半夜，油烟呛人", "路边露天烧烤，满街烟味"),
    "E0505": ("机动车乱停在人行道上", "车辆乱停乱放，堵住了消防通道", "机动车违停占用盲道和人行道"),
    "E0506": ("共享单车乱停乱放堆成一片", "电动车自行车停得满地都是，走不过去", "共享单车大量堆积堵住出入口"),
    "E0507": ("有人在路边乱堆杂物", "楼道口和路边堆放建材杂物", "乱堆物料很长时间没人清理"),
    "E0510": ("广场舞音响声音太大", "每天晚上有人放音响跳舞，吵得不行", "公共场所音响噪声扰民"),
    "E0101": ("有一大堆暴露垃圾没人清", "垃圾堆在路边好几天了", "成堆垃圾散落在路面"),
    "E0106": ("垃圾桶满了溢出来，垃圾散落一地", "垃圾箱满溢没人清运", "垃圾桶站周边脏乱"),
    "E0201": ("墙上电线杆上贴满了小广告", "到处是喷涂的小广告", "有人散发小广告"),
    "E0209": ("商铺用高音喇叭招揽顾客", "店门口音响放得震天响", "商家喇叭循环播放，吵得心烦"),
    "E0301": ("有人私搭乱建，盖起了房子", "楼顶加盖违章建筑", "院里新搭了违建"),
    "E0302": ("工地施工噪声很大", "施工机械轰鸣，白天也吵得受不了", "工地施工振动噪声扰民"),
    "E0303": ("工地没有苫盖，尘土飞扬", "工地扬尘严重，车一过全是土", "土方作业不洒水，扬尘很大"),
    "E0304": ("渣土车一路遗撒", "渣土车没有密闭，路上全是土", "车轮带泥上路，路面很脏"),
    "E0307": ("工地深夜还在施工", "半夜施工打桩，根本睡不着", "夜间施工噪声扰民，凌晨还在干"),
    "E0311": ("周末有人装修电钻声不断", "休息日装修噪声扰民", "节假日一大早就开始装修砸墙"),
    "E0601": ("饭馆油烟直排", "餐馆油烟熏得不敢开窗", "餐饮油烟没有净化直接排放"),
    "E0406": ("下雨后路面积水很深", "道路积水没过脚踝，车都过不去", "路口积水严重"),
    "E0407": ("路面积雪结冰很滑", "人行道上结了冰，有人摔倒", "积雪没人清扫，路面结冰"),
    "E0405": ("供热管道破了，往外冒热气", "暖气管道漏水冒汽", "热力管线破裂，地面冒白汽"),
    "E0410": ("路面坑坑洼洼，有个大坑", "人行道砖松动缺失", "道路破损，骑车很危险"),
    "E0514": ("黑车拉客", "一群黑车摩的在路边揽客", "非法营运车辆聚集"),
    "C0116": ("路灯晚上不亮", "一排路灯都坏了，晚上黑乎乎的", "路灯白天亮着晚上不亮"),
    "C0304": ("垃圾箱坏了", "果皮箱破损缺盖", "垃圾箱倒了没人扶"),
}
DEFAULT_PROBLEM = "有{name}问题"

# The harm a reporter adds, by category; the fallback says little.
IMPACTS: Mapping[str, tuple[str, ...]] = {
    "noise": ("严重影响居民休息", "老人孩子晚上睡不着觉", "吵得没法正常生活"),
    "fumes": ("气味呛人，不敢开窗", "周边居民苦不堪言"),
    "traffic": ("影响行人通行", "老人孩子只能走机动车道，很危险", "早晚高峰堵得厉害"),
    "dirt": ("气味很大，蚊蝇乱飞", "影响市容环境"),
    "danger": ("存在安全隐患", "随时可能伤到人", "已经有人差点摔倒"),
    "general": ("影响周边环境", "居民意见很大", "问题存在很久了"),
}
IMPACT_OF: Mapping[str, str] = {
    **dict.fromkeys(("E0209", "E0302", "E0307", "E0311", "E0510"), "noise"),
    **dict.fromkeys(("E0504", "E0601", "E0303", "E0107"), "fumes"),
    **dict.fromkeys(("E0502", "E0501", "E0503", "E0505", "E0506", "E0507", "E0508", "E0514"), "traffic"),
    **dict.fromkeys(("E0101", "E0102", "E0103", "E0106", "E0201", "E0304"), "dirt"),
    **dict.fromkeys(("E0401", "E0402", "E0403", "E0405", "E0406", "E0407", "E0408", "E0409", "E0410"), "danger"),
}
COMPONENT_IMPACT = "danger"
WHEN = ("今天上午", "今天下午", "每天晚上", "最近一周", "这几天", "刚才", "每天早上", "周末")
DURATIONS = ("一周多", "半个多月", "好几天", "两三天", "一个多月")
ASKS = ("尽快处理", "管一管", "尽快解决", "依法查处", "彻底整治")
# Where at a hot spot; a direction goes in brackets, as call takers write it, so that "长城北门"
# does not read as a place called 城北 to the address resolver.
SIDES = (
    "（东门）",
    "（西门）",
    "（南门）",
    "（北门）",
    "附近",
    "门口",
    "对面",
    "（东侧路边）",
    "（西侧）",
    "（南侧）",
    "（北侧路口）",
)
OUTLETS = ("本市报纸读者来信", "电视台民生栏目", "新闻客户端", "广播电台热线节目")
DEPARTMENTS = ("区生态环境局", "区住房城乡建设委", "属地派出所", "区市场监管局", "交通支队", "区水务局")

# -- how each channel writes ------------------------------------------------------------------------
# Fields: place (a landmark), addr (the full address), problem, cond (立案条件), name (小类),
# impact, ask, when, duration, dev (a device), value (a reading), outlet, dept.

TEMPLATES: Mapping[str, tuple[str, ...]] = {
    "hotline": (
        "市民来电反映：{addr}{problem}，{impact}，希望相关部门{ask}。",
        "来电人称{place}{when}{problem}，已持续{duration}，{impact}，要求{ask}。",
        "{addr}{problem}。来电人表示{impact}，多次反映未解决，请核实处理。",
    ),
    "citizen": ("{place}{problem}，{impact}", "{when}路过{place}，{problem}，请{ask}", "{problem}！地点：{place}"),
    "open311": ("{problem}（{place}）", "{place}：{problem}"),
    "patrol": (
        "巡查发现：{place}{cond}。",
        "{place}{cond}，已拍照取证，请派遣处置。",
        "信息采集员上报：{place}存在{name}问题，{cond}。",
    ),
    "supervision": (
        "考评检查发现{place}{cond}，请责任单位按时限处置。",
        "专项考评：{place}{name}问题未整改到位，{cond}。",
    ),
    "video_ai": ("视频AI识别告警：{name}。点位：{place}（摄像头{dev}），识别置信度{value}。",),
    "remote_sensing": (
        "卫星遥感图斑比对：{place}发现疑似{name}，图斑面积约{value}平方米，请核查。",
        "无人机巡查发现{place}{cond}，面积约{value}平方米。",
    ),
    "leader": ("领导交办：{place}{problem}，请于时限内核查处置并报结果。",),
    "media": ("媒体曝光：{outlet}报道{place}{problem}，{impact}，请核查处置。",),
    "referral": ("{dept}移交线索：{place}{cond}，属城市管理职责，请接收处置。",),
    "online_opinion": ("网络舆情：网民发帖称{place}{problem}，{impact}，帖文转评{value}次。",),
}
# IoT readings, by what the sensor measures.
IOT_TEMPLATES: Mapping[str, str] = {
    "noise": "噪声在线监测点{dev}报警：{place}等效声级{value}dB(A)，超过排放限值。",
    "manhole": "井盖监测终端{dev}报警：{place}{name}发生位移或异常开启。",
    "water": "积水监测点{dev}报警：{place}积水深度{value}厘米，超过预警值。",
    "fumes": "油烟在线监测{dev}报警：{place}餐饮单位油烟浓度{value}mg/m³，超标排放。",
    "gas": "燃气泄漏监测{dev}报警：{place}检测到可燃气体浓度超标。",
}
IOT_OF: Mapping[str, str] = {
    "E0302": "noise",
    "E0307": "noise",
    "E0406": "water",
    "E0601": "fumes",
    "E0403": "gas",
    "C0124": "gas",
}
IOT_DEFAULT = "manhole"  # the 井盖 of SENSOR_CATEGORIES
# Reading ranges (low, high) per IoT kind and channel, for ``value``.
READINGS: Mapping[str, tuple[float, float]] = {
    "noise": (62.0, 86.0),
    "water": (12.0, 45.0),
    "fumes": (2.1, 6.5),
    "video_ai": (0.81, 0.99),
    "remote_sensing": (40.0, 900.0),
    "online_opinion": (30.0, 4000.0),
}
