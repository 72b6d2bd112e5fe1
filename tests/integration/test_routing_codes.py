"""双集中 routing (every unit, the whole table, administration) and the 三级工程码, through the services and API."""

import uuid

import pytest
from sqlalchemy import select, update

from app.db import transaction
from app.models import AuditEvent, HumanTask, ItemHandling, ProcessInstance, Project, RouteEntry, Unit, User
from app.services.organisation import routing
from app.services.people import projects, results
from app.services.people.accounts import hash_password
from app.services.provisioning import reference
from app.services.workflow import instances, tasks
from app.stages import BY_KEY
from engine.runtime import UserTaskView
from tests.integration.catalogue_steps import (
    Officers,
    application,
    apply,
    declare,
    items,
    open_tasks,
    project,
    work,
)


@pytest.fixture
def officers(login):
    return Officers(login)


@pytest.fixture
def restore_routes(platform):
    """Put the catalogue's routing back after a test that changes it."""
    yield
    with transaction(platform.sessions) as session:
        session.execute(update(RouteEntry).values(set_by_admin=False))
        reference.load_organisation(session, platform.catalog)
    routing.invalidate()


def unit_ids(session) -> dict[str, int]:
    return {u.code: u.id for u in session.scalars(select(Unit))}


def test_every_role_and_division_resolves_to_the_catalogue_unit(platform):
    table = platform.catalog.routing_table()
    assert len(table) == len(platform.catalog.routed_roles()) * len(platform.catalog.divisions)
    with transaction(platform.sessions, write=False) as session:
        ids = unit_ids(session)
        assert session.query(RouteEntry).count() == len(table)
        for (role, division), unit_code in table.items():
            assert routing.resolve(session, role, division) == ids[unit_code], (role, division)


def _officer(session, unit: Unit) -> User:
    name = f"t_officer_{unit.code}"
    user = session.scalar(select(User).where(User.username == name))
    if user is None:
        user = User(username=name, display_name=name, role="officer", password_hash="-", unit_id=unit.id)
        session.add(user)
    return user


def test_an_officer_of_any_unit_sees_exactly_the_tasks_routed_to_it(platform):
    """One project per division, one open task per routed role in each: 609 tasks over 331 units."""
    catalog = platform.catalog
    with transaction(platform.sessions) as session:
        applicant = session.scalar(select(User).where(User.username == "applicant1"))
        expected: dict[str, set[int]] = {u.code: set() for u in catalog.units}
        for division in catalog.divisions:
            project = projects.create_project(session, platform, applicant, {
                "name": f"路由测试{division.code}", "division": division.code, "investment_type": "filing"})
            instance = instances.start_stage(session, platform, project, BY_KEY["parallel"],
                                             application("parallel"), applicant)
            views = [UserTaskView(task_id=str(uuid.uuid4()), spec_name=f"route_{role}", title=role, lane=role,
                                  process_id="routing", item_code=None, form=None, properties={})
                     for role in catalog.routed_roles()]
            tasks.sync_human_tasks(session, platform, instance, views)
            session.flush()
            rows = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                           HumanTask.status == "open")).all()
            assert len(rows) == len(views)
            for row in rows:
                expected[catalog.route(row.lane_role, division.code).code].add(row.id)
        units = session.scalars(select(Unit).order_by(Unit.code)).all()
        officers = {unit.code: _officer(session, unit) for unit in units}
    assert len(units) == 331
    with transaction(platform.sessions, write=False) as session:
        for unit in units:
            page = tasks.inbox(session, session.merge(officers[unit.code]), page_size=500)
            assert {row.id for row in page.rows} == expected[unit.code], unit.code
    assert sum(len(v) for v in expected.values()) == 609


def test_an_administrator_changes_a_route_and_reroutes_open_tasks(officers, platform, restore_routes):
    admin = officers("admin")

    def put(role, division, body, who=admin):
        return who.client.put(f"/api/v1/routing/{role}/{division}", headers=who.headers, json=body)

    assert put("planning", "460100", {"unit_code": "460000-NRP"}, officers("window1")).status_code == 403
    assert put("nobody", "460100", {"unit_code": "460000-NRP"}).status_code == 404
    assert put("planning", "999999", {"unit_code": "460000-NRP"}).status_code == 404
    assert put("planning", "460100", {"unit_code": "NO-SUCH"}).status_code == 422
    assert put("planning", "460100", {"unit_code": "460000-DRC"}).status_code == 422  # does not serve planning
    assert put("planning", "460100", {}).status_code == 422
    haikou = admin.get("/routing?role=planning&division=460100").get_json()["routes"][0]["unit"]["code"]
    changed = put("planning", "460100", {"unit_code": "460000-NRP"})
    assert changed.status_code == 200 and changed.get_json()["previous"]["code"] == haikou

    code = declare(officers)
    apply(officers, code, "initiation", application("initiation"))
    work(officers, code, until=lambda t: t["lane"] != "window")
    province = officers.login(make_officer(platform, "460000-NRP"), "Test@2026")
    planning = [t for t in open_tasks(officers, code) if t["lane"] == "planning"]
    assert planning and officers("planning_haikou").get(f"/tasks?project={code}").get_json()["total"] == 0
    assert {t["id"] for t in province.get(f"/tasks?project={code}").get_json()["tasks"]} == {t["id"] for t in planning}

    assert put("planning", "460100", {"unit_code": haikou}).status_code == 200
    assert admin.post("/routing/reroute", {"role": "nobody"}).status_code == 422
    moved = admin.post("/routing/reroute", {"role": "planning"}).get_json()
    assert moved["rerouted"] == len(planning) and {t["to"] for t in moved["tasks"]} == {haikou}
    assert province.get(f"/tasks?project={code}").get_json()["total"] == 0
    assert officers("planning_haikou").get(f"/tasks?project={code}").get_json()["total"] == len(planning)
    with transaction(platform.sessions, write=False) as session:
        kinds = [e.kind for e in session.scalars(select(AuditEvent).where(
            AuditEvent.kind.in_(("route_changed", "task_rerouted"))))]
        handling_units = {h.unit_id for h in session.scalars(select(ItemHandling).where(
            ItemHandling.project_code == code, ItemHandling.item_code.like("S1-LAND%")))}
        assert handling_units == {unit_ids(session)[haikou]}
    assert kinds.count("route_changed") >= 2 and kinds.count("task_rerouted") == len(planning)
    assert admin.post("/routing/reroute").get_json()["rerouted"] == 0


def make_officer(platform, unit_code: str) -> str:
    """A new officer account of a unit (the demo has none for provincial units); its user name."""
    name = f"t_api_{unit_code}"
    with transaction(platform.sessions) as session:
        if session.scalar(select(User).where(User.username == name)) is None:
            unit = session.scalar(select(Unit).where(Unit.code == unit_code))
            session.add(User(username=name, display_name=name, role="officer", unit_id=unit.id,
                             password_hash=hash_password("Test@2026")))
    return name


def test_admin_routes_survive_reloading_the_catalogue(platform, restore_routes):
    with transaction(platform.sessions) as session:
        entry = session.get(RouteEntry, ("planning", "460200"))
        entry.unit_id, entry.set_by_admin = unit_ids(session)["460000-NRP"], True
    with transaction(platform.sessions) as session:
        reference.load_organisation(session, platform.catalog)
    routing.invalidate()
    with transaction(platform.sessions, write=False) as session:
        assert routing.resolve(session, "planning", "460200") == unit_ids(session)["460000-NRP"]
        assert routing.resolve(session, "planning", "460100") == unit_ids(session)["460100-ASB"]


def test_engineering_codes_of_every_level(officers, client, platform):
    code = declare(officers)
    applicant = officers("applicant1")
    assert applicant.post(f"/projects/{code}/sub-projects", {"names": ["1号楼"]}).status_code == 409
    apply(officers, code, "initiation", application("initiation"))
    work(officers, code)
    assert applicant.post(f"/projects/{code}/sub-projects", {"names": "1号楼"}).status_code == 422
    assert applicant.post(f"/projects/{code}/sub-projects", {"names": ["", "x"]}).status_code == 422
    assert officers("planning_haikou").post(f"/projects/{code}/sub-projects", {"names": ["x"]}).status_code == 403
    issued = applicant.post(f"/projects/{code}/sub-projects", {"names": ["1号楼", "2号楼"]})
    assert issued.status_code == 201
    g01, g02 = (c["code"] for c in issued.get_json()["codes"])
    assert (g01, g02) == (f"{code}-G01", f"{code}-G02")
    more = officers("window1").post(f"/projects/{code}/sub-projects", {"names": ["地下车库"]}).get_json()
    assert more["codes"][0]["code"] == f"{code}-G03"

    view = applicant.get(f"/projects/{g01}").get_json()
    assert view["code"] == code and view["part"] == {"code": g01, "level": 2, "kind": "sub_project",
                                                     "kind_name": "子项目（工程）", "name": "1号楼", "parent": code}
    public = client.get(f"/api/v1/public/projects/{g02.lower()}").get_json()
    assert public["part"]["name"] == "2号楼" and [c["code"] for c in public["codes"]] == [g01, g02, f"{code}-G03"]
    assert client.get(f"/api/v1/public/projects/{code}-G09").status_code == 404
    assert applicant.post(f"/projects/{g01}/sections", {"names": ["A标段"], "kind": "section"}).status_code == 409
    assert applicant.post(f"/projects/{code}/sections", {"names": ["A标段"]}).status_code == 422

    apply(officers, g01, "engineering", application("engineering"))  # filed for sub-project 1
    work(officers, g01)
    with transaction(platform.sessions, write=False) as session:
        instance = session.scalar(select(ProcessInstance).where(ProcessInstance.stage_key == "engineering",
                                                                ProcessInstance.engineering_code == g01))
        codes = {h.engineering_code for h in session.scalars(select(ItemHandling).where(
            ItemHandling.instance_id == instance.id))}
        audits = {e.engineering_code for e in session.scalars(select(AuditEvent).where(
            AuditEvent.instance_id == instance.id))}
        issued = {r.kind: r.engineering_code for r in results.issued_results(
            session, platform, session.get(Project, instance.project_id)) if r.stage_key == "engineering"}
    assert codes == {g01} and audits == {g01} and issued == {"window_issue": g01}
    assert {i["engineering_code"] for i in items(project(officers, code)).values() if i["item_code"][:2] == "S2"} \
        == {g01}
    sections = applicant.post(f"/projects/{g01}/sections", {"names": ["A标段", "B标段"], "kind": "section"})
    assert sections.status_code == 201
    d01 = sections.get_json()["codes"][0]["code"]
    assert d01 == f"{g01}-D01"
    assert applicant.post(f"/projects/{g01}/sections", {"names": ["C"], "kind": "tower"}).status_code == 422
    part = applicant.get(f"/projects/{d01}").get_json()["part"]
    assert part["level"] == 3 and part["kind"] == "section" and part["parent"] == g01
    tree = applicant.get(f"/projects/{code}/codes").get_json()["codes"]
    assert [p["code"] for p in tree[0]["parts"]] == [d01, f"{g01}-D02"]
    with transaction(platform.sessions, write=False) as session:
        issued_audits = {e.engineering_code for e in session.scalars(select(AuditEvent).where(
            AuditEvent.kind == "engineering_code_issued", AuditEvent.project_code == code))}
    assert {g01, g02, d01} <= issued_audits
