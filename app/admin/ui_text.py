"""The admin scripts' strings in the page's language.

The scripts write every user-facing string as ``T('中文')`` (``static/admin/text.js``);
the page carries their translations, taken from the same catalogue as the templates.
The strings are read from the scripts themselves, so the list cannot fall out of step.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from flask_babel import gettext

from ..i18n import is_english

SCRIPTS = Path(__file__).resolve().parent.parent / "static" / "admin"
_CALL = re.compile(r"\bT\('((?:[^'\\]|\\.)*)'")


@cache
def script_strings(name: str) -> tuple[str, ...]:
    """The ``T('…')`` literals of one admin script, unescaped."""
    source = (SCRIPTS / name).read_text(encoding="utf-8")
    return tuple(dict.fromkeys(re.sub(r"\\(.)", r"\1", m) for m in _CALL.findall(source)))


def ui_text(*names: str) -> dict[str, str]:
    """``{source: translation}`` for the scripts named, empty when the page is Chinese."""
    if not is_english():
        return {}
    return {s: gettext(s) for name in names for s in script_strings(name)}
