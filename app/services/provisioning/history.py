"""A province's history at seed scale (``flask seed-history``): projects run by the real engine.

Every project is declared, applied for and worked through the same services the
pages and the API call (``people.projects``, ``workflow.instances``, the special
procedures of ``timelimits``), with the platform clock set to a simulated instant
before each step: the workflow states, task rows, item handlings with their
clocks and national state codes, audit records, BPMN timers and 督办 tasks are
the ones the platform writes in operation.  Only the times and the decisions are
drawn: officers' working times from per-item distributions over the working-day
calendar, corrections, refusals, special procedures, 告知承诺 and 容缺 at the
rates of :class:`Profile`.

Each project's life is one transaction (so a crash loses at most the project
being generated), and the worker's progress row is written in it: a run resumes
where it stopped.  Projects are numbered; worker ``w`` of ``W`` generates the
numbers ``w, w + W, ...``, each from its own random stream, so the history does
not depend on how many workers made it.  The scheduler's time-limit job runs
once at the end, at the instant the history ends, as it would that day.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from engine.calendar import LOCAL_TZ, after_office_days
from engine.codes import check_character
from engine.credit import ALPHABET, credit_check_character
from engine.decisions import decided_items

from ...errors import AppError
from ...models import HumanTask, Project, User
from ...stages import BY_KEY, merged_into
from ..catalogue import decisions, gaps
from ..flows.deployments import active_version
from ..people import projects
from ..timelimits import special_procedures
from ..workflow import instances, scripting
from . import demo

#: The seed's figures (DOMAIN.md §1): what the generated history is calibrated to.
SEED_PROJECTS, SEED_ITEMS, SEED_ENTERPRISES = 20_247, 41_363, 5_645
#: Accounts made for the history can never log in (no password hashes to this value).
NO_LOGIN = "!generated-history-account"


@dataclass(frozen=True)
class Profile:
    """The rates and mixes a history is drawn from (calibrated on the seed's ratios)."""

    name: str = "hainan-2019"
    #: declared projects that file stage 1 within the period (the others only took a code)
    apply_stage1: float = 0.555
    #: after an approved stage, the chance that the next one is filed within the period
    proceed: dict = field(default_factory=lambda: {"engineering": 0.12, "construction": 0.55,
                                                   "acceptance": 0.45, "parallel": 0.08})
    #: months between an approved stage and the next application (uniform range)
    gap_months: tuple = (1.0, 8.0)
    window_reject: float = 0.03
    window_correct: float = 0.06
    tolerance: float = 0.08           # 容缺受理 when a tolerable material exists
    commitment: float = 0.20          # 告知承诺 signed for each item that allows it
    review_correct: float = 0.08
    review_refuse: float = 0.012
    recheck_insufficient: float = 0.05
    special: float = 0.10             # a special procedure on a review whose item has one
    verification_revoke: float = 0.03
    #: flow types (SPLCLX) and their weights
    flow_types: dict = field(default_factory=lambda: {1: 8, 2: 3, 3: 30, 4: 34, 5: 5, 6: 10, 7: 3, 8: 2,
                                                      9: 2, 10: 3})
    regional_assessment: float = 0.80
    simplified_park: float = 0.70
    #: a planted change (to test forecasts): the reviews of this lane role take ``slow_factor`` times
    #: as long from ``slow_from`` (a share of the period, 0 = its first day) on
    slow_role: str | None = None
    slow_from: float = 0.5
    slow_factor: float = 2.0


DEFAULT_PROFILE = Profile()
#: Profiles a run may name (``flask seed-history --profile``): the default, and one with a planted
#: change, 自然资源和规划 (planning) reviewing twice as slowly from the middle of the period.
PROFILES = {DEFAULT_PROFILE.name: DEFAULT_PROFILE,
            "planning-slowdown": Profile(name="planning-slowdown", slow_role="planning")}

#: Where projects are, by weight: 海口 and 三亚 (with their districts) lead.
DIVISION_WEIGHT = {"460100": 6, "460105": 3, "460106": 4, "460107": 3, "460108": 4, "460200": 4, "460202": 2,
                   "460203": 2, "460204": 2, "460205": 2, "460400": 5, "469002": 3, "469005": 3, "469006": 3,
                   "469023": 3, "469100": 3, "460300": 0.3}


def _unit01(*parts: Any) -> float:
    """A stable number in [0, 1) from its parts (per-item parameters, not random draws)."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64


def credit_code(n: int) -> str:
    """A valid unified social credit code (GB 32100) for generated enterprise ``n``."""
    body = f"91469000{n:09d}"
    head = body[:8] + "".join(ALPHABET[int(c)] for c in body[8:])
    return head + credit_check_character(head)


def project_code(year: int, division: str, investment_type: str, n: int) -> str:
    """A valid national project code (GB/T 40058) for generated project ``n``."""
    ptype = {"government": "01", "ratification": "02", "filing": "03"}[investment_type]
    serial = f"{n % 100000:05d}"
    return f"{year}-{division[:6]}-49-{ptype}-{serial}{check_character(f'{year}{division[:6]}49{ptype}{serial}')}"


class SimulatedClock:
    """The platform clock during generation: set before each step, never read from the wall."""

    def __init__(self, start: dt.datetime):
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now


# -- working time ---------------------------------------------------------------------------------

def limit_days(platform, item_code: str | None) -> float:
    """The committed limit of an item in working days (calendar days at 5/7, hours at 8 a day)."""
    try:
        item = platform.catalog.item(item_code)
    except Exception:  # noqa: BLE001 - tasks without a catalogue item
        return 5.0
    limit = item.committed_limit or item.statutory_limit
    if limit is None or not limit.value:
        return 0.3
    return {"calendar_days": limit.value * 5 / 7, "hours": limit.value / 8}.get(limit.unit, float(limit.value))


def working_time(platform, rng: random.Random, row: HumanTask) -> float:
    """Working days an officer (or the applicant) takes over a task, drawn from its item's distribution.

    A review takes a lognormal time whose median is a share of the item's committed
    limit (the share is the item's own, 25-70 %); some run past the limit.
    """
    form = row.form or ""
    if form in ("window_accept.schema.json", "correction_recheck.schema.json"):
        return rng.uniform(0.1, 1.5)
    if form in ("window_issue.schema.json", "window_notice.schema.json"):
        return rng.uniform(0.1, 1.0)
    if form == "correction_supplement.schema.json":
        return rng.uniform(1.0, 8.0)
    if form == "gap_supply.schema.json":
        return rng.uniform(1.0, 6.0)
    if form == "commitment_verification.schema.json":
        return rng.uniform(15.0, 60.0)
    limit = limit_days(platform, row.item_code)
    median = max(0.1, limit * (0.25 + 0.45 * _unit01("share", row.item_code)))
    return min(rng.lognormvariate(math.log(median), 0.55), 3 * limit + 5)


def slowed(ctx: Context, row: HumanTask, days: float) -> float:
    """The profile's planted change: a slowed lane's reviews take longer from its date on."""
    p = ctx.profile
    if p.slow_role is None or row.lane_role != p.slow_role or row.form != "review.schema.json":
        return days
    return days * p.slow_factor if ctx.clock.now >= slow_from(ctx) else days


def slow_from(ctx: Context) -> dt.datetime:
    """The instant the profile's planted change starts."""
    return ctx.begins + (ctx.ends - ctx.begins) * ctx.profile.slow_from


# -- one project --------------------------------------------------------------------------------

@dataclass
class Context:
    """What a worker keeps between projects: the platform, its clock, the accounts by unit."""

    platform: Any
    clock: SimulatedClock
    profile: Profile
    begins: dt.datetime
    ends: dt.datetime
    total: int
    enterprise_ids: list = field(default_factory=list)
    officers: dict = field(default_factory=dict)   # (unit id, window lane?) -> user id
    applicants: dict = field(default_factory=dict)  # enterprise id -> user id
    divisions: list = field(default_factory=list)
    weights: list = field(default_factory=list)


def _pick(rng: random.Random, weights: dict):
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _project_facts(ctx: Context, rng: random.Random, n: int) -> dict[str, Any]:
    flow_type = _pick(rng, ctx.profile.flow_types)
    if flow_type in (1, 2):
        investment = "government"
    elif flow_type in (4,):
        investment = "filing"
    elif flow_type in (7, 8, 9, 10):
        investment = _pick(rng, {"government": 5, "ratification": 2, "filing": 3})
    else:
        investment = _pick(rng, {"ratification": 1, "filing": 3})
    small = flow_type == 4 or rng.random() < 0.5
    return {"flow_type": flow_type, "investment_type": investment,
            "total_investment": round(rng.lognormvariate(math.log(900 if small else 9000), 0.6), 1),
            "land_area": round(rng.lognormvariate(math.log(4000 if small else 30000), 0.5), 1),
            "zone": rng.random() < ctx.profile.regional_assessment,
            "park": rng.random() < ctx.profile.simplified_park}


def _decided(ctx: Context, session: Session, project: Project, stage_key: str, data: dict) -> list[str]:
    """The items the stage's decision table picks for this application (a dry run of its first steps)."""
    stage = BY_KEY[stage_key]
    bundle = ctx.platform.specs.get(stage.process_id, active_version(session))
    start = {"project": instances.project_data(project), "application": data,
             "facts": decisions.decision_facts(project, stage_key, data)}
    with scripting.script_session(session):
        workflow = ctx.platform.runtime.start(bundle, start)
    return [item["code"] for item in decided_items(workflow) or [] if isinstance(item, dict)]


def _application(ctx: Context, rng: random.Random, session: Session, stage_key: str, project: Project,
                 facts: dict) -> dict:
    data = demo.stage_application(BY_KEY[stage_key], project, ctx.clock.now.astimezone(LOCAL_TZ).date())
    if stage_key == "initiation":
        data.update(total_investment=facts["total_investment"], land_area=facts["land_area"],
                    regional_assessment_zone=facts["zone"], simplified_park=facts["park"])
    if stage_key == "engineering":
        area = round(facts["land_area"] * rng.uniform(0.8, 2.5), 1)
        data.update(total_floor_area=area, building_height=round(rng.uniform(12, 90), 1),
                    civil_defence_area=round(area * 0.05, 1) if area > 10000 else 0.0)
    if stage_key in ("initiation", "engineering") and rng.random() < ctx.profile.commitment:
        signable = [code for code in _decided(ctx, session, project, stage_key, data)
                    if ctx.platform.catalog.item(code).commitment_allowed]
        signed = [code for code in signable if rng.random() < 0.5]
        if signed:
            data["commitments"] = signed
    return data


def _answer(ctx: Context, rng: random.Random, session: Session, row: HumanTask, rounds: dict) -> dict:
    """The decision on a task: mostly the approving one, corrections and refusals at the profile's rates."""
    p, today = ctx.profile, ctx.clock.now.astimezone(LOCAL_TZ).date()
    form = row.form or ""
    seen = rounds.get((row.instance_id, row.spec_name, row.item_code), 0)
    rounds[(row.instance_id, row.spec_name, row.item_code)] = seen + 1
    outcome = None
    if form == "window_accept.schema.json":
        draw = rng.random()
        if draw < p.window_reject:
            outcome = "reject"
        elif draw < p.window_reject + p.window_correct and not seen:
            outcome = "correct"
        else:
            answer = {"outcome": "accept", "opinion": "材料齐全，予以受理"}
            if rng.random() < p.tolerance:
                tolerable = gaps.tolerable_materials(ctx.platform, decisions.plan_items(session, row.instance_id))
                if tolerable:
                    supply = ctx.platform.calendar.add_working_days(today, 10)
                    answer.update(tolerance_acceptance=True, tolerated_materials=[sorted(tolerable)[0]],
                                  supply_by=supply.isoformat())
            return answer
    elif form in ("review.schema.json", "joint_conclusion.schema.json"):
        draw = rng.random()
        if draw < p.review_refuse:
            outcome = "refuse"
        elif draw < p.review_refuse + (p.review_correct if not seen else p.review_correct / 4):
            outcome = "correct"
    elif form == "gap_supply.schema.json":
        return {"materials": sorted({g.material for g in gaps.open_gaps(session, row.instance_id)}),
                "note": "容缺材料已补齐"}
    elif form == "correction_recheck.schema.json":
        outcome = "insufficient" if rng.random() < p.recheck_insufficient else None
    elif form == "commitment_verification.schema.json":
        outcome = "revoke" if rng.random() < p.verification_revoke else None
    return demo.task_answer(row.form, row.id, today, outcome)


def _officer(ctx: Context, session: Session, row: HumanTask) -> User:
    user_id = (ctx.applicants.get(row.enterprise_id) if row.enterprise_id
               else ctx.officers.get((row.unit_id, row.lane_role == "window")))
    if user_id is None:
        user = demo.actor_for(session, row)
        if user is None:
            raise RuntimeError(f"nobody can complete {row.title} (unit {row.unit_id}, lane {row.lane_role})")
        return user
    return session.get(User, user_id)


class _Plans:
    """The pending steps of a stage's open tasks: (instant, kind) lists per task row, drawn once."""

    def __init__(self, ctx: Context, rng: random.Random):
        self.ctx, self.rng, self.steps = ctx, rng, {}

    def next_step(self, session: Session, rows: list[HumanTask]) -> tuple[dt.datetime, str, HumanTask] | None:
        best = None
        for row in rows:
            if row.id not in self.steps:
                self.steps[row.id] = self._plan(session, row)
            when, kind = self.steps[row.id][0]
            if best is None or when < best[0]:
                best = (when, kind, row)
        return best

    def done(self, row: HumanTask) -> None:
        self.steps[row.id].pop(0)

    def _plan(self, session: Session, row: HumanTask) -> list[tuple[dt.datetime, str]]:
        ctx, rng = self.ctx, self.rng
        calendar, start = ctx.platform.calendar, max(row.created_at, ctx.clock.now)
        days = slowed(ctx, row, working_time(ctx.platform, rng, row))
        steps = []
        if row.form == "review.schema.json" and row.handling_id and rng.random() < ctx.profile.special:
            kinds = _special_kinds(ctx.platform, row.item_code)
            if kinds:
                begin = after_office_days(calendar, start, rng.uniform(0.5, 2.0))
                end = after_office_days(calendar, begin, rng.uniform(3, 20))
                steps += [(begin, "special_start"), (end, "special_end")]
                start = end
        steps.append((after_office_days(calendar, start, days), "complete"))
        return steps


def _special_kinds(platform, item_code: str | None) -> list:
    try:
        return list(platform.catalog.item(item_code).details.get("special_procedures") or [])
    except Exception:  # noqa: BLE001
        return []


def run_stage(ctx: Context, session: Session, rng: random.Random, project: Project, stage_key: str,
              applicant: User, facts: dict, rounds: dict) -> str | None:
    """File one stage and work it until it ends or the period does; the stage's status then."""
    platform = ctx.platform
    try:
        data = _application(ctx, rng, session, stage_key, project, facts)
        demo.supply_materials(session, platform, applicant, project, BY_KEY[stage_key], data)
        instance = projects.apply_for_stage(session, platform, applicant, project.code, stage_key, data)
    except AppError as exc:
        raise RuntimeError(f"{project.code} {stage_key}: {exc.message} {getattr(exc, 'fields', '')}") from exc
    plans = _Plans(ctx, rng)
    procedures: dict[int, int] = {}
    for _ in range(400):
        rows = [r for r in demo.open_tasks(session, instance.id) if r.audience is None]
        if not rows:
            break
        when, kind, row = plans.next_step(session, rows)
        due = instance.next_timer_at
        if due is not None and due <= min(when, ctx.ends):  # the scheduler fires a timer on time
            ctx.clock.now = max(due, ctx.clock.now)
            instances.fire_timers(session, platform, instance.id)
            continue
        if when > ctx.ends:
            return "running"
        ctx.clock.now = max(when, ctx.clock.now)
        actor = _officer(ctx, session, row)
        if kind == "special_start":
            kinds = _special_kinds(platform, row.item_code)
            days = rng.randint(3, 20)
            procedure = special_procedures.start(session, platform, actor, row.handling_id, {
                "kind": "expert_review", "reason": f"{kinds[0].get('name', '专家评审')}（特别程序）",
                "expected_days": days})
            procedures[row.id] = procedure.id
        elif kind == "special_end":
            special_procedures.end(session, platform, actor, row.handling_id, procedures.pop(row.id),
                                   {"result": "特别程序已完成"})
        else:
            instances.complete_task(session, platform, row.id, _answer(ctx, rng, session, row, rounds), actor)
        plans.done(row)
    session.refresh(instance)
    return instance.status


NEXT = {"initiation": ("engineering", "parallel"), "engineering": ("construction",),
        "construction": ("acceptance",), "acceptance": (), "parallel": ()}


def generate_project(ctx: Context, session: Session, n: int, seed: int) -> None:
    """Declare project ``n`` and live its stages up to the end of the period."""
    rng = random.Random(f"{seed}:{n}")
    span = (ctx.ends - ctx.begins).total_seconds()
    declared = ctx.begins + dt.timedelta(seconds=span * (n + rng.random()) / ctx.total)
    ctx.clock.now = after_office_days(ctx.platform.calendar, declared, rng.uniform(0, 0.9))
    if ctx.clock.now > ctx.ends:
        ctx.clock.now = ctx.ends
    division = rng.choices(ctx.divisions, weights=ctx.weights)[0]
    facts = _project_facts(ctx, rng, n)
    enterprise_id = _enterprise_of(ctx, n, rng)
    applicant = session.get(User, ctx.applicants[enterprise_id])
    project = projects.create_project(session, ctx.platform, applicant, {
        "name": f"{ctx.platform.catalog.division(division).name}{PROJECT_NAMES[n % len(PROJECT_NAMES)]}{n:05d}",
        "division": division, "investment_type": facts["investment_type"], "flow_type": facts["flow_type"],
        "code": project_code(ctx.clock.now.astimezone(LOCAL_TZ).year, division, facts["investment_type"], n)})
    if rng.random() >= ctx.profile.apply_stage1:
        return
    rounds: dict = {}
    queue = [("initiation", ctx.clock.now)]
    while queue:
        queue.sort(key=lambda entry: entry[1])
        stage_key, at = queue.pop(0)
        if at > ctx.ends:
            continue
        ctx.clock.now = max(at, ctx.clock.now)
        status = run_stage(ctx, session, rng, project, stage_key, applicant, facts, rounds)
        if status != "approved":
            continue
        finished = ctx.clock.now
        for follower in NEXT[stage_key]:
            if merged_into(project.flow_type, follower):
                follower = "acceptance"  # 带方案出让: construction was handled inside engineering
            if rng.random() < ctx.profile.proceed[follower]:
                months = rng.uniform(*ctx.profile.gap_months)
                queue.append((follower, after_office_days(ctx.platform.calendar, finished, months * 21)))


def _enterprise_of(ctx: Context, n: int, rng: random.Random) -> int:
    """Projects ``0 .. E-1`` found one enterprise each; later ones go to a random earlier enterprise."""
    ids = ctx.enterprise_ids
    return ids[n] if n < len(ids) else ids[min(int(rng.paretovariate(1.2)) - 1, len(ids) - 1)
                                           if rng.random() < 0.3 else rng.randrange(len(ids))]


PROJECT_NAMES = ("综合楼项目", "安置房项目", "市政道路工程", "产业园厂房项目", "学校改扩建工程", "医院门诊楼项目",
                 "供水管网改造工程", "酒店建设项目", "物流仓储项目", "商业综合体项目", "污水处理厂工程", "人才公寓项目")
