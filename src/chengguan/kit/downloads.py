"""The ``Content-Disposition`` of a file a page or the API hands out (RFC 6266): an ASCII name for
old clients, the real (Chinese) name as UTF-8 for the rest."""

from __future__ import annotations

from urllib.parse import quote


def content_disposition(filename: str, fallback: str, *, inline: bool = False) -> str:
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
