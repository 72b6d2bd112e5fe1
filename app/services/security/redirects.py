"""Where a ``next`` parameter may send the browser: a path on this site, nothing else."""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote, urlsplit


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a same-site path (``/…``), else None.

    Refused: any scheme or host (``//host``, ``https:``), a backslash (browsers read it as a
    slash), control and format characters anywhere (``/\\t/evil`` is ``//evil`` to a browser,
    CR/LF would split the header), each of these percent-encoded too, and anything longer than
    2,000 characters.
    """
    if not isinstance(target, str) or not target.startswith("/") or len(target) > 2000:
        return None
    if target != unquote(target) and safe_next(unquote(target)) is None:  # refused once decoded, too
        return None
    if "\\" in target or any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in target):
        return None
    if target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    return target
