"""Content-addressed file storage: a file is stored once under its SHA-256 and found by it.

Uploads stream through in chunks (never a whole file in memory), are hashed on the way, and are
moved into place atomically, so a crash leaves no half-written blob under a real name. The
``BlobStore`` protocol is the extension point: local disk now, S3-compatible storage later.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from chengguan.errors import ContentTooLarge, Invalid

CHUNK = 1 << 20


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int


class BlobStore(Protocol):
    def put(self, stream: BinaryIO, max_bytes: int) -> StoredBlob: ...

    def open(self, sha256: str) -> BinaryIO: ...

    def exists(self, sha256: str) -> bool: ...

    def path(self, sha256: str) -> Path: ...


def _check_digest(sha256: str) -> str:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise Invalid("not a lowercase hex SHA-256 digest", field="sha256")
    return sha256


class LocalBlobStore:
    """Blobs under ``root/ab/cd/<sha256>``; a file already present is not written again."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        digest = _check_digest(sha256)
        return self.root / digest[:2] / digest[2:4] / digest

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def open(self, sha256: str) -> BinaryIO:
        return self.path(sha256).open("rb")

    def put(self, stream: BinaryIO, max_bytes: int) -> StoredBlob:
        self.root.mkdir(parents=True, exist_ok=True)
        hasher = hashlib.sha256()
        size = 0
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in _chunks(stream):
                    size += len(chunk)
                    if size > max_bytes:
                        raise ContentTooLarge(f"file larger than {max_bytes // 2**20} MB / 文件过大", field="file")
                    hasher.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            digest = hasher.hexdigest()
            final = self.path(digest)
            if final.exists():
                os.unlink(tmp)
            else:
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, final)
            return StoredBlob(digest, size)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK):
        yield chunk
