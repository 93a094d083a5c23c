"""Evidence fixtures: the blob store of the test data directory, sample files whose type is
known from their first bytes, and an uploader over the API."""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from chengguan.config import Settings
from chengguan.evidence.storage import blob_store
from chengguan.kit.blobstore import BlobStore

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


def photo() -> bytes:
    """A distinct JPEG-typed file each call (content addressing would merge equal ones)."""
    return JPEG + secrets.token_bytes(256)


def case_number() -> str:
    return f"ZF-T-{secrets.token_hex(4)}"


@pytest.fixture
def store(settings: Settings) -> BlobStore:
    return blob_store(settings)


Upload = Callable[..., dict]


@pytest.fixture
def upload(client: TestClient, as_user) -> Upload:
    """``upload(case, user=..., content=..., **form)`` → the created evidence (asserts 201)."""

    def post(case: str, user: str = "officer_a1", content: bytes | None = None, **form: str) -> dict:
        fields = {"subject_id": case, "evidence_type": "audiovisual", **form}
        files = {"file": ("现场照片.jpg", io.BytesIO(content or photo()), "image/jpeg")}
        res = client.post("/api/evidence", data=fields, files=files, headers=as_user(user))
        assert res.status_code == 201, res.text
        return res.json()

    return post
