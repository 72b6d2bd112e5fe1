"""The item decisions (processes/decisions/*.dmn), table-driven: every rule has a case that fires it.

Each case starts the stage process with some facts and reads the plan it
decided; the matched rules of every case together must cover every rule of
every table.  The static checks keep the DMN, the catalogue and the BPMN lanes
in step: an item a decision can select exists, belongs to the stage, and its
department has a multi-instance review in the stage's process.
"""

from pathlib import Path

import pytest
from lxml import etree
from SpiffWorkflow.util.task import TaskState

from app.stages import MERGED_STAGES
from engine.catalog import load_catalog
from engine.decisions import FACT_DEFAULTS, FEATURES, decision_tables, facts, output_codes, rule_outputs
from engine.specs import read_directory
from tests.unit.test_processes import make_runtime

ROOT = Path(__file__).resolve().parents[2]
CATALOG = load_catalog(ROOT / "catalog")
FILES = read_directory(ROOT / "processes")
STAGE_OF = {"initiation_items": ("stage_initiation", "initiation", "stages/initiation.bpmn"),
            "engineering_items": ("stage_engineering", "engineering", "stages/engineering.bpmn"),
            "construction_items": ("stage_construction", "construction", "stages/construction.bpmn"),
            "acceptance_items": ("stage_acceptance", "acceptance", "stages/acceptance.bpmn"),
            "parallel_items": ("parallel_utilities", "parallel", "parallel/utilities.bpmn")}
BPMN = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}


def feature(name):
    return {"features": [name]}


# (decision, facts, items that must be decided, items that must not)
CASES = [
    ("initiation_items", {"investment_type": "government", "total_investment": 6000.0},
     {"S1-PROJ-PROPOSAL", "S1-PROJ-APPROVAL"}, {"S1-PROJ-RATIFY", "S1-PROJ-FILING"}),
    ("initiation_items", {"investment_type": "government", "total_investment": 3000.0},
     {"S1-PROJ-APPROVAL"}, {"S1-PROJ-PROPOSAL", "S1-ENERGY"}),
    ("initiation_items", {"investment_type": "ratification"}, {"S1-PROJ-RATIFY"}, {"S1-PROJ-FILING"}),
    ("initiation_items", {"investment_type": "filing"}, {"S1-PROJ-FILING"}, {"S1-PROJ-RATIFY"}),
    ("initiation_items", {"total_investment": 5000.0}, {"S1-ENERGY"}, set()),
    ("initiation_items", {"total_investment": 5000.0, "regional_assessment": True}, set(), {"S1-ENERGY"}),
    ("initiation_items", {}, {"S1-LAND-PREREVIEW", "S1-LAND-PERMIT", "S1-GEOHAZARD", "S1-EIA"},
     {"S1-LAND-ALLOCATION", "S1-EIA-REGISTRATION", "S1-SOIL-WATER", "S1-ARCHAEOLOGY", "S1-SEISMIC"}),
    ("initiation_items", {"flow_type": 5}, {"S1-LAND-PERMIT"}, {"S1-LAND-PREREVIEW"}),
    ("initiation_items", {"flow_type": 1}, {"S1-LAND-ALLOCATION"}, set()),
    ("initiation_items", {"simplified_park": True}, {"S1-EIA-REGISTRATION"},
     {"S1-LAND-PREREVIEW", "S1-LAND-PERMIT", "S1-LAND-ALLOCATION", "S1-EIA"}),
    ("initiation_items", {"regional_assessment": True}, {"S1-EIA-REGISTRATION"}, {"S1-EIA", "S1-GEOHAZARD"}),
    ("initiation_items", feature("farmland_conversion"), {"S1-AGRI-CONVERSION"}, set()),
    ("initiation_items", feature("mineral_overlay"), {"S1-MINERAL"}, set()),
    ("initiation_items", {**feature("mineral_overlay"), "regional_assessment": True}, set(), {"S1-MINERAL"}),
    ("initiation_items", feature("sea_use"), {"S1-SEA-USE"}, set()),
    ("initiation_items", {"land_area": 10000.0}, {"S1-SOIL-WATER"}, {"S1-ARCHAEOLOGY"}),
    ("initiation_items", {"land_area": 9999.0}, set(), {"S1-SOIL-WATER"}),
    ("initiation_items", {"land_area": 50000.0}, {"S1-SOIL-WATER", "S1-ARCHAEOLOGY"}, set()),
    ("initiation_items", {"land_area": 50000.0, "regional_assessment": True}, set(),
     {"S1-SOIL-WATER", "S1-ARCHAEOLOGY"}),
    ("initiation_items", feature("water_intake"), {"S1-WATER-INTAKE"}, set()),
    ("initiation_items", feature("flood_area"), {"S1-FLOOD"}, set()),
    ("initiation_items", {**feature("flood_area"), "regional_assessment": True}, set(), {"S1-FLOOD"}),
    ("initiation_items", feature("forest_land"), {"S1-FOREST-LAND"}, set()),
    ("initiation_items", {"flow_type": 7}, {"S1-SEISMIC"}, set()),
    ("initiation_items", feature("seismic_review"), {"S1-SEISMIC"}, set()),
    ("initiation_items", {"flow_type": 9, "regional_assessment": True}, set(), {"S1-SEISMIC"}),
    ("initiation_items", feature("fishery_reserve"), {"S1-FISHERY-IMPACT"}, set()),
    ("initiation_items", feature("navigable_waters"), {"S1-NAVIGATION"}, set()),
    ("initiation_items", feature("hazardous_chemicals"), {"S1-SAFETY-CONDITIONS"}, set()),
    ("engineering_items", {"investment_type": "government"}, {"S2-PRELIM-DESIGN"}, set()),
    ("engineering_items", {}, {"S2-DESIGN-SCHEME", "S2-PLAN-PERMIT", "S2-LIGHTNING-DESIGN"},
     {"S2-PRELIM-DESIGN", "S2-CIVIL-DEFENCE", "S2-SEISMIC-HIGHRISE", "S2-WASTE-DISPOSAL"}),
    ("engineering_items", {"flow_type": 5}, {"S2-PLAN-PERMIT"}, {"S2-DESIGN-SCHEME"}),
    ("engineering_items", {"flow_type": 2}, set(), {"S2-LIGHTNING-DESIGN"}),
    ("engineering_items", {"civil_defence_area": 1.0}, {"S2-CIVIL-DEFENCE"}, set()),
    ("engineering_items", {"building_height": 101.0}, {"S2-SEISMIC-HIGHRISE"}, set()),
    ("engineering_items", {"building_height": 100.0}, set(), {"S2-SEISMIC-HIGHRISE"}),
    ("engineering_items", {"total_floor_area": 10000.0}, {"S2-WASTE-DISPOSAL"}, set()),
    ("engineering_items", feature("radiation_medical"), {"S2-RADIATION-PREEVAL"}, set()),
    ("engineering_items", feature("hazardous_chemicals"), {"S2-SAFETY-DESIGN"}, set()),
    ("engineering_items", feature("highway_access"), {"S2-HIGHWAY-ACCESS"}, set()),
    ("engineering_items", feature("road_excavation"), {"S2-ROAD-EXCAVATION"}, set()),
    ("engineering_items", feature("pipeline_on_road"), {"S2-PIPELINE-ROAD"}, set()),
    ("engineering_items", feature("green_occupation"), {"S2-GREEN-OCCUPY"}, set()),
    ("engineering_items", feature("tree_felling"), {"S2-TREE-FELLING"}, set()),
    ("engineering_items", feature("relics_control_zone"), {"S2-RELICS-SCHEME"}, set()),
    ("engineering_items", {"flow_type": 8}, {"S2-WATER-DESIGN"}, {"S2-HIGHWAY-DESIGN"}),
    ("engineering_items", {"flow_type": 7}, {"S2-HIGHWAY-DESIGN"}, {"S2-WATER-DESIGN"}),
    ("construction_items", {}, {"S3-DRAWING-REVIEW", "S3-CONSTRUCTION-PERMIT", "S3-FIRE-DESIGN-FILING"},
     {"S3-FIRE-DESIGN", "S3-CIVIL-DEFENCE-DESIGN", "S3-TENDER-REPORT"}),
    ("construction_items", {"total_floor_area": 20000.0}, {"S3-FIRE-DESIGN"}, {"S3-FIRE-DESIGN-FILING"}),
    ("construction_items", {"building_height": 50.0}, {"S3-FIRE-DESIGN"}, {"S3-FIRE-DESIGN-FILING"}),
    ("construction_items", {"flow_type": 7}, {"S3-HIGHWAY-PERMIT"},
     {"S3-DRAWING-REVIEW", "S3-CONSTRUCTION-PERMIT", "S3-FIRE-DESIGN-FILING"}),
    ("construction_items", {"flow_type": 8}, {"S3-WATER-START"}, {"S3-DRAWING-REVIEW"}),
    ("construction_items", {"civil_defence_area": 500.0}, {"S3-CIVIL-DEFENCE-DESIGN"}, set()),
    ("construction_items", feature("sewage_discharge"), {"S3-SEWAGE-PERMIT"}, set()),
    ("construction_items", feature("night_work"), {"S3-NIGHT-WORK"}, set()),
    ("construction_items", {"investment_type": "government"}, {"S3-TENDER-REPORT"}, set()),
    ("construction_items", {"contract_price": 400.0}, {"S3-TENDER-REPORT"}, set()),
    ("construction_items", {"contract_price": 399.0}, set(), {"S3-TENDER-REPORT"}),
    ("acceptance_items", {}, {"S4-PLAN-VERIFY", "S4-FIRE-FILING", "S4-ARCHIVES", "S4-LIGHTNING-ACCEPTANCE"},
     {"S4-FIRE-ACCEPTANCE", "S4-CIVIL-DEFENCE-ACCEPTANCE", "S4-SOIL-WATER-ACCEPTANCE"}),
    ("acceptance_items", {"total_floor_area": 30000.0}, {"S4-FIRE-ACCEPTANCE"}, {"S4-FIRE-FILING"}),
    ("acceptance_items", {"building_height": 60.0}, {"S4-FIRE-ACCEPTANCE"}, {"S4-FIRE-FILING"}),
    ("acceptance_items", {"civil_defence_area": 10.0}, {"S4-CIVIL-DEFENCE-ACCEPTANCE"}, set()),
    ("acceptance_items", {"land_area": 20000.0}, {"S4-SOIL-WATER-ACCEPTANCE"}, set()),
    ("acceptance_items", {"land_area": 20000.0, "regional_assessment": True}, set(), {"S4-SOIL-WATER-ACCEPTANCE"}),
    ("acceptance_items", {"flow_type": 9}, {"S4-PLAN-VERIFY"}, {"S4-LIGHTNING-ACCEPTANCE"}),
    ("acceptance_items", {"flow_type": 7}, {"S4-HIGHWAY-ACCEPTANCE", "S4-ARCHIVES"},
     {"S4-PLAN-VERIFY", "S4-FIRE-FILING"}),
    ("acceptance_items", {"flow_type": 8}, {"S4-WATER-ACCEPTANCE"}, {"S4-PLAN-VERIFY"}),
    ("parallel_items", {"connections": ["water", "gas"]}, {"P-WATER", "P-GAS"}, {"P-POWER", "P-TELECOM"}),
    ("parallel_items", {"connections": ["drainage", "power", "temp_power", "telecom"]},
     {"P-DRAINAGE", "P-POWER", "P-TEMP-POWER", "P-TELECOM"}, {"P-WATER", "P-GAS"}),
]


@pytest.fixture(scope="module")
def runtime():
    return make_runtime()


def decide(runtime, decision: str, overrides: dict) -> tuple[set[str], set[str]]:
    """Start the decision's stage with these facts: (decided codes, ids of the rules that matched)."""
    process_id = STAGE_OF[decision][0]
    workflow = runtime.start(runtime.specs.get(process_id, 1),
                             {"project": {"code": "2026-460100-48-02-000017"}, "application": {},
                              "facts": facts(**overrides)})
    task = next(t for t in workflow.get_tasks(state=TaskState.COMPLETED) if t.task_spec.name == "decide_items")
    rules = {rule.id for rule in task.task_spec.dmnEngine.decide(task)}
    window = workflow.get_next_task(spec_name="window_accept")
    return {entry["code"] for entry in window.data["decided"]}, rules


@pytest.mark.parametrize("decision,overrides,present,absent", CASES)
def test_decision_case(runtime, decision, overrides, present, absent):
    decided, _ = decide(runtime, decision, overrides)
    assert present <= decided, present - decided
    assert not (absent & decided), absent & decided


def test_the_cases_fire_every_rule_of_every_table(runtime):
    fired: dict[str, set[str]] = {}
    for decision, overrides, _, _ in CASES:
        fired.setdefault(decision, set()).update(decide(runtime, decision, overrides)[1])
    for name, content in FILES.items():
        if name.endswith(".dmn"):
            for decision, table in decision_tables(etree.fromstring(content)).items():
                rules = {rule_id for rule_id, _ in rule_outputs(table)}
                assert rules - fired.get(decision, set()) == set(), f"{decision}: rules without a case"


def test_a_project_needs_different_items_by_flow_type_and_zone(runtime):
    general, _ = decide(runtime, "initiation_items", {"flow_type": 3, "land_area": 20000.0})
    zone, _ = decide(runtime, "initiation_items", {"flow_type": 3, "land_area": 20000.0, "regional_assessment": True})
    park, _ = decide(runtime, "initiation_items", {"flow_type": 3, "simplified_park": True})
    assert general - zone == {"S1-EIA", "S1-GEOHAZARD", "S1-SOIL-WATER"}
    assert zone - general == {"S1-EIA-REGISTRATION"}
    assert {"S1-LAND-PREREVIEW", "S1-LAND-PERMIT"} & park == set()


def test_every_decided_item_exists_in_its_stage_and_department_lane():
    for decision, codes in output_codes(FILES).items():
        _, stage, path = STAGE_OF[decision]
        bpmns = [path] + (["stages/engineering.bpmn"] if decision == "construction_items" else [])
        for code in codes:
            item = CATALOG.item(code)
            assert item.stage == stage, (decision, code)
            for bpmn in bpmns:
                root = etree.fromstring(FILES[bpmn])
                key = bpmn.split("/")[1].removesuffix(".bpmn").replace("utilities", "parallel")
                sub = root.xpath(f"//bpmn:subProcess[@id='Sub_{key}_{item.role}']", namespaces=BPMN)
                assert sub, f"{bpmn} has no multi-instance review for {item.role} ({code})"
                loop = sub[0].find("bpmn:multiInstanceLoopCharacteristics/bpmn:loopDataInputRef", BPMN)
                assert loop.text == f"items_{item.role}"


def test_every_role_with_commitments_has_a_verification_lane():
    root = etree.fromstring(FILES["common/commitment_verification.bpmn"])
    lanes = {lane.get("name") for lane in root.iter("{*}lane")}
    assert {i.role for i in CATALOG.items if i.commitment_allowed} <= lanes


def test_merged_stages_follow_the_flow_type_list():
    listed = {f["code"]: f.get("merged_stages", []) for f in CATALOG.flow_types}
    for flow_type, merges in listed.items():
        expected = {later: earlier for earlier, later in merges}
        assert MERGED_STAGES.get(flow_type, {}) == expected, flow_type


def test_facts_and_features_are_named_consistently():
    assert set(facts()) == set(FACT_DEFAULTS)
    with pytest.raises(KeyError):
        facts(no_such_fact=1)
    dmn_text = b"".join(c for n, c in FILES.items() if n.endswith(".dmn")).decode()
    for stage, features in FEATURES.items():
        for name in features:
            assert f"'{name}' in ?" in dmn_text, f"feature {name} ({stage}) is read by no rule"
