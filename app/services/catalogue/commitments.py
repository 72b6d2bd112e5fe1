"""告知承诺: an item the applicant signed a commitment for is approved at once and verified later.

When the window accepts a stage application, every decided item marked as
committed (the applicant listed it under ``commitments`` and the catalogue allows
it) gets an item handling approved on the spot (BLZT 11, with a note) and a
verification: an instance of ``commitment_verification`` whose task goes to the
item's department with a due date ``VERIFY_DAYS`` calendar days later.  When the
department finds the commitment broken, the approval is revoked (BLZT 15).
"""

from __future__ import annotations

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ...models import Commitment, HumanTask, ItemHandling, ProcessInstance, StageItem
from ...stages import VERIFICATION_PROCESS, VERIFICATION_STAGE
from ..organisation import routing
from ..trail import audit
from ..workflow import instances
from .gaps import record_event

#: Calendar days between the approval on commitment and the department's verification due date.
VERIFY_DAYS = 30
ACCEPTED_BY_DEPARTMENT, APPROVED, REVOKED = 8, 11, 15


def on_accepted(session: Session, platform, instance: ProcessInstance, items: list[StageItem]) -> None:
    """Approve every committed item of an accepted stage and schedule its verification."""
    for item in items:
        if item.mode == "commitment":
            _approve(session, platform, instance, item)


def _approve(session: Session, platform, instance: ProcessInstance, item: StageItem) -> Commitment:
    project, now = instance.project, platform.now()
    verify_by = platform.calendar.due_date(now, VERIFY_DAYS, "calendar_days")
    handling = ItemHandling(project_id=project.id, instance_id=instance.id, project_code=project.code,
                            engineering_code=instance.engineering_code, item_code=item.item_code,
                            unit_id=routing.resolve(session, item.role, project.division_code),
                            state=ACCEPTED_BY_DEPARTMENT, accepted_at=now, finished_at=now)
    session.add(handling)
    session.flush()
    record_event(session, platform, handling, ACCEPTED_BY_DEPARTMENT, "告知承诺制：申请人已签署告知承诺书")
    record_event(session, platform, handling, APPROVED,
                 f"告知承诺制当场审批通过；主管部门于{verify_by.date().isoformat()}前核查承诺履行情况")
    commitment = Commitment(project_id=project.id, instance_id=instance.id, item_code=item.item_code,
                            handling_id=handling.id, signed_at=now, verify_by=verify_by, state="pending")
    session.add(commitment)
    session.flush()
    catalog_item = platform.catalog.item(item.item_code)
    verification = instances.start_process(
        session, platform, project, VERIFICATION_STAGE, VERIFICATION_PROCESS,
        {"code": item.item_code, "name": catalog_item.name, "role": item.role, "commitment_id": commitment.id,
         "stage": instance.stage_key, "verify_by": verify_by.isoformat()},
        actor=None, engineering_code=instance.engineering_code)
    commitment.verification_instance_id = verification.id
    session.execute(update(HumanTask).where(HumanTask.instance_id == verification.id, HumanTask.status == "open")
                    .values(due_at=verify_by))
    audit.record(session, platform, "commitment_approved", instance=instance,
                 detail={"item": item.item_code, "verify_by": verify_by.isoformat(),
                         "verification_instance": verification.id})
    return commitment


def after_verification_run(session: Session, platform, instance: ProcessInstance, workflow) -> None:
    """Confirm or revoke the committed approval once its verification has ended."""
    if instance.status not in ("approved", "revoked"):
        return
    commitment = session.scalar(select(Commitment).where(Commitment.verification_instance_id == instance.id))
    if commitment is None or commitment.state != "pending":
        return
    answer = _verification_answer(workflow)
    commitment.finished_at = platform.now()
    if instance.status == "revoked":
        commitment.state = "revoked"
        handling = session.get(ItemHandling, commitment.handling_id)
        record_event(session, platform, handling, REVOKED,
                     f"告知承诺核查不符合承诺，撤销审批：{answer.get('opinion', '')}")
    else:
        commitment.state = "confirmed"
    audit.record(session, platform, f"commitment_{commitment.state}", instance=instance,
                 detail={"item": commitment.item_code, "opinion": answer.get("opinion", "")})


def _verification_answer(workflow) -> dict:
    for task in workflow.get_tasks(state=TaskState.COMPLETED):
        if task.task_spec.manual and isinstance(task.data.get("verification"), dict):
            return task.data["verification"]
    return {}


def commitments_of(session: Session, project_id: int) -> list[Commitment]:
    """The commitments of a project, oldest first."""
    return list(session.scalars(select(Commitment).where(Commitment.project_id == project_id)
                                .order_by(Commitment.id)))
