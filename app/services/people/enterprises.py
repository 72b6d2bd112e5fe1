"""Enterprise registration: a construction unit and its first applicant account."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.credit import CreditCodeError, parse_credit_code

from ...errors import InvalidInput
from ...models import Enterprise, User
from ...text import clean_name
from ..trail import audit
from .accounts import hash_password

USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{2,39}$")
UNAVAILABLE = "用户名或信用代码不可用"
FIELDS = ("enterprise_name", "credit_code", "username", "display_name", "password", "password_confirm")


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if name in ("enterprise_name", "display_name"):  # names others read: no invisible characters
        value = clean_name(value)
    return value.strip() if isinstance(value, str) else ""


def password_problem(password: str) -> str | None:
    """Why a password is too weak, or None."""
    if len(password) < 8 or len(password) > 128:
        return "密码长度应为8至128位"
    if not (re.search(r"[A-Za-z]", password) and re.search(r"[0-9]", password)):
        return "密码须同时包含字母和数字"
    return None


def _check(session: Session, data: dict[str, Any]) -> tuple[dict[str, str], str]:
    fields: dict[str, str] = {}
    name = _text(data, "enterprise_name")
    if not 2 <= len(name) <= 200:
        fields["enterprise_name"] = "请填写单位全称（2至200字）"
    code = ""
    try:
        code = parse_credit_code(_text(data, "credit_code"))
    except CreditCodeError as exc:
        fields["credit_code"] = exc.message
    username = _text(data, "username")
    if not USERNAME.match(username):
        fields["username"] = "用户名以字母开头，3至40位字母、数字或 _ . -"
    taken = (code and session.scalar(select(Enterprise.id).where(Enterprise.credit_code == code))) or (
        "username" not in fields
        and session.scalar(select(User.id).where(func.lower(User.username) == username.lower())))
    if taken:  # one answer for both, so that registration does not tell which accounts exist
        fields["username"] = fields["credit_code"] = UNAVAILABLE
    if not 1 <= len(_text(data, "display_name")) <= 100:
        fields["display_name"] = "请填写经办人姓名"
    password = data.get("password") if isinstance(data.get("password"), str) else ""
    problem = password_problem(password)
    if problem:
        fields["password"] = problem
    elif password != data.get("password_confirm"):
        fields["password_confirm"] = "两次输入的密码不一致"
    return fields, code


def register(session: Session, platform, data: dict[str, Any]) -> User:
    """Create an enterprise (credit code checked, GB 32100-2015) and its applicant account."""
    if not isinstance(data, dict):
        raise InvalidInput("the body must be an object")
    fields, code = _check(session, data)
    if fields:
        raise InvalidInput("注册信息有误", fields)
    enterprise = Enterprise(name=_text(data, "enterprise_name"), credit_code=code, created_at=platform.now())
    session.add(enterprise)
    session.flush()
    user = User(username=_text(data, "username"), display_name=_text(data, "display_name"),
                role="applicant", enterprise_id=enterprise.id,
                password_hash=hash_password(data["password"], fast=platform.settings.PASSWORD_HASH_FAST))
    session.add(user)
    session.flush()
    audit.record(session, platform, "enterprise_registered", actor=user,
                 detail={"enterprise": enterprise.name, "credit_code": code})
    return user
