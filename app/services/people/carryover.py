"""Data that carries over (一次填报、多次复用): a stage form starts filled from what is known.

The project's own facts, the enterprise's record, the latest application of every earlier
stage (contacts, addresses, areas), an earlier application of the same stage (a refused or
withdrawn one refiled), and the permit numbers issued with earlier stages' results.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from ...models import Project
from ...stages import Stage
from . import results

#: Form field <- the item whose issued certificate number fills it.
PERMIT_FIELDS = {"land_permit_number": "S1-LAND-PERMIT", "plan_permit_number": "S2-PLAN-PERMIT",
                 "construction_permit_number": "S3-CONSTRUCTION-PERMIT"}
#: Fields that say the same thing in several stages' forms: (this stage's field, an earlier field).
SAME_FACTS = (("contact_name", "contact_name"), ("contact_phone", "contact_phone"),
              ("site_address", "site_address"), ("actual_floor_area", "total_floor_area"))


def permit_numbers(session: Session, platform, project: Project) -> dict[str, str]:
    """Certificate numbers issued for the project, by item code (the latest issue wins)."""
    found: dict[str, str] = {}
    for issued in results.issued_results(session, platform, project):
        for cert in issued.data.get("certificates") or ():
            if isinstance(cert, dict) and cert.get("item_code") and cert.get("certificate_number"):
                found[cert["item_code"]] = str(cert["certificate_number"])
    return found


def stage_prefill(session: Session, platform, project: Project, stage: Stage) -> dict[str, Any]:
    """First values of a stage's form: typed data (as the application would hold it), never invented."""
    properties = platform.forms.schema(stage.form).get("properties", {})
    earlier = [i for i in sorted(project.instances, key=lambda i: i.id) if i.application]
    values: dict[str, Any] = {}
    for instance in earlier:  # oldest first: later applications override
        try:
            data = json.loads(instance.application or "{}")
        except ValueError:
            continue
        if instance.stage_key == stage.key:  # this stage filed before (refused, withdrawn): all of it
            values.update({k: v for k, v in data.items() if k in properties and k != "commitments"})
            continue
        for mine, theirs in SAME_FACTS:
            if mine in properties and data.get(theirs) not in (None, ""):
                values[mine] = data[theirs]
    if any(name in properties for name in PERMIT_FIELDS):
        issued = permit_numbers(session, platform, project)
        for name, item_code in PERMIT_FIELDS.items():
            if name in properties and item_code in issued:
                values[name] = issued[item_code]
    if "project_name" in properties:
        values.setdefault("project_name", project.name)
    if "investment_type" in properties and project.investment_type:
        values.setdefault("investment_type", project.investment_type)
    enterprise = project.enterprise
    if enterprise is not None:
        for name, attr in (("applicant_name", "name"), ("applicant_credit_code", "credit_code")):
            if name in properties:
                values[name] = getattr(enterprise, attr)
    return values
