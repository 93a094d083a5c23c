"""案由 as data: reading the shipped table (``data/causes.csv``), checking it row by row, linking
each cited provision to the loaded texts, and writing it in bulk."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from chengguan.errors import FieldError, Invalid
from chengguan.kit.tabular import Row, read_table
from chengguan.legal.models import CaseCause, CauseProvision, ProvisionRole
from chengguan.legal.resolve import ResolvedRef, Resolver
from chengguan.legal.schemas import CauseIn

CAUSES_FILE = Path(__file__).parent / "data" / "causes.csv"
TEXT_COLUMNS = (
    "code",
    "name",
    "description",
    "breached_text",
    "penalty_text",
    "fine_text",
    "measures",
    "authority",
    "notes",
)
OPTIONAL_COLUMNS = ("name_en", "fine_min", "fine_max", "fine_basis", "verification")
LIST_COLUMNS = ("breached_refs", "penalty_refs", "tiers")
COLUMNS = TEXT_COLUMNS + OPTIONAL_COLUMNS + LIST_COLUMNS
TIER_RE = re.compile(r"^(?P<when>[^:：]+)[:：]\s*(?P<min>\d*)\s*-\s*(?P<max>\d*)$")
REF_ROLES = (("breached_refs", ProvisionRole.BREACHED), ("penalty_refs", ProvisionRole.PENALTY))


@dataclass(frozen=True)
class CauseRow:
    line: int
    cause: CauseIn
    digest: str  # of the validated row: an unchanged row is not written again


@dataclass(frozen=True)
class Link:
    """Where a provision points in the loaded texts; all None when its citation does not resolve."""

    document_id: int | None = None
    article_id: int | None = None
    paragraph_no: int | None = None
    item_no: int | None = None


# -- validation -------------------------------------------------------------------------------------


def validated(data: dict[str, Any], prefix: str = "") -> CauseIn:
    """``data`` as a checked cause; ``Invalid`` naming every bad field (``prefix`` + field)."""
    try:
        return CauseIn.model_validate(data)
    except ValidationError as exc:
        errors = [FieldError(prefix + (".".join(str(p) for p in e["loc"]) or "cause"), e["msg"]) for e in exc.errors()]
        raise Invalid("; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors) from exc


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(";") if part.strip()]


def _tiers(cell: str, line: int) -> list[dict[str, Any]]:
    """``情节严重:1000-10000; 再次:-200`` → [{"when": "情节严重", "min": 1000, "max": 10000}, …]."""
    tiers = []
    for part in _split(cell):
        match = TIER_RE.match(part)
        if match is None:
            raise Invalid(f"line {line}: tier {part!r} is not 'condition:min-max'", field=f"line {line}: tiers")
        tiers.append({"when": match["when"].strip(), "min": match["min"] or None, "max": match["max"] or None})
    return tiers


def _row_data(row: Row) -> dict[str, Any]:
    data: dict[str, Any] = {column: row.get(column) for column in TEXT_COLUMNS}
    data.update({column: row.get(column) or None for column in OPTIONAL_COLUMNS if row.get(column)})
    data.update({column: _split(row.get(column)) for column, _role in REF_ROLES})
    data["tiers"] = _tiers(row.get("tiers"), row.line)
    return data


def _digest(cause: CauseIn) -> str:
    return hashlib.sha256(json.dumps(cause.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()


def read_causes(data: bytes, filename: str) -> list[CauseRow]:
    """Every row checked before any is used; ``Invalid`` lists each bad row by line and field."""
    rows: list[CauseRow] = []
    errors: list[FieldError] = []
    seen: dict[str, int] = {}
    for row in read_table(data, filename, required=COLUMNS):
        try:
            cause = validated(_row_data(row), prefix=f"line {row.line}: ")
        except Invalid as exc:
            errors.extend(exc.errors)
            continue
        if cause.code in seen:
            errors.append(FieldError(f"line {row.line}: code", f"code {cause.code} repeats line {seen[cause.code]}"))
        seen[cause.code] = row.line
        rows.append(CauseRow(row.line, cause, _digest(cause)))
    if errors:
        raise Invalid(f"{filename}: {len(errors)} bad value(s); nothing was loaded", errors=errors)
    return rows


def read_shipped() -> list[CauseRow]:
    return read_causes(CAUSES_FILE.read_bytes(), CAUSES_FILE.name)


# -- provisions -------------------------------------------------------------------------------------


def link_of(resolved: ResolvedRef) -> Link:
    return Link(
        resolved.document.id,
        resolved.article.id,
        resolved.paragraph.number if resolved.paragraph is not None else None,
        resolved.item.number if resolved.item is not None else None,
    )


def _link(resolver: Resolver, ref: str, field: str | None) -> Link:
    """Where ``ref`` points. With ``field`` (a person typed it) a ref that does not resolve is
    refused, naming that field; without, it is kept unlinked."""
    try:
        return link_of(resolver.resolve(ref))
    except Invalid as exc:
        if field is None:
            return Link()
        raise Invalid(f"{field}: {exc.message}", field=f"{field}.{exc.field}", **exc.extra) from exc


def provision_rows(resolver: Resolver, refs: dict[str, list[str]], strict: bool) -> list[dict[str, Any]]:
    """Provision rows for ``{"breached_refs": [...], "penalty_refs": [...]}``; ``strict``: see ``_link``."""
    rows = []
    for column, role in REF_ROLES:
        for position, ref in enumerate(refs.get(column, [])):
            link = _link(resolver, ref, f"{column}.{position}" if strict else None)
            rows.append({"role": role.value, "position": position, "ref": ref, **asdict(link)})
    return rows


def cause_values(cause: CauseIn) -> dict[str, Any]:
    return cause.model_dump(mode="json", exclude={column for column, _role in REF_ROLES})


def refs_of(cause: CauseIn) -> dict[str, list[str]]:
    return {column: getattr(cause, column) for column, _role in REF_ROLES}


def relink(session: Session) -> int:
    """Point every provision at the texts as they are now; the number of provisions changed."""
    resolver = Resolver(session)
    rows = session.execute(
        select(
            CauseProvision.id,
            CauseProvision.ref,
            CauseProvision.document_id,
            CauseProvision.article_id,
            CauseProvision.paragraph_no,
            CauseProvision.item_no,
        )
    ).all()
    changes = [
        {"id": row.id, **asdict(link)} for row in rows if (link := _link(resolver, row.ref, None)) != Link(*row[2:])
    ]
    if changes:
        session.execute(update(CauseProvision), changes)
    return len(changes)


# -- bulk write ---------------------------------------------------------------------------------------


def write(session: Session, rows: list[CauseRow]) -> int:
    """Insert new codes, rewrite codes whose shipped row changed; the number of causes written.

    A cause edited through the API keeps its edits until the shipped row itself changes."""
    existing = {r.code: r for r in session.execute(select(CaseCause.id, CaseCause.code, CaseCause.source_digest))}
    resolver = Resolver(session)
    new = [row for row in rows if row.cause.code not in existing]
    changed = [row for row in rows if (c := existing.get(row.cause.code)) is not None and c.source_digest != row.digest]
    ids: list[int] = []
    if new:
        ids += session.scalars(
            insert(CaseCause).returning(CaseCause.id, sort_by_parameter_order=True),
            [{**cause_values(row.cause), "source_digest": row.digest} for row in new],
        )
    for row in changed:
        cause_id = existing[row.cause.code].id
        values = {**cause_values(row.cause), "source_digest": row.digest}
        session.execute(update(CaseCause).where(CaseCause.id == cause_id).values(**values))
        session.execute(delete(CauseProvision).where(CauseProvision.cause_id == cause_id))
        ids.append(cause_id)
    provisions = [
        {"cause_id": cause_id, **p}
        for cause_id, row in zip(ids, new + changed, strict=True)
        for p in provision_rows(resolver, refs_of(row.cause), strict=False)
    ]
    if provisions:
        session.execute(insert(CauseProvision), provisions)
    return len(ids)
