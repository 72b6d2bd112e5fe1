"""Cleaning the names people type: no invisible or direction-changing characters.

Names (projects, enterprises, people, materials, sub-projects, saved filters) are shown to other
people, so control and format characters (Unicode Cc and Cf: NUL, tabs, zero-width spaces, bidi
overrides such as U+202E) are stripped and runs of spaces collapsed before a name is checked
and stored.
"""

from __future__ import annotations

import unicodedata

_INVISIBLE = frozenset(("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"))


def clean_name(value):
    """``value`` without control/format characters and with single spaces; non-strings pass through."""
    if not isinstance(value, str):
        return value
    kept = "".join(" " if ch in "\t\n\r\x0b\x0c" else ch for ch in value
                   if ch in "\t\n\r\x0b\x0c" or unicodedata.category(ch) not in _INVISIBLE)
    return " ".join(kept.split())
