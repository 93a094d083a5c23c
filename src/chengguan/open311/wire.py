"""The two wire formats of GeoReport v2, chosen by the URL's suffix: JSON, and XML shaped as the
spec's examples (a list is an element holding one child per item, named by the list)."""

from __future__ import annotations

import enum
import json
import re
from typing import Any
from xml.sax.saxutils import escape

from fastapi import Response

from chengguan.open311.schemas import ErrorOut

XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
# What each list's items are called in XML.
LIST_ITEMS = {
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "service_requests": "request",
    "errors": "error",
}
# Characters XML 1.0 cannot carry at all, even escaped (free text may hold them).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class Format(enum.StrEnum):
    JSON = "json"
    XML = "xml"

    @property
    def media_type(self) -> str:
        return "application/json; charset=utf-8" if self is Format.JSON else "text/xml; charset=utf-8"

    @classmethod
    def of_path(cls, path: str) -> Format:
        """The format a URL asks for; XML (the one every server must speak) when it names none."""
        return cls.JSON if path.endswith(".json") else cls.XML


def render(fmt: Format, root: str, data: Any, status: int = 200) -> Response:
    """``data`` (JSON-ready: dicts, lists, scalars) as ``fmt``; ``root`` names the XML root."""
    if fmt is Format.JSON:
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    else:
        parts = [XML_DECLARATION]
        _xml(root, data, parts)
        body = "".join(parts)
    return Response(body.encode("utf-8"), status_code=status, media_type=fmt.media_type)


def _xml(tag: str, value: Any, out: list[str]) -> None:
    """Appends ``value`` as the element ``tag``. Written as text, not through ElementTree: the
    tags are our own field names, and a 1,000-request list serialises twice as fast."""
    if isinstance(value, dict | list):
        out.append(f"<{tag}>")
        for key, item in value.items() if isinstance(value, dict) else ((LIST_ITEMS[tag], v) for v in value):
            _xml(key, item, out)
        out.append(f"</{tag}>")
    elif value is None:  # an empty element, as in the spec's examples
        out.append(f"<{tag} />")
    else:
        text = ("true" if value else "false") if isinstance(value, bool) else escape(_NOT_XML.sub("", str(value)))
        out.append(f"<{tag}>{text}</{tag}>")


def errors(fmt: Format, status: int, items: list[ErrorOut]) -> Response:
    return render(fmt, "errors", [e.model_dump() for e in items], status)
