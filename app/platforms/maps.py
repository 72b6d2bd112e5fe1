"""What the Leaflet maps draw: plan zones, a site and the zones it touches (GeoJSON for the page)."""

from __future__ import annotations

import json

from ..i18n import is_english
from ..services.planning import zones as plan_zones


def layers(zone_rows, site: str | dict | None = None, findings: list[dict] | None = None) -> dict:
    """The map's data: every zone with its kind, the site, and which zones the site touches."""
    hits = {f["zone_id"] for f in findings or ()}
    english = is_english()
    return {"zones": [{"id": z.id, "name": z.name, "kind": z.kind,
                       "kind_name": plan_zones.KINDS[z.kind].name_en if english else plan_zones.KINDS[z.kind].name,
                       "hit": z.id in hits, "geometry": json.loads(z.geometry)} for z in zone_rows],
            "site": json.loads(site) if isinstance(site, str) and site else site}
