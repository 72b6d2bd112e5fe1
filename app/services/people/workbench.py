"""What an officer's desk shows beside the inbox: tasks done, saved filters, and a task's context.

``done_tasks`` is the 已办 list; ``saved filters`` keep an officer's inbox filters by name;
``decided_items`` shows the window what the decision chose and which department reviews
each item (before accepting); ``recheck`` puts a 补正 side by side: the reviewer's request,
the applicant's note and the materials supplied against those requested.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from ...errors import Conflict, InvalidInput, NotFound
from ...models import HumanTask, Material, ProcessInstance, SavedFilter, Unit, User
from ...text import clean_name
from ..catalogue.decisions import plan_items
from ..organisation import routing
from ..workflow.tasks import INBOX_SORTS
from .applications import correction_request

FILTER_KEYS = ("stage", "item", "light", "project", "sort")
MAX_FILTERS = 20


@dataclass
class DonePage:
    """One page of the tasks a user completed, newest first."""

    rows: list[HumanTask]
    total: int
    page: int
    page_size: int


def done_tasks(session: Session, user: User, page: int = 1, page_size: int = 20) -> DonePage:
    """The tasks this user completed (已办), most recent first, with their instance and project."""
    where = (HumanTask.completed_by == user.id, HumanTask.status == "completed")
    total = session.scalar(select(func.count(HumanTask.id)).where(*where)) or 0
    rows = session.scalars(select(HumanTask).where(*where)
                           .order_by(HumanTask.completed_at.desc(), HumanTask.id.desc())
                           .limit(page_size).offset((page - 1) * page_size)
                           .options(selectinload(HumanTask.instance).selectinload(ProcessInstance.project))).all()
    return DonePage(list(rows), total, page, page_size)


def clean_filter(query: dict[str, Any]) -> dict[str, str]:
    """The known inbox filter keys with short string values; the sort must be a known one."""
    found = {k: str(query.get(k) or "").strip()[:40] for k in FILTER_KEYS}
    if found["sort"] and found["sort"] not in INBOX_SORTS:
        raise InvalidInput("unknown sort order", {"sort": "invalid"})
    return {k: v for k, v in found.items() if v}


def saved_filters(session: Session, user: User) -> list[dict]:
    """The user's saved inbox filters, by name."""
    rows = session.scalars(select(SavedFilter).where(SavedFilter.user_id == user.id).order_by(SavedFilter.name))
    return [{"id": r.id, "name": r.name, "query": json.loads(r.query)} for r in rows]


def save_filter(session: Session, platform, user: User, name: str, query: dict[str, Any]) -> SavedFilter:
    """Keep the inbox filters under a name (a filter of the same name is replaced)."""
    name = clean_name(name or "").strip()
    if not 1 <= len(name) <= 60:
        raise InvalidInput("a saved filter needs a name of 1 to 60 characters", {"name": "1-60 characters"})
    cleaned = clean_filter(query)
    if not cleaned:
        raise InvalidInput("choose at least one filter or a sort order before saving", {"query": "empty"})
    row = session.scalar(select(SavedFilter).where(SavedFilter.user_id == user.id, SavedFilter.name == name))
    if row is None:
        if session.scalar(select(func.count(SavedFilter.id)).where(SavedFilter.user_id == user.id)) >= MAX_FILTERS:
            raise Conflict(f"at most {MAX_FILTERS} saved filters; delete one first")
        row = SavedFilter(user_id=user.id, name=name, created_at=platform.now())
        session.add(row)
    row.query = json.dumps(cleaned, ensure_ascii=False, sort_keys=True)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # two saves of one name at once
        raise Conflict(f"a filter named {name!r} was saved meanwhile") from exc
    return row


def delete_filter(session: Session, user: User, filter_id: int) -> None:
    """Forget one of the user's saved filters."""
    row = session.get(SavedFilter, filter_id)
    if row is None or row.user_id != user.id:
        raise NotFound(f"there is no saved filter {filter_id}")
    session.delete(row)
    session.flush()


def decided_items(session: Session, platform, instance: ProcessInstance) -> list[dict]:
    """The items the decision chose for an application, each with its department and its unit."""
    out = []
    division = instance.project.division_code
    for row in plan_items(session, instance.id):
        role = platform.catalog.roles.get(row.role)
        try:
            item_name = platform.catalog.item(row.item_code).name
        except Exception:  # noqa: BLE001 - an item no longer in the catalogue shows its code
            item_name = row.item_code
        unit_id = None
        if role is not None and role.code in platform.catalog.routed_roles():
            unit_id = routing.resolve(session, role.code, division)
        out.append({"item_code": row.item_code, "item_name": item_name, "role": row.role,
                    "department": role.name if role else row.role, "department_en": role.name_en if role else "",
                    "unit": session.get(Unit, unit_id).name if unit_id else "", "mode": row.mode})
    return out


def recheck(session: Session, platform, row: HumanTask) -> dict[str, Any] | None:
    """For a 补正 recheck task: the request, the applicant's answer and each requested material's state.

    A requested material is ``supplied`` when it was uploaded after the request,
    ``claimed_missing`` when the applicant lists it as supplied but no upload came
    after the request, and ``missing`` when it is neither listed nor uploaded.
    """
    if row.spec_name != "correction_recheck":
        return None
    request = correction_request(session, platform, row)
    answer = _supplement_answer(platform, row)
    claimed = [m for m in answer.get("materials") or [] if isinstance(m, str)]
    since = request.get("at") or row.instance.started_at
    uploads = {m.name: m for m in session.scalars(select(Material).where(Material.project_id == row.project_id))}
    requested = list(request.get("missing_materials") or [])
    materials = []
    for name in dict.fromkeys(requested + claimed):
        upload = uploads.get(name)
        fresh = upload is not None and _after(upload.uploaded_at, since)
        state = "supplied" if fresh else "claimed_missing" if name in claimed else "missing"
        materials.append({"name": name, "requested": name in requested, "claimed": name in claimed,
                          "state": state, "material_id": upload.id if upload else None,
                          "original_name": upload.original_name if upload else None,
                          "uploaded_at": upload.uploaded_at if upload else None})
    return {"request": request, "note": answer.get("note") or "", "claimed": claimed, "materials": materials,
            "flagged": [m["name"] for m in materials if m["state"] != "supplied"]}


def _after(moment: dt.datetime, since: dt.datetime) -> bool:
    if moment.tzinfo is None and since.tzinfo is not None:
        moment = moment.replace(tzinfo=since.tzinfo)
    elif since.tzinfo is None and moment.tzinfo is not None:
        since = since.replace(tzinfo=moment.tzinfo)
    return moment >= since


def _supplement_answer(platform, row: HumanTask) -> dict[str, Any]:
    instance = row.instance
    try:
        workflow = platform.runtime.load(instance.state, instance.spec_key, instance.serializer_version)
        data = platform.runtime.find_task(workflow, row.task_id).data
    except Exception:  # noqa: BLE001 - without the state the page still shows the request
        return {}
    answer = data.get("correction_supplement")
    return answer if isinstance(answer, dict) else {}

