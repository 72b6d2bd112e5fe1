"""PAdES signatures with a unit's seal certificate (pyHanko), and their validation.

Signing is PAdES B-B (B-T when ``SEAL_TSA_URL`` names an RFC 3161 timestamp authority).  The
signer of each unit is loaded once per process.  ``validate`` answers what pyHanko's validation
says about every signature of a PDF against the seal trust root: intact, trusted, and whether
anything was changed after signing.
"""

from __future__ import annotations

import asyncio
import io
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from . import certs

_signers: dict[tuple[str, str], signers.SimpleSigner] = {}
_lock = threading.Lock()


def _run(make_coroutine):
    """Run one of pyHanko's coroutines to its end, also from a thread whose event loop is running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make_coroutine())
    with ThreadPoolExecutor(max_workers=1) as pool:  # asyncio.run refuses to nest: a thread of its own
        return pool.submit(lambda: asyncio.run(make_coroutine())).result()


def signer_for(settings, unit_code: str) -> signers.SimpleSigner:
    """The unit's seal signer (its key, its certificate and the root), loaded once."""
    key_file, cert_file = certs.seal_files(settings, unit_code)
    cache_key = (str(key_file), str(cert_file))
    with _lock:
        if cache_key not in _signers:
            root = certs.Paths.of(settings).root_cert
            _signers[cache_key] = signers.SimpleSigner.load(str(key_file), str(cert_file),
                                                            ca_chain_files=(str(root),) if root.exists() else None)
        return _signers[cache_key]


def sign(settings, unit_code: str, pdf: bytes, reason: str, location: str = "海南省") -> bytes:
    """The PDF signed (PAdES) by the unit's seal, as one incremental update."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    meta = signers.PdfSignatureMetadata(field_name="Seal", md_algorithm="sha256", reason=reason, location=location,
                                        subfilter=fields.SigSeedSubFilter.PADES)
    stamper = timestamps.HTTPTimeStamper(settings.SEAL_TSA_URL) if settings.SEAL_TSA_URL else None
    signer = signers.PdfSigner(meta, signer=signer_for(settings, unit_code), timestamper=stamper)
    return _run(lambda: signer.async_sign_pdf(writer)).getvalue()


@dataclass
class SignatureCheck:
    """What validation said about a PDF's signatures."""

    signed: bool
    intact: bool = False
    trusted: bool = False
    untouched: bool = False  # nothing but the signature was added after signing
    signer: str = ""
    summary: str = ""

    @property
    def valid(self) -> bool:
        return self.signed and self.intact and self.trusted and self.untouched


def validate(settings, pdf: bytes) -> SignatureCheck:
    """Validate every signature of ``pdf`` against the seal root; never raises for a bad file."""
    try:
        root = certs.root_certificate(settings)
        trust = load_cert_from_pemder(certs.Paths.of(settings).root_cert)
    except certs.SealMissing as exc:
        return SignatureCheck(False, summary=str(exc))
    del root
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        embedded = reader.embedded_signatures
    except (PdfReadError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        return SignatureCheck(False, summary=f"not a readable PDF ({exc.__class__.__name__})")
    if not embedded:
        return SignatureCheck(False, summary="the PDF carries no signature")
    context = ValidationContext(trust_roots=[trust])
    result = SignatureCheck(True, intact=True, trusted=True, untouched=True)
    for sig in embedded:
        try:
            status = _run(lambda sig=sig: async_validate_pdf_signature(sig, context))
        except Exception as exc:  # noqa: BLE001 - any failure of validation means "not valid"
            return SignatureCheck(True, summary=f"validation failed ({exc.__class__.__name__}: {exc})")
        result.intact &= bool(status.intact and status.valid)
        result.trusted &= bool(status.trusted)
        result.untouched &= status.coverage is not None and status.coverage.name == "ENTIRE_FILE"
        result.signer = status.signing_cert.subject.human_friendly if status.signing_cert else ""
        result.summary = status.summary()
    return result
