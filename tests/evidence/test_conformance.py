"""The standalone verifier against every case in ../shared/data/merkle/: the transparency-dev
inclusion, consistency, subtree-inclusion and subtree-consistency probes (valid accepted,
invalid rejected) and the RFC 6962 reference leaf, node and root hashes."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from chengguan.evidence import verify
from chengguan.evidence.verify import VerificationError

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "merkle"
PROBES = DATA / "transparency-dev-testdata"


def _cases(kind: str) -> list[Path]:
    found = sorted((PROBES / kind).rglob("*.json"))
    assert found, f"no {kind} probes under {PROBES}"
    return found


def _raw(text: str | None) -> bytes:
    return base64.b64decode(text or "")


def _proof(case: dict[str, Any]) -> list[bytes]:
    return [_raw(h) for h in case["proof"] or []]


def _outcome(check, case: dict[str, Any]) -> None:
    if case["wantErr"]:
        with pytest.raises(VerificationError):
            check()
    else:
        check()


@pytest.mark.parametrize("path", _cases("inclusion"), ids=lambda p: str(p.relative_to(PROBES)))
def test_inclusion_probe(path: Path) -> None:
    c = json.loads(path.read_text())
    _outcome(
        lambda: verify.verify_inclusion(c["leafIdx"], c["treeSize"], _raw(c["leafHash"]), _proof(c), _raw(c["root"])),
        c,
    )


@pytest.mark.parametrize("path", _cases("consistency"), ids=lambda p: str(p.relative_to(PROBES)))
def test_consistency_probe(path: Path) -> None:
    c = json.loads(path.read_text())
    _outcome(
        lambda: verify.verify_consistency(c["size1"], c["size2"], _proof(c), _raw(c["root1"]), _raw(c["root2"])), c
    )


@pytest.mark.parametrize("path", _cases("subtreeinclusion"), ids=lambda p: str(p.relative_to(PROBES)))
def test_subtree_inclusion_probe(path: Path) -> None:
    c = json.loads(path.read_text())
    _outcome(
        lambda: verify.verify_subtree_inclusion(
            c["leafIdx"], c["start"], c["end"], _raw(c["leafHash"]), _proof(c), _raw(c["root"])
        ),
        c,
    )


@pytest.mark.parametrize("path", _cases("subtreeconsistency"), ids=lambda p: str(p.relative_to(PROBES)))
def test_subtree_consistency_probe(path: Path) -> None:
    c = json.loads(path.read_text())
    _outcome(
        lambda: verify.verify_subtree_consistency(
            c["start"], c["end"], c["size"], _proof(c), _raw(c["root1"]), _raw(c["root2"])
        ),
        c,
    )


def test_every_probe_file_is_exercised() -> None:
    kinds = ("inclusion", "consistency", "subtreeinclusion", "subtreeconsistency")
    assert sum(len(_cases(k)) for k in kinds) == len(list(PROBES.rglob("*.json"))) == 518


def test_rfc6962_reference_vectors() -> None:
    ref = json.loads((DATA / "rfc6962_reference_vectors.json").read_text())
    leaves = [verify.leaf_hash(bytes.fromhex(x)) for x in ref["leaf_inputs_hex"]]
    assert [h.hex() for h in leaves] == ref["leaf_hashes_hex"]
    level = leaves
    for expected in ref["node_hashes_by_level_hex"][1:]:
        level = [verify.node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        assert [h.hex() for h in level] == expected
    roots = [verify.root_of(leaves[:n]).hex() for n in range(len(leaves) + 1)]
    assert roots == ref["root_hashes_by_tree_size_hex"]
    assert roots[0] == verify.EMPTY_ROOT.hex()  # the empty tree: SHA-256 of nothing


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not base64!", "not base64"),
        (base64.b64encode(b"x" * 31).decode(), "31 bytes"),
        ("", "0 bytes"),
        ("zz" * 32, "not hex"),
    ],
)
def test_hashes_as_text_are_refused_unless_32_bytes(text: str, message: str) -> None:
    with pytest.raises(VerificationError, match=message):
        verify.decode_hash(text)
