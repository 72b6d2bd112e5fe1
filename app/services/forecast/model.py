"""Learning how work really goes from a period of history: the model the forecasts draw from.

The data are the platform's own rows: every human task (when it opened, when
and how it was completed, by which unit, for which item), the special
procedures that stopped an item's clock, and the stage instances with their
applications.  A stage's cycle is counted in **working days** on the platform's
calendar (调休 included), as the item clocks count it; the work inside it (tasks,
special procedures, the tails after acceptance and after the reviews) in **office
days** (eight office hours on a working day, ``office_days``), the unit people
work in.

A period ``[since, until)`` is read as it stood at ``until``: a task still open
then (or completed later) is *censored* — it took at least its elapsed time —
and distributions are Kaplan–Meier estimates, so that long tasks cut off by the
end of the period do not make the model too fast.  Every distribution is kept
as 101 quantiles (0 %, 1 %, ... 100 %).

The model is a plain JSON-able dict:

``tasks``       key ``form|item|lane`` (and pooled ``form||lane``, ``form||``): quantiles,
                outcome counts on the first round and on later rounds, count
``units``       key ``item|unit code``: quantiles and count (per department, where n >= 5)
``special``     per item: the share of handlings with a special procedure, its quantiles
``corrections`` the applicants' correction turnaround (quantiles)
``branches``    per ``process|task``: how often each outcome (gateway branch) was taken
``stages``      per stage: cycle-time quantiles, outcome counts, item frequencies (the
                "has items" gateways), the tails after acceptance and after the last review,
                the 容缺 share among accepted applications that had a tolerable material,
                and sampled start data (project, application, decision facts) for simulation
``arrivals``    per ``stage|flow type|division``: applications per 30 days
``load``        per lane role: Spearman correlation of open tasks per officer with handling time,
                and whether it explains waiting (p < 0.01 and rho > 0.2); reported for analysts —
                the simulation draws each project's times on their own and does not queue projects
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from typing import Any

import numpy as np
from scipy import stats
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.calendar import office_days_between

from ...models import HumanTask, ItemHandling, ProcessInstance, Project, SpecialProcedure, StageItem, Unit, User
from ..catalogue import gaps
from ..catalogue.decisions import decision_facts
from ..workflow.instances import project_data

QUANTILES = 101
#: start data kept per stage for simulation (the newest ones)
START_SAMPLES = 400
DAY = dt.timedelta(days=1)
REVIEW_FORMS = ("review.schema.json", "joint_conclusion.schema.json", "utility_connection.schema.json")


def working_days(calendar, a: dt.datetime, b: dt.datetime) -> float:
    """Working time between two instants, in working days (negative spans count as zero): a stage's cycle."""
    if b <= a:
        return 0.0
    return calendar.working_time_between(a, b) / DAY


def office_days(calendar, a: dt.datetime, b: dt.datetime) -> float:
    """Office time between two instants, in office days of eight hours: how long a task's work took.

    Tasks are timed in office time (``engine.calendar.office_days_between``), the unit people work
    in: a span measured in whole working days would weigh the same two hours by the time of day
    they fell on, and a simulation adding such spans counts the nights at random (parallel
    reviews, each with its own random night, then end later than they do).
    """
    return office_days_between(calendar, a, b)


def km_quantiles(times: list[float], observed: list[bool]) -> list[float]:
    """101 quantiles of a Kaplan–Meier estimate (censored times count as "at least")."""
    if not times:
        return []
    order = sorted(zip(times, observed, strict=True), key=lambda pair: (pair[0], not pair[1]))
    n, survival, steps = len(order), 1.0, []   # steps: (time, F(time)) at each observed event
    at_risk = n
    for t, seen in order:
        if seen:
            survival *= (at_risk - 1) / at_risk
            steps.append((t, 1.0 - survival))
        at_risk -= 1
    if not steps:  # everything censored: the elapsed times are all we know
        return [round(float(v), 3) for v in np.quantile([t for t, _ in order], np.linspace(0, 1, QUANTILES))]
    tail = max(t for t, _ in order)
    out = []
    for p in np.linspace(0, 1, QUANTILES):
        for t, F in steps:
            if F >= p - 1e-12:
                out.append(float(t))
                break
        else:
            out.append(float(tail))  # mass beyond the last observed event: the longest wait seen
    out[0] = min(out[0], min(t for t, _ in order))
    return [round(v, 3) for v in out]


def _key(form: str | None, item: str | None, lane: str | None) -> str:
    return f"{form or ''}|{item or ''}|{lane or ''}"


class _Observations:
    """Duration observations (time, observed) per key, with outcome counts."""

    def __init__(self):
        self.times = defaultdict(list)
        self.outcomes = defaultdict(lambda: {"first": Counter(), "again": Counter()})

    def add(self, keys, days: float, seen: bool, outcome: str | None, again: bool) -> None:
        for key in keys:
            self.times[key].append((days, seen))
            if seen:
                self.outcomes[key]["again" if again else "first"][outcome or "done"] += 1

    def summary(self) -> dict[str, Any]:
        out = {}
        for key, pairs in self.times.items():
            out[key] = {"q": km_quantiles([t for t, _ in pairs], [s for _, s in pairs]), "n": len(pairs),
                        "done": sum(1 for _, s in pairs if s),
                        "outcomes": {k: dict(v) for k, v in self.outcomes[key].items()}}
        return out


def learn(session: Session, platform, until: dt.datetime, since: dt.datetime | None = None) -> dict[str, Any]:
    """The model of the period ``[since, until)`` as it stood at ``until``."""
    cal = platform.calendar
    query = (select(ProcessInstance, Project).join(Project, Project.id == ProcessInstance.project_id)
             .where(ProcessInstance.started_at < until))
    if since is not None:
        query = query.where(ProcessInstance.started_at >= since)
    rows = session.execute(query.order_by(ProcessInstance.started_at)).all()
    instances = {inst.id: (inst, project) for inst, project in rows}
    units = {u.id: u.code for u in session.scalars(select(Unit))}
    officers = dict(session.execute(select(User.unit_id, func.count()).where(User.unit_id.is_not(None))
                                    .group_by(User.unit_id)).all())
    tasks = _tasks(session, list(instances), until)
    obs, per_unit, corrections = _Observations(), defaultdict(list), []
    branches = defaultdict(Counter)
    rounds: Counter = Counter()
    by_instance = defaultdict(list)
    load_pairs = defaultdict(list)
    open_at_unit = _load_sweep(tasks, until)
    for task in tasks:
        if task.audience is not None:
            continue  # supervision (督办) tasks run beside the work, never in its way
        seen = task.completed_at is not None and task.completed_at < until
        end = task.completed_at if seen else until
        days = office_days(cal, task.created_at, end)
        round_key = (task.instance_id, task.spec_name, task.item_code)
        again = rounds[round_key] > 0
        rounds[round_key] += 1
        outcome = task.outcome if seen else None
        keys = [_key(task.form, task.item_code, task.lane_role), _key(task.form, None, task.lane_role),
                _key(task.form, None, None)]
        obs.add(dict.fromkeys(keys), days, seen, outcome, again)
        if seen:
            branches[f"{task.process_id}|{task.spec_name}"][outcome or "done"] += 1
        if task.form == "correction_supplement.schema.json":
            corrections.append((days, seen))
        if task.item_code and task.unit_id in units:
            per_unit[f"{task.item_code}|{units[task.unit_id]}"].append((days, seen))
        if seen and task.form in REVIEW_FORMS and task.unit_id:
            load = open_at_unit.get(task.id, 0) / max(1, officers.get(task.unit_id, 1))
            load_pairs[task.lane_role].append((load, days))
        by_instance[task.instance_id].append((task, seen, end))
    model = {
        "version": 1, "until": until.isoformat(), "since": since.isoformat() if since else None,
        "instances": len(instances), "task_count": len(tasks),
        "tasks": obs.summary(),
        "units": {k: {"q": km_quantiles([t for t, _ in v], [s for _, s in v]), "n": len(v)}
                  for k, v in per_unit.items() if len(v) >= 5},
        "special": _special(session, cal, list(instances), until),
        "corrections": {"q": km_quantiles([t for t, _ in corrections], [s for _, s in corrections]),
                        "n": len(corrections)},
        "branches": {k: dict(v) for k, v in branches.items()},
        "stages": _stages(cal, instances, by_instance, until, _tolerable(session, platform, list(instances))),
        "arrivals": _arrivals(instances, since, until),
        "load": _load(load_pairs),
    }
    return model


def _tasks(session: Session, instance_ids: list[int], until: dt.datetime) -> list[HumanTask]:
    out = []
    for start in range(0, len(instance_ids), 1000):
        chunk = instance_ids[start:start + 1000]
        out += session.scalars(select(HumanTask).where(HumanTask.instance_id.in_(chunk),
                                                       HumanTask.created_at < until)).all()
    out.sort(key=lambda t: (t.created_at, t.id))
    return out


def _load_sweep(tasks: list[HumanTask], until: dt.datetime) -> dict[int, int]:
    """Open tasks at the task's unit when each task opened (the unit's queue it joined)."""
    events = []
    for t in tasks:
        if t.unit_id is None or t.audience is not None:
            continue
        events.append((t.created_at, 1, t.unit_id, t.id))
        end = t.completed_at if t.completed_at is not None and t.completed_at < until else None
        if end is not None:
            events.append((end, 0, t.unit_id, t.id))
    events.sort(key=lambda e: (e[0], e[1]))
    open_now: Counter = Counter()
    at_open = {}
    for _, opening, unit, task_id in events:
        if opening:
            at_open[task_id] = open_now[unit]
            open_now[unit] += 1
        else:
            open_now[unit] -= 1
    return at_open


def _load(pairs: dict[str, list]) -> dict[str, Any]:
    out = {}
    for role, values in pairs.items():
        loads = [v[0] for v in values]
        if len(values) < 20 or len(set(loads)) < 3:
            out[role] = {"n": len(values), "rho": None, "p": None, "explains": False}
            continue
        rho, p = stats.spearmanr(loads, [v[1] for v in values])
        explains = bool(p < 0.01 and rho > 0.2)
        out[role] = {"n": len(values), "rho": round(float(rho), 3), "p": float(p), "explains": explains,
                     "mean_load": round(float(np.mean(loads)), 3)}
    return out


def _special(session: Session, cal, instance_ids: list[int], until: dt.datetime) -> dict[str, Any]:
    handlings = Counter()
    for start in range(0, len(instance_ids), 1000):
        chunk = instance_ids[start:start + 1000]
        for item, count in session.execute(select(ItemHandling.item_code, func.count()).where(
                ItemHandling.instance_id.in_(chunk), ItemHandling.accepted_at < until)
                .group_by(ItemHandling.item_code)):
            handlings[item] += count
    spans = defaultdict(list)
    for start in range(0, len(instance_ids), 1000):
        chunk = instance_ids[start:start + 1000]
        for proc, item in session.execute(select(SpecialProcedure, ItemHandling.item_code)
                                          .join(ItemHandling, ItemHandling.id == SpecialProcedure.handling_id)
                                          .where(ItemHandling.instance_id.in_(chunk),
                                                 SpecialProcedure.started_at < until)):
            seen = proc.ended_at is not None and proc.ended_at < until
            spans[item].append((office_days(cal, proc.started_at, proc.ended_at if seen else until), seen))
    return {item: {"share": round(len(v) / max(1, handlings[item]), 4), "n": len(v),
                   "q": km_quantiles([t for t, _ in v], [s for _, s in v])} for item, v in spans.items()}


def _tolerable(session: Session, platform, instance_ids: list[int]) -> set[int]:
    """The instances whose decided items have a material that may be missing at acceptance (容缺)."""
    plans = defaultdict(list)
    for start in range(0, len(instance_ids), 1000):
        chunk = instance_ids[start:start + 1000]
        for row in session.scalars(select(StageItem).where(StageItem.instance_id.in_(chunk))):
            plans[row.instance_id].append(row)
    return {i for i, rows in plans.items() if gaps.tolerable_materials(platform, rows)}


def _stages(cal, instances: dict, by_instance: dict, until: dt.datetime, tolerable: set[int]) -> dict[str, Any]:
    cycles, outcomes, items, counts = defaultdict(list), defaultdict(Counter), defaultdict(Counter), Counter()
    after_accept, after_reviews, starts = defaultdict(list), defaultdict(list), defaultdict(list)
    accepted, tolerated = Counter(), Counter()
    for inst_id, (inst, _) in instances.items():
        stage = inst.stage_key
        counts[stage] += 1
        done = inst.completed_at is not None and inst.completed_at < until and inst.status != "running"
        end = inst.completed_at if done else until
        cycles[stage].append((working_days(cal, inst.started_at, end), done))
        outcomes[stage][inst.status if done else "running"] += 1
        tasks = by_instance.get(inst_id, [])
        for code in {t.item_code for t, _, _ in tasks if t.item_code and t.form in REVIEW_FORMS}:
            items[stage][code] += 1
        accepts = [e for t, s, e in tasks if s and t.form == "window_accept.schema.json"]
        reviews = [e for t, s, e in tasks if t.form in REVIEW_FORMS]
        if accepts:
            after_accept[stage].append((office_days(cal, max(accepts), end), done))
        if inst_id in tolerable and any(s and t.outcome == "accept" for t, s, _ in tasks):
            accepted[stage] += 1  # 容缺 is open only to those with a tolerable material: the share among them
            tolerated[stage] += any(t.form == "gap_supply.schema.json" for t, _, _ in tasks)
        if reviews and all(s for t, s, _ in tasks if t.form in REVIEW_FORMS):
            after_reviews[stage].append((office_days(cal, max(reviews), end), done))
        starts[stage].append(inst)
    out = {}
    for stage in counts:
        recent = starts[stage][-START_SAMPLES:]
        out[stage] = {
            "n": counts[stage],
            "cycle": km_quantiles(*_split(cycles[stage])),
            "completed": sum(1 for _, s in cycles[stage] if s),
            "outcomes": dict(outcomes[stage]),
            "items": {code: round(n / counts[stage], 4) for code, n in items[stage].most_common()},
            "tolerance": round(tolerated[stage] / accepted[stage], 4) if accepted[stage] else 0.0,
            "after_accept": km_quantiles(*_split(after_accept[stage])),
            "after_reviews": km_quantiles(*_split(after_reviews[stage])),
            "process_id": starts[stage][0].process_id,
            "starts": [_start_data(inst, instances[inst.id][1]) for inst in recent],
        }
    return out


def _split(pairs):
    return [t for t, _ in pairs], [s for _, s in pairs]


def _start_data(inst: ProcessInstance, project: Project) -> dict[str, Any]:
    """What the instance started with (project, application, decision facts), for simulated starts."""
    try:
        application = json.loads(inst.application or "{}")
    except ValueError:
        application = {}
    return {"project": project_data(project), "application": application,
            "facts": decision_facts(project, inst.stage_key, application),
            "started_at": inst.started_at.isoformat()}


def _arrivals(instances: dict, since: dt.datetime | None, until: dt.datetime) -> dict[str, float]:
    if not instances:
        return {}
    first = since or min(inst.started_at for inst, _ in instances.values())
    months = max((until - first) / dt.timedelta(days=30), 1e-9)
    counts = Counter(f"{inst.stage_key}|{project.flow_type}|{project.division_code}"
                     for inst, project in instances.values())
    return {key: round(n / months, 3) for key, n in sorted(counts.items())}


# -- reading a model ------------------------------------------------------------------------------

def lookup(model: dict, form: str | None, item: str | None, lane: str | None) -> tuple[str, dict] | None:
    """The most specific task distribution the model has for a task (exact, then pooled), or None."""
    tasks = model.get("tasks", {})
    for key in (_key(form, item, lane), _key(form, None, lane), _key(form, None, None)):
        entry = tasks.get(key)
        if entry and entry.get("done", 0) >= 3 and entry.get("q"):
            return key, entry
    return None


#: weight, in observations, of the pooled shares in a task's outcome shares: a handful of outcomes
#: of one item and lane lean on those of its lane and form, hundreds speak for themselves
PRIOR_WEIGHT = 5.0


def outcome_shares(model: dict, form: str | None, item: str | None, lane: str | None,
                   again: bool) -> dict[str, float]:
    """The shares of a task's outcomes on its first round or on a later one, shrunk toward the pooled ones.

    Each level (form, then form and lane, then form, item and lane) adds its own counts to
    ``PRIOR_WEIGHT`` pseudo-observations of the level above: a re-review seen once, and then
    corrected again, does not make every simulated re-review correct again (a loop with no way
    out).  Later rounds nobody observed take the first round's shares.
    """
    tasks = model.get("tasks", {})
    shares: dict[str, float] = {}
    for key in (_key(form, None, None), _key(form, None, lane), _key(form, item, lane)):
        entry = tasks.get(key)
        counts = (entry or {}).get("outcomes", {}).get("again" if again else "first") or {}
        total = sum(counts.values())
        if not total:
            continue
        weight = PRIOR_WEIGHT if shares else 0.0
        names = sorted(set(shares) | set(counts))  # a fixed order: the simulation's draws walk it
        shares = {k: (counts.get(k, 0) + weight * shares.get(k, 0.0)) / (total + weight) for k in names}
    if not shares and again:
        return outcome_shares(model, form, item, lane, False)
    return shares


def quantile(q: list[float], share: float) -> float:
    """The value at ``share`` (0..1) of a 101-quantile list."""
    return float(np.interp(share * (len(q) - 1), np.arange(len(q)), q))


def sample(q: list[float], rng: np.random.Generator, size: int | None = None, above: float = 0.0):
    """Draw from a quantile list, conditioned on being at least ``above`` (a residual's start)."""
    grid = np.arange(len(q))
    low = float(np.interp(above, q, np.linspace(0, 1, len(q)))) if above > q[0] else 0.0
    u = rng.uniform(min(low, 1.0), 1.0, size)
    return np.interp(u * (len(q) - 1), grid, q)
