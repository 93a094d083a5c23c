"""What the administration screens share: the permission check of the API, reading a form into
the domain's input model, and errors placed next to the field (or the file row) they name.

A screen's POST handler builds the service's own input (``OrgIn``, ``UserPatch`` …) with
:func:`parsed`, calls the service, and on any ``ChengguanError`` shows its page again with
:func:`errors_of` (raised as ``Rendered``, so the request's unit of work rolls back).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from chengguan.auth.deps import require
from chengguan.auth.principal import Principal
from chengguan.auth.roles import Permission
from chengguan.errors import ChengguanError, FieldError, Invalid
from chengguan.kit.uploads import read_upload
from chengguan.web.i18n import Translator, localise_error
from chengguan.web.pages import render

M = TypeVar("M", bound=BaseModel)
FORM = "form"  # the key of an error that names no field: shown above the form
# "feature 3: geometry" (grid files), "line 7: 责任单位" (tables): the row and the column at fault
ROW_FIELD = re.compile(r"^(feature|line|row) (\d+): (.+)$")
# pydantic's error types, as the catalogue says them (admin.v.*); others fall back to "填写有误"
VALIDATION_KEYS = {
    "missing": "missing",
    "string_too_short": "too_short",
    "too_short": "none_chosen",
    "string_too_long": "too_long",
    "string_pattern_mismatch": "pattern",
    "int_parsing": "integer",
    "int_type": "integer",
    "greater_than_equal": "minimum",
    "less_than_equal": "maximum",
    "enum": "choice",
    "literal_error": "choice",
    "date_from_datetime_parsing": "date",
    "date_parsing": "date",
    "date_type": "date",
}
_EN, _ZH = Translator("en"), Translator("zh")


@dataclass(frozen=True)
class Section:
    href: str
    key: str  # catalogue key of its name; "<key>_intro" says what it is for
    permission: Permission  # what opening it takes


SECTIONS = (
    Section("/admin/orgs", "admin.orgs", Permission.ORGS_WRITE),
    Section("/admin/grids", "admin.grids", Permission.GRIDS_WRITE),
    Section("/admin/taxonomy", "admin.taxonomy", Permission.TAXONOMY_WRITE),
    Section("/admin/rules", "admin.rules", Permission.RESPONSIBILITY_WRITE),
    Section("/admin/calendar", "admin.calendar", Permission.CALENDAR_WRITE),
    Section("/admin/users", "admin.users", Permission.USERS_READ),
)


def sections_of(user: Principal) -> list[Section]:
    return [s for s in SECTIONS if user.can(s.permission)]


def admin_page(request: Request, name: str, user: Principal, *, status: int = 200, **context: Any) -> Response:
    """A screen with the administration's own menu (the sections this user may open)."""
    return render(request, name, user, status=status, sections=sections_of(user), **context)


def allowed(user: Principal, *permissions: Permission, citywide: bool = False) -> Principal:
    """The API's own check (``auth.deps.require``): the same permissions and the same city-level
    rule for city-wide data, so a page never allows what the API refuses."""
    return require(*permissions, citywide=citywide)(user)


def may(user: Principal, *permissions: Permission, citywide: bool = False) -> bool:
    """Whether to offer a form at all (the POST checks again with :func:`allowed`)."""
    return all(user.can(p) for p in permissions) and (user.citywide or not citywide)


# -- reading a form ---------------------------------------------------------------------------------


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def optional(form: FormData, name: str) -> str | None:
    """An empty input is "not given" (the model's default), not an empty string."""
    return text(form, name) or None


def values_of(form: FormData) -> dict[str, str]:
    """What was typed, to fill the form in again after an error (files and repeats left out)."""
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}


def upload_of(form: FormData, name: str, limit_mb: int, suffixes: frozenset[str]) -> tuple[bytes, str]:
    """The bytes and name of an uploaded file, refused by type and size as the API refuses it."""
    upload = form.get(name)
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise Invalid("choose a file / 请选择文件", field=name)
    return read_upload(upload.file, upload.filename, limit_mb, suffixes), upload.filename


def _message(error: Mapping[str, Any]) -> str:
    """One pydantic error as "English / 中文", the form every domain message has."""
    context = {k: v for k, v in (error.get("ctx") or {}).items() if isinstance(v, (int, float, str))}
    kind = VALIDATION_KEYS.get(error["type"], "invalid")
    if kind == "too_short" and context.get("min_length", 1) != 1:
        kind = "min_length"  # "at least 3 characters"; one character short is simply empty
    key = f"admin.v.{kind}"
    return f"{_EN(key, **context)} / {_ZH(key, **context)}"


def parsed(model: type[M], data: Mapping[str, Any]) -> M:
    """``data`` as the service's input model; what does not fit raises ``Invalid`` naming each
    field, in Chinese too."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [FieldError(".".join(str(p) for p in e["loc"]) or FORM, _message(e)) for e in exc.errors()]
        raise Invalid(errors[0].message, errors=errors) from exc


# -- showing errors --------------------------------------------------------------------------------


def _form_field(name: str) -> str:
    """``time_limits.A.amount`` → ``time_limits.A``: the input a nested error belongs to."""
    return ".".join(name.split(".")[:2])


def errors_of(exc: ChengguanError, lang: str) -> dict[str, str]:
    """The first message of each field in the page's language; one naming no field under ``form``."""
    out: dict[str, str] = {}
    for error in exc.errors or [FieldError(FORM, exc.message)]:
        out.setdefault(_form_field(error.field), localise_error(error.message, lang))
    return out


@dataclass(frozen=True)
class RowError:
    where: str  # 第 3 个要素 / line 7
    column: str
    message: str


def row_errors(exc: ChengguanError, t: Translator) -> list[RowError]:
    """An import's errors, one per bad row and column, in file order as the service reports them."""
    out = []
    for error in exc.errors or [FieldError("file", exc.message)]:
        found = ROW_FIELD.match(error.field)
        where = t(f"admin.where.{found.group(1)}", n=found.group(2)) if found else t("admin.where.file")
        column = found.group(3) if found else error.field
        out.append(RowError(where, column, localise_error(error.message, t.lang)))
    return out
