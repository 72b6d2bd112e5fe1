"""The result built from the departments' decisions, queued, signed, revoked and re-issued.

* Each department's decision is kept as an ``item_decided`` audit event (outcome, the
  department's document number and date from its review form) — in the chain, so it cannot be
  changed silently.
* ``preview`` is what the window's 出件 (or 不予许可) task shows: every decided item of the stage
  with its outcome, department, unit, number and date, and the applicant.  The window confirms;
  an item it names outside the stage's decided items is refused (422).
* Completing 统一出件 (or 不予许可决定送达) writes ``issued_document`` rows in the same
  transaction — the result, and one approval document per approved item — status ``pending``.
  The row is its own outbox: the scheduler (``drain``) renders and signs outside any user's
  transaction; the applicant sees “正在出件” until then.
* ``revoke`` (撤销, BLZT 15 on the items' handlings) and ``reissue`` (the old one becomes
  ``superseded`` by the new) are audited and show on the public page at once.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import Conflict, Forbidden, InvalidInput, NotFound
from ...models import (
    AuditEvent,
    Enterprise,
    HumanTask,
    IssuedDocument,
    ItemHandling,
    ItemHandlingEvent,
    ProcessInstance,
    Project,
    Unit,
    User,
)
from ...stages import BY_KEY
from ..catalogue.decisions import plan_items
from ..trail import audit
from . import files, render, sign
from .verify import STATUS_NAMES, verification_url

log = logging.getLogger(__name__)

RESULT_TASK, REFUSAL_TASK = "window_issue", "window_refusal_notice"
DECISION_STATES = {11: "approve", 12: "gaps", 13: "refuse"}
REVOKED_STATE = 15  # BLZT 撤销
KIND_NAMES = {"result": "统一出件", "refusal": "不予许可决定书", "item": "审批决定书"}


def canonical(facts: dict[str, Any]) -> str:
    """The facts as compact, key-sorted JSON (what the verification MAC covers)."""
    return json.dumps(facts, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def new_cert_id(today: dt.date) -> str:
    """A public certificate id: HN, the year, 12 random characters of an unambiguous alphabet."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return f"HN{today.year}" + "".join(secrets.choice(alphabet) for _ in range(12))


# -- the departments' decisions -------------------------------------------------------------------

def on_task_completed(session: Session, platform, instance: ProcessInstance, workflow, row: HumanTask,
                      data: dict[str, Any], actor: User | None) -> None:
    """Hook ``task_completed``: keep a department's decision; queue the result when the window issues it."""
    outcome = str(data.get("outcome", ""))
    if row.item_code and row.lane_role not in ("window", "applicant") and row.audience is None \
            and outcome in ("approve", "refuse"):
        audit.record(session, platform, "item_decided", actor=actor, instance=instance,
                     detail={"item": row.item_code, "outcome": outcome if actor is not None or outcome != "approve"
                             else "deemed", "number": data.get("result_number") or "",
                             "date": data.get("decision_date") or "", "unit_id": row.unit_id, "task": row.id})
    elif row.spec_name in (RESULT_TASK, REFUSAL_TASK) and row.lane_role == "window":
        enqueue(session, platform, instance, row, data, actor)


@dataclass
class DecidedItem:
    """One decided item of a stage application, as the result states it."""

    item_code: str
    item_name: str
    department: str
    unit_id: int | None
    unit_name: str
    outcome: str  # approve, gaps, refuse, deemed; "" while undecided
    number: str
    date: str

    def fact(self) -> dict[str, Any]:
        return {"item_code": self.item_code, "item_name": self.item_name, "department": self.department,
                "unit_name": self.unit_name, "outcome": self.outcome, "number": self.number, "date": self.date}


def decided_items(session: Session, platform, instance: ProcessInstance) -> list[DecidedItem]:
    """Every item the stage's decision chose, with the department's outcome, number and date."""
    decisions: dict[str, dict] = {}
    stored = session.scalars(select(AuditEvent.detail).where(
        AuditEvent.instance_id == instance.id, AuditEvent.kind == "item_decided").order_by(AuditEvent.id)).all()
    recorded_now = [e.detail for e in audit.pending(session)  # this transaction's, stored at its commit
                    if e.instance_id == instance.id and e.kind == "item_decided"]
    for detail in [*stored, *recorded_now]:
        try:
            value = json.loads(detail)
        except ValueError:
            continue
        decisions[value.get("item", "")] = value  # the last decision of an item counts
    handlings = {h.item_code: h for h in session.scalars(select(ItemHandling).where(
        ItemHandling.instance_id == instance.id).order_by(ItemHandling.id))}
    units = {}
    out = []
    for plan in plan_items(session, instance.id):
        role = platform.catalog.roles.get(plan.role)
        try:
            name = platform.catalog.item(plan.item_code).name
        except Exception:  # noqa: BLE001 - an item no longer in the catalogue shows its code
            name = plan.item_code
        handling = handlings.get(plan.item_code)
        decision = decisions.get(plan.item_code, {})
        outcome = DECISION_STATES.get(handling.state, "") if handling else ""
        if outcome == "approve" and decision.get("outcome") == "deemed":
            outcome = "deemed"
        unit_id = handling.unit_id if handling else None
        if unit_id and unit_id not in units:
            units[unit_id] = session.get(Unit, unit_id).name
        out.append(DecidedItem(plan.item_code, name, role.name if role else plan.role, unit_id,
                               units.get(unit_id, ""), outcome, decision.get("number", "") if outcome else "",
                               decision.get("date", "") if outcome else ""))
    return out


def preview(session: Session, platform, row: HumanTask) -> dict[str, Any] | None:
    """What the window's 出件 / 不予许可 task shows: the applicant and every decided item."""
    if row.spec_name not in (RESULT_TASK, REFUSAL_TASK):
        return None
    instance = row.instance
    project = instance.project
    enterprise = session.get(Enterprise, project.enterprise_id)
    items = decided_items(session, platform, instance)
    return {"project": project, "applicant": enterprise.name if enterprise else "",
            "credit_code": enterprise.credit_code if enterprise else "", "items": items,
            "undecided": [i.item_code for i in items if not i.outcome],
            "unit": session.get(Unit, row.unit_id).name if row.unit_id else ""}


# -- queueing -------------------------------------------------------------------------------------

def _base_facts(session: Session, instance: ProcessInstance, unit: Unit | None) -> dict[str, Any]:
    project = instance.project
    enterprise = session.get(Enterprise, project.enterprise_id)
    stage = BY_KEY.get(instance.stage_key)
    return {"project_code": project.code, "project_name": project.name,
            "engineering_code": instance.engineering_code or project.code,
            "applicant": enterprise.name if enterprise else "",
            "credit_code": enterprise.credit_code if enterprise else "",
            "stage": instance.stage_key, "stage_name": stage.name if stage else instance.stage_key,
            "unit": unit.name if unit else "", "unit_code": unit.code if unit else ""}


def _chosen(items: list[DecidedItem], data: dict[str, Any], wanted: set[str]) -> list[DecidedItem]:
    """The items the window's answer names (all by default); an unknown or undecided one is refused."""
    listed = [c.get("item_code") for c in data.get("certificates") or [] if isinstance(c, dict)]
    if not listed:
        return [i for i in items if i.outcome in wanted]
    by_code = {i.item_code: i for i in items}
    bad = {f"certificates.{n}.item_code": f"{code} is not an item this stage decided ({'/'.join(sorted(wanted))})"
           for n, code in enumerate(listed) if code not in by_code or by_code[code].outcome not in wanted}
    if bad:
        raise InvalidInput("the result may only state items the stage's departments decided: "
                           + ", ".join(str(listed[int(k.split('.')[1])]) for k in bad)
                           + "（出件事项须为本阶段各部门已作出决定的事项）", bad)
    return [by_code[code] for code in dict.fromkeys(listed)]


def enqueue(session: Session, platform, instance: ProcessInstance, row: HumanTask, data: dict[str, Any],
            actor: User | None) -> list[IssuedDocument]:
    """Queue the documents of a result (or a refusal) in the completion's transaction."""
    unit = session.get(Unit, row.unit_id) if row.unit_id else None
    items = decided_items(session, platform, instance)
    base = _base_facts(session, instance, unit)
    now = platform.now()
    docs = []
    if row.spec_name == RESULT_TASK:
        chosen = _chosen(items, data, {"approve", "gaps", "deemed"})
        docs.append(_new(session, instance, unit, now, {
            **base, "kind": "result", "number": data["result_number"], "date": data.get("issued_date", ""),
            "delivery": data.get("delivery_method", ""), "note": data.get("note", ""),
            "items": [i.fact() for i in chosen]}))
        for item in chosen:  # each item's own approval document, under the same seal
            docs.append(_new(session, instance, unit, now, {
                **base, "kind": "item", "item_code": item.item_code, "number": item.number or data["result_number"],
                "date": item.date or data.get("issued_date", ""), "items": [item.fact()]}, item.item_code))
    else:
        chosen = [i for i in items if i.outcome]
        docs.append(_new(session, instance, unit, now, {
            **base, "kind": "refusal", "number": data["notice_number"], "date": data.get("decision_date", ""),
            "reason": data.get("reason", ""), "delivery": data.get("delivery_method", ""),
            "items": [i.fact() for i in chosen]}))
    audit.record(session, platform, "documents_queued", actor=actor, instance=instance,
                 detail={"documents": [d.cert_id for d in docs], "number": docs[0].number,
                         "kind": docs[0].kind})
    return docs


def _new(session: Session, instance: ProcessInstance, unit: Unit | None, now: dt.datetime, facts: dict[str, Any],
         item_code: str | None = None) -> IssuedDocument:
    cert_id = new_cert_id(now.date())
    facts = {**facts, "cert_id": cert_id}
    doc = IssuedDocument(cert_id=cert_id, project_id=instance.project_id, instance_id=instance.id,
                         kind=facts["kind"], item_code=item_code, number=str(facts["number"])[:100],
                         unit_id=unit.id if unit else None, facts=canonical(facts), status="pending",
                         created_at=now, reason="", attempts=0, last_error="")
    session.add(doc)
    return doc


# -- the scheduler's side: render, sign, keep ------------------------------------------------------

def pending(session: Session, limit: int = 20) -> list[tuple[int, dict[str, Any], str]]:
    """The documents waiting to be issued: (id, facts, the issuing unit's code), oldest first."""
    rows = session.execute(select(IssuedDocument.id, IssuedDocument.facts, Unit.code)
                           .outerjoin(Unit, Unit.id == IssuedDocument.unit_id)
                           .where(IssuedDocument.status == "pending")
                           .order_by(IssuedDocument.id).limit(limit)).all()
    return [(doc_id, json.loads(text), code or "") for doc_id, text, code in rows]


def render_and_sign(platform, doc_facts: dict[str, Any], unit_code: str, issued_at: dt.datetime) -> bytes:
    """The signed PDF of one document's facts (no database access: run it outside any transaction)."""
    settings = platform.settings
    facts = {**doc_facts, "issued_at": issued_at.isoformat()}
    url = verification_url(settings, doc_facts["cert_id"], canonical(doc_facts))
    pdf = render.render(facts, url, settings.FONT_CACHE_DIR)
    reason = f"{KIND_NAMES.get(doc_facts['kind'], '出件')} {doc_facts['number']}"
    return sign.sign(settings, unit_code, pdf, reason)


def keep(platform, signed: bytes) -> tuple[str, str]:
    """Put a signed PDF in the document store: (storage key, sha256)."""
    return files.put(platform, signed)


def mark_issued(session: Session, platform, doc_id: int, key: str, digest: str, size: int,
                at: dt.datetime) -> str | None:
    """Record a document as issued (locked; only if still pending, so it is issued once); its id or None."""
    doc = session.get(IssuedDocument, doc_id, with_for_update=True)
    if doc is None or doc.status != "pending":
        return None  # another scheduler issued it meanwhile; its file stands
    doc.status, doc.issued_at, doc.sha256, doc.size, doc.storage_key = "issued", at, digest, size, key
    audit.record(session, platform, "document_issued", instance=session.get(ProcessInstance, doc.instance_id),
                 detail={"cert_id": doc.cert_id, "kind": doc.kind, "number": doc.number,
                         "item": doc.item_code, "sha256": digest})
    return doc.cert_id


def mark_failed(session: Session, platform, doc_id: int, error: str) -> None:
    """Count a failed attempt; after ``SEAL_MAX_ATTEMPTS`` the document shows 出件失败 (re-issue it)."""
    doc = session.get(IssuedDocument, doc_id, with_for_update=True)
    if doc is None or doc.status != "pending":
        return
    doc.attempts += 1
    doc.last_error = error[:2000]
    if doc.attempts >= platform.settings.SEAL_MAX_ATTEMPTS:
        doc.status = "failed"


# -- reading ----------------------------------------------------------------------------------------

def documents_of(session: Session, project: Project, instance_id: int | None = None) -> list[IssuedDocument]:
    """The project's issued documents (all statuses), results first, oldest first."""
    query = select(IssuedDocument).where(IssuedDocument.project_id == project.id)
    if instance_id is not None:
        query = query.where(IssuedDocument.instance_id == instance_id)
    rows = session.scalars(query.order_by(IssuedDocument.id)).all()
    return sorted(rows, key=lambda d: (d.instance_id, d.kind == "item", d.id))


def document(session: Session, cert_id: str) -> IssuedDocument:
    """A document by its public id, or 404."""
    doc = session.scalar(select(IssuedDocument).where(IssuedDocument.cert_id == str(cert_id)[:40]))
    if doc is None:
        raise NotFound("there is no such document")
    return doc


def pdf_of(platform, doc: IssuedDocument) -> bytes:
    """The signed PDF of an issued (or since revoked or superseded) document; 409 while it is being issued."""
    if doc.storage_key is None:
        raise Conflict("the document is still being issued (正在出件); try again in a moment")
    try:
        return files.get(platform, doc.storage_key)
    except FileNotFoundError as exc:
        raise NotFound("the document's file is not available") from exc


def facts_of(doc: IssuedDocument) -> dict[str, Any]:
    return json.loads(doc.facts)


# -- revocation and re-issue -------------------------------------------------------------------------

def may_manage(user: User, doc: IssuedDocument) -> bool:
    """Who may revoke or re-issue a document: the window officers of the unit whose seal it bears."""
    return user.role == "window" and user.unit_id is not None and user.unit_id == doc.unit_id


def _managed(session: Session, user: User, cert_id: str) -> IssuedDocument:
    doc = session.scalar(select(IssuedDocument).where(IssuedDocument.cert_id == str(cert_id)[:40])
                         .with_for_update())
    if doc is None:
        raise NotFound("there is no such document")
    if not may_manage(user, doc):
        raise Forbidden("only the window of the issuing unit may revoke or re-issue this document")
    return doc


def _reason(reason: Any) -> str:
    text = str(reason or "").strip()
    if not text:
        raise InvalidInput("a reason is required（请填写理由）", {"reason": "required"})
    return text[:1000]


def revoke(session: Session, platform, user: User, cert_id: str, reason: Any) -> IssuedDocument:
    """撤销: the document stops being valid at once; its items' handlings record BLZT 15."""
    text = _reason(reason)
    doc = _managed(session, user, cert_id)
    if doc.status != "issued":
        raise Conflict("only an issued document can be revoked; this one is "
                       f"{STATUS_NAMES.get(doc.status, doc.status)}")
    now = platform.now()
    doc.status, doc.revoked_at, doc.reason = "revoked", now, text
    items = [i["item_code"] for i in facts_of(doc).get("items", [])]
    for handling in session.scalars(select(ItemHandling).where(ItemHandling.instance_id == doc.instance_id,
                                                                ItemHandling.item_code.in_(items))):
        handling.state = REVOKED_STATE
        session.add(ItemHandlingEvent(handling_id=handling.id, state=REVOKED_STATE, at=now, actor_id=user.id,
                                      opinion=f"撤销 {doc.number}：{text}"[:2000]))
    project = session.get(Project, doc.project_id)
    audit.record(session, platform, "document_revoked", actor=user, project_code=project.code,
                 detail={"cert_id": doc.cert_id, "number": doc.number, "reason": text, "items": items})
    return doc


def reissue(session: Session, platform, user: User, cert_id: str, reason: Any) -> IssuedDocument:
    """Re-issue (变更): a new document with the same facts replaces the old, which shows 已变更."""
    text = _reason(reason)
    old = _managed(session, user, cert_id)
    if old.status not in ("issued", "failed"):
        raise Conflict("only an issued document can be re-issued; this one is "
                       f"{STATUS_NAMES.get(old.status, old.status)}")
    facts = facts_of(old)
    facts.pop("cert_id", None)
    facts["replaces"] = old.cert_id
    instance = session.get(ProcessInstance, old.instance_id)
    unit = session.get(Unit, old.unit_id) if old.unit_id else None
    new = _new(session, instance, unit, platform.now(), facts, old.item_code)
    session.flush()
    old.status, old.replaced_by_id, old.reason = "superseded", new.id, text
    project = session.get(Project, old.project_id)
    audit.record(session, platform, "document_reissued", actor=user, project_code=project.code,
                 detail={"cert_id": old.cert_id, "replaced_by": new.cert_id, "number": old.number, "reason": text})
    return new
