"""The key that signs cookies and CSRF tokens: from the environment, or made once and kept on disk.

No well-known key ever signs a cookie.  ``HN_SECRET_KEY`` wins when set (and is refused if it is a
published default or too short); otherwise a random key is generated on first start and kept in
``HN_SECRET_KEY_FILE`` (``var/secret_key``, mode 0600), shared by every worker of the machine.
Tests pass their own key with ``TESTING``.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from ...keyfiles import owner_only, write_private

#: Keys that were ever published as defaults or examples: never accepted outside tests.
KNOWN_DEFAULTS = frozenset({"change-me-in-production", "changeme", "change-me", "secret", "dev", "development",
                            "test", "testing", "default"})
MIN_LENGTH = 16


class InsecureSecretKey(RuntimeError):
    """The configured signing key is a known default or too short: the platform refuses to start."""


def secret_key(settings) -> str:
    """The signing key for this process (see the module's docstring)."""
    key = settings.SECRET_KEY or ""
    if settings.TESTING and key:
        return key
    if key:
        if key.strip().lower() in KNOWN_DEFAULTS or len(key) < MIN_LENGTH:
            raise InsecureSecretKey(
                "HN_SECRET_KEY is a published default or shorter than 16 characters; set a long random "
                "value (python3 -c 'import secrets; print(secrets.token_urlsafe(48))') or unset it to "
                "have one generated in var/secret_key")
        return key
    return key_from_file(Path(settings.SECRET_KEY_FILE))


def key_from_file(path: Path) -> str:
    """Read the key kept at ``path``, creating it (0600, atomically) on first use."""
    if not path.exists():
        write_private(path, secrets.token_urlsafe(48).encode(), keep_existing=True)  # another worker's stays
    owner_only(path)  # nobody but the platform's own user reads the key
    key = path.read_text(encoding="utf-8").strip()
    if len(key) < MIN_LENGTH:
        raise InsecureSecretKey(f"{path} holds no usable key; delete it to have a new one generated")
    return key
