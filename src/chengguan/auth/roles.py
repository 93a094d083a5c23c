"""Roles and what each may do. A role is a bundle of permissions; endpoints ask for permissions.

Later domains add their permissions here, next to the roles that hold them, so the whole
access matrix stays on one screen (and ``tests/auth/test_access_matrix.py`` walks it).
"""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    CITIZEN = "citizen"  # 市民
    CLERK = "clerk"  # 受理员
    SHIFT_LEADER = "shift_leader"  # 值班长
    DISPATCHER = "dispatcher"  # 派遣员
    OFFICER = "officer"  # 执法队员 / 处置人员
    LEGAL_REVIEWER = "legal_reviewer"  # 法制审核
    AGENCY_HEAD = "agency_head"  # 执法机关负责人: approves 立案, decides penalties (法56-57)
    SUPERVISOR = "supervisor"  # 督察
    ANALYST = "analyst"  # 分析员
    ADMIN = "admin"  # 管理员
    SYSTEM = "system"  # device or external system (hotline, IoT, video AI, credit platform)


ROLE_LABELS: dict[Role, tuple[str, str]] = {
    Role.CITIZEN: ("市民", "Citizen"),
    Role.CLERK: ("受理员", "Hotline clerk"),
    Role.SHIFT_LEADER: ("值班长", "Shift leader"),
    Role.DISPATCHER: ("派遣员", "Dispatcher"),
    Role.OFFICER: ("执法队员/处置人员", "Field officer"),
    Role.LEGAL_REVIEWER: ("法制审核员", "Legal reviewer"),
    Role.AGENCY_HEAD: ("机关负责人", "Head of the enforcement agency"),
    Role.SUPERVISOR: ("督察员", "Supervisor"),
    Role.ANALYST: ("分析员", "Analyst"),
    Role.ADMIN: ("管理员", "Administrator"),
    Role.SYSTEM: ("系统账户", "System account"),
}


class Permission(enum.StrEnum):
    REFERENCE_READ = "reference:read"  # organisations, grids, taxonomy, calendar, responsibility list
    LEGAL_READ = "legal:read"  # laws, articles, case causes (public knowledge, 掌上查)
    LEGAL_WRITE = "legal:write"
    ORGS_WRITE = "orgs:write"
    GRIDS_WRITE = "grids:write"
    TAXONOMY_WRITE = "taxonomy:write"
    RESPONSIBILITY_WRITE = "responsibility:write"
    CALENDAR_WRITE = "calendar:write"
    USERS_READ = "users:read"
    USERS_WRITE = "users:write"
    AUDIT_READ = "audit:read"
    REPORT_CREATE = "reports:create"  # submit a report (诉求/线索) from any channel
    REPORT_REVIEW = "reports:review"  # the clerk's queue: classify, merge, accept or reject
    EVENT_READ = "events:read"
    DISPATCH = "events:dispatch"  # dispatch, override, resolve 会商
    PENALTY_READ = "penalties:read"  # enforcement cases (行政处罚): they hold the party's personal data
    PENALTY_CREATE = "penalties:create"  # open an enforcement case (线索 → 立案 is a flow action)
    FLOW_WRITE = "flows:write"  # a city's version of a workflow: switches, node limits, roles
    EVIDENCE_READ = "evidence:read"
    EVIDENCE_WRITE = "evidence:write"  # collect evidence, issue signed tree heads
    ANALYTICS_READ = "analytics:read"  # 分析研判: the lake's metrics, within the user's own area
    ANALYTICS_WRITE = "analytics:write"  # the analyses' settings as data, e.g. the three-colour warning thresholds


_STAFF_READ = frozenset(
    {Permission.REFERENCE_READ, Permission.LEGAL_READ, Permission.EVENT_READ, Permission.EVIDENCE_READ}
)
_EVIDENCE = frozenset({Permission.EVIDENCE_WRITE})
_REPORT = frozenset({Permission.REPORT_CREATE})
_DESK = _STAFF_READ | _REPORT | {Permission.REPORT_REVIEW}
_ANALYTICS = frozenset({Permission.ANALYTICS_READ})
_PENALTY = frozenset({Permission.PENALTY_READ})

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.CITIZEN: frozenset({Permission.LEGAL_READ}) | _REPORT,
    Role.CLERK: _DESK | _EVIDENCE,
    Role.SHIFT_LEADER: _DESK | _EVIDENCE | _ANALYTICS | {Permission.DISPATCH},
    Role.DISPATCHER: _STAFF_READ | {Permission.DISPATCH},
    Role.OFFICER: _STAFF_READ | _REPORT | _EVIDENCE | _PENALTY | {Permission.PENALTY_CREATE},
    Role.LEGAL_REVIEWER: _STAFF_READ | _EVIDENCE | _PENALTY,
    Role.AGENCY_HEAD: _STAFF_READ | _EVIDENCE | _PENALTY | {Permission.PENALTY_CREATE},
    Role.SUPERVISOR: _STAFF_READ | _REPORT | _PENALTY | _ANALYTICS | {Permission.AUDIT_READ, Permission.USERS_READ},
    Role.ANALYST: _STAFF_READ | _ANALYTICS,
    Role.ADMIN: frozenset(Permission),
    Role.SYSTEM: frozenset({Permission.REFERENCE_READ}) | _REPORT | _EVIDENCE,
}


def permissions_of(roles: frozenset[Role] | set[Role]) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS[role]
    return frozenset(granted)
