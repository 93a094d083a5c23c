"""The registry of intake channels: every source a report can come from, and how it behaves.

A channel says which coordinate system its devices speak when a report does not say, and
whether the source must send its own ids (machines retry; their retries must not open a second
event). Cities add channels here; nothing else in the pipeline names a channel.
"""

from __future__ import annotations

from dataclasses import dataclass

from chengguan.errors import Invalid
from chengguan.kit.coords import CRS


@dataclass(frozen=True)
class Channel:
    code: str
    name_zh: str
    name_en: str
    crs: CRS  # default for coordinates sent without one
    needs_external_id: bool  # systems must send their own ids (idempotency across retries)


CHANNELS: dict[str, Channel] = {
    c.code: c
    for c in (
        Channel("hotline", "12345热线", "12345 hotline", CRS.WGS84, True),
        Channel("citizen", "市民上报", "Citizen web/app", CRS.GCJ02, False),
        Channel("patrol", "巡查上报(信息采集员/执法队员)", "Patrol officer", CRS.GCJ02, False),
        Channel("supervision", "考评监督", "Supervision check", CRS.GCJ02, False),
        Channel("video_ai", "视频AI识别", "Video AI alarm", CRS.WGS84, True),
        Channel("iot", "物联网感知", "IoT sensor alarm", CRS.WGS84, True),
        Channel("remote_sensing", "卫星遥感/无人机", "Satellite or drone change detection", CRS.WGS84, True),
        Channel("leader", "领导交办", "Leader assignment", CRS.GCJ02, False),
        Channel("media", "媒体曝光", "Media", CRS.GCJ02, False),
        Channel("referral", "部门移交", "Department referral", CRS.GCJ02, True),
        Channel("online_opinion", "网络舆情", "Online opinion", CRS.GCJ02, True),
        Channel("open311", "Open311 接口", "Open311 client", CRS.WGS84, False),
    )
}


def channel(code: str) -> Channel:
    found = CHANNELS.get(code)
    if found is None:
        raise Invalid(f"unknown channel {code!r}; one of {', '.join(CHANNELS)}", field="channel")
    return found
