"""Which items a stage needs: the facts its DMN decisions read and the plan they produce.

Each stage process starts with a business rule task that evaluates the stage's
decision table (``processes/decisions/<stage>_items.dmn``, hit policy COLLECT)
over ``facts``: the flow type, the investment type, the scale of the project,
whether the site lies in a regional-assessment zone (区域评估) or a 极简审批
park, and the features the applicant ticked.  The decision outputs item codes
under ``<stage>_items``; the script task after it calls ``plan_items(...)``
(a data helper bound to the task data) to turn them into the plan ``decided``:
one entry ``{code, name, role, commitment}`` per item, in decision order, and
splits it into one list per department lane (``items_<role>``), over which the
department's review runs as a multi-instance.

Nothing here imports the application; the catalogue is passed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lxml import etree
from SpiffWorkflow.util.task import TaskState

from .sandbox import HelperFactory

#: Every fact a decision may read, with the value used when nothing says otherwise.
FACT_DEFAULTS: dict[str, Any] = {
    "flow_type": 3,
    "investment_type": "filing",
    "regional_assessment": False,
    "simplified_park": False,
    "total_investment": 0.0,
    "land_area": 0.0,
    "total_floor_area": 0.0,
    "building_height": 0.0,
    "civil_defence_area": 0.0,
    "contract_price": 0.0,
    "features": [],
    "connections": [],
    "merge_construction": False,
}

#: Project features an applicant may tick on a stage's form (情形选择), by stage.
FEATURES: dict[str, dict[str, str]] = {
    "initiation": {
        "farmland_conversion": "占用农用地（需办理农用地转用和土地征收）",
        "mineral_overlay": "压覆重要矿产资源",
        "sea_use": "使用海域",
        "water_intake": "直接从江河、湖泊或地下取水",
        "flood_area": "位于河道管理范围或蓄滞洪区",
        "forest_land": "使用林地",
        "seismic_review": "重大建设工程或可能发生严重次生灾害的建设工程",
        "fishery_reserve": "涉及水产种质资源保护区",
        "navigable_waters": "跨越、穿越或临近通航水域",
        "hazardous_chemicals": "危险化学品生产、储存建设项目",
    },
    "engineering": {
        "radiation_medical": "放射诊疗建设项目",
        "hazardous_chemicals": "危险化学品生产、储存建设项目",
        "highway_access": "涉及公路用地或建筑控制区",
        "road_excavation": "占用、挖掘城市道路",
        "pipeline_on_road": "依附城市道路建设管线、杆线",
        "green_occupation": "临时占用城市绿地",
        "tree_felling": "砍伐、迁移城市树木",
        "relics_control_zone": "位于文物保护单位建设控制地带",
    },
    "construction": {
        "sewage_discharge": "向城镇排水管网排放污水",
        "night_work": "夜间施工作业",
    },
    "acceptance": {},
    "parallel": {},
}

#: Utility connections of the parallel track: form field -> item code.
CONNECTIONS: dict[str, str] = {"water": "P-WATER", "drainage": "P-DRAINAGE", "power": "P-POWER",
                               "temp_power": "P-TEMP-POWER", "gas": "P-GAS", "telecom": "P-TELECOM"}


def facts(**overrides: Any) -> dict[str, Any]:
    """A complete set of decision facts: the defaults with ``overrides`` laid over them."""
    unknown = set(overrides) - set(FACT_DEFAULTS)
    if unknown:
        raise KeyError(f"unknown decision facts: {sorted(unknown)}")
    merged = {k: (list(v) if isinstance(v, list) else v) for k, v in FACT_DEFAULTS.items()}
    merged.update(overrides)
    return merged


def plan_helpers(catalog) -> dict[str, HelperFactory]:
    """The ``plan_items`` data helper for stage scripts, bound to a catalogue."""

    def factory(context: dict):
        def plan_items(*names: str) -> list[dict]:
            """The decided items of the named decision outputs, each once, in decision order."""
            application = context.get("application")
            signed = application.get("commitments") if isinstance(application, dict) else None
            signed = set(signed) if isinstance(signed, list) else set()
            # a planning-generation result (项目策划生成) settled some items and requires others
            seen: set[str] = {c for c in context.get("settled_items") or () if isinstance(c, str)}
            plan = []
            for name in (*names, "required_items"):
                for code in context.get(name) or ():
                    if code in seen:
                        continue
                    seen.add(code)
                    item = catalog.item(code)
                    plan.append({"code": code, "name": item.name, "role": item.role,
                                 "commitment": bool(item.commitment_allowed and code in signed)})
            return plan
        return plan_items

    return {"plan_items": factory}


def decided_items(workflow) -> list[dict] | None:
    """The plan (``decided``) of a stage instance, or None when the process makes none."""
    for task in workflow.get_tasks(state=TaskState.READY | TaskState.COMPLETED):
        plan = task.data.get("decided")
        if isinstance(plan, list):
            return plan
    return None


def completed_answer(workflow, spec_name: str) -> dict | None:
    """The form data of the last completed task ``spec_name`` of the top-level process."""
    found = None
    for task in workflow.get_tasks(spec_name=spec_name, state=TaskState.COMPLETED):
        if task.workflow is workflow and isinstance(task.data.get(spec_name), dict):
            if found is None or task.last_state_change > found.last_state_change:
                found = task
    return found.data[spec_name] if found is not None else None


# ---------------------------------------------------------------------- DMN files
DMN_TEXT = "{*}text"


def decision_tables(root: etree._Element) -> dict[str, etree._Element]:
    """The decision tables of a DMN document by decision id."""
    found = {}
    for decision in root.iter("{*}decision"):
        table = decision.find("{*}decisionTable")
        if table is not None:
            found[decision.get("id")] = table
    return found


def rule_outputs(table: etree._Element) -> list[tuple[str, list[str]]]:
    """Each rule of a table as ``(rule id, [output expressions])``."""
    return [(rule.get("id"), [(entry.findtext(DMN_TEXT) or "").strip() for entry in rule.iter("{*}outputEntry")])
            for rule in table.iter("{*}rule")]


def output_codes(files: Mapping[str, bytes]) -> dict[str, set[str]]:
    """Every item code each decision of a file set can output (string literals only)."""
    codes: dict[str, set[str]] = {}
    for name, content in files.items():
        if not name.endswith(".dmn"):
            continue
        root = etree.fromstring(content, etree.XMLParser(resolve_entities=False, no_network=True))
        for decision_id, table in decision_tables(root).items():
            for _, outputs in rule_outputs(table):
                codes.setdefault(decision_id, set()).update(_literal(o) for o in outputs if _literal(o))
    return codes


def _literal(expression: str) -> str | None:
    if len(expression) >= 2 and expression[0] == expression[-1] and expression[0] in "'\"":
        return expression[1:-1]
    return None

