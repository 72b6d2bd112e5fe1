"""Demo data of the portal's other two platforms: Haikou's plan layers and two registered intermediaries."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Enterprise, IntermediaryFirm, IntermediaryQualification, PlanZone

DEMO_DIVISION = "460100"


def _box(x0: float, y0: float, x1: float, y1: float) -> str:
    return json.dumps({"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]})


#: Haikou's demo plan layers (一张蓝图), lon/lat: a planned construction area with protected zones inside it.
DEMO_ZONES = (
    ("construction_land", "江东新区规划建设用地", _box(110.28, 19.98, 110.42, 20.06)),
    ("ecological_red_line", "东寨港红树林生态保护红线", _box(110.30, 20.00, 110.32, 20.02)),
    ("permanent_farmland", "演丰镇永久基本农田", _box(110.34, 20.00, 110.36, 20.02)),
    ("forest", "江东沿海防护林", _box(110.37, 20.03, 110.39, 20.05)),
    ("water_source", "南渡江饮用水水源二级保护区", _box(110.29, 20.035, 110.31, 20.05)),
    ("cultural_relics", "琼山古城墙遗址保护范围", _box(110.33, 19.985, 110.335, 19.99)),
)
#: A site that reaches into the red line (a finding for 生态环境), for the demo run and the browser test.
DEMO_SITE = {"type": "Polygon", "coordinates": [[[110.315, 20.005], [110.326, 20.005], [110.326, 20.014],
                                                  [110.315, 20.014], [110.315, 20.005]]]}
#: A site clear of every protected zone, inside the planned construction land.
CLEAR_SITE = {"type": "Polygon", "coordinates": [[[110.322, 20.022], [110.330, 20.022], [110.330, 20.029],
                                                   [110.322, 20.029], [110.322, 20.022]]]}

#: The demo intermediaries: (credit code, name, contact, qualifications [(service, grade, certificate)]).
DEMO_FIRMS = (
    ("91460100MA5T0JJ01W", "海南琼岛施工图审查中心有限公司", "0898-66000001",
     (("drawing_review", "一类", "琼审图证字第001号"), ("geohazard", "乙级", "琼地灾评字第017号"))),
    ("91460100MA5T0JJ020", "海南椰城工程咨询有限公司", "0898-66000002",
     (("drawing_review", "二类", "琼审图证字第014号"), ("eia", "乙级", "琼环评字第033号"))),
)


def seed_zones(session: Session, platform) -> int:
    """Haikou's demo plan layers, once."""
    if session.scalar(select(PlanZone.id).where(PlanZone.division_code == DEMO_DIVISION).limit(1)):
        return 0
    for kind, name, geometry in DEMO_ZONES:
        session.add(PlanZone(division_code=DEMO_DIVISION, kind=kind, name=name, geometry=geometry,
                             updated_at=platform.now()))
    session.flush()
    return len(DEMO_ZONES)


def seed_firms(session: Session, platform) -> dict[str, int]:
    """The demo intermediaries with their qualifications, once; returns their enterprise ids by credit code."""
    from ..intermediary import registry
    kinds = registry.service_kinds(platform)
    today = platform.now().date()
    out = {}
    for credit, name, contact, qualifications in DEMO_FIRMS:
        enterprise = session.scalar(select(Enterprise).where(Enterprise.credit_code == credit))
        if enterprise is None:
            enterprise = Enterprise(name=name, credit_code=credit)
            session.add(enterprise)
            session.flush()
        out[credit] = enterprise.id
        if session.scalar(select(IntermediaryFirm.id).where(IntermediaryFirm.enterprise_id == enterprise.id)):
            continue
        firm = IntermediaryFirm(enterprise_id=enterprise.id, division_code=DEMO_DIVISION, contact=contact,
                                introduction=f"{name}，入驻海南省中介超市。", registered_at=platform.now())
        session.add(firm)
        session.flush()
        for service, grade, certificate in qualifications:
            session.add(IntermediaryQualification(
                firm_id=firm.id, service=service, grade=grade, certificate_no=certificate,
                valid_from=today - dt.timedelta(days=365), valid_until=today + dt.timedelta(days=3 * 365),
                items=json.dumps(list(kinds[service].items))))
    session.flush()
    return out
