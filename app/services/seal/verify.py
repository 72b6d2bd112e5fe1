"""Public verification (扫码核验): the QR's address, its MAC, the facts and status, an uploaded PDF's check.

The QR holds ``<BASE_URL>/v/<certificate id>?s=<MAC>``; the MAC is HMAC-SHA256 with the platform's
secret (``security.keys``: never a published default) over the id and the SHA-256 of the document's
facts, cut to 128 bits.  A wrong id and a wrong MAC get the same answer, so the page leaks nothing.
The QR is drawn before signing, so it cannot hold the file's hash: an uploaded PDF is compared by
SHA-256 with the stored file and its signature validated; the answer says which check passed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import NotFound
from ...models import IssuedDocument
from ..security.keys import secret_key
from . import sign

#: The statuses of an issued document as the public reads them.
STATUS_NAMES = {"pending": "正在出件", "issued": "有效", "revoked": "已撤销", "superseded": "已变更",
                "failed": "出件失败"}
NOT_FOUND = "no document matches this certificate id and check code（证照编号或核验码不正确，未找到对应证照）"


def mac(settings, cert_id: str, facts_text: str) -> str:
    """The check code of a document: HMAC over its id and its facts' hash, 22 URL-safe characters."""
    message = f"hn-seal-verify\n{cert_id}\n{hashlib.sha256(facts_text.encode('utf-8')).hexdigest()}".encode()
    digest = hmac.new(secret_key(settings).encode("utf-8"), message, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def verification_url(settings, cert_id: str, facts_text: str) -> str:
    """The address the QR code holds."""
    return f"{settings.BASE_URL.rstrip('/')}/v/{cert_id}?s={mac(settings, cert_id, facts_text)}"


def url_of(settings, doc: IssuedDocument) -> str:
    return verification_url(settings, doc.cert_id, _facts_text(doc))


def _facts_text(doc: IssuedDocument) -> str:
    # the MAC covers the facts the document was queued with, before the id was known to the QR
    return doc.facts


def checked(session: Session, settings, cert_id: Any, code: Any) -> IssuedDocument:
    """The document whose id and check code match, else 404 with one message for both."""
    cert_id, code = str(cert_id or "")[:40], str(code or "")[:64]
    doc = session.scalar(select(IssuedDocument).where(IssuedDocument.cert_id == cert_id)) if cert_id else None
    expected = mac(settings, doc.cert_id, _facts_text(doc)) if doc is not None else mac(settings, "-", "-")
    if doc is None or not hmac.compare_digest(expected, code):
        raise NotFound(NOT_FOUND)
    return doc


@dataclass
class PublicView:
    """What the public page and API show of a document."""

    cert_id: str
    status: str  # pending, issued, revoked, superseded, failed
    kind: str
    number: str
    facts: dict[str, Any]
    issued_at: Any = None
    revoked_at: Any = None
    reason: str = ""
    replaced_by: str | None = None
    replaced_by_url: str | None = None
    sha256: str | None = None

    def as_json(self) -> dict[str, Any]:
        keep = ("project_code", "project_name", "engineering_code", "applicant", "credit_code", "stage_name",
                "unit", "date", "items", "reason", "item_code")
        return {"id": self.cert_id, "status": self.status, "status_name": STATUS_NAMES.get(self.status, self.status),
                "kind": self.kind, "number": self.number,
                "facts": {k: self.facts[k] for k in keep if k in self.facts},
                "issued_at": self.issued_at.isoformat() if self.issued_at else None,
                "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
                "revocation_reason": self.reason if self.status in ("revoked", "superseded") else "",
                "replaced_by": self.replaced_by, "replaced_by_url": self.replaced_by_url, "sha256": self.sha256}


def public_view(session: Session, settings, doc: IssuedDocument) -> PublicView:
    """The facts and status of a checked document (the replacing one, if it was re-issued)."""
    import json
    replaced_by = replaced_url = None
    if doc.replaced_by_id is not None:
        new = session.get(IssuedDocument, doc.replaced_by_id)
        replaced_by, replaced_url = new.cert_id, url_of(settings, new)
    return PublicView(doc.cert_id, doc.status, doc.kind, doc.number, json.loads(doc.facts), doc.issued_at,
                      doc.revoked_at, doc.reason, replaced_by, replaced_url, doc.sha256)


@dataclass
class UploadCheck:
    """The answer to an uploaded PDF: which checks passed."""

    sha256: str
    hash_match: bool  # byte for byte the file the platform issued
    signature: sign.SignatureCheck
    document: IssuedDocument | None = None  # the issued document it is (by hash), if any
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        sig = self.signature
        return {"sha256": self.sha256, "hash_match": self.hash_match,
                "signature": {"signed": sig.signed, "valid": sig.valid, "intact": sig.intact, "trusted": sig.trusted,
                              "untouched": sig.untouched, "signer": sig.signer, "summary": sig.summary},
                "document": self.document.cert_id if self.document is not None else None,
                "status": self.document.status if self.document is not None else None,
                "answer": self.answer()}

    def answer(self) -> str:
        if self.hash_match and self.signature.valid:
            return "identical to the issued file, signature valid（与签发文件完全一致，签章有效）"
        if self.signature.valid:
            return ("signature valid, but not byte-identical to the file issued under this id"
                    "（签章有效，但与该证照的签发文件不一致）")
        if self.hash_match:
            return ("identical to the issued file, but its signature does not validate"
                    "（与签发文件一致，但签章校验未通过）")
        return "neither the issued file nor a valid signature（不是签发的文件，签章无效）"


def check_upload(session: Session, settings, data: bytes, doc: IssuedDocument | None = None) -> UploadCheck:
    """Compare an uploaded PDF with the issued file (by SHA-256) and validate its signature."""
    digest = hashlib.sha256(data).hexdigest()
    if doc is None:
        doc = session.scalar(select(IssuedDocument).where(IssuedDocument.sha256 == digest))
    match = doc is not None and doc.sha256 == digest
    return UploadCheck(digest, match, sign.validate(settings, data), doc)
