"""Stage drafts (草稿): what an applicant typed into a stage's form, kept on the server per stage.

A draft holds the posted strings field by field, exactly as typed (nothing is validated: a
draft may be half done), and is resumed when the stage's form is opened again; filing the
stage's application removes it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ...errors import InvalidInput
from ...models import Project, StageDraft, User

#: At most this many characters in one field and this many fields: a draft is a form, not a store.
MAX_FIELD, MAX_FIELDS = 20000, 200


def _clean(values: Mapping[str, Any], names: set[str]) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for name in names:
        raw = values.get(name)
        if isinstance(raw, list):
            raw = [str(v)[:MAX_FIELD] for v in raw if isinstance(v, (str, int, float))][:MAX_FIELDS]
        elif isinstance(raw, (str, int, float)) and not isinstance(raw, bool):
            raw = str(raw)[:MAX_FIELD]
        elif raw is None:
            continue
        else:
            raw = bool(raw)
        kept[name] = raw
    return kept


def save_draft(session: Session, platform, actor: User, project: Project, stage_key: str,
               values: Mapping[str, Any], field_names: set[str]) -> StageDraft:
    """Keep the typed values of the stage's form fields (others are dropped)."""
    if not isinstance(values, Mapping):
        raise InvalidInput("a draft is an object of the form's fields")
    kept = _clean(values, field_names)
    row = session.scalar(select(StageDraft).where(StageDraft.project_id == project.id,
                                                  StageDraft.stage_key == stage_key))
    if row is None:
        row = StageDraft(project_id=project.id, stage_key=stage_key)
        session.add(row)
    row.values = json.dumps(kept, ensure_ascii=False)
    row.updated_by, row.updated_at = actor.id, platform.now()
    session.flush()
    return row


def get_draft(session: Session, project: Project, stage_key: str) -> StageDraft | None:
    """The stage's draft, if one was saved."""
    return session.scalar(select(StageDraft).where(StageDraft.project_id == project.id,
                                                   StageDraft.stage_key == stage_key))


def draft_values(row: StageDraft | None) -> dict[str, Any]:
    """The typed values of a draft (empty without one)."""
    if row is None:
        return {}
    try:
        values = json.loads(row.values or "{}")
    except ValueError:
        return {}
    return values if isinstance(values, dict) else {}


def discard_draft(session: Session, project: Project, stage_key: str) -> None:
    """Remove the stage's draft (its application was filed)."""
    session.execute(delete(StageDraft).where(StageDraft.project_id == project.id,
                                             StageDraft.stage_key == stage_key))
