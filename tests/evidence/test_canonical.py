"""The fast canonical JSON of the common entry shape is RFC 8785 exactly: checked against the
general encoder (the rfc8785 package) on random documents built to hit every edge where the json
module and RFC 8785 could differ (escapes, key order beyond the BMP, number ranges)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
import rfc8785

from chengguan.errors import Invalid
from chengguan.evidence import ledger

# characters where escaping or ordering could differ: controls, quote, backslash, DEL, U+2028,
# CJK, the private-use area (sorts after U+10000+ by code point, before it by UTF-16 unit), emoji
CHARS = ["\x00", "\x08", "\t", "\n", "\x0c", "\r", "\x1f", '"', "\\", "/", "\x7f", "\u2028", "a", "Z", "é", "调",
         "\ue000", "\uffff", "\U0001f600", "\U00010000"]  # fmt: skip
NUMBERS = [0, -1, 7, 2**53 - 1, -(2**53 - 1), 2**53, 0.5, -0.25, 116.397128, 39.916527, 1e-4, 9.999e-5, 0.1 + 0.2,
           1e15 + 0.5, 1e16, 1.0, -0.0, 0.0, 3.0e-7, 1e21, 123456789.123, float("5e-324")]  # fmt: skip


def _text(rng: random.Random) -> str:
    return "".join(rng.choice(CHARS) for _ in range(rng.randrange(0, 6)))


def _value(rng: random.Random, depth: int) -> Any:
    pick = rng.randrange(8 if depth < 3 else 5)
    if pick == 0:
        return _text(rng)
    if pick == 1:
        return rng.choice(NUMBERS)
    if pick == 2:
        return rng.uniform(-1e6, 1e6) * 10 ** rng.randrange(-8, 12)
    if pick == 3:
        return rng.choice([True, False, None, rng.randrange(-(2**60), 2**60)])
    if pick == 4:
        return rng.randrange(-1000, 1000)
    if pick == 5:
        return [_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {_text(rng): _value(rng, depth + 1) for _ in range(rng.randrange(5))}


def _general(document: Any) -> bytes | None:
    try:
        return rfc8785.dumps(document)
    except (rfc8785.CanonicalizationError, ValueError):
        return None


def test_fast_path_equals_the_general_encoder_on_random_documents() -> None:
    rng = random.Random(8785)
    fast = 0
    for _ in range(5000):
        document = {"kind": "test.canonical", "data": _value(rng, 0)}
        plain = ledger.plain_canonical(document)
        if plain is not None:
            fast += 1
            assert plain == _general(document), document
        expected = _general(document)
        if expected is None:
            with pytest.raises(Invalid):
                ledger.canonical(document)
        else:
            assert ledger.canonical(document) == expected, document
    assert fast > 1500  # the fast path was exercised, not only the fallback


def test_common_entry_shapes_take_the_fast_path() -> None:
    transition = ledger.envelope(
        "case.transition",
        {"case": "ZF-2026-0001", "from": "立案", "to": "调查"},
        dt.datetime(2026, 11, 22, 3, 43, tzinfo=dt.UTC),
    )
    record = {"kind": "evidence.record", "data": {"sha256": "ab" * 32, "size": 1024, "lon": 116.39, "lat": 39.9}}
    for document in (transition, record):
        assert ledger.plain_canonical(document) == rfc8785.dumps(document)


@pytest.mark.parametrize(
    "document",
    [{"x": 1.0}, {"x": 1e16 + 2}, {"x": 5e-5}, {"\U0001f600": 1, "\ue000": 2}, {"x": (1, 2)}, {"x": "\ud800"}, {1: 2}],
)
def test_other_shapes_go_to_the_general_encoder(document: Any) -> None:
    assert ledger.plain_canonical(document) is None
