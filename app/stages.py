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
#: Process ids that a deployment must contain.
REQUIRED_PROCESSES = tuple(s.process_id for s in STAGES) + ("correction",)


def stage(key: str) -> Stage | None:
    """The stage with this key, or None."""
    return BY_KEY.get(key)
