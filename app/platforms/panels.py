"""What the officer's task page shows of either platform (one call from the workbench's task view)."""

from __future__ import annotations

from ..services.intermediary import contracts
from ..services.planning import generation, zones
from ..web import platform
from . import maps


def task_panels(session, row) -> dict:
    """For a department's planning opinion: the proposal, its findings for the department and the map; for a
    stage-1 task of a generated project: the planning conditions; for an item's review: the intermediary
    reports it needs."""
    instance = row.instance
    found = {"planning_task": None, "planning_conditions": None, "intermediary_reports": []}
    if instance.process_id == generation.PROCESS_ID:
        proposal = session.scalar(generation.select_by_instance(instance.id))
        if proposal is not None:
            mine = generation.findings(proposal, row.lane_role) if row.spec_name.startswith("review_") else []
            found["planning_task"] = {
                "proposal": proposal, "mine": mine, "all": generation.findings(proposal),
                "map": maps.layers(zones.zones_of(session, proposal.project.division_code), proposal.site,
                                   generation.findings(proposal))}
    else:
        found["planning_conditions"] = generation.stage_conditions(session, instance)
        found["intermediary_reports"] = contracts.reports_for_item(session, platform(), instance.project,
                                                                   row.item_code)
    return found
