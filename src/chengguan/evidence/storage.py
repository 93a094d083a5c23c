"""Where evidence files live and what they may be.

Files are content-addressed (``kit.blobstore``): local disk under ``<data_dir>/evidence/files``
now; an S3-compatible store is one more entry in :data:`STORES`. The type of an upload is read
from its first bytes, never taken from the client.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from chengguan.config import Settings
from chengguan.errors import Invalid, UnsupportedMediaType
from chengguan.kit.blobstore import BlobStore, LocalBlobStore, StoredBlob

HEAD = 4096  # bytes read to sniff the type before the rest streams to disk

# (media type, offset, magic bytes): photos, video, audio and documents an officer collects.
MAGIC: tuple[tuple[str, int, bytes], ...] = (
    ("image/jpeg", 0, b"\xff\xd8\xff"),
    ("image/png", 0, b"\x89PNG\r\n\x1a\n"),
    ("image/webp", 8, b"WEBP"),
    ("image/gif", 0, b"GIF8"),
    ("image/tiff", 0, b"II*\x00"),
    ("image/tiff", 0, b"MM\x00*"),
    ("audio/wav", 8, b"WAVE"),
    ("video/x-msvideo", 8, b"AVI "),
    ("video/webm", 0, b"\x1a\x45\xdf\xa3"),
    ("audio/mpeg", 0, b"ID3"),
    ("audio/amr", 0, b"#!AMR"),
    ("application/pdf", 0, b"%PDF-"),
    ("application/zip", 0, b"PK\x03\x04"),  # OFD, DOCX, XLSX: zip containers
)
# ISO base media (MP4/MOV/HEIC/M4A) name their brand after "ftyp" at offset 4.
BRANDS: dict[bytes, str] = {
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"mif1": "image/heif",
    b"M4A ": "audio/mp4",
    b"qt  ": "video/quicktime",
}
ISO_VIDEO = "video/mp4"


def sniff(head: bytes) -> str | None:
    """The media type the leading bytes announce, or None for a type not accepted as evidence."""
    if head[4:8] == b"ftyp":
        return BRANDS.get(head[8:12], ISO_VIDEO)
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06:
        return "audio/mpeg"  # an MPEG audio frame header (MP3 without ID3)
    for media_type, offset, magic in MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return media_type
    return None


class _Rejoined:
    """The sniffed head followed by the rest of the stream, read in chunks as the store asks."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self.head, self.rest = head, rest

    def read(self, size: int = -1) -> bytes:
        if self.head:
            out, self.head = self.head, b""
            return out
        return self.rest.read(size)


def store_upload(store: BlobStore, stream: BinaryIO, max_bytes: int) -> tuple[StoredBlob, str]:
    """Stream an upload into ``store`` after checking it is not empty (422) and of an accepted
    type (415); too large is 413 from the store, which keeps nothing of it."""
    head = stream.read(HEAD)
    if not head:
        raise Invalid("the file is empty / 文件为空", field="file")
    media_type = sniff(head)
    if media_type is None:
        raise UnsupportedMediaType(
            "file type not accepted as evidence (photo, video, audio, PDF/OFD/Office documents) / 证据文件类型不支持",
            field="file",
        )
    blob = store.put(_Rejoined(head, stream), max_bytes)  # type: ignore[arg-type]
    return blob, media_type


STORES: dict[str, Callable[[Path], BlobStore]] = {"local": LocalBlobStore}


def blob_store(settings: Settings, kind: str = "local") -> BlobStore:
    return STORES[kind](settings.data_dir / "evidence" / "files")
