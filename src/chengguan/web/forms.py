"""The forms of workflow actions, generated from the flow's field specs, and the engine's errors
placed next to the field they name.

A form posts its fields by name, the evidence items it attaches as ``evidence_ids`` and the CSRF
token; the engine (``cases.workflow``) checks them and raises errors with ``field="fields.<name>"``
or ``field="evidence_ids"``; anything else (a guard, the state) is shown above the form. Forms
carry ``novalidate``: the server's messages are the only ones, in the page's language.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData

from chengguan.cases.flow import Action, FieldSpec
from chengguan.errors import ChengguanError
from chengguan.evidence.models import EvidenceItem
from chengguan.kit.workcal import Unit
from chengguan.orgs.models import Organisation
from chengguan.web.i18n import Translator, catalogue, localise_error

FIELD_PREFIX = "fields."
EVIDENCE_FIELD = "evidence_ids"
LONG_TEXT = 200  # text fields allowed more characters than this get a textarea
LOCAL_INPUT = "%Y-%m-%dT%H:%M"  # what <input type=datetime-local> sends


@dataclass(frozen=True)
class FieldView:
    name: str
    label: str
    widget: str  # input | textarea | select
    input_type: str  # for widget=input: text | number | datetime-local
    required: bool
    value: str
    options: Sequence[tuple[str, str]] = ()  # (value, label)
    minimum: float | None = None
    maximum: float | None = None
    step: str = "any"
    error: str | None = None


@dataclass(frozen=True)
class PhotoChoice:
    id: int
    label: str
    checked: bool


@dataclass(frozen=True)
class ActionForm:
    key: str
    label: str
    url: str
    fields: Sequence[FieldView]
    attachments: int
    photos: Sequence[PhotoChoice]
    needs_approval: bool
    evidence_error: str | None = None
    form_error: str | None = None
    target: str = ""  # the DOM id the form replaces itself in

    @property
    def dom_id(self) -> str:
        return f"action-{self.key}"


@dataclass
class FormErrors:
    fields: dict[str, str] = field(default_factory=dict)
    evidence: str | None = None
    form: str | None = None


def errors_of(exc: ChengguanError, lang: str) -> FormErrors:
    out = FormErrors()
    for error in exc.errors or []:
        text = localise_error(error.message, lang)
        if error.field.startswith(FIELD_PREFIX):
            out.fields.setdefault(error.field.removeprefix(FIELD_PREFIX), text)
        elif error.field == EVIDENCE_FIELD and out.evidence is None:
            out.evidence = text
    if not out.fields and out.evidence is None:
        out.form = localise_error(exc.message, lang)  # a guard, the state, the role: the whole form
    return out


def _label(t: Translator, spec: FieldSpec) -> str:
    return spec.zh if t.lang == "zh" and spec.zh else t(f"field.{spec.name}")


def _options(t: Translator, spec: FieldSpec, units: Iterable[Organisation]) -> list[tuple[str, str]]:
    if spec.type == "org":
        return [(str(o.id), o.name) for o in units]
    if spec.type == "unit":
        return [(u.value, t(f"unit.{u.value}")) for u in Unit]
    return [(c, t(f"choice.{c}") if f"choice.{c}" in catalogue() else c) for c in spec.choices]


def field_view(
    t: Translator, spec: FieldSpec, units: Iterable[Organisation], value: str = "", error: str | None = None
) -> FieldView:
    label = _label(t, spec)
    if spec.type in ("org", "unit", "choice"):
        options = [("", t("form.choose")), *_options(t, spec, units)]
        return FieldView(spec.name, label, "select", "", spec.required, value, options, error=error)
    if spec.type in ("int", "number"):
        step = "1" if spec.type == "int" else "any"
        return FieldView(
            spec.name, label, "input", "number", spec.required, value, (), spec.minimum, spec.maximum, step, error
        )
    if spec.type == "datetime":
        return FieldView(spec.name, label, "input", "datetime-local", spec.required, value, error=error)
    widget = "textarea" if spec.max_length > LONG_TEXT else "input"
    return FieldView(spec.name, label, widget, "text", spec.required, value, error=error)


def action_form(
    t: Translator,
    action: Action,
    url: str,
    photos: Sequence[EvidenceItem],
    units: Iterable[Organisation],
    *,
    values: Mapping[str, str] | None = None,
    chosen: Iterable[int] | None = None,
    errors: FormErrors | None = None,
) -> ActionForm:
    """The form of ``action``; ``values``/``chosen``/``errors`` when it is shown again. An action
    needing attachments offers the case's photos, the newest ticked."""
    values, errors = values or {}, errors or FormErrors()
    units = list(units)
    ticked = set(chosen) if chosen is not None else ({photos[-1].id} if photos and action.attachments else set())
    return ActionForm(
        key=action.key,
        label=t.pick(action.zh, action.en),
        url=url,
        fields=[
            field_view(t, spec, units, values.get(spec.name, ""), errors.fields.get(spec.name))
            for spec in action.fields
        ],
        attachments=action.attachments,
        photos=[PhotoChoice(p.id, p.filename, p.id in ticked) for p in photos] if action.attachments else [],
        needs_approval=action.needs_approval,
        evidence_error=errors.evidence,
        form_error=errors.form,
    )


# -- what a form sends ------------------------------------------------------------------------------


def submitted(action: Action, form: FormData) -> dict[str, str]:
    """The action's fields as typed (strings), to show again on an error."""
    return {spec.name: str(form.get(spec.name, "")) for spec in action.fields}


def evidence_ids(form: FormData) -> list[int]:
    return [int(v) for v in form.getlist(EVIDENCE_FIELD) if isinstance(v, str) and v.isdigit()]


def field_values(action: Action, typed: Mapping[str, str], tz: dt.tzinfo) -> dict[str, Any]:
    """Form strings as the engine takes them: numbers as numbers, a local time with the city's
    zone. What does not convert is passed on as typed, for the engine to refuse with the field."""
    return {spec.name: _convert(spec, typed[spec.name].strip(), tz) for spec in action.fields}


def _convert(spec: FieldSpec, text: str, tz: dt.tzinfo) -> Any:
    if not text:
        return None
    try:
        if spec.type in ("int", "org"):
            return int(text)
        if spec.type == "number":
            return float(text)
        if spec.type == "datetime":
            return dt.datetime.strptime(text, LOCAL_INPUT).replace(tzinfo=tz).isoformat()
    except ValueError:
        return text
    return text
