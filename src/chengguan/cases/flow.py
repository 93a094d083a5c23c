"""Flows as data: the states of a case, the actions between them, who may take each, what each
needs, and each node's time limit. ``flows/*.json`` ship the defaults; a city replaces a flow
with its own version (``FlowDefinition``), checked by :func:`parse` before it is stored.

A flow reads on one screen::

    states   key → name, holder (centre | unit | none), limit (amount + unit, or "category":
             the 小类's 处置时限 for the area class), clock (false: time stops), final
    actions  key → name, from (states), to (a state; a list when the effect decides; absent:
             the state stays), roles, guards (names in ``cases.guards``), fields, attachments
             (evidence items the case must hold), approval (roles that approve a request),
             effect (a function the caller supplies), auto (a switch: taken by the platform as
             soon as its guards pass), no_auto (no automatic step follows it)
    switches key → on/off (auto-立案, auto-派遣, auto-结案 …)
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chengguan.auth.roles import Role
from chengguan.errors import Invalid
from chengguan.kit.workcal import Unit

SHIPPED = Path(__file__).parent / "flows"
HOLDERS = frozenset({"centre", "unit", "none"})
FIELD_TYPES = frozenset({"text", "int", "number", "datetime", "choice", "org", "unit"})
CATEGORY_LIMIT = "category"


@dataclass(frozen=True)
class Limit:
    amount: float
    unit: Unit

    def __str__(self) -> str:
        return f"{self.amount:g} {self.unit}"


@dataclass(frozen=True)
class State:
    key: str
    zh: str
    en: str
    holder: str = "none"
    limit: Limit | str | None = None  # a Limit, CATEGORY_LIMIT, or no limit
    clock: bool = True
    final: bool = False


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str
    required: bool = True
    max_length: int = 2000
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    zh: str = ""


@dataclass(frozen=True)
class Action:
    key: str
    zh: str
    en: str
    sources: frozenset[str]
    targets: tuple[str, ...]  # empty: the state stays; several: the effect picks one
    roles: frozenset[Role]
    guards: tuple[str, ...] = ()
    fields: tuple[FieldSpec, ...] = ()
    attachments: int = 0
    approval: frozenset[Role] = frozenset()
    effect: str | None = None
    auto: str | None = None
    no_auto: bool = False

    @property
    def needs_approval(self) -> bool:
        return bool(self.approval)


@dataclass(frozen=True)
class Flow:
    key: str
    zh: str
    en: str
    initial: str
    states: Mapping[str, State]
    actions: Mapping[str, Action]
    switches: Mapping[str, bool] = field(default_factory=dict)
    document: Mapping[str, Any] = field(default_factory=dict)  # the definition it was parsed from

    def state(self, key: str) -> State:
        found = self.states.get(key)
        if found is None:
            raise Invalid(f"flow {self.key} has no state {key!r}", field="status")
        return found

    def action(self, key: str) -> Action:
        found = self.actions.get(key)
        if found is None:
            raise Invalid(f"flow {self.key} has no action {key!r}; actions: {', '.join(self.actions)}", field="action")
        return found

    def from_state(self, state: str) -> list[Action]:
        return [a for a in self.actions.values() if state in a.sources]

    def automatic(self, state: str) -> list[Action]:
        """The switched-on automatic actions out of ``state``, in definition order."""
        return [a for a in self.from_state(state) if a.auto is not None and self.switches.get(a.auto, False)]


# -- parsing -------------------------------------------------------------------------------------


def load_shipped(key: str) -> dict[str, Any]:
    path = SHIPPED / f"{key}.json"
    if not path.is_file():
        raise Invalid(f"no shipped flow {key!r}", field="key")
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def shipped_keys() -> list[str]:
    return sorted(p.stem for p in SHIPPED.glob("*.json"))


def parse(document: Mapping[str, Any], effects: Sequence[str] = (), guards: Sequence[str] = ()) -> Flow:
    """A flow from its JSON form, every reference checked: states, roles, guards and effects
    named must exist (``effects``/``guards``: the names the runtime knows; empty = unchecked)."""
    doc = _mapping(document, "flow")
    states = {
        key: _state(key, _mapping(v, f"states.{key}")) for key, v in _mapping(doc.get("states"), "states").items()
    }
    switches = {k: _bool(v, f"switches.{k}") for k, v in _mapping(doc.get("switches", {}), "switches").items()}
    actions = {
        key: _action(key, _mapping(v, f"actions.{key}"), states, switches)
        for key, v in _mapping(doc.get("actions"), "actions").items()
    }
    initial = _text(doc.get("initial"), "initial")
    if initial not in states:
        raise Invalid(f"initial state {initial!r} is not a state", field="initial")
    for action in actions.values():
        _check_names(action, effects, guards)
    return Flow(
        key=_text(doc.get("key"), "key"),
        zh=_text(doc.get("zh"), "zh"),
        en=_text(doc.get("en"), "en"),
        initial=initial,
        states=states,
        actions=actions,
        switches=switches,
        document=dict(doc),
    )


def _check_names(action: Action, effects: Sequence[str], guards: Sequence[str]) -> None:
    if effects and action.effect is not None and action.effect not in effects:
        raise Invalid(f"unknown effect {action.effect!r}", field=f"actions.{action.key}.effect")
    for guard in action.guards:
        if guards and guard not in guards:
            raise Invalid(f"unknown guard {guard!r}; known: {', '.join(guards)}", field=f"actions.{action.key}.guards")


def _state(key: str, doc: Mapping[str, Any]) -> State:
    where = f"states.{key}"
    holder = doc.get("holder", "none")
    if holder not in HOLDERS:
        raise Invalid(f"holder must be one of {', '.join(sorted(HOLDERS))}", field=f"{where}.holder")
    return State(
        key=key,
        zh=_text(doc.get("zh"), f"{where}.zh"),
        en=_text(doc.get("en"), f"{where}.en"),
        holder=holder,
        limit=_limit(doc.get("limit"), f"{where}.limit"),
        clock=_bool(doc.get("clock", True), f"{where}.clock"),
        final=_bool(doc.get("final", False), f"{where}.final"),
    )


def _limit(value: Any, where: str) -> Limit | str | None:
    if value is None or value == CATEGORY_LIMIT:
        return value
    doc = _mapping(value, where)
    amount = doc.get("amount")
    if not isinstance(amount, int | float) or isinstance(amount, bool) or amount <= 0:
        raise Invalid("amount must be a positive number", field=f"{where}.amount")
    try:
        unit = Unit(str(doc.get("unit")))
    except ValueError:
        raise Invalid(f"unit must be one of {', '.join(Unit)}", field=f"{where}.unit") from None
    if unit is not Unit.WORKING_HOURS and int(amount) != amount:
        raise Invalid("a day count must be whole", field=f"{where}.amount")
    return Limit(float(amount), unit)


def _action(key: str, doc: Mapping[str, Any], states: Mapping[str, State], switches: Mapping[str, bool]) -> Action:
    where = f"actions.{key}"
    sources = frozenset(_texts(doc.get("from"), f"{where}.from"))
    raw_to = doc.get("to")
    targets = tuple(_texts(raw_to, f"{where}.to")) if isinstance(raw_to, list) else ((raw_to,) if raw_to else ())
    for state in (*sources, *targets):
        if state not in states:
            raise Invalid(f"{state!r} is not a state of this flow", field=where)
    for state in sources:
        if states[state].final:
            raise Invalid(f"no action may leave the final state {state!r}", field=f"{where}.from")
    auto = doc.get("auto")
    if auto is not None and auto not in switches:
        raise Invalid(f"switch {auto!r} is not declared under switches", field=f"{where}.auto")
    return Action(
        key=key,
        zh=_text(doc.get("zh"), f"{where}.zh"),
        en=_text(doc.get("en"), f"{where}.en"),
        sources=sources,
        targets=targets,
        roles=_roles(doc.get("roles", []), f"{where}.roles"),
        guards=tuple(_texts(doc.get("guards", []), f"{where}.guards")),
        fields=tuple(
            _field(n, _mapping(v, f"{where}.fields.{n}")) for n, v in _mapping(doc.get("fields", {}), where).items()
        ),
        attachments=_count(doc.get("attachments", 0), f"{where}.attachments"),
        approval=_roles(doc.get("approval", []), f"{where}.approval"),
        effect=doc.get("effect"),
        auto=auto,
        no_auto=_bool(doc.get("no_auto", False), f"{where}.no_auto"),
    )


def _field(name: str, doc: Mapping[str, Any]) -> FieldSpec:
    kind = doc.get("type", "text")
    if kind not in FIELD_TYPES:
        raise Invalid(f"field type must be one of {', '.join(sorted(FIELD_TYPES))}", field=f"fields.{name}.type")
    return FieldSpec(
        name=name,
        type=kind,
        required=_bool(doc.get("required", True), f"fields.{name}.required"),
        max_length=_count(doc.get("max_length", 2000), f"fields.{name}.max_length"),
        choices=tuple(_texts(doc.get("choices", []), f"fields.{name}.choices")),
        minimum=doc.get("min"),
        maximum=doc.get("max"),
        zh=str(doc.get("zh", "")),
    )


def _roles(value: Any, where: str) -> frozenset[Role]:
    try:
        return frozenset(Role(r) for r in _texts(value, where))
    except ValueError as exc:
        raise Invalid(f"{exc}; roles: {', '.join(Role)}", field=where) from None


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise Invalid("must be an object", field=where)
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise Invalid("must be a non-empty string", field=where)
    return value


def _texts(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise Invalid("must be a list of strings", field=where)
    return value


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise Invalid("must be true or false", field=where)
    return value


def _count(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise Invalid("must be a whole number ≥ 0", field=where)
    return value


# -- field values ----------------------------------------------------------------------------------


def check_fields(action: Action, values: Mapping[str, Any]) -> dict[str, Any]:
    """The action's fields from ``values``, converted and checked; unknown names refused."""
    known = {f.name for f in action.fields}
    for name in values:
        if name not in known:
            raise Invalid(
                f"{action.key} takes no field {name!r}; it takes {', '.join(known) or 'none'}", field=f"fields.{name}"
            )
    out: dict[str, Any] = {}
    for spec in action.fields:
        value = values.get(spec.name)
        if value is None or value == "":
            if spec.required:
                raise Invalid(f"{spec.zh or spec.name} is required / 必填", field=f"fields.{spec.name}")
            continue
        out[spec.name] = _value(spec, value)
    return out


def _value(spec: FieldSpec, value: Any) -> Any:
    where = f"fields.{spec.name}"
    if spec.type in ("text", "choice", "unit"):
        if not isinstance(value, str):
            raise Invalid("must be text", field=where)
        value = value.strip()
        if len(value) > spec.max_length:
            raise Invalid(f"at most {spec.max_length} characters", field=where)
        if spec.type == "choice" and value not in spec.choices:
            raise Invalid(f"must be one of {', '.join(spec.choices)}", field=where)
        if spec.type == "unit" and value not in set(Unit):
            raise Invalid(f"must be one of {', '.join(Unit)}", field=where)
        return value
    if spec.type == "datetime":
        return _datetime(value, where)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid("must be a number", field=where)
    if spec.type in ("int", "org") and int(value) != value:
        raise Invalid("must be a whole number", field=where)
    if (spec.minimum is not None and value < spec.minimum) or (spec.maximum is not None and value > spec.maximum):
        raise Invalid(f"must be between {spec.minimum} and {spec.maximum}", field=where)
    return int(value) if spec.type in ("int", "org") else float(value)


def _datetime(value: Any, where: str) -> str:
    try:
        parsed = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise Invalid("must be an ISO 8601 time with a zone, e.g. 2026-05-01T09:30:00+08:00", field=where)
    return parsed.isoformat()


# -- description ---------------------------------------------------------------------------------


DOC_HEAD = """# Workflows / 案件流程

The flows the platform ships, as `src/chengguan/cases/flows/*.json` define them (a city replaces
one with `PUT /api/flows/{key}`; states cannot be removed). Printed by `chengguan case flows`
and checked against this file by `tests/cases/test_docs.py`. Roles: `src/chengguan/auth/roles.py`.
Time limits run on the working calendar; a node's light is green below 80 % of its limit, yellow
to 100 %, red past it. Guards are named functions (`dispatch/flow.py` for events,
`cases/penalty.py` for enforcement cases); a field marked `?` is optional.

"""


def document() -> str:
    """``docs/WORKFLOWS.md``: every shipped flow described."""
    return DOC_HEAD + "\n".join(describe(parse(load_shipped(key))) for key in shipped_keys())


def describe(flow: Flow) -> str:
    """The flow as Markdown tables (``docs/WORKFLOWS.md`` holds the shipped ones, checked by a test)."""
    lines = [f"## {flow.zh} / {flow.en} (`{flow.key}`)", ""]
    if flow.switches:
        lines += ["Switches: " + ", ".join(f"`{k}` {'on' if v else 'off'}" for k, v in flow.switches.items()), ""]
    lines += ["| state | 中文 | holder | time limit |", "| --- | --- | --- | --- |"]
    for state in flow.states.values():
        limit = "final" if state.final else ("clock stopped" if not state.clock else _limit_text(state.limit))
        lines.append(f"| `{state.key}` | {state.zh} | {state.holder} | {limit} |")
    lines += [
        "",
        "| action | 中文 | from → to | roles | approval | guards | fields | auto |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for a in flow.actions.values():
        to = " / ".join(a.targets) if a.targets else "(stays)"
        fields = ", ".join(f.name + ("" if f.required else "?") for f in a.fields)
        if a.attachments:
            fields = f"{fields}{', ' if fields else ''}{a.attachments} attachment(s)"
        cells = [f"`{a.key}`", a.zh, f"{', '.join(sorted(a.sources))} → {to}", ", ".join(sorted(a.roles))]
        cells += [", ".join(sorted(a.approval)) or "—", ", ".join(a.guards) or "—", fields or "—", a.auto or "—"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _limit_text(limit: Limit | str | None) -> str:
    if limit == CATEGORY_LIMIT:
        return "the 小类's 处置时限 for the area class"
    return "—" if limit is None else str(limit)
