"""Simulated projects through a deployed stage, by the real engine on a simulated clock.

Nothing of BPMN is re-implemented here: each simulated project is a
SpiffWorkflow instance of the deployed spec (``engine.runtime.Runtime`` with the
platform's sandbox), started with start data sampled from history (project,
application and the decision facts the DMN tables read, so the item decisions
are the real ones), and driven like the history generator drives the platform:
every ready user task gets a working time and an outcome drawn from the model,
the earliest one is completed at its instant, due timers fire on time
(``deadline()`` counts the catalogue limit from the simulated now), and so on
until the stage ends.  Gateways, parallel joins, multi-instance reviews, the
correction call activity and the working-day calendar (调休 included) are the
engine's and the calendar's own.  No database and no HTTP are touched inside
the loop: the spec is read once.

A user task the model knows nothing of (a new element of a candidate version)
takes the analyst's figures from its ``spiffworkflow:properties``:
``forecast_days`` (median working days), ``forecast_p90_days`` (optional, 2×
the median by default) and ``forecast_outcomes`` (``approve:0.9,correct:0.1``).
The analyst's figures also win over history when given on a known task.  Each
simulated project records whether it passed through such a task, so the
forecast can say which figures rest on analyst input.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from engine.calendar import CalendarError, WorkingCalendar, after_office_days
from engine.decisions import decided_items, plan_helpers
from engine.errors import EngineError
from engine.runtime import Runtime, cause_of
from engine.timelimits import ItemClock, thresholds

from ..catalogue.gaps import tolerable_materials
from ..timelimits.itemclock import item_limit
from .model import lookup, outcome_shares, working_days

#: engine steps per simulated project before it is given up as stuck (a loop with no way out)
MAX_STEPS = 600
SUPERVISION = "supervisor"
#: the decisions a task's form takes, the approving one first (answers carry only what gateways read)
APPROVING = {"window_accept.schema.json": "accept", "correction_recheck.schema.json": "complete",
             "commitment_verification.schema.json": "confirm", "planning_review.schema.json": "agree"}
#: a task's draw unless the model or the analyst says otherwise (flagged as an assumption)
DEFAULT_DAYS = 1.0


class SimClock:
    """The simulated now; the runtime's timers and helpers read it."""

    def __init__(self, now: dt.datetime):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class Draw:
    """Where a task's time and outcome come from."""

    source: str            # "history", "analyst" or "default"
    days: Callable[[np.random.Generator], float]
    outcomes: dict[str, dict[str, float]]   # {"first": {...}, "again": {...}} shares


@dataclass
class SimResult:
    """One simulated project's stage."""

    days: float | None                  # working days from application to the end (None: did not end)
    end_event: str | None
    analyst: bool                       # passed through a task timed by the analyst's figures
    defaulted: bool                     # passed through a task neither history nor the analyst knew
    tasks: int
    stuck: bool = False                 # given up after ``MAX_STEPS`` engine steps without ending


@dataclass
class Simulator:
    """Simulates projects of one stage through one deployed version."""

    platform: Any
    model: dict
    process_id: str
    version: int
    rng: np.random.Generator
    #: the working-day calendar as it stands (``fixed_calendar``): never the platform's live one,
    #: which re-reads its table from the database now and then (a forked worker must not)
    calendar: Any = None

    def __post_init__(self):
        self.bundle = self.platform.specs.get(self.process_id, self.version)
        self.clock = SimClock(dt.datetime(2026, 1, 5, 1, tzinfo=dt.UTC))
        if self.calendar is None:
            self.calendar = fixed_calendar(self.platform.calendar)
        cal, catalog, share = self.calendar, self.platform.catalog, self.platform.settings.WARNING_SHARE

        def deadline(warning: bool):
            def factory(context):
                def due(item_code) -> str:
                    limit = item_limit(self.platform, str(item_code))
                    if limit is None:
                        return (cal.add_working_days(self.clock(), 3650)).astimezone(dt.UTC).isoformat()
                    found = thresholds(cal, ItemClock(self.clock(), limit.value, limit.unit), share)
                    return (found.warn_at if warning and found.warn_at else found.due_at).isoformat()
                return due
            return factory

        helpers = {"working_days_after": lambda n: cal.add_working_days(self.clock(), int(n)).astimezone(
            dt.UTC).isoformat()}
        data_helpers = {**plan_helpers(catalog), "deadline": deadline(False), "deadline_warning": deadline(True)}
        self.runtime = Runtime(self.platform.specs, helpers=helpers, data_helpers=data_helpers, clock=self.clock)
        self._draws: dict[tuple, Draw] = {}

    # -- what a task takes -------------------------------------------------------------------

    def draw_for(self, view) -> Draw:
        """The distribution of a ready task's time and outcome (cached per kind of task)."""
        key = (view.process_id, view.spec_name, view.form, view.item_code, view.lane)
        found = self._draws.get(key)
        if found is None:
            found = self._draws[key] = self._make_draw(view)
        return found

    def _make_draw(self, view) -> Draw:
        props = view.properties
        analyst = analyst_figures(props)
        if analyst is not None:
            median, p90, outcomes = analyst
            sigma = math.log(max(p90 / median, 1.0001)) / 1.2816
            return Draw("analyst", lambda rng: float(rng.lognormal(math.log(median), sigma)),
                        {"first": outcomes, "again": outcomes})
        known = lookup(self.model, view.form, view.item_code, view.lane)
        if known is None:
            return Draw("default", lambda rng: DEFAULT_DAYS, {"first": {}, "again": {}})
        q = np.asarray(known[1]["q"])
        grid = np.arange(len(q))
        return Draw("history", lambda rng: float(np.interp(rng.uniform() * (len(q) - 1), grid, q)),
                    {r: outcome_shares(self.model, view.form, view.item_code, view.lane, r == "again")
                     for r in ("first", "again")})

    def answer(self, view, outcome: str | None, tolerance: float, workflow=None) -> dict:
        """The form data a simulated officer submits: the decision the gateways read.

        容缺受理 is open only to an application whose decided items have a material that may be
        missing (``gaps.tolerable_materials``), at the model's share among such applications.
        """
        form = view.form or ""
        out: dict[str, Any] = {"opinion": "模拟"}
        chosen = outcome or APPROVING.get(form, "approve")
        if chosen != "done":
            out["outcome"] = chosen
        if form == "window_accept.schema.json" and chosen == "accept" and tolerance > 0 and workflow is not None:
            tolerable = self._tolerable(workflow)
            if tolerable and self.rng.uniform() < tolerance:
                out.update(tolerance_acceptance=True, tolerated_materials=[tolerable[0]],
                           supply_by=(self.clock().date() + dt.timedelta(days=14)).isoformat())
        return out

    def _tolerable(self, workflow) -> list[str]:
        plan = [SimpleNamespace(item_code=entry.get("code"), mode="commitment" if entry.get("commitment") else "review")
                for entry in decided_items(workflow) or ()]
        return sorted(tolerable_materials(self.platform, plan))

    # -- one project -------------------------------------------------------------------------

    def run(self, start: dict[str, Any], at: dt.datetime) -> SimResult:
        """Simulate one project's stage from ``at`` with its start data.

        A project whose simulated time runs past the calendar's years (a rare tail of long
        waits) is given up there like a stuck one: it did not end (``days`` None).
        """
        try:
            return self._run(start, at)
        except EngineError as exc:
            if not _beyond_calendar(exc):
                raise
            return SimResult(None, None, False, False, 0)

    def _run(self, start: dict[str, Any], at: dt.datetime) -> SimResult:
        rng, cal = self.rng, self.calendar
        self.clock.now = at
        data = {k: v for k, v in start.items() if k in ("project", "application", "facts")}
        workflow = self.runtime.start(self.bundle, data)
        tolerance = float(self.model.get("stages", {}).get(_stage_of(self.model, self.process_id), {})
                          .get("tolerance", 0.0))
        pending: dict[str, tuple[dt.datetime, Any, str | None]] = {}
        rounds: dict[tuple, int] = {}
        analyst = defaulted = False
        done_tasks = 0
        stuck = True
        for _ in range(MAX_STEPS):
            if workflow.is_completed():
                stuck = False
                break
            for view in self.runtime.ready_user_tasks(workflow):
                if view.task_id in pending:
                    continue
                if view.properties.get("audience") == SUPERVISION:  # 督办 runs beside the work
                    pending[view.task_id] = (self.clock.now, view, "acknowledged")
                    continue
                draw = self.draw_for(view)
                analyst |= draw.source == "analyst"
                defaulted |= draw.source == "default"
                seen = rounds.get((view.spec_name, view.item_code), 0)
                rounds[(view.spec_name, view.item_code)] = seen + 1
                shares = draw.outcomes["again" if seen else "first"]  # an unseen later round: the first's
                outcome = _pick(rng, shares)
                due = after_office_days(cal, self.clock.now, max(draw.days(rng), 0.0))  # work: office time
                pending[view.task_id] = (due, view, outcome)
            timer = self.runtime.next_timer_due(workflow)
            if not pending and timer is None:
                stuck = False  # nothing left to do: waiting on something no one simulates
                break
            task_id, (due, view, outcome) = min(pending.items(), key=lambda kv: kv[1][0]) if pending else (
                None, (None, None, None))
            if timer is not None and (due is None or timer <= due):
                self.clock.now = max(timer, self.clock.now)
                self.runtime.fire_timers(workflow)
                continue
            self.clock.now = max(due, self.clock.now)
            del pending[task_id]
            self.runtime.complete(workflow, task_id, self.answer(view, outcome, tolerance, workflow))
            done_tasks += 1
        ended = self.runtime.outcome(workflow)
        days = working_days(cal, at, self.clock.now) if ended is not None else None
        return SimResult(days, ended.end_event if ended else None, analyst, defaulted, done_tasks,
                         stuck and ended is None)


#: years past the last declared one that a simulation may reach: taken as Monday to Friday
#: working, weekends resting, no holidays (the forecast says which years it assumed)
ASSUMED_YEARS = 10


def fixed_calendar(calendar) -> WorkingCalendar:
    """The calendar as it is now, detached from its source, with ``ASSUMED_YEARS`` more years.

    A holiday table or file re-checks its source every few seconds; the snapshot never does, so a
    simulation touches no database.  A simulated project filed late in the last declared year can
    run into the next one, whose holidays are published only in the November before: there the
    simulation counts weekdays (``assumed_years`` names them).
    """
    current = getattr(calendar, "current", None)
    now = current() if callable(current) else calendar
    last = max(now.covered_years())
    return WorkingCalendar(now.overrides, set(now.covered_years()) | set(range(last + 1, last + 1 + ASSUMED_YEARS)))


def _beyond_calendar(exc: BaseException | None) -> bool:
    """Whether an engine error comes from a date past the calendar's years (``CalendarError``)."""
    return cause_of(exc, CalendarError) is not None


def assumed_years(platform_calendar, fixed: WorkingCalendar) -> list[int]:
    """The years ``fixed`` counts as plain weekdays because the platform's calendar does not cover them."""
    current = getattr(platform_calendar, "current", None)
    now = current() if callable(current) else platform_calendar
    return sorted(set(fixed.covered_years()) - set(now.covered_years()))


def analyst_figures(props: dict) -> tuple[float, float, dict[str, float]] | None:
    """The analyst's ``forecast_days`` / ``forecast_p90_days`` / ``forecast_outcomes`` of a task, if given."""
    raw = props.get("forecast_days")
    if raw in (None, ""):
        return None
    try:
        median = float(raw)
        p90 = float(props.get("forecast_p90_days") or 2 * median)
    except (TypeError, ValueError):
        return None
    if not (median > 0 and p90 >= median and math.isfinite(p90)):
        return None
    return median, p90, parse_outcomes(props.get("forecast_outcomes"))


def parse_outcomes(raw: str | None) -> dict[str, float]:
    """``approve:0.9,correct:0.1`` as shares (ignoring what does not parse)."""
    out = {}
    for part in (raw or "").split(","):
        name, _, value = part.partition(":")
        try:
            share = float(value)
        except ValueError:
            continue
        if name.strip() and share >= 0:
            out[name.strip()] = share
    total = sum(out.values())
    return {k: v / total for k, v in out.items()} if total > 0 else {}


def _pick(rng: np.random.Generator, shares: dict[str, float]) -> str | None:
    if not shares:
        return None
    u, acc = rng.uniform(), 0.0
    for name, share in shares.items():
        acc += share
        if u < acc:
            return name
    return name


def _stage_of(model: dict, process_id: str) -> str | None:
    for key, stage in model.get("stages", {}).items():
        if stage.get("process_id") == process_id:
            return key
    return None
