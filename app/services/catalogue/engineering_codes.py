"""三级工程码: level-2 codes for sub-projects (stage 2), level-3 codes for units or sections (stage 3).

Level 1 is the project code.  When a project is split at the engineering stage
the applicant (or the window) names its sub-projects and each gets
``<project>-Gnn``; at the construction stage each unit (单体) or section (标段)
of a sub-project gets ``<sub-project>-Dnn``.  Codes are numbered in order,
never reused, and stored in ``engineering_code``; a lookup by a code of any
level finds the project and the part the code stands for.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.codes import parse_engineering_code, section_code, sub_project_code

from ...db import is_sqlite
from ...errors import Conflict, Forbidden, InvalidInput
from ...models import EngineeringCode, Project, User
from ...stages import stage_approved
from ...text import clean_name
from ..trail import audit

KINDS = {2: ("sub_project",), 3: ("unit", "section")}
KIND_NAMES = {"project": "项目", "sub_project": "子项目（工程）", "unit": "单体", "section": "标段"}
MAX_PER_PARENT = 99
MAX_PER_REQUEST = 50


def part(session: Session, code: str) -> EngineeringCode | None:
    """The issued level-2 or level-3 code ``code`` (case-insensitive), or None."""
    return session.scalar(select(EngineeringCode).where(EngineeringCode.code == code.strip().upper()))


def _names(names: Any) -> list[str]:
    if not isinstance(names, list) or not 1 <= len(names) <= MAX_PER_REQUEST:
        raise InvalidInput(f"'names' must list 1 to {MAX_PER_REQUEST} names", {"names": "required"})
    cleaned = [clean_name(n) for n in names if isinstance(n, str)]
    if len(cleaned) != len(names) or not all(1 <= len(n) <= 100 for n in cleaned):
        raise InvalidInput("every name has 1 to 100 characters", {"names": "每个名称1至100个字符"})
    if len(set(cleaned)) != len(cleaned):
        raise InvalidInput("names must be distinct", {"names": "名称不能重复"})
    return cleaned


def _may_issue(user: User, project: Project) -> None:
    if user.role == "applicant" and user.enterprise_id == project.enterprise_id:
        return
    if user.role not in ("window", "admin"):
        raise Forbidden("only the project's applicant or the window issues engineering codes")


def issue(session: Session, platform, actor: User, project: Project, parent_code: str, names: Any,
          kind: str) -> list[EngineeringCode]:
    """Issue the next codes under ``parent_code`` (the project or a sub-project), one per name."""
    names = _names(names)
    _may_issue(actor, project)
    level = parse_engineering_code(parent_code).level + 1
    if kind not in KINDS.get(level, ()):
        raise InvalidInput(f"a level-{level} code is one of: {', '.join(KINDS.get(level, ())) or 'none'}",
                           {"kind": "unknown kind"})
    _lock(session, project)
    used = session.scalar(select(func.max(EngineeringCode.seq)).where(
        EngineeringCode.parent_code == parent_code)) or 0
    if used + len(names) > MAX_PER_PARENT:
        raise Conflict(f"at most {MAX_PER_PARENT} codes can be issued under {parent_code}")
    make = sub_project_code if level == 2 else section_code
    rows = []
    for seq, name in enumerate(names, start=used + 1):
        row = EngineeringCode(code=make(parent_code, seq), project_id=project.id, level=level,
                              parent_code=parent_code, seq=seq, name=name, kind=kind,
                              created_at=platform.now(), created_by=actor.id)
        session.add(row)
        rows.append(row)
        audit.record(session, platform, "engineering_code_issued", actor=actor, project_code=project.code,
                     engineering_code=row.code, detail={"level": level, "name": name, "kind": kind})
    session.flush()
    return rows


def _lock(session: Session, project: Project) -> None:
    """Serialize numbering per project (the write transaction already does it on SQLite)."""
    if not is_sqlite(session):
        session.execute(select(Project.id).where(Project.id == project.id).with_for_update())


def issue_sub_projects(session: Session, platform, actor: User, project: Project, code: str,
                       names: Any) -> list[EngineeringCode]:
    """Split a project into sub-projects at the engineering stage (level 2)."""
    if parse_engineering_code(code).level != 1:
        raise InvalidInput("sub-projects are issued under the project code (level 1)", {"code": "level 1 expected"})
    if not stage_approved(project, "initiation"):
        raise Conflict("sub-project codes are issued from the engineering stage on (initiation not approved yet)")
    return issue(session, platform, actor, project, project.code, names, "sub_project")


def issue_sections(session: Session, platform, actor: User, project: Project, code: str, names: Any,
                   kind: Any) -> list[EngineeringCode]:
    """Give the units or sections of a sub-project their codes at the construction stage (level 3)."""
    parent = part(session, code)
    if parent is None or parent.level != 2:
        raise InvalidInput("units and sections are issued under a sub-project code (level 2)",
                           {"code": "an issued level-2 code expected"})
    if not stage_approved(project, "engineering"):
        raise Conflict("unit and section codes are issued from the construction stage on "
                       "(engineering not approved yet)")
    return issue(session, platform, actor, project, parent.code, names, kind if isinstance(kind, str) else "")


def part_view(row: EngineeringCode | None, project: Project) -> dict[str, Any]:
    """The part of the project a code stands for (the project itself for level 1)."""
    if row is None:
        return {"code": project.code, "level": 1, "kind": "project", "kind_name": KIND_NAMES["project"],
                "name": project.name, "parent": None}
    return {"code": row.code, "level": row.level, "kind": row.kind, "kind_name": KIND_NAMES.get(row.kind, row.kind),
            "name": row.name, "parent": row.parent_code}


def codes_view(session: Session, project: Project) -> list[dict[str, Any]]:
    """Every issued level-2 code of a project with its level-3 codes beneath it."""
    rows = session.scalars(select(EngineeringCode).where(EngineeringCode.project_id == project.id)
                           .order_by(EngineeringCode.level, EngineeringCode.parent_code, EngineeringCode.seq)).all()
    tree = {r.code: {**part_view(r, project), "parts": []} for r in rows if r.level == 2}
    for r in rows:
        if r.level == 3 and r.parent_code in tree:
            tree[r.parent_code]["parts"].append(part_view(r, project))
    return list(tree.values())
