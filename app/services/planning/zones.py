"""Plan layers (一张蓝图) as data: zones per division, and a site checked against them with Shapely.

Geometries are GeoJSON in WGS 84 longitude/latitude.  Areas are measured after a
local equirectangular projection around the geometry's centre (metres), which is
well within a percent over the few kilometres of a project site.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import shapely
from shapely import make_valid
from shapely.errors import GEOSException
from shapely.geometry import MultiPolygon, Point, Polygon, mapping, shape
from shapely.validation import explain_validity
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import InvalidInput, NotFound
from ...models import Division, PlanZone, User
from ..trail import audit


@dataclass(frozen=True)
class ZoneKind:
    """A kind of plan zone: what it protects, the department concerned, and what a hit means."""

    code: str
    name: str
    name_en: str
    role: str  # the lane role of the department that answers for this layer
    inside_required: bool = False  # planned construction land: the site should lie inside it


KINDS: dict[str, ZoneKind] = {k.code: k for k in (
    ZoneKind("ecological_red_line", "生态保护红线", "Ecological red line", "environment"),
    ZoneKind("permanent_farmland", "永久基本农田", "Permanent basic farmland", "planning"),
    ZoneKind("forest", "林地（公益林）", "Forest land", "forestry"),
    ZoneKind("water_source", "饮用水水源保护区", "Drinking water source protection", "water"),
    ZoneKind("cultural_relics", "文物保护范围", "Cultural relics protection", "culture"),
    ZoneKind("construction_land", "规划建设用地", "Planned construction land", "planning", inside_required=True),
)}
MAX_GEOJSON_CHARS = 200_000
MAX_VERTICES = 5_000
#: metres per degree of latitude (mean) and of longitude at the equator
M_PER_DEG_LAT, M_PER_DEG_LON = 110_574.0, 111_320.0


def _to_metres(geom):
    lat0 = math.radians(geom.centroid.y if not geom.is_empty else 0.0)
    kx = M_PER_DEG_LON * math.cos(lat0)
    return shapely.transform(geom, lambda xy: xy * (kx, M_PER_DEG_LAT)), kx


def area_m2(geom) -> float:
    """The area of a lon/lat geometry in square metres."""
    projected, _ = _to_metres(geom)
    return float(projected.area)


def parse_geometry(raw: Any, field: str = "geometry", area: float | None = None, points: bool = True):
    """A Polygon or MultiPolygon from GeoJSON (text or object); a Point with ``area`` becomes a round site.

    Raises InvalidInput naming ``field`` for anything else: bad JSON, another type,
    coordinates off the globe, too many vertices, or a self-intersecting ring.
    """
    if isinstance(raw, str):
        if len(raw) > MAX_GEOJSON_CHARS:
            raise InvalidInput("the geometry is too large", {field: f"GeoJSON 不超过 {MAX_GEOJSON_CHARS} 字符"})
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise InvalidInput("the geometry is not JSON", {field: f"不是有效的 GeoJSON：{exc}"}) from exc
    if isinstance(raw, dict) and raw.get("type") == "Feature":
        raw = raw.get("geometry")
    if not isinstance(raw, dict) or raw.get("type") not in ("Polygon", "MultiPolygon", "Point"):
        raise InvalidInput("the geometry must be a GeoJSON Polygon, MultiPolygon or Point",
                           {field: "须为 GeoJSON 面（Polygon/MultiPolygon）或点（Point）"})
    if raw.get("type") == "Point" and not points:
        raise InvalidInput("the geometry must be a polygon", {field: "图层须为 GeoJSON 面（Polygon/MultiPolygon）"})
    try:
        geom = shape(raw)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, GEOSException) as exc:
        raise InvalidInput("the geometry's coordinates are malformed", {field: f"坐标格式有误：{exc}"}) from exc
    if geom.is_empty:
        raise InvalidInput("the geometry is empty", {field: "坐标为空"})
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise InvalidInput("coordinates must be longitude/latitude", {field: "坐标须为经度、纬度（WGS 84）"})
    if isinstance(geom, Point):
        if area is None or not 0 < area <= 100_000_000:
            raise InvalidInput("a point site needs its area", {field: "以点表示选址时须填写用地面积"})
        projected, kx = _to_metres(geom)
        circle = projected.buffer(math.sqrt(area / math.pi), quad_segs=16)
        geom = shapely.transform(circle, lambda xy: xy / (kx, M_PER_DEG_LAT))
    if sum(len(p.exterior.coords) + sum(len(r.coords) for r in p.interiors) for p in _polygons(geom)) > MAX_VERTICES:
        raise InvalidInput("too many vertices", {field: f"顶点不超过 {MAX_VERTICES} 个"})
    if not geom.is_valid:
        raise InvalidInput("the polygon is not valid",
                           {field: f"多边形无效（自相交或环不闭合）：{explain_validity(geom)}"})
    return geom


def _polygons(geom) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [geom]
    if isinstance(geom, MultiPolygon):
        return list(geom.geoms)
    return []


def as_geojson(geom) -> dict:
    """The GeoJSON object of a geometry."""
    return mapping(geom)


def zones_of(session: Session, division_code: str, active_only: bool = True) -> list[PlanZone]:
    """The zones of a division and of the city above it (a district's site meets its city's layers)."""
    codes = [division_code]
    parent = session.scalar(select(Division.parent_code).where(Division.code == division_code))
    while parent:
        codes.append(parent)
        parent = session.scalar(select(Division.parent_code).where(Division.code == parent))
    query = select(PlanZone).where(PlanZone.division_code.in_(codes))
    if active_only:
        query = query.where(PlanZone.active.is_(True))
    return list(session.scalars(query.order_by(PlanZone.kind, PlanZone.id)))


def all_zones(session: Session) -> list[PlanZone]:
    """Every zone, by division and kind (the administrators' list)."""
    return list(session.scalars(select(PlanZone).order_by(PlanZone.division_code, PlanZone.kind, PlanZone.id)))


def check_site(session: Session, division_code: str, site) -> list[dict]:
    """One finding per zone the site touches (or, for planned construction land, leaves), worst first."""
    findings = []
    site_area = area_m2(site)
    land = [z for z in zones_of(session, division_code) if KINDS[z.kind].inside_required]
    for zone in zones_of(session, division_code):
        kind = KINDS[zone.kind]
        if kind.inside_required:
            continue
        geom = make_valid(shape(json.loads(zone.geometry)))
        if not site.intersects(geom):
            continue
        overlap = area_m2(site.intersection(geom))
        findings.append(_finding(zone, kind, overlap, site_area, f"选址与{kind.name}“{zone.name}”重叠"))
    if land:
        union = make_valid(shape(json.loads(land[0].geometry)))
        for zone in land[1:]:
            union = union.union(make_valid(shape(json.loads(zone.geometry))))
        outside = area_m2(site.difference(union))
        if outside > 0.01 * site_area:
            kind = KINDS["construction_land"]
            findings.append(_finding(land[0], kind, outside, site_area, f"选址有部分位于{kind.name}范围之外"))
    return sorted(findings, key=lambda f: -f["share"])


def _finding(zone: PlanZone, kind: ZoneKind, overlap: float, site_area: float, text: str) -> dict:
    share = overlap / site_area if site_area else 0.0
    return {"zone_id": zone.id, "zone_name": zone.name, "kind": kind.code, "kind_name": kind.name,
            "kind_name_en": kind.name_en, "role": kind.role, "area_m2": round(overlap, 1),
            "share": round(share, 4), "text": f"{text}，涉及约 {overlap:,.0f} 平方米（占选址 {share:.1%}）"}


def save_zone(session: Session, platform, actor: User, data: dict[str, Any], zone_id: int | None = None) -> PlanZone:
    """Add a zone, or change one (administrators); every change is audited."""
    fields: dict[str, str] = {}
    division = str(data.get("division_code") or "").strip()
    if session.get(Division, division) is None:
        fields["division_code"] = "须为已知的行政区划代码"
    kind = str(data.get("kind") or "")
    if kind not in KINDS:
        fields["kind"] = "须为：" + "、".join(f"{k.code}（{k.name}）" for k in KINDS.values())
    name = str(data.get("name") or "").strip()
    if not 1 <= len(name) <= 200:
        fields["name"] = "名称为1至200字"
    geom = None
    try:
        geom = parse_geometry(data.get("geometry"), "geometry", points=False)
    except InvalidInput as exc:
        fields.update(exc.fields or {})
    if fields:
        raise InvalidInput("the zone has errors", fields)
    zone = session.get(PlanZone, zone_id) if zone_id is not None else PlanZone()
    if zone is None:
        raise NotFound(f"plan zone {zone_id} does not exist")
    zone.division_code, zone.kind, zone.name = division, kind, name
    zone.geometry = json.dumps(as_geojson(geom))
    zone.active = bool(data.get("active", True))
    zone.updated_by, zone.updated_at = actor.id, platform.now()
    if zone.id is None:
        session.add(zone)
    session.flush()
    audit.record(session, platform, "plan_zone_saved", actor=actor,
                 detail={"zone": zone.id, "division": division, "kind": kind, "name": name, "active": zone.active})
    return zone


def delete_zone(session: Session, platform, actor: User, zone_id: int) -> None:
    """Remove a zone (audited); proposals keep the findings they were shown."""
    zone = session.get(PlanZone, zone_id)
    if zone is None:
        raise NotFound(f"plan zone {zone_id} does not exist")
    audit.record(session, platform, "plan_zone_deleted", actor=actor,
                 detail={"zone": zone.id, "division": zone.division_code, "kind": zone.kind, "name": zone.name})
    session.delete(zone)
