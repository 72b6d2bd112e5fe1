"""The audit trail (全程留痕)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from ...models import AuditEvent, ProcessInstance, User


def record(session: Session, platform, kind: str, actor: User | None = None,
           instance: ProcessInstance | None = None, project_code: str | None = None,
           detail: dict[str, Any] | None = None, engineering_code: str | None = None) -> AuditEvent:
    """Append one audit event in the caller's transaction.

    ``engineering_code`` is the level 1-3 code (三级工程码) the event concerns; by
    default the code the instance's application was filed under.
    """
    if instance is not None and project_code is None:
        project_code = instance.project.code
    if instance is not None and engineering_code is None:
        engineering_code = instance.engineering_code
    event = AuditEvent(at=platform.now(), actor_id=actor.id if actor else None,
                       project_code=project_code, engineering_code=engineering_code or project_code,
                       instance_id=instance.id if instance else None,
                       kind=kind, detail=json.dumps(detail or {}, ensure_ascii=False, default=str))
    session.add(event)
    return event
