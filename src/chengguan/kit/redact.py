"""Personal numbers out of free text that goes public (Open311's descriptions, the citizen map):
mobile and landline phone numbers, resident ID numbers, e-mail addresses. Names cannot be found
reliably and are not attempted; what citizens write is still shown, without these."""

from __future__ import annotations

import re

MASK = "＊＊＊"
# Longest first: an 18-digit ID number contains an 11-digit run that looks like a mobile number.
_PATTERNS = (
    re.compile(r"(?<![0-9])[1-9][0-9]{5}(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])[0-3][0-9][0-9]{3}[0-9Xx](?![0-9])"),
    re.compile(r"(?<![0-9])(?:\+?86[- ]?)?1[3-9][0-9](?:[- ]?[0-9]{4}){2}(?![0-9])"),
    re.compile(r"(?<![0-9])0[1-9][0-9]{1,2}[- ]?[0-9]{7,8}(?![0-9])"),
    re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"),
)


def scrub(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(MASK, text)
    return text
