"""The stored tree against the definition: roots, inclusion and consistency proofs from the
tiles equal those of RFC 9162's MTH over the leaves, across tile boundaries and partial tiles."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from chengguan.errors import Invalid
from chengguan.evidence import ledger, sth, tree, verify


def _grow(session: Session, settings, counts: list[int]) -> list[int]:
    sizes = []
    for n in counts:
        ledger.append_entries(session, [ledger.canonical({"kind": "test.tree", "n": i}) for i in range(n)])
        sizes.append(sth.issue_sth(session, settings).tree_size)
    return sizes


def test_stored_tree_matches_the_definition(platform_session: Session, settings) -> None:
    sizes = _grow(platform_session, settings, [1, 3, 250, 7, 300])
    built = sizes[-1]
    leaves = ledger.leaf_hashes(platform_session, 0, built)
    hashes = [leaves[i : i + 32] for i in range(0, len(leaves), 32)]
    for n in range(1, built + 1, 3):
        assert tree.root(platform_session, n) == verify.root_of(hashes[:n])
        for index in range(0, n, max(1, n // 7)):
            proof = tree.inclusion_proof(platform_session, index, n)
            verify.verify_inclusion(index, n, hashes[index], proof, verify.root_of(hashes[:n]))
    for first in [*sizes, 1, 2, 255, 256, 257]:
        for second in (first, built):
            proof = tree.consistency_proof(platform_session, first, second)
            verify.verify_consistency(
                first, second, proof, verify.root_of(hashes[:first]), verify.root_of(hashes[:second])
            )


def test_entries_read_back_exactly(platform_session: Session) -> None:
    entry = ledger.append(platform_session, "case.transition", {"case": "ZF-1", "to": "调查"}, subject="case:ZF-1")
    again = ledger.get(platform_session, entry.index)
    assert again == entry and again.kind == "case.transition"
    assert again.document["data"] == {"case": "ZF-1", "to": "调查"}
    assert entry.entry.startswith(b'{"at":') and b" " not in entry.entry  # RFC 8785: sorted keys, no spaces


@pytest.mark.parametrize(
    ("kind", "payload", "subject", "field"),
    [
        ("Case Transition", {}, None, "kind"),
        ("case.transition", {"x": float("nan")}, None, "payload"),
        ("case.transition", {"x": 2**60}, None, "payload"),
        ("case.transition", {}, "no colon", "subject"),
    ],
)
def test_append_refuses_what_it_cannot_log_exactly(platform_session: Session, kind, payload, subject, field) -> None:
    with pytest.raises(Invalid) as caught:
        ledger.append(platform_session, kind, payload, subject=subject)
    assert caught.value.field == field


def test_bulk_entries_must_be_one_line(platform_session: Session) -> None:
    with pytest.raises(Invalid) as caught:
        ledger.append_entries(platform_session, [b'{"a":\n1}'])
    assert caught.value.field == "entries"
