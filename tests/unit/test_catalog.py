"""The reference catalogue: counts, 双集中 routing, item elements, reform cuts, broken catalogues."""

import json
import shutil
from pathlib import Path

import pytest

from engine.catalog import (
    BASIC_ELEMENTS,
    STAGES,
    Catalog,
    CatalogError,
    load_catalog,
    load_items,
    reform_cuts,
)
from engine.errors import EngineError

CATALOG_DIR = Path(__file__).resolve().parents[2] / "catalog"

BPMN_ITEMS = {
    "S1-PROJ-APPROVAL": "drc", "S1-PROJ-RATIFY": "drc", "S1-PROJ-FILING": "drc",
    "S1-LAND-PREREVIEW": "planning", "S1-LAND-PERMIT": "planning", "S1-EIA": "environment",
    "S2-DESIGN-SCHEME": "planning", "S2-PLAN-PERMIT": "planning", "S2-CIVIL-DEFENCE": "civil_defence",
    "S2-LIGHTNING-DESIGN": "meteorology", "S3-DRAWING-REVIEW": "housing", "S3-FIRE-DESIGN": "fire",
    "S3-CIVIL-DEFENCE-DESIGN": "civil_defence", "S3-CONSTRUCTION-PERMIT": "housing",
    "S4-PLAN-VERIFY": "planning", "S4-FIRE-ACCEPTANCE": "fire", "S4-CIVIL-DEFENCE-ACCEPTANCE": "civil_defence",
    "S4-ARCHIVES": "archives", "S4-JOINT-ACCEPTANCE": "housing", "S4-COMPLETION-FILING": "housing",
    "P-WATER": "utilities", "P-POWER": "utilities", "P-GAS": "utilities",
}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(CATALOG_DIR)


@pytest.fixture
def broken_dir(tmp_path: Path) -> Path:
    """A writable copy of the shipped catalogue, to break in a test."""
    target = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, target)
    return target


def _edit(path: Path, change) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")


# ---------------------------------------------------------------- counts


def test_unit_counts(catalog):
    assert len(catalog.units) == 331
    assert sum(u.level == "province" for u in catalog.units) == 16
    assert {u.level for u in catalog.units} == {"province", "city", "district"}


def test_division_counts(catalog):
    levels = [d.level for d in catalog.divisions]
    assert levels.count("province") == 1
    assert levels.count("city") == 20
    assert levels.count("district") == 8
    assert catalog.province().code == "460000"


def test_yangpu_has_a_custom_code(catalog):
    yangpu = catalog.division("469100")
    assert yangpu.name == "洋浦经济开发区" and yangpu.custom_code and yangpu.level == "city"
    assert not any(d.custom_code for d in catalog.divisions if d.code != "469100")


def test_both_concentration_paths_exist(catalog):
    cities = [d for d in catalog.divisions if d.level == "city"]
    off = [d.code for d in cities if not d.concentrated]
    assert 2 <= len(off) <= 3 and "460300" in off


def test_item_counts(catalog):
    assert len(catalog.items) == 67
    assert catalog.item_set.version == "2019.1" and catalog.item_set.effective_from == "2019-06-01"
    assert sum(len(catalog.items_for_stage(s)) for s in STAGES) == 67
    assert all(catalog.items_for_stage(s) for s in STAGES)
    assert catalog.baseline is not None and catalog.baseline.version == "2018.0"


def test_flow_types_are_the_national_list(catalog):
    assert [f["code"] for f in catalog.flow_types] == list(range(1, 11))
    targets = {f["code"]: f["target_working_days"] for f in catalog.flow_types}
    assert targets[1] == 120 and targets[3] == 100 and targets[4] == 80


# ---------------------------------------------------------------- routing


def test_every_pair_routes_to_one_unit_serving_the_role(catalog):
    roles = catalog.routed_roles()
    assert "applicant" not in roles and "intermediary" not in roles and len(roles) == len(catalog.roles) - 2
    for role in roles:
        for division in catalog.divisions:
            unit = catalog.route(role, division.code)
            assert unit.serves(role), (role, division.code, unit.code)
    table = catalog.routing_table()
    assert len(table) == len(roles) * len(catalog.divisions)


def test_every_city_level_area_is_served_for_every_role(catalog):
    for city in (d for d in catalog.divisions if d.level == "city"):
        for role in catalog.routed_roles():
            unit = catalog.route(role, city.code)
            assert unit.division in (city.code, "460000") or (role, city.code) in catalog.rules.overrides


@pytest.mark.parametrize(
    ("role", "division", "unit"),
    [
        # concentrated city: concentrable roles go to the approval bureau
        ("window", "460100", "460100-ASB"),
        ("planning", "460100", "460100-ASB"),
        ("drc", "469002", "469002-ASB"),
        ("environment", "469100", "469100-ASB"),
        # not concentrated: the department of the role
        ("window", "469025", "469025-PSC"),
        ("planning", "469025", "469025-NRP"),
        ("drc", "469029", "469029-DRC"),
        ("window", "460300", "460300-PSC"),
        # roles that stay with their department even in a concentrated city
        ("fire", "460100", "460100-HUD"),
        ("fire", "469025", "469025-HUD"),
        ("archives", "460100", "460100-ARC"),
        ("archives", "469021", "469021-HUD"),
        ("meteorology", "460200", "460200-MET"),
        ("utilities", "460100", "460100-PSC"),
        # no unit in the city: the province
        ("seismic", "460100", "460000-SEI"),
        ("culture", "460300", "460000-CUL"),
        # explicit override
        ("meteorology", "469100", "460400-MET"),
        # the province routes to provincial units
        ("drc", "460000", "460000-DRC"),
        ("fire", "460000", "460000-HUD"),
        ("window", "460000", "460000-PSC"),
    ],
)
def test_route_table(catalog, role, division, unit):
    assert catalog.route(role, division).code == unit


@pytest.mark.parametrize("role", ["window", "drc", "planning", "environment", "civil_defence", "water"])
def test_concentrated_and_not_route_differently(catalog, role):
    on, off = catalog.route(role, "469021"), catalog.route(role, "469025")  # 定安 vs 白沙
    assert on.kind == "approval_bureau" and on.division == "469021"
    assert off.kind != "approval_bureau" and off.division == "469025"
    assert catalog.roles[role].concentrable


@pytest.mark.parametrize(
    ("role", "district", "unit"),
    [
        ("housing", "460106", "460106-ASB"),  # the district bureau holds it
        ("window", "460203", "460203-ASB"),
        ("emergency", "460107", "460107-EMG"),  # a district department
        ("planning", "460106", "460100-ASB"),  # falls back to the city
        ("fire", "460105", "460100-HUD"),
        ("archives", "460205", "460200-ARC"),
        ("meteorology", "460204", "460200-MET"),
        ("telecom", "460108", "460000-TEL"),  # city has none either: the province
    ],
)
def test_district_fallback(catalog, role, district, unit):
    assert catalog.route(role, district).code == unit


def test_district_without_unit_routes_like_its_city(catalog):
    for district in (d for d in catalog.divisions if d.level == "district"):
        own = {r for u in catalog.units if u.division == district.code for r in u.roles}
        for role in set(catalog.routed_roles()) - own:
            assert catalog.route(role, district.code) == catalog.route(role, district.parent)


def test_applicant_is_not_routed(catalog):
    with pytest.raises(CatalogError, match="not routed"):
        catalog.route("applicant", "460100")


@pytest.mark.parametrize(("role", "division"), [("nobody", "460100"), ("drc", "999999"), ("drc", "")])
def test_unknown_role_or_division(catalog, role, division):
    with pytest.raises(CatalogError) as info:
        catalog.route(role, division)
    assert isinstance(info.value, EngineError) and info.value.problems


def test_route_item_uses_the_item_level(catalog):
    assert catalog.route_item("S1-SEISMIC", "460106").code == "460000-SEI"  # province-level item
    assert catalog.route_item("S3-CONSTRUCTION-PERMIT", "460106").code == "460100-ASB"  # city level
    assert catalog.route_item("S2-ROAD-EXCAVATION", "460106").code == "460106-ASB"  # district level
    assert catalog.route_item("S2-ROAD-EXCAVATION", "469025").code == "469025-LAW"


def test_units_for(catalog):
    fire = catalog.units_for("fire")
    assert fire and all(u.serves("fire") for u in fire)
    assert catalog.units_for("applicant") == []
    with pytest.raises(CatalogError):
        catalog.units_for("nobody")


# ---------------------------------------------------------------- items


def test_bpmn_item_codes_exist_with_their_roles(catalog):
    for code, role in BPMN_ITEMS.items():
        assert catalog.item(code).role == role
    with pytest.raises(CatalogError):
        catalog.item("S9-NOTHING")


def test_key_limits(catalog):
    def limit(code):
        lim = catalog.item(code).statutory_limit
        return lim.value, lim.unit

    assert limit("S1-PROJ-RATIFY") == (20, "working_days")
    assert limit("S1-PROJ-FILING") == (0, "immediate")
    assert limit("S1-LAND-PERMIT") == (20, "working_days")
    assert limit("S1-EIA") == (30, "calendar_days")
    assert limit("S2-PLAN-PERMIT") == (20, "working_days")
    assert limit("S3-FIRE-DESIGN") == (15, "working_days")
    assert limit("S3-CONSTRUCTION-PERMIT") == (7, "working_days")
    assert limit("S4-FIRE-ACCEPTANCE") == (15, "working_days")
    report = [v for v in catalog.item("S1-EIA").details["variants"] if v["case"] == "环境影响报告书"]
    assert report[0]["statutory_limit"] == {"value": 60, "unit": "calendar_days"}


def test_basic_elements_filled(catalog):
    for version in (catalog.item_set, catalog.baseline):
        for item in version.items:
            for element in BASIC_ELEMENTS:
                assert getattr(item, element), (version.version, item.code, element)
            assert item.committed_limit.in_working_days() <= item.statutory_limit.in_working_days() + 1e-9


def test_refined_elements_of_current_items(catalog):
    for item in catalog.items:
        assert item.correction_clock in ("resume", "restart")
        assert item.result_name and item.details["consult_phone"] and item.details["complaint_phone"]
        assert item.details["handling_forms"] and item.details["service_objects"]
        assert isinstance(item.details["special_procedures"], list)
        for m in item.materials:
            assert m.name and m.issuer and m.original + m.copies >= 1
            assert m.required or not m.essential


def test_item_codes_unique_and_roles_known(catalog):
    codes = [i.code for i in catalog.items]
    assert len(codes) == len(set(codes))
    assert {i.role for i in catalog.items} <= set(catalog.roles)


# ---------------------------------------------------------------- reform cuts


def test_reform_cuts_match_the_reported_figures(catalog):
    cuts = reform_cuts(catalog.baseline, catalog.item_set)
    assert abs(cuts["items"] - 30) <= 3
    assert abs(cuts["materials"] - 32) <= 3
    assert abs(cuts["time_limits"] - 57) <= 3
    assert cuts["baseline"]["items"] == 96 and cuts["current"]["items"] == 67
    assert reform_cuts(catalog.baseline.items, catalog.items) == cuts


def test_baseline_spans_about_twenty_departments(catalog):
    roles = {i.role for i in catalog.baseline.items}
    assert 18 <= len(roles) <= 22


def test_load_items_alone():
    items = load_items(CATALOG_DIR / "items_baseline.json")
    assert items.effective_from == "2018-01-01" and len(items.items) == 96


# ---------------------------------------------------------------- broken catalogues


def test_broken_catalogue_lists_every_problem(broken_dir):
    def break_units(data):
        data["units"][0]["division"] = "999999"
        data["units"][1]["roles"].append("astrology")
        data["units"].append(dict(data["units"][2]))  # duplicate code

    def break_items(data):
        data["items"][0]["role"] = "astrology"
        data["items"][1]["fees"] = ""
        data["items"][2]["committed_limit"] = {"value": 3, "unit": "fortnights"}

    _edit(broken_dir / "units.json", break_units)
    _edit(broken_dir / "items.json", break_items)
    with pytest.raises(CatalogError) as info:
        load_catalog(broken_dir)
    text = "\n".join(info.value.problems)
    assert len(info.value.problems) >= 5
    for needle in ("unknown division '999999'", "'astrology'", "duplicate unit code",
                   "basic elements not filled: fees", "fortnights"):
        assert needle in text, needle


def test_unreachable_role_is_reported(broken_dir):
    def drop_seismic(data):
        data["units"] = [u for u in data["units"] if "seismic" not in u["roles"]]

    _edit(broken_dir / "units.json", drop_seismic)
    with pytest.raises(CatalogError, match="no unit serves seismic for division 460100"):
        load_catalog(broken_dir)


def test_ambiguous_route_is_reported(broken_dir):
    def second_drc(data):
        twin = dict(next(u for u in data["units"] if u["code"] == "469025-DRC"), code="469025-DRC2")
        data["units"].append(twin)

    _edit(broken_dir / "units.json", second_drc)
    with pytest.raises(CatalogError, match="ambiguous"):
        load_catalog(broken_dir)


def test_bad_override_is_reported(broken_dir):
    def bad(data):
        data["overrides"].append({"role": "fire", "division": "460100", "unit": "460100-MET"})

    _edit(broken_dir / "routing.json", bad)
    with pytest.raises(CatalogError, match="does not serve fire"):
        load_catalog(broken_dir)


def test_missing_or_invalid_file(broken_dir):
    (broken_dir / "roles.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(CatalogError, match="roles.json"):
        load_catalog(broken_dir)
    (broken_dir / "roles.json").unlink()
    with pytest.raises(CatalogError, match="missing catalogue file roles.json"):
        load_catalog(broken_dir)
