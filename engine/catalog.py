"""The reference catalogue: divisions, lane roles, units, 双集中 routing and approval items.

Everything is read from the JSON files of ``catalog/`` by :func:`load_catalog`, checked as a
whole (codes unique, every reference resolves, every routed role reaches a unit in every
division) and kept immutable.  :meth:`Catalog.route` turns a BPMN lane role and a project's
division into the one unit that handles the task; ``catalog/routing.json`` states the rules
and ``catalog/README.md`` explains them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from engine.errors import EngineError

STAGES = ("initiation", "engineering", "construction", "acceptance", "parallel")
LEVELS = ("province", "city", "district")
LIMIT_UNITS = ("working_days", "calendar_days", "hours", "immediate")
UNIT_KINDS = ("approval_bureau", "department", "service_center", "institution")
ITEM_TYPES = ("行政许可", "行政确认", "公共服务", "其他行政权力", "备案")
BODY_NATURES = ("法定机关", "授权组织", "受委托组织")
CORRECTION_CLOCKS = ("resume", "restart")
BASIC_ELEMENTS = (
    "name", "code", "item_type", "legal_basis", "level", "implementing_body", "body_nature",
    "statutory_limit", "committed_limit", "acceptance_conditions", "materials", "flow", "fees",
)
# Working days per unit, to add limits of different units (hours are elapsed hours).
_WORKING_DAYS_PER = {"working_days": 1.0, "calendar_days": 5 / 7, "hours": 5 / 7 / 24, "immediate": 0.0}


class CatalogError(EngineError):
    """The catalogue is inconsistent, or a lookup or route cannot be answered; ``problems`` lists each."""

    code = "invalid_catalog"

    def __init__(self, problems: str | Iterable[str], **context: Any):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        head = self.problems[0] if len(self.problems) == 1 else f"{len(self.problems)} catalogue problems"
        super().__init__(head if len(self.problems) == 1 else head + ":\n- " + "\n- ".join(self.problems),
                         **context)


@dataclass(frozen=True)
class Division:
    """An administrative division: the province, a city-level area or a district."""

    code: str
    name: str
    level: str
    parent: str | None
    concentrated: bool | None = None
    custom_code: bool = False


@dataclass(frozen=True)
class Role:
    """A lane role; concentrable roles go to the approval bureau of a concentrated city."""

    code: str
    name: str
    name_en: str
    concentrable: bool
    routed: bool = True


@dataclass(frozen=True)
class Unit:
    """One of the units of the approval network, serving some lane roles in one division."""

    code: str
    name: str
    level: str
    division: str
    roles: tuple[str, ...]
    kind: str
    unverified: bool = False

    def serves(self, role: str) -> bool:
        """Whether this unit can handle tasks of ``role``."""
        return role in self.roles


@dataclass(frozen=True)
class Limit:
    """A time limit: a value and its unit (working_days, calendar_days, hours, immediate)."""

    value: int
    unit: str

    def in_working_days(self) -> float:
        """The limit as (possibly fractional) working days: 7 calendar days = 5 working days."""
        return self.value * _WORKING_DAYS_PER[self.unit]


@dataclass(frozen=True)
class Material:
    """An application material of an item."""

    name: str
    issuer: str = ""
    original: int = 1
    copies: int = 0
    required: bool = True
    essential: bool = True


@dataclass(frozen=True)
class Item:
    """An approval item: its basic elements as fields, the refined ones (phones, forms, ...) in ``details``."""

    code: str
    name: str
    stage: str
    role: str
    item_type: str
    legal_basis: str
    level: str
    implementing_body: str
    body_nature: str
    statutory_limit: Limit
    committed_limit: Limit
    acceptance_conditions: tuple[str, ...]
    materials: tuple[Material, ...]
    flow: str
    fees: str
    commitment_allowed: bool = False
    gaps_allowed: bool = False
    correction_clock: str = "resume"
    silence_consent: bool = False  # 逾期默认同意: an overdue review counts as approved
    result_name: str = ""
    unverified: bool = False
    details: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class ItemSet:
    """One version of the item catalogue."""

    version: str
    effective_from: str
    items: tuple[Item, ...]
    note: tuple[str, ...] = ()

    def by_code(self) -> dict[str, Item]:
        """The items keyed by code."""
        return {i.code: i for i in self.items}


@dataclass(frozen=True)
class RoutingRules:
    """The 双集中 routing rules of routing.json."""

    unrouted_roles: frozenset[str]
    targets: Mapping[str, Mapping[str, tuple[str, ...]]]
    department_kinds: tuple[str, ...]
    fallback: Mapping[str, str]
    overrides: Mapping[tuple[str, str], str]


def _get(mapping: Mapping[str, Any], code: str, what: str) -> Any:
    try:
        return mapping[code]
    except KeyError:
        raise CatalogError(f"unknown {what} {code!r}", **{what: code}) from None


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogError(f"missing catalogue file {path.name}", path=str(path)) from None
    except json.JSONDecodeError as exc:
        raise CatalogError(f"{path.name}: not valid JSON ({exc})", path=str(path)) from None


def _limit(raw: Any) -> Limit:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("value"), int):
        return Limit(-1, "missing")
    return Limit(raw["value"], str(raw.get("unit", "missing")))


def _material(raw: Any) -> Material:
    if isinstance(raw, str):  # compact form: a name only
        return Material(raw)
    return Material(raw.get("name", ""), raw.get("issuer", ""), int(raw.get("original", 1)),
                    int(raw.get("copies", 0)), bool(raw.get("required", True)), bool(raw.get("essential", True)))


def _item(raw: Mapping[str, Any]) -> Item:
    return Item(
        code=raw.get("code", ""), name=raw.get("name", ""), stage=raw.get("stage", ""), role=raw.get("role", ""),
        item_type=raw.get("item_type", ""), legal_basis=raw.get("legal_basis", ""), level=raw.get("level", ""),
        implementing_body=raw.get("implementing_body", ""), body_nature=raw.get("body_nature", ""),
        statutory_limit=_limit(raw.get("statutory_limit")), committed_limit=_limit(raw.get("committed_limit")),
        acceptance_conditions=tuple(raw.get("acceptance_conditions") or ()),
        materials=tuple(_material(m) for m in raw.get("materials") or ()),
        flow=raw.get("flow", ""), fees=raw.get("fees", ""),
        commitment_allowed=bool(raw.get("commitment_allowed", False)),
        gaps_allowed=bool(raw.get("gaps_allowed", False)),
        correction_clock=raw.get("correction_clock", "resume"), result_name=raw.get("result_name", ""),
        silence_consent=raw.get("silence_consent", False),
        unverified=bool(raw.get("unverified", False)),
        details={k: v for k, v in raw.items() if k not in _ITEM_FIELDS},
    )


_ITEM_FIELDS = {f.name for f in fields(Item)}


def load_items(path: str | Path) -> ItemSet:
    """Read one version of the item catalogue (items.json or items_baseline.json)."""
    data = _read(Path(path))
    note = data.get("note", ())
    try:
        items = tuple(_item(i) for i in data["items"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CatalogError(f"{Path(path).name}: malformed items ({exc!r})", path=str(path)) from None
    return ItemSet(str(data.get("version", "")), str(data.get("effective_from", "")), items,
                   tuple([note] if isinstance(note, str) else note))


def item_problems(items: ItemSet, roles: Iterable[str]) -> list[str]:
    """Everything wrong with one item version: duplicate codes, unknown roles, empty basic elements."""
    known, seen, out = set(roles), set(), []
    for it in items.items:
        where = f"item {it.code or '?'} ({items.version})"
        if it.code in seen:
            out.append(f"{where}: duplicate code")
        seen.add(it.code)
        for attr, allowed in (("role", known), ("stage", STAGES), ("level", LEVELS), ("item_type", ITEM_TYPES),
                              ("body_nature", BODY_NATURES), ("correction_clock", CORRECTION_CLOCKS),
                              ("silence_consent", (True, False))):
            if getattr(it, attr) not in allowed:
                out.append(f"{where}: unknown {attr} {getattr(it, attr)!r}")
        for name in ("statutory_limit", "committed_limit"):
            lim = getattr(it, name)
            if lim.unit not in LIMIT_UNITS or lim.value < 0 or (lim.unit == "immediate" and lim.value != 0):
                out.append(f"{where}: bad {name} {lim.value} {lim.unit}")
        missing = [e for e in BASIC_ELEMENTS if not getattr(it, e)]
        if missing:
            out.append(f"{where}: basic elements not filled: {', '.join(missing)}")
        if any(not m.name for m in it.materials):
            out.append(f"{where}: a material has no name")
    return out


class Catalog:
    """The loaded, checked catalogue; answers lookups and routes lane roles to units.

    ``divisions``, ``units`` and ``items`` (the current version) are tuples in file order;
    ``roles`` maps each role code to its :class:`Role` (iterating it gives the codes);
    ``item_set`` and ``baseline`` are the current and pre-reform :class:`ItemSet`.
    """

    def __init__(self, divisions: Iterable[Division], roles: Iterable[Role], units: Iterable[Unit],
                 rules: RoutingRules, items: ItemSet, baseline: ItemSet | None = None,
                 flow_types: Iterable[Mapping[str, Any]] = ()):
        self.divisions = tuple(divisions)
        self.roles = {r.code: r for r in roles}
        self.units = tuple(units)
        self.rules = rules
        self.item_set = items
        self.items = items.items
        self.baseline = baseline
        self.flow_types = tuple(flow_types)
        self._items = items.by_code()
        self._divisions = {d.code: d for d in self.divisions}
        self._units = {u.code: u for u in self.units}
        self._by_division: dict[str, list[Unit]] = {}
        for u in self.units:
            self._by_division.setdefault(u.division, []).append(u)

    # ------------------------------------------------------------------ lookups
    def division(self, code: str) -> Division:
        """The division with this code."""
        return _get(self._divisions, code, "division")

    def unit(self, code: str) -> Unit:
        """The unit with this code."""
        return _get(self._units, code, "unit")

    def item(self, code: str) -> Item:
        """The current item with this code."""
        return _get(self._items, code, "item")

    def role(self, code: str) -> Role:
        """The lane role with this code."""
        return _get(self.roles, code, "role")

    def items_for_stage(self, stage: str) -> list[Item]:
        """The current items of one stage, in catalogue order."""
        if stage not in STAGES:
            raise CatalogError(f"unknown stage {stage!r}", stage=stage)
        return [i for i in self.items if i.stage == stage]

    def units_for(self, role: str) -> list[Unit]:
        """Every unit that serves ``role``, in code order."""
        self.role(role)
        return sorted((u for u in self.units if u.serves(role)), key=lambda u: u.code)

    def province(self) -> Division:
        """The province division."""
        return next(d for d in self.divisions if d.level == "province")

    def city_of(self, division_code: str) -> Division:
        """The city-level division of a division (itself for a city); the province has none."""
        div = self.division(division_code)
        if div.level == "district":
            return self.division(div.parent or "")
        if div.level == "city":
            return div
        raise CatalogError(f"the province {division_code} has no city", division=division_code)

    def is_concentrated(self, division_code: str) -> bool:
        """Whether the division's approval powers are concentrated (a district follows its city)."""
        div = self.division(division_code)
        if div.concentrated is not None or div.level != "district":
            return bool(div.concentrated)
        return self.is_concentrated(div.parent or "")

    # ------------------------------------------------------------------ routing
    def _rank(self, unit: Unit, role: str) -> tuple[bool, int]:
        kinds = ("approval_bureau",) + self.rules.department_kinds
        return unit.roles[0] != role, kinds.index(unit.kind) if unit.kind in kinds else len(kinds)

    def _pick(self, division: str, role: str, target: str) -> list[Unit]:
        kinds = ("approval_bureau",) if target == "approval_bureau" else self.rules.department_kinds
        found = [u for u in self._by_division.get(division, ()) if u.kind in kinds and u.serves(role)]
        return sorted(found, key=lambda u: (self._rank(u, role), u.code))

    def _candidates(self, role: str, division_code: str) -> list[Unit]:
        """The best units for (role, division), best first; ties at the head are ambiguous."""
        div = self.division(division_code)
        override = self.rules.overrides.get((role, division_code))
        if override:
            return [self.unit(override)]
        if div.level == "province":
            return self._pick(div.code, role, "department") or self._pick(div.code, role, "approval_bureau")
        flag = "concentrated" if self.is_concentrated(div.code) else "not_concentrated"
        kind = "concentrable" if self.role(role).concentrable else "other"
        for target in self.rules.targets[flag][kind]:
            found = self._pick(div.code, role, target)
            if found:
                return found
        step = self.rules.fallback.get(div.level)
        if step == "parent" and div.parent:
            return self._candidates(role, div.parent)
        if step == "province":
            return self._candidates(role, self.province().code)
        return []

    def route(self, role: str, division_code: str) -> Unit:
        """The unit that handles tasks of lane ``role`` for a project in ``division_code``."""
        self.role(role), self.division(division_code)
        if role not in self.routed_roles():
            raise CatalogError(f"role {role!r} is not routed to a unit (it goes to the project's enterprise)",
                               role=role)
        found = self._candidates(role, division_code)
        if not found:
            raise CatalogError(f"no unit serves {role} for division {division_code}",
                               role=role, division=division_code)
        return found[0]

    def route_item(self, item_code: str, division_code: str) -> Unit:
        """The unit that handles an item for a project in a division, by the item's level."""
        it = self.item(item_code)
        div = self.division(division_code)
        if it.level == "province" or div.level == "province":
            target = self.province().code
        elif it.level == "city":
            target = self.city_of(div.code).code
        else:
            target = div.code
        return self.route(it.role, target)

    def routing_table(self) -> dict[tuple[str, str], str]:
        """Every (routed role, division) pair with the code of the unit it routes to."""
        return {(r, d.code): self.route(r, d.code).code for r in self.routed_roles() for d in self.divisions}

    def routed_roles(self) -> list[str]:
        """The codes of the roles routed to units (all but applicant)."""
        return [r.code for r in self.roles.values() if r.routed and r.code not in self.rules.unrouted_roles]

    # ------------------------------------------------------------------ checks
    def problems(self) -> list[str]:
        """Everything inconsistent in the catalogue; empty when it is sound."""
        out: list[str] = []
        routed = set(self.routed_roles())
        for name, codes in (("division", [d.code for d in self.divisions]), ("unit", [u.code for u in self.units])):
            out += [f"duplicate {name} code {c!r}" for c in sorted({c for c in codes if codes.count(c) > 1})]
        provinces = [d for d in self.divisions if d.level == "province"]
        if len(provinces) != 1:
            out.append(f"expected exactly one province division, found {len(provinces)}")
        expect_parent = {"city": "province", "district": "city"}
        for d in self.divisions:
            if d.level not in LEVELS:
                out.append(f"division {d.code}: unknown level {d.level!r}")
            elif d.level in expect_parent:
                parent = self._divisions.get(d.parent or "")
                if parent is None or parent.level != expect_parent[d.level]:
                    out.append(f"division {d.code}: parent {d.parent!r} is not a {expect_parent[d.level]}")
        for u in self.units:
            div = self._divisions.get(u.division)
            if div is None:
                out.append(f"unit {u.code}: unknown division {u.division!r}")
            elif div.level != u.level:
                out.append(f"unit {u.code}: level {u.level} differs from its division's {div.level}")
            if u.kind not in UNIT_KINDS:
                out.append(f"unit {u.code}: unknown kind {u.kind!r}")
            if not u.roles:
                out.append(f"unit {u.code}: serves no role")
            out += [f"unit {u.code}: unknown or unrouted role {r!r}" for r in u.roles if r not in routed]
        out += [f"routing: unknown unrouted role {r!r}" for r in self.rules.unrouted_roles if r not in self.roles]
        for flag in ("concentrated", "not_concentrated"):
            for kind in ("concentrable", "other"):
                targets = self.rules.targets.get(flag, {}).get(kind)
                if not targets or any(t not in ("approval_bureau", "department") for t in targets):
                    out.append(f"routing: targets.{flag}.{kind} must list approval_bureau and/or department")
        for level, step in self.rules.fallback.items():
            if level not in LEVELS or step not in ("parent", "province"):
                out.append(f"routing: bad fallback {level!r} -> {step!r}")
        for (r, d), code in self.rules.overrides.items():
            unit = self._units.get(code)
            if r not in self.roles or d not in self._divisions or unit is None:
                out.append(f"routing override ({r}, {d}) -> {code}: unknown role, division or unit")
            elif not unit.serves(r):
                out.append(f"routing override ({r}, {d}) -> {code}: the unit does not serve {r}")
        out += item_problems(self.item_set, self.roles)
        if self.baseline is not None:
            out += item_problems(self.baseline, self.roles)
        if not out:
            out += self._routing_problems()
        return out

    def _routing_problems(self) -> list[str]:
        out = []
        for r in self.routed_roles():
            for d in self._divisions:
                found = self._candidates(r, d)
                if not found:
                    out.append(f"routing: no unit serves {r} for division {d}")
                elif len(found) > 1 and self._rank(found[0], r) == self._rank(found[1], r):
                    out.append(f"routing: {r} in {d} is ambiguous between {found[0].code} and {found[1].code}")
        return out


def _rules(raw: Mapping[str, Any]) -> RoutingRules:
    targets = {flag: {k: tuple(v) for k, v in kinds.items()} for flag, kinds in raw.get("targets", {}).items()}
    return RoutingRules(
        unrouted_roles=frozenset(raw.get("unrouted_roles", ())),
        targets=targets,
        department_kinds=tuple(raw.get("department_kinds", ("department",))),
        fallback=dict(raw.get("fallback", {})),
        overrides={(o["role"], o["division"]): o["unit"] for o in raw.get("overrides", ())},
    )


def load_catalog(path: str | Path) -> Catalog:
    """Load and check the catalogue in directory ``path``; raise CatalogError listing every problem."""
    root = Path(path)
    try:
        divisions = [Division(d["code"], d["name"], d["level"], d.get("parent"), d.get("concentrated"),
                              bool(d.get("custom_code", False)))
                     for d in _read(root / "divisions.json")["divisions"]]
        roles = [Role(r["code"], r["name"], r.get("name_en", ""), bool(r["concentrable"]), bool(r.get("routed", True)))
                 for r in _read(root / "roles.json")["roles"]]
        units = [Unit(u["code"], u["name"], u["level"], u["division"], tuple(u["roles"]), u["kind"],
                      bool(u.get("unverified", False)))
                 for u in _read(root / "units.json")["units"]]
        rules = _rules(_read(root / "routing.json"))
    except (KeyError, TypeError) as exc:
        raise CatalogError(f"catalogue file lacks a required field: {exc}") from None
    items = load_items(root / "items.json")
    baseline = load_items(root / "items_baseline.json") if (root / "items_baseline.json").exists() else None
    flows = _read(root / "flow_types.json").get("flow_types", []) if (root / "flow_types.json").exists() else []
    codes = [r.code for r in roles]
    out = [f"duplicate role code {c!r}" for c in sorted({c for c in codes if codes.count(c) > 1})]
    catalog = Catalog(divisions, roles, units, rules, items, baseline, flows)
    out += catalog.problems()
    if out:
        raise CatalogError(out, path=str(root))
    return catalog


def reform_cuts(baseline: ItemSet | Iterable[Item], current: ItemSet | Iterable[Item]) -> dict[str, Any]:
    """The reform's cuts in percent (items, materials, summed committed limits) and the totals behind them."""
    def totals(items: ItemSet | Iterable[Item]) -> dict[str, float]:
        seq = list(items.items if isinstance(items, ItemSet) else items)
        return {"items": len(seq), "materials": sum(len(i.materials) for i in seq),
                "time_limits": round(sum(i.committed_limit.in_working_days() for i in seq), 1)}

    before, after = totals(baseline), totals(current)
    cut = {k: round(100 * (before[k] - after[k]) / before[k], 1) if before[k] else 0.0 for k in before}
    return {**cut, "baseline": before, "current": after, "time_unit": "working_days"}
