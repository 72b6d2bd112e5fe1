"""The stages of a project (一家牵头、并联审批、限时办结) and their order."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Stage:
    """One stage pipeline: its process, application form and predecessor."""

    key: str
    order: int
    name: str
    name_en: str
    process_id: str
    form: str
    lead_role: str
    requires: str | None


STAGES: tuple[Stage, ...] = (
    Stage("initiation", 1, "立项用地规划许可", "Initiation and land-use planning permit",
          "stage_initiation", "stage1_application.schema.json", "drc", None),
    Stage("engineering", 2, "工程建设许可", "Engineering construction permit",
          "stage_engineering", "stage2_application.schema.json", "planning", "initiation"),
    Stage("construction", 3, "施工许可", "Construction permit",
          "stage_construction", "stage3_application.schema.json", "housing", "engineering"),
    Stage("acceptance", 4, "竣工验收", "Completion acceptance",
          "stage_acceptance", "stage4_application.schema.json", "housing", "construction"),
    Stage("parallel", 5, "并行推进", "Parallel track (utility connections)",
          "parallel_utilities", "parallel_application.schema.json", "utilities", "initiation"),
)
BY_KEY = {s.key: s for s in STAGES}
#: The process that verifies a signed commitment (告知承诺) after the approval; its instances'
#: ``stage_key`` is ``VERIFICATION_STAGE``.
VERIFICATION_PROCESS, VERIFICATION_STAGE = "commitment_verification", "verification"
#: Process ids that a deployment must contain.
REQUIRED_PROCESSES = tuple(s.process_id for s in STAGES) + ("correction", VERIFICATION_PROCESS)
#: Stages handled inside another stage, by flow type (catalog/flow_types.json ``merged_stages``;
#: a test keeps the two in step): land sold with a design scheme merges construction into engineering.
MERGED_STAGES: dict[int, dict[str, str]] = {5: {"construction": "engineering"}}


def stage(key: str) -> Stage | None:
    """The stage with this key, or None."""
    return BY_KEY.get(key)


def merged_into(flow_type: int | None, key: str) -> str | None:
    """The stage that handles stage ``key`` for projects of ``flow_type``, when merged into one."""
    return MERGED_STAGES.get(flow_type or 0, {}).get(key)


def stage_approved(project, key: str) -> bool:
    """Whether a project's stage ``key`` is approved (a merged stage: when its host stage is)."""
    handled_by = merged_into(project.flow_type, key) or key
    return any(i.stage_key == handled_by and i.status == "approved" for i in project.instances)
