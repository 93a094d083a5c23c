from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from chengguan.errors import ContentTooLarge, Invalid
from chengguan.kit.blobstore import LocalBlobStore


def test_same_content_is_stored_once_under_its_digest(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    data = b"photo" * 300_000  # spans several chunks
    first = store.put(io.BytesIO(data), max_bytes=10 * 2**20)
    second = store.put(io.BytesIO(data), max_bytes=10 * 2**20)
    assert first == second and first.sha256 == hashlib.sha256(data).hexdigest() and first.size == len(data)
    assert store.open(first.sha256).read() == data
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [first.sha256]


def test_too_large_upload_leaves_nothing_behind(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    with pytest.raises(ContentTooLarge):
        store.put(io.BytesIO(b"x" * (3 * 2**20)), max_bytes=2 * 2**20)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_digests_are_checked_before_touching_the_disk(tmp_path: Path) -> None:
    with pytest.raises(Invalid):
        LocalBlobStore(tmp_path).path("../../etc/passwd")
