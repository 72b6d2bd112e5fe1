"""Derive the SPGL rows from the platform's own records.

Each row is known by its local key (DFSJZJ), names the local key of the parent
row it waits for, and carries the fields of its table.  Nothing here writes:
``push`` compares these rows with what was pushed before.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, undefer

from ...models import (
    Deployment,
    Enterprise,
    ExchangeRow,
    ItemHandling,
    ItemHandlingEvent,
    Material,
    ProcessInstance,
    Project,
    SpecialProcedure,
    Unit,
    User,
)
from ...stages import BY_KEY, STAGES
from ..people import results
from ..timelimits import handlings, special_procedures
from . import tables as t
from .codes import CodeBook

PROVINCE = "460000"
LXLX = {"government": "1", "ratification": "2", "filing": "3"}
FINISHED_OK = {handlings.APPROVED, 12}
NO_EXPIRY = dt.date(9999, 1, 1)


@dataclass
class Derived:
    """One row as the platform would push it now."""

    table: str
    key: str
    division: str
    fields: dict[str, Any]
    project_code: str | None = None
    parent_key: str | None = None
    notes: list[str] = field(default_factory=list)


def flow_code(flow_type: int) -> str:
    """The local approval flow code (SPLCBM) of a flow type."""
    return f"HN-SPLC-{flow_type:02d}"


def version_of(spec_key: str) -> int:
    """The deployed version in a spec key ``process@version``."""
    return int(spec_key.rpartition("@")[2] or 0)


def _flow_rows(platform, flows: set[tuple[int, int]], deployed: dict[int, dt.datetime]) -> Iterator[Derived]:
    names = {int(f["code"]): f["name"] for f in platform.catalog.flow_types}
    for flow_type, version in sorted(flows):
        base = {"SPLCBM": flow_code(flow_type), "SPLCBBH": version}
        key = f"{flow_type}@{version}"
        yield Derived(t.FLOW.name, key, PROVINCE, {
            **base, "SPLCMC": names.get(flow_type, f"流程类型{flow_type}"),
            "SPLCSXSJ": deployed.get(version), "SPLCLX": flow_type,
            "SPLCSM": "海南省工程建设项目审批流程（四个阶段及并行推进）"})
        for stage in STAGES:
            stage_key = f"{key}/{stage.key}"
            yield Derived(t.STAGE.name, stage_key, PROVINCE, {
                **base, "SPJDBM": stage.key, "SPJDMC": stage.name, "SPJDXH": stage.order,
                "DYBZSPJDXH": stage.order}, parent_key=key)
            for item in platform.catalog.items_for_stage(stage.key):
                limit = item.committed_limit or item.statutory_limit
                yield Derived(t.STAGE_ITEM.name, f"{stage_key}/{item.code}", PROVINCE, {
                    **base, "SPJDXH": stage.order, "SPSXBM": item.code, "SPSXBBH": platform.catalog.item_set.version,
                    "SPSXMC": item.name, "SFSXGZCNZ": int(item.commitment_allowed),
                    "SPSXBLSX": limit.value if limit else None, "SPBMBM": item.role,
                    "SPBMMC": platform.catalog.roles[item.role].name if item.role in platform.catalog.roles
                    else item.role}, parent_key=stage_key)


def _application(instance: ProcessInstance | None) -> dict[str, Any]:
    if instance is None:
        return {}
    try:
        return json.loads(instance.application or "{}")
    except ValueError:
        return {}


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _project_row(project: Project, enterprise: Enterprise | None, instances: list[ProcessInstance],
                 codes: CodeBook) -> Derived:
    by_stage: dict[str, ProcessInstance] = {}
    for instance in instances:  # the latest application of each stage
        by_stage[instance.stage_key] = instance
    first = instances[0]
    app1, app2, app3 = (_application(by_stage.get(k)) for k in ("initiation", "engineering", "construction"))
    finished = by_stage.get("acceptance")
    done = finished is not None and finished.status == "approved"
    government = project.investment_type == "government"
    fields = {
        "XMDM": project.code, "XMMC": project.name, "GCDM": project.code, "GCFW": app1.get("construction_content"),
        "XMTZLY": "1" if government else "2", "TDHQFS": codes.default("TDHQFS"),
        "TDSFDSJFA": int(project.flow_type == 5), "SFWCQYPG": int(bool(app1.get("regional_assessment_zone"))),
        "SPLCLX": project.flow_type, "LXLX": LXLX.get(project.investment_type), "GCFL": codes.default("GCFL"),
        "JSXZ": codes.default("JSXZ"), "XMZJSX": "1" if government else "2", "GBHYDMFBND": "2017",
        "GBHY": codes.default("GBHY"), "NKGSJ": _date(app3.get("planned_start_date")),
        "NJCSJ": _date(app3.get("planned_completion_date")), "XMSFWQBJ": int(done),
        "XMWQBJSJ": finished.completed_at if done else None, "ZTZE": app1.get("total_investment"),
        "JSDDXZQH": project.division_code, "JSDD": app1.get("site_address"),
        "JSGMJNR": app1.get("construction_content"), "YDMJ": app1.get("land_area"),
        "JZMJ": app2.get("total_floor_area"), "SBSJ": first.started_at,
        "SPLCBM": flow_code(project.flow_type), "SPLCBBH": version_of(first.spec_key),
        "JSDW": enterprise.name if enterprise else None, "JSDWDM": enterprise.credit_code if enterprise else None,
        "SFXXGC": int(project.flow_type == 2)}
    return Derived(t.PROJECT.name, project.code, project.division_code, fields, project.code,
                   parent_key=f"{project.flow_type}@{version_of(first.spec_key)}")


def item_instance_code(handling: ItemHandling) -> str:
    """The item instance code (SPSXSLBM) of an item handling: stable and unique."""
    return f"{handling.project_code}-{handling.item_code}-{handling.id}"


class Extractor:
    """Reads the platform's records in batches of projects and yields their rows.

    ``rows()`` covers every project with at least one application; ``rows(codes)``
    only the projects named (the flow rows always: they are few).
    """

    BATCH = 500

    def __init__(self, session: Session, platform, codes: CodeBook):
        self.session, self.platform, self.codes = session, platform, codes
        self.units = {u.id: u for u in session.scalars(select(Unit))}
        self.users = {u.id: u.display_name for u in session.scalars(select(User))}

    def rows(self, project_codes: set[str] | None = None) -> Iterator[Derived]:
        """The rows the platform would push now, flows first, then project by project."""
        s = self.session
        first = (select(ProcessInstance.project_id, func.min(ProcessInstance.id).label("first_id"))
                 .where(ProcessInstance.stage_key.in_(tuple(BY_KEY))).group_by(ProcessInstance.project_id)
                 .subquery())
        started = s.execute(select(Project.id, Project.code, Project.flow_type, ProcessInstance.spec_key)
                            .join(first, first.c.project_id == Project.id)
                            .join(ProcessInstance, ProcessInstance.id == first.c.first_id)).all()
        deployed = {d.version: d.created_at for d in s.scalars(select(Deployment))}
        yield from _flow_rows(self.platform, {(ft, version_of(key)) for _, _, ft, key in started}, deployed)
        ids = sorted(pid for pid, code, _, _ in started if project_codes is None or code in project_codes)
        for start in range(0, len(ids), self.BATCH):
            yield from self._batch(ids[start:start + self.BATCH])

    def _batch(self, project_ids: list[int]) -> Iterator[Derived]:
        s = self.session
        projects = list(s.scalars(select(Project).where(Project.id.in_(project_ids)).order_by(Project.id)))
        by_project: dict[int, list[ProcessInstance]] = defaultdict(list)
        for instance in s.scalars(select(ProcessInstance).options(undefer(ProcessInstance.application))
                                  .where(ProcessInstance.project_id.in_(project_ids),
                                         ProcessInstance.stage_key.in_(tuple(BY_KEY)))
                                  .order_by(ProcessInstance.id)):
            by_project[instance.project_id].append(instance)
        enterprises = {e.id: e for e in s.scalars(select(Enterprise).where(
            Enterprise.id.in_({p.enterprise_id for p in projects})))}
        for project in projects:
            yield _project_row(project, enterprises.get(project.enterprise_id), by_project[project.id], self.codes)
        for project in projects:
            enterprise = enterprises.get(project.enterprise_id)
            if enterprise is not None:
                yield Derived(t.UNIT.name, f"{project.code}/{enterprise.credit_code}", project.division_code, {
                    "XMDM": project.code, "GCDM": project.code, "DWTYSHXYDM": enterprise.credit_code,
                    "DWMC": enterprise.name, "DWLX": self.codes.default("DWLX")}, project.code, project.code)
        yield from self._items(projects, by_project)
        yield from self._materials(projects)
        others: list[Derived] = []  # the tables of domains above this one (intermediary services)
        self.platform.hooks.emit("exchange_rows", s, self.platform, projects, others)
        yield from others

    def _items(self, projects: list[Project], by_project) -> Iterator[Derived]:
        s = self.session
        project_by_code = {p.code: p for p in projects}
        instance_by_id = {i.id: i for rows in by_project.values() for i in rows}
        handling_rows = list(s.scalars(select(ItemHandling).where(
            ItemHandling.project_id.in_([p.id for p in projects]),
            ItemHandling.instance_id.in_(list(instance_by_id) or [0])).order_by(ItemHandling.id)))
        handling_ids = [h.id for h in handling_rows] or [0]
        units, users = self.units, self.users
        events: dict[int, list[ItemHandlingEvent]] = defaultdict(list)
        for event in s.scalars(select(ItemHandlingEvent).where(ItemHandlingEvent.handling_id.in_(handling_ids))
                               .order_by(ItemHandlingEvent.id)):
            events[event.handling_id].append(event)
        procedures: dict[int, list[SpecialProcedure]] = defaultdict(list)
        for procedure in s.scalars(select(SpecialProcedure).where(SpecialProcedure.handling_id.in_(handling_ids))
                                   .order_by(SpecialProcedure.id)):
            procedures[procedure.handling_id].append(procedure)
        items, details, specials, documents = [], [], [], []
        for h in handling_rows:
            project, instance = project_by_code[h.project_code], instance_by_id[h.instance_id]
            unit = units.get(h.unit_id)
            code = item_instance_code(h)
            gcdm = h.engineering_code or project.code
            application = _application(instance)
            items.append(Derived(t.ITEM.name, f"H{h.id}", project.division_code, {
                "XMDM": project.code, "GCDM": gcdm, "SPSXBM": h.item_code,
                "SPSXBBH": self.platform.catalog.item_set.version, "SPLCBM": flow_code(project.flow_type),
                "SPLCBBH": version_of(by_project[project.id][0].spec_key), "SPSXSLBM": code,
                "SPBMBM": unit.code if unit else None, "SPBMMC": unit.name if unit else None,
                "SLFS": self.codes.default("SLFS"), "GKFS": self.codes.default("GKFS"),
                "BLSPSLBM": f"{project.code}-S{instance.id}", "SXBLSX": h.limit_value,
                "LXR": application.get("contact_name"), "LXRSJH": application.get("contact_phone"),
                "SLSJ": h.accepted_at}, project.code, project.code))
            for event in events.get(h.id, []):
                details.append(Derived(t.DETAIL.name, f"E{event.id}", project.division_code, {
                    "GCDM": gcdm, "SPSXSLBM": code, "BLCS": unit.name if unit else "综合受理窗口",
                    "BLR": users.get(event.actor_id, "系统"), "BLZT": event.state, "BLYJ": event.opinion or None,
                    "BLSJ": event.at, "DWMC": unit.name if unit else None}, project.code, f"H{h.id}"))
            for procedure in procedures.get(h.id, []):
                name = special_procedures.KINDS.get(procedure.kind, procedure.kind)
                specials.append(Derived(t.SPECIAL.name, f"T{procedure.id}", project.division_code, {
                    "GCDM": gcdm, "SPSXSLBM": code, "TBCX": self.codes.code_named("TBCX", name), "TBCXMC": name,
                    "TBCXKSSJ": procedure.started_at, "TBCXSXLX": 1, "TBCXSX": procedure.expected_days,
                    "TBCXJSSJ": procedure.ended_at, "TBCXJG": procedure.result or None}, project.code, f"H{h.id}"))
            if h.state in FINISHED_OK and instance.status == "approved":
                documents.append((h, project, instance, code, gcdm))
        yield from items
        yield from details
        yield from specials
        yield from self._documents(documents)

    def _documents(self, documents) -> Iterator[Derived]:
        """Approval documents of approved items, numbered by the stage's issued result."""
        keys = [f"D{h.id}" for h, *_ in documents]
        known = {r.local_key: json.loads(r.content) for r in self.session.scalars(
            select(ExchangeRow).where(ExchangeRow.table_name == t.DOCUMENT.name,
                                      ExchangeRow.local_key.in_(keys)))} if keys else {}
        numbers: dict[int, str | None] = {}
        for h, project, instance, code, gcdm in documents:
            key = f"D{h.id}"
            number = known.get(key, {}).get("PFWH")
            if number is None:
                if instance.id not in numbers:  # a finished instance's result never changes: read it once
                    issued = results.issued_result(self.session, self.platform, project, instance.id)
                    numbers[instance.id] = (issued.data.get("result_number") if issued else None)
                number = numbers[instance.id]
            if number is None:
                continue
            try:
                title = self.platform.catalog.item(h.item_code).result_name or None
            except Exception:  # noqa: BLE001 - an item no longer in the catalogue has no title
                title = None
            yield Derived(t.DOCUMENT.name, key, project.division_code, {
                "GCDM": gcdm, "SPSXSLBM": code, "PFRQ": h.finished_at.date() if h.finished_at else None,
                "PFWH": number, "PFWJBT": title, "PFWJYXQX": NO_EXPIRY, "BLZT": h.state}, project.code, f"H{h.id}")

    def _materials(self, projects: list[Project]) -> Iterator[Derived]:
        by_id = {p.id: p for p in projects}
        for material in self.session.scalars(select(Material).where(Material.project_id.in_(list(by_id)))
                                             .order_by(Material.id)):
            project = by_id.get(material.project_id)
            if project is None:
                continue
            yield Derived(t.MATERIAL.name, f"M{material.id}", project.division_code, {
                "XMDM": project.code, "GCDM": project.code, "CLMC": material.name,
                "CLFL": self.codes.default("FJFL"), "CLLX": material.content_type, "CLID": material.sha256,
                "SQFS": 1}, project.code, project.code)
