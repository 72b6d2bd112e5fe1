"""Results of finished stages (统一出件): what the window issued, read from the finished instances."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import HumanTask, ProcessInstance, Project
from ...stages import BY_KEY

RESULT_TASKS = {"window_issue": "统一出件", "window_refusal_notice": "不予许可决定书"}


@dataclass
class IssuedResult:
    """One document the window issued for a stage application."""

    instance_id: int
    stage_key: str
    stage_name: str
    kind: str
    kind_name: str
    data: dict[str, Any]
    engineering_code: str | None = None  # the code (level 1-3) the application was filed under


def issued_results(session: Session, platform, project: Project) -> list[IssuedResult]:
    """Every result issued for the project's finished applications, oldest first."""
    out = []
    finished = session.scalars(select(ProcessInstance).where(
        ProcessInstance.project_id == project.id, ProcessInstance.status.in_(("approved", "refused")))
        .order_by(ProcessInstance.id))
    for instance in finished:
        workflow = platform.runtime.load(instance.state, instance.spec_key, instance.serializer_version)
        for task in workflow.get_tasks(state=TaskState.COMPLETED):
            name = task.task_spec.name
            if name in RESULT_TASKS and isinstance(task.data.get(name), dict):
                stage = BY_KEY.get(instance.stage_key)
                out.append(IssuedResult(instance.id, instance.stage_key, stage.name if stage else instance.stage_key,
                                        name, RESULT_TASKS[name], dict(task.data[name]),
                                        instance.engineering_code or project.code))
    return out


def issued_list(session: Session, project: Project) -> list[IssuedResult]:
    """Which applications have an issued result, without loading any workflow state (no data)."""
    rows = session.execute(select(HumanTask.instance_id, HumanTask.spec_name, ProcessInstance.stage_key,
                                  ProcessInstance.engineering_code)
                           .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
                           .where(HumanTask.project_id == project.id, HumanTask.status == "completed",
                                  HumanTask.spec_name.in_(tuple(RESULT_TASKS)))
                           .order_by(HumanTask.id)).all()
    return [IssuedResult(instance_id, stage_key, BY_KEY[stage_key].name if stage_key in BY_KEY else stage_key,
                         name, RESULT_TASKS[name], {}, code or project.code)
            for instance_id, name, stage_key, code in rows]


def issued_result(session: Session, platform, project: Project, instance_id: int) -> IssuedResult | None:
    """The result issued for one of the project's applications, if any."""
    return next((r for r in issued_results(session, platform, project) if r.instance_id == instance_id), None)
