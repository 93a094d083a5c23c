from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from chengguan.evidence.models import EvidenceType

SUBJECT_TYPE = r"^[a-z][a-z0-9_]{0,31}$"


class EvidenceIn(BaseModel):
    """Metadata of an upload; the file itself, its hash, size and type come from the bytes."""

    subject_type: str = Field("case", pattern=SUBJECT_TYPE, description="case, event, inspection …")
    subject_id: str = Field(min_length=1, max_length=64, pattern=r"^\S+$", description="e.g. the case number")
    evidence_type: EvidenceType = Field(description="行政处罚法 第46条: 书证 物证 视听资料 电子数据 …")
    org_id: int | None = Field(None, description="collecting unit; default: the uploader's organisation")
    collected_at: dt.datetime | None = Field(None, description="when collected; default: now. Needs a time zone")
    lon: float | None = Field(None, ge=-180, le=180, description="WGS-84")
    lat: float | None = Field(None, ge=-90, le=90, description="WGS-84")
    device: str | None = Field(None, max_length=120)
    description: str | None = Field(None, max_length=2000)


class EvidenceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    org_id: int
    subject_type: str
    subject_id: str
    evidence_type: EvidenceType
    sha256: str
    size: int
    media_type: str
    filename: str
    collector_id: int | None
    collector_name: str
    collected_at: dt.datetime
    lon: float | None
    lat: float | None
    device: str | None
    description: str | None
    log_index: int
    created_at: dt.datetime


class TreeHeadOut(BaseModel):
    tree_size: int
    root_hash: str = Field(description="base64")
    timestamp: int = Field(description="milliseconds since the epoch (UTC)")
    key_id: str = Field(description="hex SHA-256 of the raw Ed25519 public key")
    signature: str = Field(description="base64 Ed25519 signature of the four-line body (see verify.sth_body)")


class PublicKeyOut(BaseModel):
    key_id: str
    public_key: str = Field(description="base64 of the raw 32-byte Ed25519 public key")
    algorithm: str = "Ed25519"
    created_at: dt.datetime


class InclusionProofOut(BaseModel):
    index: int
    tree_size: int
    leaf_hash: str = Field(description="base64")
    root_hash: str = Field(description="base64")
    proof: list[str] = Field(description="base64 hashes, lowest level first (RFC 9162 §2.1.3)")


class ConsistencyProofOut(BaseModel):
    first: int
    second: int
    first_root: str
    second_root: str
    proof: list[str] = Field(description="base64 hashes (RFC 9162 §2.1.4)")
