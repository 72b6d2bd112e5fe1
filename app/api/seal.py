"""The signed result documents (一枚印章出件): public verification, downloads, revocation and re-issue."""

from __future__ import annotations

from flask import Response, g, jsonify, request

from ..errors import InvalidInput, NotFound
from ..services.people import projects
from ..services.seal import documents, verify
from ..web import json_body, platform, unit_of_work
from . import PUBLIC_ENDPOINTS, bp

PUBLIC_ENDPOINTS.update({"api.public_certificate", "api.verify_certificate"})
MAX_PDF_BYTES = 20 * 1024 * 1024


def document_view(doc, settings) -> dict:
    """A document as its project's readers see it."""
    return {"id": doc.cert_id, "kind": doc.kind, "kind_name": documents.KIND_NAMES.get(doc.kind, doc.kind),
            "number": doc.number, "item_code": doc.item_code, "instance_id": doc.instance_id,
            "status": doc.status, "status_name": documents.STATUS_NAMES.get(doc.status, doc.status),
            "issued_at": doc.issued_at.isoformat() if doc.issued_at else None, "sha256": doc.sha256,
            "verify_url": verify.url_of(settings, doc),
            "replaced_by_id": doc.replaced_by_id}


@bp.get("/public/certificates/<cert_id>")
def public_certificate(cert_id: str):
    """A document's facts and status (有效 / 已撤销 / 已变更) by id and check code ``?s=``, no login."""
    with unit_of_work(write=False) as session:
        doc = verify.checked(session, platform().settings, cert_id, request.args.get("s"))
        return jsonify(verify.public_view(session, platform().settings, doc).as_json())


@bp.post("/public/certificates/verify")
def verify_certificate():
    """Check an uploaded PDF: SHA-256 against the issued file, and its signature (multipart ``file``,
    optional ``id`` and ``s`` to compare with that document)."""
    upload = request.files.get("file")
    if upload is None:
        raise InvalidInput("send the PDF as the multipart field 'file'", {"file": "required"})
    data = upload.read(MAX_PDF_BYTES + 1)
    if len(data) > MAX_PDF_BYTES:
        raise InvalidInput(f"the file is larger than {MAX_PDF_BYTES // (1024 * 1024)} MB", {"file": "too large"})
    with unit_of_work(write=False) as session:
        doc = None
        if request.form.get("id"):
            doc = verify.checked(session, platform().settings, request.form.get("id"), request.form.get("s"))
        check = verify.check_upload(session, platform().settings, data, doc)
        return jsonify(check.as_json())


@bp.get("/projects/<code>/documents")
def project_documents(code: str):
    """The project's signed documents with their status (being issued, valid, revoked, superseded)."""
    with unit_of_work(write=False) as session:
        found = projects.visible_project(session, g.user, code)
        return jsonify({"documents": [document_view(d, platform().settings)
                                      for d in documents.documents_of(session, found)]})


@bp.get("/projects/<code>/documents/<cert_id>/pdf")
def project_document_pdf(code: str, cert_id: str):
    """Download a signed document (409 while it is being issued)."""
    with unit_of_work(write=False) as session:
        found = projects.visible_project(session, g.user, code)
        doc = documents.document(session, cert_id)
        if doc.project_id != found.id:
            raise NotFound("there is no such document")  # the same answer as an unknown id
        data = documents.pdf_of(platform(), doc)
        name = f"{found.code}-{doc.kind}-{doc.cert_id}.pdf"
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.post("/certificates/<cert_id>/revoke")
def revoke_certificate(cert_id: str):
    """撤销 a document {reason} (the issuing unit's window); BLZT 15, audited."""
    body = json_body()
    with unit_of_work() as session:
        doc = documents.revoke(session, platform(), g.user, cert_id, body.get("reason"))
        return jsonify(document_view(doc, platform().settings))


@bp.post("/certificates/<cert_id>/reissue")
def reissue_certificate(cert_id: str):
    """Re-issue a document {reason}: a new one replaces it (the old shows 已变更), audited."""
    body = json_body()
    with unit_of_work() as session:
        new = documents.reissue(session, platform(), g.user, cert_id, body.get("reason"))
        session.flush()
        return jsonify(document_view(new, platform().settings)), 201
