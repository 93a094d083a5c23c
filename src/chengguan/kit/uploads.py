"""Imported files: refused by size (413) and type (415) before they are parsed; every bad row
collected so an all-or-nothing import reports them all at once; yes/no cells."""

from __future__ import annotations

from pathlib import PurePath
from typing import BinaryIO

from pydantic import ValidationError

from chengguan.errors import ContentTooLarge, FieldError, Invalid, UnsupportedMediaType

TABLE_SUFFIXES = frozenset({".csv", ".xlsx", ".xlsm"})
YES = frozenset({"是", "启用", "1", "true", "yes", "y", ""})  # an empty cell keeps the default: active
NO = frozenset({"否", "停用", "0", "false", "no", "n"})


def require_suffix(filename: str, accepted: frozenset[str] = TABLE_SUFFIXES) -> str:
    """The file's suffix, or 415 for a type the importer does not read."""
    suffix = PurePath(filename).suffix.lower()
    if suffix not in accepted:
        expected = ", ".join(sorted(accepted))
        raise UnsupportedMediaType(
            f"unsupported file type {filename!r}; send {expected} / 文件类型不支持", field="file"
        )
    return suffix


def read_upload(stream: BinaryIO, filename: str, limit_mb: int, accepted: frozenset[str] = TABLE_SUFFIXES) -> bytes:
    """The upload's bytes after its type is checked; 413 past ``limit_mb`` without reading it all."""
    require_suffix(filename, accepted)
    limit = limit_mb * 2**20
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise ContentTooLarge(f"file larger than {limit_mb} MB / 文件过大", field="file")
    return data


def parse_flag(text: str) -> bool | None:
    """是/否 (and their English and numeric forms) as a bool; None when it is neither."""
    value = text.strip().lower()
    return True if value in YES else False if value in NO else None


def invalid(errors: list[FieldError]) -> Invalid:
    """The faults found in one input as one ``Invalid`` naming each field (at least one fault)."""
    first, *rest = errors
    return Invalid(first.message, field=first.field, errors=rest)


def refuse(errors: list[FieldError]) -> None:
    if errors:
        raise invalid(errors)


def validation_errors(exc: ValidationError) -> list[FieldError]:
    return [FieldError(".".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors()]


class RowErrors:
    """Errors of one import, each named ``line N: column``."""

    def __init__(self) -> None:
        self._found: list[tuple[int, FieldError]] = []

    def add(self, line: int, column: str, message: str) -> None:
        self._found.append((line, FieldError(f"line {line}: {column}", message)))

    def __len__(self) -> int:
        return len(self._found)

    def raise_if_any(self) -> None:
        if not self._found:
            return
        errors = [e for _line, e in sorted(self._found, key=lambda item: item[0])]
        summary = f"{errors[0].message} ({len(errors)} error(s); nothing was imported / 文件有误，未导入任何数据)"
        raise invalid([FieldError(errors[0].field, summary), *errors[1:]])
