"""Changing one's password: every other session and every API token of the account ends."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from ...errors import InvalidInput, Unauthorized
from ...models import User
from ..people import accounts
from ..people.enterprises import password_problem
from ..trail import audit
from . import sessions, tokens


def change_password(session: Session, platform, user: User, current: str, new: str, confirm: str,
                    now: dt.datetime) -> None:
    """Check the current password, set the new one, revoke all sessions and tokens of the account."""
    if not all(isinstance(v, str) for v in (current, new, confirm)):
        raise InvalidInput("current, new and confirm are required",
                           {k: "required" for k, v in (("current", current), ("new", new), ("confirm", confirm))
                            if not isinstance(v, str)})
    try:
        accounts.authenticate(session, user.username, current)
    except Unauthorized:
        raise InvalidInput("当前密码不正确", {"current": "当前密码不正确"}) from None
    problem = password_problem(new)
    if problem:
        raise InvalidInput(problem, {"new": problem})
    if new != confirm:
        raise InvalidInput("两次输入的密码不一致", {"confirm": "两次输入的密码不一致"})
    user.password_hash = accounts.hash_password(new, fast=platform.settings.PASSWORD_HASH_FAST)
    sessions.revoke_all(session, user.id, now)
    tokens.revoke_all(session, user.id, now)
    audit.record(session, platform, "password_changed", actor=user, detail={})
