"""One seal, one result (一枚印章出件): the signed PDF of a stage's result and its public check.

``certs``: the demo provincial root CA and one seal certificate per issuing unit (or the
production files the settings name); ``render``: the PDF (fpdf2 with Noto CJK, PDF/A-2b markers
by pikepdf, a QR code, the seal image); ``documents``: the result built from the departments'
decisions, queued by the window's completion and signed (PAdES, pyHanko) by the scheduler,
revoked and re-issued; ``verify``: the public page's facts and status, and the check of an
uploaded PDF.  It sits above ``people`` (projects, enterprises) and ``security`` (the platform key
of the verification MAC).
"""
