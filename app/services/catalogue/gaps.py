"""容缺受理: accepting an application with named non-essential materials missing.

The window may accept with ``tolerance_acceptance``, naming the missing
materials and a date to supply them (``supply_by``).  Each named material must
be a non-essential material of a decided item that allows gaps; every such item
records a ``MaterialGap``.  A department's approval of such an item is recorded
as BLZT 12 (容缺通过).  The stage process withholds the result: after the
reviews the applicant's task ``supply_gaps`` opens (due at the end of
``supply_by``), and only when it names every missing material does the window's
``window_issue`` follow; the items' handlings then record BLZT 11.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from engine.calendar import LOCAL_TZ
from engine.catalog import CatalogError
from engine.decisions import completed_answer

from ...errors import InvalidInput
from ...models import HumanTask, ItemHandling, ItemHandlingEvent, MaterialGap, ProcessInstance, StageItem, StagePlan
from ..trail import audit

APPROVED, APPROVED_WITH_GAPS = 11, 12
SUPPLY_TASK = "supply_gaps"


def record_event(session: Session, platform, handling: ItemHandling, state: int, opinion: str,
                 actor_id: int | None = None) -> None:
    """Move a handling to a national state code and log the change."""
    handling.state = state
    session.add(ItemHandlingEvent(handling_id=handling.id, state=state, at=platform.now(),
                                  actor_id=actor_id, opinion=opinion[:2000]))


def tolerable_materials(platform, items: list[StageItem]) -> dict[str, list[str]]:
    """Non-essential materials of the reviewed items that allow gaps: material name -> item codes."""
    found: dict[str, list[str]] = {}
    for row in items:
        if row.mode != "review":
            continue
        try:
            item = platform.catalog.item(row.item_code)
        except CatalogError:
            continue
        if item.gaps_allowed:
            for material in item.materials:
                if not material.essential:
                    found.setdefault(material.name, []).append(item.code)
    return found


def on_accepted(session: Session, platform, instance: ProcessInstance, plan: StagePlan,
                answer: Mapping, items: list[StageItem]) -> None:
    """Record the materials the window accepted as missing; refuse names that cannot be missing."""
    if not answer.get("tolerance_acceptance"):
        return
    names = list(answer.get("tolerated_materials") or ())
    supply_by = dt.date.fromisoformat(str(answer.get("supply_by")))
    if supply_by < platform.now().astimezone(LOCAL_TZ).date():
        raise InvalidInput("the supply date has passed", {"supply_by": "补齐期限不能早于今天（the date has passed）"})
    tolerable = tolerable_materials(platform, items)
    wrong = [n for n in names if n not in tolerable]
    if wrong or not names:
        raise InvalidInput("these materials cannot be missing under 容缺", {
            "tolerated_materials": f"不是本次申请事项中允许容缺的非必要材料：{'、'.join(wrong) or '（未列出）'}"})
    for name in names:
        for code in tolerable[name]:
            session.add(MaterialGap(instance_id=instance.id, project_id=instance.project_id, item_code=code,
                                    material=name, supply_by=supply_by))
    plan.gaps_open = True
    audit.record(session, platform, "accepted_with_gaps", instance=instance,
                 detail={"materials": names, "supply_by": supply_by.isoformat(),
                         "items": sorted({c for n in names for c in tolerable[n]})})


def is_tolerated(session: Session, instance_id: int, item_code: str) -> bool:
    """Whether an item of an instance was accepted with a material missing (its approval is BLZT 12)."""
    with session.no_autoflush:  # gaps are written when the window accepts, long before
        return session.scalar(_GAP_OF_ITEM, {"instance_id": instance_id, "item_code": item_code}) is not None


_GAP_OF_ITEM = select(MaterialGap.id).where(MaterialGap.instance_id == bindparam("instance_id"),
                                            MaterialGap.item_code == bindparam("item_code")).limit(1)


def open_gaps(session: Session, instance_id: int) -> list[MaterialGap]:
    """The materials of an instance still missing."""
    return list(session.scalars(select(MaterialGap).where(
        MaterialGap.instance_id == instance_id, MaterialGap.supplied_at.is_(None)).order_by(MaterialGap.id)))


def after_run(session: Session, platform, instance: ProcessInstance, workflow, plan: StagePlan) -> None:
    """Give the supply task its due date; when the applicant has supplied, close the gaps."""
    missing = open_gaps(session, instance.id)
    if not missing:
        plan.gaps_open = False
        return
    end_of_day = dt.datetime.combine(missing[0].supply_by, dt.time(23, 59, 59), LOCAL_TZ).astimezone(dt.UTC)
    session.execute(update(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.spec_name == SUPPLY_TASK, HumanTask.status == "open",
        HumanTask.due_at.is_(None)).values(due_at=end_of_day))
    supplied = completed_answer(workflow, SUPPLY_TASK)
    if supplied is not None:
        _close(session, platform, instance, plan, missing, supplied)


def _close(session: Session, platform, instance: ProcessInstance, plan: StagePlan,
           missing: list[MaterialGap], supplied: Mapping) -> None:
    names = {str(n).strip() for n in supplied.get("materials") or ()}
    still = sorted({gap.material for gap in missing} - names)
    if still:
        raise InvalidInput("materials are still missing", {"materials": f"仍缺容缺材料：{'、'.join(still)}"})
    now = platform.now()
    for gap in missing:
        gap.supplied_at = now
    for code in sorted({gap.item_code for gap in missing}):
        handling = session.scalars(select(ItemHandling).where(
            ItemHandling.instance_id == instance.id, ItemHandling.item_code == code,
            ItemHandling.state == APPROVED_WITH_GAPS)).first()
        if handling is not None:
            record_event(session, platform, handling, APPROVED, "容缺材料已补齐，统一出件")
    plan.gaps_open = False
    audit.record(session, platform, "gaps_supplied", instance=instance,
                 detail={"materials": sorted({gap.material for gap in missing})})
