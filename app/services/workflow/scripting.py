"""The transaction that scripts and timer expressions evaluated right now belong to.

Helpers such as ``deadline(item)`` (``services.timelimits.itemclock``) read rows
that the running operation has not flushed yet; ``script_session`` makes this
operation's session visible to them for the duration of a run.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy.orm import Session

_SESSION: ContextVar[Session | None] = ContextVar("script_session", default=None)


@contextmanager
def script_session(session: Session) -> Iterator[None]:
    """Let helpers called from scripts inside see this session (and its unflushed rows)."""
    token = _SESSION.set(session)
    try:
        yield
    finally:
        _SESSION.reset(token)


def current_session() -> Session | None:
    """The session of the run in progress, if any."""
    return _SESSION.get()
