"""In-app notifications: who is told what, unread counts, and the outbox rows beside each message."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from ...db import remembered
from ...errors import InvalidInput, NotFound
from ...models import HumanTask, ItemHandling, Notification, OutboxMessage, ProcessInstance, User, UserContact
from ...stages import BY_KEY
from . import texts

OFFICER_ROLES = ("window", "officer", "supervisor")
CHINA = dt.timezone(dt.timedelta(hours=8))


def _local(moment: dt.datetime | None) -> str:
    return moment.astimezone(CHINA).strftime("%Y-%m-%d") if moment else ""


def officers_of(session: Session, unit_id: int | None, lane: str | None, supervisors: bool = False,
                contacts: dict | None = None) -> list[User]:
    """The active officers of a unit who work ``lane`` (an officer with no lanes works them all).

    With ``contacts``, each officer's contact row (or None) is put there by the same query.
    """
    if unit_id is None:
        return []
    roles = ("supervisor",) if supervisors else ("window", "officer")
    def read() -> list:
        with session.no_autoflush:  # accounts are not made by the units of work that notify
            return session.execute(_OFFICERS, {"unit_id": unit_id, "roles": roles}).all()
    found = remembered(session, ("officers", unit_id, roles), read)
    users = [u for u, _ in found if supervisors or not u.lanes or lane in u.lanes]
    if contacts is not None:
        contacts.update({u.id: contact for u, contact in found})
    return users


def applicants_of(session: Session, enterprise_id: int | None) -> list[User]:
    """The active applicant accounts of an enterprise."""
    if enterprise_id is None:
        return []
    def read() -> list[User]:
        with session.no_autoflush:
            return list(session.scalars(_APPLICANTS, {"enterprise_id": enterprise_id}))
    return remembered(session, ("applicants", enterprise_id), read)


#: The recipients' reads, built once (a completion runs them for every task it opens).
_OFFICERS = select(User, UserContact).outerjoin(UserContact, UserContact.user_id == User.id).where(
    User.unit_id == bindparam("unit_id"), User.active.is_(True),
    User.role.in_(bindparam("roles", expanding=True))).order_by(User.id)
_APPLICANTS = select(User).where(User.enterprise_id == bindparam("enterprise_id"), User.active.is_(True),
                                 User.role == "applicant").order_by(User.id)


def notify(session: Session, platform, users: Iterable[User], kind: str, params: dict[str, Any],
           project_code: str | None = None, task: HumanTask | None = None,
           contacts: dict | None = None) -> list[Notification]:
    """One notification per user (each user once), and an outbox row per channel the user receives.

    ``contacts`` (user id to contact row or None) saves looking each user's contact up.
    """
    made, seen = [], set()
    for user in users:
        if user.id in seen:
            continue
        seen.add(user.id)
        note = Notification(user_id=user.id, kind=kind, params=json.dumps(params, ensure_ascii=False, default=str),
                            project_code=project_code, created_at=platform.now())
        if task is not None:
            note.task = task
        session.add(note)
        _queue(session, platform, user, note, params, contacts)
        made.append(note)
    return made


def _queue(session: Session, platform, user: User, note: Notification, params: dict[str, Any],
           contacts: dict | None = None) -> None:
    settings = platform.settings
    contact = contacts[user.id] if contacts is not None and user.id in contacts else session.get(UserContact, user.id)
    if contact is None:
        return
    subject = texts.title(note.kind, params)
    if settings.SMTP_HOST and contact.email_on and contact.email:
        text = "\n\n".join(p for p in (texts.body(note.kind, params), f"{settings.SITE_URL.rstrip('/')}/messages/",
                                       texts.title(note.kind, params, english=True),
                                       texts.body(note.kind, params, english=True)) if p)
        note.outbox.append(OutboxMessage(channel="email", address=contact.email, subject=subject[:300], body=text,
                                         next_attempt_at=platform.now(), created_at=platform.now()))
    if settings.SMS_GATEWAY and contact.sms_on and contact.phone:
        note.outbox.append(OutboxMessage(channel="sms", address=contact.phone, subject=subject[:300],
                                         body=f"【工程建设项目审批】{subject}", next_attempt_at=platform.now(),
                                         created_at=platform.now()))


def _task_params(instance: ProcessInstance, row: HumanTask) -> dict[str, Any]:
    project = instance.project
    due = _local(row.due_at)
    return {"task": row.title, "project_code": project.code, "project_name": project.name,
            "stage": instance.stage_key, "due": due, "due_text": f"办理期限：{due}。" if due else "",
            "due_text_en": f" Due by {due}." if due else ""}


def on_task_opened(session: Session, platform, instance: ProcessInstance, row: HumanTask) -> None:
    """Hook ``task_opened``: tell whoever will work the new task (the applicant: a correction)."""
    params, contacts = _task_params(instance, row), {}
    if row.lane_role == "applicant":
        users, kind = applicants_of(session, row.enterprise_id), "correction"
    elif row.audience == "supervisor":
        users, kind = officers_of(session, row.unit_id, row.lane_role, supervisors=True, contacts=contacts), \
            "supervision"
    else:
        users, kind = officers_of(session, row.unit_id, row.lane_role, contacts=contacts), "task"
    notify(session, platform, users, kind, params, project_code=instance.project.code, task=row, contacts=contacts)


def on_finished(session: Session, platform, instance: ProcessInstance) -> None:
    """Hook ``finished``: the applicant learns the result of a stage application."""
    stage = BY_KEY.get(instance.stage_key)
    if stage is None:  # verifications and other inner processes tell nobody
        return
    project = instance.project
    result, result_en = texts.RESULTS.get(instance.status, texts.RESULTS["completed"])
    notify(session, platform, applicants_of(session, project.enterprise_id), "result",
           {"project_code": project.code, "project_name": project.name, "stage": stage.key,
            "stage_name": stage.name, "stage_name_en": stage.name_en, "result": result, "result_en": result_en,
            "instance": instance.id}, project_code=project.code)


def on_notice_raised(session: Session, platform, notice) -> None:
    """Hook ``notice_raised``: a warning goes to the item's officers and supervisors, overdue to supervisors."""
    handling = notice.handling if notice.handling is not None else session.get(ItemHandling, notice.handling_id)
    try:
        item = platform.catalog.item(notice.item_code)
        item_name, lane = item.name, item.role
    except Exception:  # noqa: BLE001 - an item gone from the catalogue is named by its code
        item_name, lane = notice.item_code, None
    params = {"item": notice.item_code, "item_name": item_name, "project_code": notice.project_code,
              "due": _local(handling.due_at if handling is not None else None)}
    users = officers_of(session, notice.unit_id, None, supervisors=True)
    if notice.kind == "warning" and handling is not None:
        users = officers_of(session, handling.unit_id, lane) + users
    notify(session, platform, users, "overdue" if notice.kind == "overdue" else "warning", params,
           project_code=notice.project_code)


@dataclass
class Shown:
    """A notification as the message centre shows it."""

    id: int
    kind: str
    title: str
    body: str
    link: str
    created_at: dt.datetime
    read: bool


def link_of(note: Notification, user: User) -> str:
    """Where a notification leads: its task, else its project, else the message centre."""
    portal = user.role == "applicant"
    if note.task_id is not None:
        return f"/portal/tasks/{note.task_id}" if portal else f"/officer/tasks/{note.task_id}"
    if note.project_code:
        return f"/portal/projects/{note.project_code}" if portal else f"/officer/projects/{note.project_code}"
    return "/messages/"


def shown(note: Notification, user: User, english: bool) -> Shown:
    """The words and link of one notification in the reader's language."""
    params = json.loads(note.params or "{}")
    return Shown(note.id, note.kind, texts.title(note.kind, params, english), texts.body(note.kind, params, english),
                 link_of(note, user), note.created_at, note.read_at is not None)


def unread_count(session: Session, user: User) -> int:
    """How many of the user's notifications are unread."""
    return session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def inbox(session: Session, user: User, english: bool = False, unread_only: bool = False,
          limit: int = 100) -> list[Shown]:
    """The user's notifications, newest first."""
    query = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    rows = session.scalars(query.order_by(Notification.id.desc()).limit(limit))
    return [shown(n, user, english) for n in rows]


def one(session: Session, user: User, notification_id: int, english: bool = False) -> Shown:
    """One of the user's notifications, or 404 (someone else's is not found either)."""
    note = session.get(Notification, notification_id)
    if note is None or note.user_id != user.id:
        raise NotFound(f"no notification {notification_id}")
    return shown(note, user, english)


def mark_read(session: Session, platform, user: User, notification_id: int | None = None) -> int:
    """Mark one of the user's notifications (or all of them) read; return how many changed."""
    condition = [Notification.user_id == user.id, Notification.read_at.is_(None)]
    if notification_id is not None:
        note = session.get(Notification, notification_id)
        if note is None or note.user_id != user.id:
            raise NotFound(f"no notification {notification_id}")
        condition.append(Notification.id == notification_id)
    result = session.execute(update(Notification).where(*condition).values(read_at=platform.now())
                             .execution_options(synchronize_session=False))
    return result.rowcount or 0


def contact_of(session: Session, user: User) -> UserContact:
    """The user's delivery addresses (an empty, unsaved one if none)."""
    return session.get(UserContact, user.id) or UserContact(user_id=user.id, email="", phone="",
                                                            email_on=True, sms_on=False)


def set_contact(session: Session, user: User, email: str, phone: str, email_on: bool, sms_on: bool) -> UserContact:
    """Save where the user's notifications are delivered; bad addresses are refused field by field."""
    email, phone, fields = (email or "").strip(), (phone or "").strip(), {}
    if email and (len(email) > 200 or email.count("@") != 1 or "." not in email.rsplit("@", 1)[1]
                  or any(c.isspace() for c in email)):
        fields["email"] = "请填写有效的电子邮箱地址"
    if phone and not (len(phone) == 11 and phone.isdigit() and phone[0] == "1" and phone[1] in "3456789"):
        fields["phone"] = "请填写11位中国大陆手机号码"
    if fields:
        raise InvalidInput("the contact has errors", fields)
    contact = session.get(UserContact, user.id)
    if contact is None:
        contact = UserContact(user_id=user.id)
        session.add(contact)
    contact.email, contact.phone, contact.email_on, contact.sms_on = email, phone, bool(email_on), bool(sms_on)
    return contact

