"""The ``check`` command: human task rows against the engine's ready tasks."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import HumanTask, ProcessInstance


def check_instance(session: Session, platform, instance: ProcessInstance) -> list[str]:
    """Differences between one instance's ready user tasks and its open rows."""
    workflow = platform.runtime.load(instance.state, instance.spec_key, instance.serializer_version)
    ready = {view.task_id: view for view in platform.runtime.ready_user_tasks(workflow)}
    rows = session.scalars(select(HumanTask.task_id).where(
        HumanTask.instance_id == instance.id, HumanTask.status == "open")).all()
    counts = Counter(rows)
    problems = []
    for task_id, view in ready.items():
        if counts[task_id] == 0:
            problems.append(f"instance {instance.id}: ready task {view.spec_name} ({task_id}) has no open row")
        elif counts[task_id] > 1:
            problems.append(f"instance {instance.id}: task {view.spec_name} has {counts[task_id]} open rows")
    for task_id in counts:
        if task_id not in ready:
            problems.append(f"instance {instance.id}: open row for {task_id} but the task is not ready")
    return problems


def check_all(session: Session, platform) -> list[str]:
    """Differences over every instance, running or finished."""
    problems = []
    for instance in session.scalars(select(ProcessInstance).order_by(ProcessInstance.id)):
        problems.extend(check_instance(session, platform, instance))
    return problems
