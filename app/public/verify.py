"""The public verification page (扫码核验): /v/<certificate id>?s=<check code>, and a PDF's check."""

from __future__ import annotations

from flask import render_template, request

from ..errors import NotFound
from ..services.seal import documents, verify
from ..web import platform, unit_of_work
from . import bp

MAX_PDF_BYTES = 20 * 1024 * 1024


def _page(cert_id: str, code: str, check=None, problem: str | None = None, status: int = 200):
    with unit_of_work(write=False) as session:
        try:
            doc = verify.checked(session, platform().settings, cert_id, code)
        except NotFound:
            return render_template("public/verify.html", view=None, code=code, cert_id=cert_id,
                                   status_names=documents.STATUS_NAMES), 404
        view = verify.public_view(session, platform().settings, doc)
        if check is not None:
            check = verify.check_upload(session, platform().settings, check, doc)
        return render_template("public/verify.html", view=view, code=code, cert_id=cert_id, check=check,
                               problem=problem, status_names=documents.STATUS_NAMES,
                               outcomes=documents.render.OUTCOMES), status


@bp.get("/v/<cert_id>")
def verify_page(cert_id: str):
    """The document's facts and status as the QR code leads to them."""
    return _page(cert_id, request.args.get("s", ""))


@bp.post("/v/<cert_id>")
def verify_upload(cert_id: str):
    """Check an uploaded PDF against this document: its bytes and its signature."""
    code = request.form.get("s", "")
    upload = request.files.get("file")
    data = upload.read(MAX_PDF_BYTES + 1) if upload is not None else b""
    if not data:
        return _page(cert_id, code, problem="请选择要核验的PDF文件", status=422)
    if len(data) > MAX_PDF_BYTES:
        return _page(cert_id, code, problem="文件超过20MB", status=422)
    return _page(cert_id, code, check=data)
