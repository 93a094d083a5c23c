"""Chinese first, English on request: the message catalogue (``messages.json``) and the
language of a request (the ``cg_lang`` cookie; Chinese when unset or unknown).

The catalogue is data: one key per visible string, each with its ``zh`` and ``en`` text, which
may hold ``{name}`` placeholders. A key missing from the catalogue is a bug and raises, so the
template tests find it. Each area of the interface may keep its strings in its own file under
``messages/``; a key defined twice is a bug too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fastapi import Request

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
LANG_COOKIE = "cg_lang"
CATALOGUE = Path(__file__).parent / "messages.json"
AREA_CATALOGUES = Path(__file__).parent / "messages"


@cache
def catalogue() -> Mapping[str, Mapping[str, str]]:
    messages: dict[str, dict[str, str]] = {}
    for path in [CATALOGUE, *sorted(AREA_CATALOGUES.glob("*.json"))]:
        part: dict[str, dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))
        twice = messages.keys() & part.keys()
        if twice:
            raise ValueError(f"{path.name} defines keys already defined: {sorted(twice)}")
        messages.update(part)
    return messages


def language_of(request: Request) -> str:
    lang = request.cookies.get(LANG_COOKIE, DEFAULT_LANGUAGE)
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Translator:
    lang: str

    def __call__(self, key: str, **values: object) -> str:
        text = catalogue()[key][self.lang]
        return text.format(**values) if values else text

    def pick(self, zh: str, en: str) -> str:
        """Of a pair named in data (flow states, roles), the one in this language."""
        return zh if self.lang == "zh" or not en else en


def localise_error(message: str, lang: str) -> str:
    """The domain's messages read "English / 中文" where a user will read them: the part in
    ``lang``. A message with no Chinese part is shown as it is (in English) after a Chinese lead."""
    english, sep, chinese = message.partition(" / ")
    if lang == "en":
        return english
    return chinese if sep else f"{catalogue()['error.invalid'][lang]}（{english}）"
