"""HTTP endpoints of the document domain (/api/documents).

Documents are evidence: reading them takes ``EVIDENCE_READ``, issuing ``EVIDENCE_WRITE``; an
agency's numbering settings are organisation data (``ORGS_WRITE``).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from chengguan.auth.deps import DbSession, get_settings, require
from chengguan.auth.principal import Principal
from chengguan.auth.roles import Permission
from chengguan.config import Settings
from chengguan.documents import numbering, service
from chengguan.documents.kinds import KINDS, get_kind
from chengguan.documents.models import DocumentAgency
from chengguan.documents.schemas import AgencyIn, AgencyOut, DocumentOut, FieldOut, IssueIn, KindOut, PreviewIn
from chengguan.errors import Invalid
from chengguan.kit.downloads import content_disposition
from chengguan.kit.paging import MAX_LIMIT, Page

router = APIRouter(prefix="/api/documents", tags=["documents"])

READ = Depends(require(Permission.EVIDENCE_READ))
WRITE = Depends(require(Permission.EVIDENCE_WRITE))
ORGS = Depends(require(Permission.ORGS_WRITE))
PDF = "application/pdf"


@router.get("/kinds", response_model=list[KindOut], summary="The document kinds and their fields")
def list_kinds(_: Principal = READ) -> list[KindOut]:
    return [
        KindOut(
            key=k.key,
            title=k.title,
            word=k.word,
            basis=k.basis,
            evidence_type=k.evidence_type,
            fields=[FieldOut(name=f.name, label=f.label, required=f.required) for f in k.fields],
        )
        for k in KINDS.values()
    ]


@router.post("/preview", summary="Render a draft (样稿) without numbering or storing it", response_class=Response)
def preview(
    body: PreviewIn, session: DbSession, settings: Settings = Depends(get_settings), principal: Principal = READ
) -> Response:
    org_id = body.agency_org_id if body.agency_org_id is not None else principal.org_id
    if org_id is None:
        raise Invalid("name the issuing agency: agency_org_id", field="agency_org_id")
    pdf = service.preview(session, settings, body.kind, org_id, body.fields)
    title = get_kind(body.kind).title
    return Response(
        pdf, media_type=PDF, headers={"Content-Disposition": content_disposition(f"{title}-样稿.pdf", "draft.pdf")}
    )


@router.post("", response_model=DocumentOut, status_code=201, summary="Issue a document: number, render, file")
def issue(
    body: IssueIn, session: DbSession, settings: Settings = Depends(get_settings), _: Principal = WRITE
) -> DocumentOut:
    case_ref = service.CaseRef(body.subject_type, body.subject_id)
    document = service.issue(session, settings, body.kind, body.agency_org_id, body.fields, case_ref=case_ref)
    return DocumentOut.model_validate(document)


@router.get("", response_model=Page[DocumentOut], summary="Issued documents, e.g. of one case")
def list_documents(
    session: DbSession,
    subject_type: str | None = Query(None, max_length=32),
    subject_id: str | None = Query(None, max_length=64),
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
    _: Principal = READ,
) -> Page[DocumentOut]:
    rows, total = service.list_documents(session, subject_type, subject_id, limit=limit, offset=offset)
    return Page(items=[DocumentOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset)


def _agency_out(agency: DocumentAgency) -> AgencyOut:
    return AgencyOut(
        org_id=agency.org_id,
        abbreviation=agency.abbreviation,
        number_format=agency.number_format,
        example=numbering.sample_number(agency.number_format or numbering.DEFAULT_FORMAT, agency.abbreviation),
    )


@router.get("/agencies/{org_id}", response_model=AgencyOut, summary="How an agency numbers its documents")
def get_agency(org_id: int, session: DbSession, _: Principal = READ) -> AgencyOut:
    return _agency_out(service.get_agency(session, org_id))


@router.put("/agencies/{org_id}", response_model=AgencyOut, summary="Set an agency's abbreviation and number format")
def set_agency(org_id: int, body: AgencyIn, session: DbSession, _: Principal = ORGS) -> AgencyOut:
    return _agency_out(service.set_agency(session, org_id, body.abbreviation, body.number_format))


@router.get("/{document_id}", response_model=DocumentOut)
def get_document(document_id: int, session: DbSession, _: Principal = READ) -> DocumentOut:
    return DocumentOut.model_validate(service.get_document(session, document_id))


@router.get("/{document_id}/pdf", summary="The issued PDF, exactly as filed as evidence")
def download(
    document_id: int, session: DbSession, settings: Settings = Depends(get_settings), _: Principal = READ
) -> StreamingResponse:
    document = service.get_document(session, document_id)
    stream = service.open_pdf(session, settings, document)
    filename = numbering.pdf_filename(document.number)
    return StreamingResponse(
        iter(lambda: stream.read(1 << 20), b""),
        media_type=PDF,
        headers={
            "Content-Disposition": content_disposition(filename, f"document-{document.id}.pdf"),
            "X-Content-SHA256": document.sha256,
        },
        background=BackgroundTask(stream.close),
    )
