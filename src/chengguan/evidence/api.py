"""HTTP endpoints of the evidence domain.

The tree-head history, the public keys and the proofs are public: they are what outside
witnesses (a court, the 司法局, a citizen) mirror and check, and they hold hashes only.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import ValidationError
from starlette.background import BackgroundTask

from chengguan.auth.deps import DbSession, get_settings, require
from chengguan.auth.principal import Principal
from chengguan.auth.roles import Permission
from chengguan.config import Settings
from chengguan.errors import Invalid
from chengguan.evidence import bundle, service, sth, tree
from chengguan.evidence.models import EvidenceType
from chengguan.evidence.schemas import (
    ConsistencyProofOut,
    EvidenceIn,
    EvidenceOut,
    InclusionProofOut,
    PublicKeyOut,
    TreeHeadOut,
)
from chengguan.evidence.storage import blob_store
from chengguan.evidence.verify import b64
from chengguan.kit.paging import MAX_LIMIT, Page
from chengguan.kit.uploads import invalid, validation_errors

router = APIRouter(tags=["evidence"])

# Interim permissions until auth/roles.py gains EVIDENCE_READ / EVIDENCE_WRITE.
READ = Depends(require(Permission.EVIDENCE_READ))
WRITE = Depends(require(Permission.EVIDENCE_WRITE))
SIGN = Depends(require(Permission.EVIDENCE_WRITE))


def _parse(meta: dict[str, Any]) -> EvidenceIn:
    try:
        return EvidenceIn.model_validate({k: v for k, v in meta.items() if v is not None})
    except ValidationError as exc:
        raise invalid(validation_errors(exc)) from None


@router.post("/api/evidence", response_model=EvidenceOut, status_code=201, summary="Upload one evidence file")
def upload(
    session: DbSession,
    file: UploadFile = File(description="photo, video, audio or document; its type is read from its bytes"),
    subject_type: str = Form("case"),
    subject_id: str = Form(),
    evidence_type: EvidenceType = Form(),
    org_id: int | None = Form(None),
    collected_at: str | None = Form(None, description="ISO 8601 with a time zone"),
    lon: float | None = Form(None),
    lat: float | None = Form(None),
    device: str | None = Form(None),
    description: str | None = Form(None),
    settings: Settings = Depends(get_settings),
    _: Principal = WRITE,
) -> EvidenceOut:
    meta = _parse(
        {
            "subject_type": subject_type,
            "subject_id": subject_id,
            "evidence_type": evidence_type,
            "org_id": org_id,
            "collected_at": collected_at,
            "lon": lon,
            "lat": lat,
            "device": device,
            "description": description,
        }
    )
    item = service.add_evidence(
        session, blob_store(settings), file.file, file.filename or "", meta, max_bytes=settings.evidence_max_mb * 2**20
    )
    return EvidenceOut.model_validate(item)


@router.get("/api/evidence", response_model=Page[EvidenceOut])
def list_evidence(
    session: DbSession,
    subject_type: str | None = Query(None, max_length=32),
    subject_id: str | None = Query(None, max_length=64),
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
    _: Principal = READ,
) -> Page[EvidenceOut]:
    rows, total = service.list_evidence(session, subject_type, subject_id, limit=limit, offset=offset)
    return Page(items=[EvidenceOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset)


@router.post("/api/evidence/bundle", summary="Export the offline-verifiable bundle of one subject (a case)")
def export_bundle(
    session: DbSession,
    subject_id: str = Query(max_length=64),
    subject_type: str = Query("case", max_length=32),
    settings: Settings = Depends(get_settings),
    _: Principal = READ,
) -> FileResponse:
    with tempfile.NamedTemporaryFile(suffix=".zip", delete=False) as out:  # removed once sent
        try:
            bundle.export_bundle(session, settings, blob_store(settings), subject_type, subject_id, out.file)
        except BaseException:
            _remove(out.name)
            raise
    return FileResponse(
        out.name,
        media_type="application/zip",
        filename=f"evidence-{subject_type}-{subject_id}.zip",
        background=BackgroundTask(_remove, out.name),
    )


def _remove(path: str) -> None:
    os.unlink(path)


@router.get("/api/evidence/sth", response_model=Page[TreeHeadOut], summary="Signed tree head history (public)")
def tree_heads(
    session: DbSession,
    since_size: int = Query(0, ge=0, description="only heads of at least this tree size"),
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
) -> Page[TreeHeadOut]:
    rows, total = sth.list_sths(session, since_size=since_size, limit=limit, offset=offset)
    return Page(items=[TreeHeadOut(**sth.sth_json(r)) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/api/evidence/sth/latest", response_model=TreeHeadOut, summary="The newest signed tree head (public)")
def latest_tree_head(session: DbSession) -> TreeHeadOut:
    return TreeHeadOut(**sth.sth_json(sth.latest_sth(session)))


@router.post("/api/evidence/sth", response_model=TreeHeadOut, status_code=201, summary="Sign a tree head now")
def issue_tree_head(session: DbSession, settings: Settings = Depends(get_settings), _: Principal = SIGN) -> TreeHeadOut:
    return TreeHeadOut(**sth.sth_json(sth.issue_sth(session, settings)))


@router.get("/api/evidence/keys", response_model=list[PublicKeyOut], summary="Tree-head signing keys (public)")
def public_keys(session: DbSession) -> list[PublicKeyOut]:
    return [
        PublicKeyOut(key_id=k.key_id, public_key=b64(k.public_key), created_at=k.created_at)
        for k in sth.public_keys(session)
    ]


@router.get("/api/evidence/proof/inclusion", response_model=InclusionProofOut, summary="Inclusion proof (public)")
def inclusion_proof(
    session: DbSession, index: int = Query(ge=0), tree_size: int | None = Query(None, ge=1)
) -> InclusionProofOut:
    size = tree_size if tree_size is not None else tree.built_size(session)
    proof = tree.inclusion_proof(session, index, size)
    leaf = tree.Nodes(session).node(0, index)
    return InclusionProofOut(
        index=index,
        tree_size=size,
        leaf_hash=b64(leaf),
        root_hash=b64(tree.root(session, size)),
        proof=[b64(h) for h in proof],
    )


@router.get("/api/evidence/proof/consistency", response_model=ConsistencyProofOut, summary="Consistency proof (public)")
def consistency_proof(
    session: DbSession, first: int = Query(ge=1), second: int | None = Query(None, ge=1)
) -> ConsistencyProofOut:
    size = second if second is not None else tree.built_size(session)
    if first > size:
        raise Invalid(f"first size {first} exceeds second size {size}", field="first")
    proof = tree.consistency_proof(session, first, size)
    return ConsistencyProofOut(
        first=first,
        second=size,
        first_root=b64(tree.root(session, first)),
        second_root=b64(tree.root(session, size)),
        proof=[b64(h) for h in proof],
    )


@router.get("/api/evidence/{evidence_id}", response_model=EvidenceOut)
def get_evidence(evidence_id: int, session: DbSession, _: Principal = READ) -> EvidenceOut:
    return EvidenceOut.model_validate(service.get_evidence(session, evidence_id))


@router.get("/api/evidence/{evidence_id}/file", summary="The evidence file as stored")
def get_file(
    evidence_id: int, session: DbSession, settings: Settings = Depends(get_settings), _: Principal = READ
) -> StreamingResponse:
    item = service.get_evidence(session, evidence_id)
    stream = service.open_file(blob_store(settings), item)
    return StreamingResponse(
        iter(lambda: stream.read(1 << 20), b""),
        media_type=item.media_type,
        headers={"X-Content-SHA256": item.sha256},
        background=BackgroundTask(stream.close),
    )
