"""The intermediaries' registry and the public directory (中介超市)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from engine.catalog import CatalogError
from engine.credit import is_valid_credit_code, normalize_credit_code

from ...errors import Conflict, InvalidInput, NotFound
from ...models import Division, Enterprise, IntermediaryFirm, IntermediaryQualification, IntermediaryService, User
from ...models.base import UTCDateTime
from ..trail import audit

SERVICES_FILE = "intermediary_services.json"


@dataclass(frozen=True)
class ServiceKind:
    """A kind of intermediary service: the report it delivers and the items that need that report."""

    code: str
    name: str
    name_en: str
    report: str
    items: tuple[str, ...]
    days: int


@cache
def _load(path: str) -> dict[str, ServiceKind]:
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    return {s["code"]: ServiceKind(s["code"], s["name"], s["name_en"], s["report"], tuple(s["items"]), int(s["days"]))
            for s in raw["services"]}


def service_kinds(platform) -> dict[str, ServiceKind]:
    """The service kinds of ``catalog/intermediary_services.json``, by code."""
    return _load(str(Path(platform.settings.CATALOG_DIR) / SERVICES_FILE))


def service_kind(platform, code: str) -> ServiceKind:
    """One service kind, or 422 naming the known ones."""
    kinds = service_kinds(platform)
    if code not in kinds:
        raise InvalidInput(f"unknown intermediary service {code!r}", {"service": "须为：" + "、".join(
            f"{k.code}（{k.name}）" for k in kinds.values())})
    return kinds[code]


def get_firm(session: Session, firm_id: int) -> IntermediaryFirm:
    """A firm by id, or 404."""
    firm = session.get(IntermediaryFirm, firm_id)
    if firm is None:
        raise NotFound(f"intermediary {firm_id} does not exist")
    return firm


def firm_of_user(session: Session, user: User) -> IntermediaryFirm:
    """The firm an intermediary's account works for, or 404."""
    firm = session.scalar(select(IntermediaryFirm).where(IntermediaryFirm.enterprise_id == user.enterprise_id)) \
        if user.role == "intermediary" and user.enterprise_id else None
    if firm is None:
        raise NotFound("this account works for no registered intermediary")
    return firm


def register_firm(session: Session, platform, actor: User, data: Mapping[str, Any]) -> IntermediaryFirm:
    """Register an intermediary (administrators): its enterprise by credit code, division, contact."""
    fields: dict[str, str] = {}
    name = str(data.get("name") or "").strip()
    if not 2 <= len(name) <= 200:
        fields["name"] = "机构名称为2至200字"
    credit = normalize_credit_code(str(data.get("credit_code") or ""))
    if not is_valid_credit_code(credit):
        fields["credit_code"] = "统一社会信用代码无效（GB 32100-2015）"
    division = str(data.get("division_code") or "")
    if session.get(Division, division) is None:
        fields["division_code"] = "须为已知的行政区划代码"
    if fields:
        raise InvalidInput("the intermediary has errors", fields)
    enterprise = session.scalar(select(Enterprise).where(Enterprise.credit_code == credit))
    if enterprise is None:
        enterprise = Enterprise(name=name, credit_code=credit, created_at=platform.now())
        session.add(enterprise)
        session.flush()
    elif session.scalar(select(IntermediaryFirm.id).where(IntermediaryFirm.enterprise_id == enterprise.id)):
        raise Conflict(f"{credit} is already registered as an intermediary")
    firm = IntermediaryFirm(enterprise_id=enterprise.id, division_code=division,
                            contact=str(data.get("contact") or "")[:200],
                            introduction=str(data.get("introduction") or "")[:2000], registered_at=platform.now())
    session.add(firm)
    session.flush()
    audit.record(session, platform, "intermediary_registered", actor=actor,
                 detail={"firm": firm.id, "credit_code": credit, "name": enterprise.name})
    return firm


def set_active(session: Session, platform, actor: User, firm_id: int, active: bool) -> IntermediaryFirm:
    """List or delist a firm in the directory (administrators, audited)."""
    firm = get_firm(session, firm_id)
    firm.active = active
    audit.record(session, platform, "intermediary_listed" if active else "intermediary_delisted", actor=actor,
                 detail={"firm": firm.id})
    return firm


def _date(value: Any, field: str, fields: dict[str, str]) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value or ""))
    except ValueError:
        fields[field] = "日期格式为 YYYY-MM-DD"
        return None


def add_qualification(session: Session, platform, actor: User, firm_id: int,
                      data: Mapping[str, Any]) -> IntermediaryQualification:
    """Record a qualification of a firm: service, grade, certificate, validity and the items it supports."""
    firm = get_firm(session, firm_id)
    fields: dict[str, str] = {}
    kind = None
    try:
        kind = service_kind(platform, str(data.get("service") or ""))
    except InvalidInput as exc:
        fields.update(exc.fields or {})
    grade = str(data.get("grade") or "").strip()
    if not 1 <= len(grade) <= 30:
        fields["grade"] = "资质等级为1至30字"
    certificate = str(data.get("certificate_no") or "").strip()
    if not 1 <= len(certificate) <= 60:
        fields["certificate_no"] = "证书编号为1至60字"
    valid_from = _date(data.get("valid_from"), "valid_from", fields)
    valid_until = _date(data.get("valid_until"), "valid_until", fields)
    if valid_from and valid_until and valid_until < valid_from:
        fields["valid_until"] = "有效期止不能早于有效期起"
    items = data.get("items")
    if isinstance(items, str):
        items = [c.strip() for c in items.replace(",", "\n").splitlines() if c.strip()]
    items = list(items) if items else (list(kind.items) if kind else [])
    for code in items:
        try:
            platform.catalog.item(code)
        except CatalogError:
            fields["items"] = f"事项 {code} 不在事项目录中"
    if fields:
        raise InvalidInput("the qualification has errors", fields)
    row = IntermediaryQualification(firm_id=firm.id, service=kind.code, grade=grade, certificate_no=certificate,
                                    valid_from=valid_from, valid_until=valid_until, items=json.dumps(items))
    session.add(row)
    session.flush()
    audit.record(session, platform, "intermediary_qualified", actor=actor,
                 detail={"firm": firm.id, "service": kind.code, "grade": grade, "until": valid_until.isoformat()})
    return row


def remove_qualification(session: Session, platform, actor: User, qualification_id: int) -> None:
    """Withdraw a qualification (administrators, audited)."""
    row = session.get(IntermediaryQualification, qualification_id)
    if row is None:
        raise NotFound(f"qualification {qualification_id} does not exist")
    audit.record(session, platform, "intermediary_unqualified", actor=actor,
                 detail={"firm": row.firm_id, "service": row.service, "certificate": row.certificate_no})
    session.delete(row)


def qualification_items(row: IntermediaryQualification) -> list[str]:
    """The item codes a qualification supports."""
    return json.loads(row.items or "[]")


def valid_qualification(firm: IntermediaryFirm, service: str, today: dt.date,
                        item_code: str | None = None) -> IntermediaryQualification | None:
    """The firm's qualification for ``service`` valid on ``today`` (and supporting ``item_code``), if any."""
    for row in firm.qualifications:
        if row.service == service and row.valid_from <= today <= row.valid_until and (
                item_code is None or item_code in qualification_items(row)):
            return row
    return None


def qualified_firms(session: Session, service: str, today: dt.date,
                    item_code: str | None = None) -> list[IntermediaryFirm]:
    """The listed firms qualified today for a service (and item), by id: the candidates of a draw."""
    firms = session.scalars(select(IntermediaryFirm).where(IntermediaryFirm.active.is_(True))
                            .order_by(IntermediaryFirm.id))
    return [f for f in firms if valid_qualification(f, service, today, item_code) is not None]


def ratings(session: Session) -> dict[int, tuple[float, int]]:
    """Per firm: its average rating and the number of ratings (好差评)."""
    rows = session.execute(select(IntermediaryService.firm_id, func.avg(IntermediaryService.rating),
                                  func.count(IntermediaryService.rating))
                           .where(IntermediaryService.rating.is_not(None)).group_by(IntermediaryService.firm_id))
    return {firm_id: (round(float(avg), 2), count) for firm_id, avg, count in rows}


def directory(session: Session, platform, service: str | None = None, today: dt.date | None = None) -> list[dict]:
    """The public directory (中介超市): listed firms, their valid qualifications, ratings and record."""
    today = today or platform.now().date()
    marks = ratings(session)
    comments: dict[int, list[dict]] = {}
    for row in session.scalars(select(IntermediaryService).where(IntermediaryService.rating.is_not(None))
                               .order_by(IntermediaryService.rated_at.desc()).limit(500)):
        comments.setdefault(row.firm_id, []).append(
            {"score": row.rating, "comment": row.rating_comment, "at": row.rated_at, "service": row.service})
    record = dict(session.execute(select(IntermediaryService.firm_id, func.count(IntermediaryService.id))
                                  .group_by(IntermediaryService.firm_id)).all())
    refused = dict(session.execute(select(IntermediaryService.firm_id, func.count(IntermediaryService.id))
                                   .where(IntermediaryService.status == "refused")
                                   .group_by(IntermediaryService.firm_id)).all())
    delivered_or_now = func.coalesce(IntermediaryService.delivered_at, literal(platform.now(), UTCDateTime()))
    late = dict(session.execute(select(IntermediaryService.firm_id, func.count(IntermediaryService.id))
                                .where(IntermediaryService.due_at.is_not(None),
                                       delivered_or_now > IntermediaryService.due_at)
                                .group_by(IntermediaryService.firm_id)).all())
    kinds = service_kinds(platform)
    out = []
    for firm in session.scalars(select(IntermediaryFirm).where(IntermediaryFirm.active.is_(True))
                                .order_by(IntermediaryFirm.id)):
        valid = [q for q in firm.qualifications if q.valid_from <= today <= q.valid_until]
        if service and not any(q.service == service for q in valid):
            continue
        average, count = marks.get(firm.id, (None, 0))
        out.append({"firm": firm, "name": firm.enterprise.name, "credit_code": firm.enterprise.credit_code,
                    "qualifications": [{"row": q, "kind": kinds.get(q.service), "item_codes": qualification_items(q)}
                                       for q in valid],
                    "rating": average, "ratings": count, "comments": comments.get(firm.id, [])[:5],
                    "services": record.get(firm.id, 0), "refused": refused.get(firm.id, 0),
                    "late": late.get(firm.id, 0)})
    return out
